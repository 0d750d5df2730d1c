"""API URLs: /api/schema/, /api/docs/ and /api/v1/… (names are `api:<name>`).

To add an endpoint: register a ViewSet on `router` (section 1) or add a `path()` to
`v1_urlpatterns` (section 2). The JSON 404 catch-all stays last.
"""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from api import views
from api.auth import LogoutView
from api.exceptions import api_not_found
from api.views_changes import ChangesView
from api.views_map import MapClustersView
from api.views_protection import ProtectionRequestViewSet
from api.views_root import ApiIndexView, ApiRootView
from api.views_stats import StatsCompareView, StatsSummaryView
from api.views_write import ImportBatchViewSet

app_name = "api"

# 1. ViewSets ------------------------------------------------------------------------
router = SimpleRouter()
router.register("incidents", views.IncidentViewSet, basename="incident")
router.register("actors", views.ActorViewSet, basename="actor")
router.register("locations", views.LocationViewSet, basename="location")
router.register("facilities", views.FacilityViewSet, basename="facility")
router.register("sources", views.SourceViewSet, basename="source")
router.register("imports", ImportBatchViewSet, basename="import")
router.register(
    "protection-requests", ProtectionRequestViewSet, basename="protection-request"
)

# 2. Plain views (statistics, map, changes feed, auth, imports …) ---------------------
v1_urlpatterns = [
    path("vocabularies/", views.VocabularyView.as_view(), name="vocabularies"),
    path("auth/logout/", LogoutView.as_view(), name="auth-logout"),
    path("stats/summary/", StatsSummaryView.as_view(), name="stats-summary"),
    path("stats/compare/", StatsCompareView.as_view(), name="stats-compare"),
    path("map/clusters/", MapClustersView.as_view(), name="map-clusters"),
    path("changes/", ChangesView.as_view(), name="changes"),
]

# 3. The index of /api/v1/ (as DRF's root view): every list resource and plain view.
V1_RESOURCES = (
    *((prefix, f"api:{basename}-list") for prefix, _, basename in router.registry),
    *(
        (p.name, f"api:{p.name}")
        for p in v1_urlpatterns
        if p.name != "auth-logout"  # an action, not a resource
    ),
)

urlpatterns = [
    path("", ApiIndexView.as_view(), name="root"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path(
        "docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"
    ),
    path("v1/", ApiRootView.as_view(resources=V1_RESOURCES), name="root-v1"),
    path("v1/", include([*v1_urlpatterns, *router.urls])),
    # Keep last: every other /api/ path answers a JSON 404 (never an HTML page).
    re_path(r"^", api_not_found),
]
