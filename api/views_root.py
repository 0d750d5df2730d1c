"""`/api/` and `/api/v1/`: an index of the API's resources, as DRF's root view gives.

A newcomer who opens `/api/` (or `/api/v1/`) finds where everything is instead of a 404:
each resource's URL, and the schema and documentation. Anonymous and throttled like
every other API view (ApiViewMixin).
"""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from api.views import ApiViewMixin


def _links(request) -> dict[str, str]:
    return {
        "schema": request.build_absolute_uri(reverse("api:schema")),
        "docs": request.build_absolute_uri(reverse("api:docs")),
    }


class ApiIndexView(ApiViewMixin, APIView):
    """`/api/`: the versions and the documentation."""

    @extend_schema(
        summary="Where the API is: its versions, schema and documentation",
        description="The entry point for a newcomer: the URL of each API version "
        "(only v1 today) and of the OpenAPI schema and its documentation page.",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, *args, **kwargs):
        self.check_params(frozenset())
        return Response(
            {
                "v1": request.build_absolute_uri(reverse("api:root-v1")),
                **_links(request),
            }
        )


class ApiRootView(ApiViewMixin, APIView):
    """`/api/v1/`: each resource of version 1 by name, with its URL."""

    # (name, URL name) pairs, given by api/urls.py from its router and its paths.
    resources: tuple[tuple[str, str], ...] = ()

    @extend_schema(
        summary="Index of the resources of API v1",
        description="Each resource of version 1 by name with its URL (the lists of "
        "incidents, actors, places, facilities and sources, the statistics, the map "
        "clusters, the changes feed, the vocabularies, and the staff's imports and "
        "protection requests), plus the schema and the documentation.",
        responses={200: OpenApiTypes.OBJECT},
    )
    def get(self, request, *args, **kwargs):
        self.check_params(frozenset())
        return Response(
            {
                **{
                    name: request.build_absolute_uri(reverse(url_name))
                    for name, url_name in self.resources
                },
                **_links(request),
            }
        )
