from django.apps import AppConfig


class ApiConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "api"
    verbose_name = "CivTrack API"

    def ready(self):
        # Registers the OpenAPI extension of CivTrack's session authentication.
        from api import schema  # noqa: F401
