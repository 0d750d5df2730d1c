from django.contrib.admin.apps import AdminConfig


class CivTrackAdminConfig(AdminConfig):
    """Django's admin with CivTrack's site: sign-in lockout and two-factor codes."""

    default_site = "civtrack.accounts.CivTrackAdminSite"

    def ready(self):
        super().ready()
        from civtrack import accounts  # noqa: F401 - connects the sign-in signal receivers
