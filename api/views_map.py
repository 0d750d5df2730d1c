"""Map clusters (API.md "Map"): `/api/v1/map/clusters/?zoom=Z&bbox=…&<any filter>`.

Server-side grid clustering in SQL (incidents.stats.map_clusters), so the browser never
receives every point. The filter is the one FilterSet (api/filters.py): `bbox` and every
other parameter mean what they mean on the incident list. Points are those the FilterSet
filters on for this caller: the public point for the public (the redaction layer, so a
sensitive facility's real place never shows), the real one for staff.
"""

from __future__ import annotations

import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from api.filters import run_incident_filter
from api.pagination import single
from api.views import BAD_REQUEST, ApiViewMixin, _filter_parameters
from incidents import public_cache, stats

MAP_EXTRA_PARAMS = frozenset({"zoom", "format"})
ZOOM_MESSAGE = f"Enter the map zoom, a whole number from 0 to {stats.MAX_ZOOM}."


def read_zoom(value: str | None) -> int:
    if value is None or not re.fullmatch(r"[0-9]{1,2}", value.strip()):
        raise ValidationError({"zoom": [ZOOM_MESSAGE]})
    zoom = int(value)
    if zoom > stats.MAX_ZOOM:
        raise ValidationError({"zoom": [ZOOM_MESSAGE]})
    return zoom


class ClusterSerializer(serializers.Serializer):
    lat = serializers.FloatField(help_text="Mean latitude of the cell's incidents.")
    lon = serializers.FloatField(help_text="Mean longitude of the cell's incidents.")
    count = serializers.IntegerField()
    civilians_killed_min = serializers.IntegerField(
        allow_null=True,
        help_text="Sum of the recorded minimums; null when no incident of the cell "
        "records civilians killed.",
    )
    civilians_killed_max = serializers.IntegerField(
        allow_null=True,
        help_text="Sum; null when one incident's max is unknown or not recorded.",
    )
    civilians_killed_incidents_not_recorded = serializers.IntegerField(
        help_text="Incidents of the cell where civilians killed is not recorded."
    )
    civilians_killed_incidents_max_unknown = serializers.IntegerField(
        help_text="Incidents of the cell with a minimum but no maximum."
    )
    bbox = serializers.ListField(
        child=serializers.FloatField(), help_text="[min_lon, min_lat, max_lon, max_lat]"
    )
    code = serializers.CharField(allow_null=True, help_text="When count is 1.")
    title = serializers.CharField(allow_null=True, help_text="When count is 1.")
    incidents = serializers.ListField(
        child=serializers.DictField(),
        required=False,
        help_text=f"From zoom {stats.DETAIL_ZOOM}: up to "
        f"{stats.MAX_CELL_INCIDENTS} {{code, title}}, latest first.",
    )


class ClustersResponseSerializer(serializers.Serializer):
    zoom = serializers.IntegerField()
    cell_size = serializers.FloatField(help_text="Grid cell size in degrees.")
    count = serializers.IntegerField(help_text="Incidents on the map.")
    left_off = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="Filtered incidents not on the map: without_coordinates, aggregate.",
    )
    truncated = serializers.BooleanField(
        help_text=f"More than {stats.MAX_CELLS} cells: only the fullest are listed."
    )
    query = serializers.CharField()
    clusters = ClusterSerializer(many=True)


class MapClustersView(ApiViewMixin, APIView):
    """`GET /api/v1/map/clusters/`."""

    @extend_schema(
        summary="Map clusters",
        operation_id="v1_map_clusters",
        description="Grid clusters of the filtered incidents' points (aggregate "
        "records and incidents without a point are left off and counted).",
        parameters=[
            OpenApiParameter(
                "zoom",
                OpenApiTypes.INT,
                required=True,
                description=f"Web-map zoom, 0–{stats.MAX_ZOOM}: sets the grid cell.",
            ),
            *_filter_parameters(),
        ],
        responses={200: ClustersResponseSerializer, 400: BAD_REQUEST},
    )
    def get(self, request):
        result = run_incident_filter(
            request.query_params,
            user=request.user,
            extra_params=MAP_EXTRA_PARAMS,
            request=request,
        )
        zoom = read_zoom(single(result.extra, "zoom"))
        fmt = single(result.extra, "format")
        if fmt not in (None, "json"):
            raise ValidationError({"format": ["Map clusters are JSON only: json."]})
        place = "" if result.staff else "public_"
        lang = result.cleaned.get("lang") or "en"
        # Cached for the public until the data changes (incidents/public_cache.py).
        clusters = public_cache.cached(
            "map-clusters",
            (result.count_key, zoom, lang),
            lambda: stats.map_clusters(
                result.queryset,
                zoom=zoom,
                latitude=f"{place}latitude",
                longitude=f"{place}longitude",
                lang=lang,
            ),
            enabled=not result.staff,
        )
        return Response({**clusters, "query": result.normalized})
