from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
]

# The public site in English and Arabic: /en/…, /ar/… (PAGES.md); "/" redirects to the
# reader's language. The admin and the API stay outside the language prefixes.
urlpatterns += i18n_patterns(
    path("", include("incidents.urls")),
    prefix_default_language=True,
)

handler404 = "incidents.views.page_not_found"
handler500 = "civtrack.errors.server_error"
