from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path

from incidents import views_site

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
    path("favicon.ico", views_site.favicon, name="favicon"),
    path("robots.txt", views_site.robots_txt, name="robots-txt"),
]

# The public site in English and Arabic: /en/…, /ar/… (PAGES.md); "/" redirects to the
# reader's language. The admin and the API stay outside the language prefixes.
urlpatterns += i18n_patterns(
    path("", include("incidents.urls")),
    prefix_default_language=True,
)

handler404 = "incidents.views.page_not_found"
handler500 = "civtrack.errors.server_error"
