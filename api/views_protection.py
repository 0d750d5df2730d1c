"""`/api/v1/protection-requests/` (API.md "Writing"; DOMAIN.md "Lowering protection"):
staff only (reviewers see every request, researchers their own); `POST …/{id}/approve/`
and `…/reject/` for reviewers who did not ask, carrying the object's version as
`If-Match` (missing → 428, stale → 412: the requester asks again). The PATCH that files
a request is api/protection.py's.
"""

from __future__ import annotations

import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_serializer,
)
from rest_framework import exceptions, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from api.parsers import LimitedJSONParser
from api.permissions import IsStaffMember
from api.protection import (
    OBJECT_IF_MATCH,
    REQUEST_ANSWERS,
    DecisionSerializer,
    ProtectionRequestSerializer,
    protection_request_body,
    stale_response,
    version_from_header,
)
from api.throttling import AnonRateThrottle, UserRateThrottle
from api.views import ApiViewMixin
from api.views_write import service_errors
from incidents import services
from incidents.models import ProtectionRequest

# ---------------------------------------------------------------------------------------
# /api/v1/protection-requests/
# ---------------------------------------------------------------------------------------


@extend_schema_serializer(many=False)  # one object, not an array of them
class ProtectionRequestListSerializer(serializers.Serializer):
    count = serializers.IntegerField()
    results = ProtectionRequestSerializer(many=True)


class ProtectionRequestViewSet(ApiViewMixin, viewsets.GenericViewSet):
    """Requests to lower a protection. Reviewers see every request (pending by default),
    researchers their own; nobody else sees any."""

    permission_classes = [IsStaffMember]
    serializer_class = ProtectionRequestSerializer
    # Any segment: a non-numeric id is this view's JSON 404 (`_request`).
    lookup_value_regex = "[^/]+"
    allowed_params = frozenset({"status"})

    def get_queryset(self):
        # requested_by/decided_by are shown: one query for the page, whatever its size.
        queryset = ProtectionRequest.objects.select_related(
            "requested_by", "decided_by"
        )
        if not services.is_reviewer(self.request.user):
            queryset = queryset.filter(requested_by=self.request.user)
        return queryset

    def get_throttles(self):
        if getattr(self, "action", None) in ("approve", "reject"):
            return [AnonRateThrottle(), UserRateThrottle()]
        return super().get_throttles()

    def get_parsers(self):
        return [LimitedJSONParser()]

    def _request(self) -> ProtectionRequest:
        pk = str(self.kwargs.get("pk", ""))
        # Only a plain number that fits the column reaches the database.
        asked = (
            self.get_queryset().filter(pk=int(pk)).first()
            if re.fullmatch(r"[0-9]{1,18}", pk)
            else None
        )
        if asked is None:
            raise exceptions.NotFound("No such protection request.")
        return asked

    @extend_schema(
        summary="Requests to lower a protection",
        description="Reviewers: every request; researchers: their own. `status` "
        "(pending, approved, rejected or all) defaults to pending.",
        parameters=[
            OpenApiParameter(
                "status",
                OpenApiTypes.STR,
                enum=[*ProtectionRequest.Status.values, "all"],
                description="Default: pending.",
            )
        ],
        responses={
            200: ProtectionRequestListSerializer,
            **REQUEST_ANSWERS,
        },
    )
    def list(self, request, *args, **kwargs):
        params = self.check_params()
        wanted = (params.get("status") or ["pending"])[0]
        queryset = self.get_queryset()
        if wanted != "all":
            if wanted not in ProtectionRequest.Status.values:
                raise exceptions.ValidationError(
                    {"status": ["Choose pending, approved, rejected or all."]}
                )
            queryset = queryset.filter(status=wanted)
        results = [protection_request_body(r, request) for r in queryset[:500]]
        return Response({"count": len(results), "results": results})

    @extend_schema(
        summary="One request to lower a protection",
        description="ETag: the object's current version (send it back as If-Match "
        "to approve or reject).",
        responses={200: ProtectionRequestSerializer, **REQUEST_ANSWERS},
    )
    def retrieve(self, request, *args, **kwargs):
        self.check_params(frozenset())
        asked = self._request()
        obj = services.protection_object(asked)
        body = protection_request_body(asked, request)
        body["current_version"] = (
            services.protection_object_version(obj) if obj is not None else None
        )
        response = Response(body)
        if body["current_version"] is not None:
            response["ETag"] = f'"{body["current_version"]}"'
        return response

    def _decide(self, decide) -> Response:
        user = self.request.user
        if not services.is_reviewer(user):
            raise exceptions.PermissionDenied(
                "Only reviewers and admins decide on lowering a protection."
            )
        asked = self._request()
        if asked.requested_by_id == user.pk:
            raise exceptions.PermissionDenied(
                "You asked for this: another reviewer must decide it (four-eyes rule)."
            )
        version = version_from_header(self.request)
        serializer = DecisionSerializer(data=self.request.data or {})
        serializer.is_valid(raise_exception=True)
        try:
            with service_errors():
                decided = decide(
                    request=asked,
                    by=user,
                    expected_version=version,
                    note=serializer.validated_data.get("note", ""),
                )
        except services.StaleProtectionVersion as stale:
            return stale_response(stale)
        return Response(protection_request_body(decided, self.request))

    @extend_schema(
        summary="Approve: lower the protection (a reviewer who did not ask)",
        description="Applies the requested value in one transaction: the source, "
        "facility, victim's name or file becomes public, every published incident "
        "showing it gets a new version (so ETags and the changes feed follow), and the "
        "audit trail records both the requester and the approver. Send the object's "
        "version you reviewed as `If-Match` (the request's ETag); if the object changed "
        "since, the answer is 412 and the requester asks again.",
        parameters=[OBJECT_IF_MATCH],
        request=DecisionSerializer,
        responses={
            200: ProtectionRequestSerializer,
            400: OpenApiResponse(description="Already decided, or invalid input."),
            **REQUEST_ANSWERS,
            412: OpenApiResponse(
                description="The object changed since (the requester asks again)."
            ),
            428: OpenApiResponse(description="If-Match is missing."),
        },
    )
    @action(detail=True, methods=["post"])
    def approve(self, request, *args, **kwargs):
        return self._decide(services.protection_request_approve)

    @extend_schema(
        summary="Reject: the object stays protected (a reviewer who did not ask)",
        description="Closes the request without changing the object, which stays "
        "protected. Send the object's version you reviewed as `If-Match`; the requester "
        "sees the decision on the request.",
        parameters=[OBJECT_IF_MATCH],
        request=DecisionSerializer,
        responses={
            200: ProtectionRequestSerializer,
            400: OpenApiResponse(description="Already decided, or invalid input."),
            **REQUEST_ANSWERS,
            412: OpenApiResponse(description="The object changed since you read it."),
            428: OpenApiResponse(description="If-Match is missing."),
        },
    )
    @action(detail=True, methods=["post"])
    def reject(self, request, *args, **kwargs):
        return self._decide(services.protection_request_reject)
