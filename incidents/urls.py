"""The public pages (PAGES.md), mounted under /en/ and /ar/ by civtrack/urls.py."""

from django.urls import path

from incidents import views

app_name = "incidents"

urlpatterns = [
    path("", views.home, name="home"),
    path("incidents/", views.incident_list, name="list"),
    path("incidents/<str:code>/", views.incident_detail, name="detail"),
    path("actors/<slug:slug>/", views.actor_detail, name="actor"),
    path("places/<slug:slug>/", views.place_detail, name="place"),
    path("facilities/<str:ref>/", views.facility_detail, name="facility"),
    path("stats/", views.stats, name="stats"),
    path("map/", views.map_page, name="map"),
    path("methodology/", views.methodology, name="methodology"),
    path("changes/", views.changes, name="changes"),
    path("changes/feed/", views.changes_feed, name="changes-feed"),
]
