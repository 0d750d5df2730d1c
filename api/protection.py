"""Lowering protection through the API (API.md "Writing"; DOMAIN.md "Lowering
protection"): the representation of a ProtectionRequest and the PATCH of a source's or
facility's protections (the requests' own endpoints are in api/views_protection.py).

- `ProtectionPatchMixin` gives `PATCH /api/v1/sources/{id}/` and
  `PATCH /api/v1/facilities/{ref}/` for their protections only (`confidential`,
  `file_public`; `sensitive`). Raising one takes effect at once (200); lowering one
  changes nothing and answers 202 with the ProtectionRequest the service filed.
- `ProtectionRequestViewSet` is `/api/v1/protection-requests/`: staff only (reviewers
  see every request, researchers their own), `POST …/{id}/approve/` and `…/reject/`
  for reviewers who did not ask, carrying the object's version as `If-Match` (missing →
  428, stale → 412: the requester asks again).

Views only validate, call `incidents.services` and turn its errors into HTTP answers.
"""

from __future__ import annotations

import re
from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions, serializers, status
from rest_framework.response import Response

from api.parsers import LimitedJSONParser
from api.permissions import IsStaffMember
from api.serializers import ErrorSerializer
from api.throttling import AnonRateThrottle, UserRateThrottle
from api.views_write import PreconditionRequired, service_errors
from incidents import services
from incidents.models import Facility, ProtectionRequest, Source

VERSION_RE = re.compile(r'^\s*"(\d{1,18})"\s*$')


# ---------------------------------------------------------------------------------------
# Representation
# ---------------------------------------------------------------------------------------


class ProtectionRequestSerializer(serializers.Serializer):
    """A request to lower a protection (staff only: it names the people involved)."""

    id = serializers.IntegerField()
    url = serializers.CharField()
    target = serializers.ChoiceField(choices=ProtectionRequest.Target.choices)
    object_type = serializers.ChoiceField(choices=["source", "facility", "victim"])
    object_id = serializers.IntegerField()
    field = serializers.CharField(help_text="The protection's field on the object.")
    value = serializers.BooleanField(help_text="The value asked for.")
    object_version = serializers.CharField(
        help_text="The object's version when the request was made."
    )
    reason = serializers.CharField()
    status = serializers.ChoiceField(choices=ProtectionRequest.Status.choices)
    requested_by = serializers.CharField()
    decided_by = serializers.CharField(allow_null=True)
    decided_at = serializers.DateTimeField(allow_null=True)
    decision_note = serializers.CharField()
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()


class DecisionSerializer(serializers.Serializer):
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=2000, help_text="Why (optional)."
    )


class ProtectionPatchSerializer(serializers.Serializer):
    """Only the protection flags (and why): the rest of a source or facility is edited
    in the admin."""

    reason = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=2000,
        help_text="Why: required when lowering a protection (it goes to the reviewer).",
    )


def _user_name(user) -> str | None:
    return user.get_username() if user is not None else None


def protection_request_body(asked: ProtectionRequest, request) -> dict[str, Any]:
    model, name, _protected = services.PROTECTIONS[asked.target]
    return {
        "id": asked.pk,
        "url": request.build_absolute_uri(f"/api/v1/protection-requests/{asked.pk}/"),
        "target": asked.target,
        "object_type": model._meta.model_name,
        "object_id": asked.object_id,
        "field": name,
        "value": asked.value,
        "object_version": asked.object_version,
        "reason": asked.reason,
        "status": asked.status,
        "requested_by": _user_name(asked.requested_by),
        "decided_by": _user_name(asked.decided_by),
        "decided_at": asked.decided_at,
        "decision_note": asked.decision_note,
        "created_at": asked.created_at,
        "updated_at": asked.updated_at,
    }


def version_from_header(request) -> str:
    header = request.headers.get("If-Match")
    if header is None or not header.strip():
        raise PreconditionRequired(
            'Send the version of the object you read as If-Match: "<version>" (the '
            "ETag of the request's detail)."
        )
    match = VERSION_RE.match(header)
    if match is None:
        raise exceptions.ValidationError(
            {"If-Match": ['Send exactly one version as a strong ETag, e.g. "123".']}
        )
    return match.group(1)


def stale_response(stale: services.StaleProtectionVersion) -> Response:
    response = Response(
        {"detail": str(stale), "current_version": stale.current_version},
        status=status.HTTP_412_PRECONDITION_FAILED,
    )
    if stale.current_version is not None:
        response["ETag"] = f'"{stale.current_version}"'
    return response


REQUEST_ANSWERS = {
    401: OpenApiResponse(ErrorSerializer, description="No valid token or session."),
    403: OpenApiResponse(
        ErrorSerializer,
        description="Not a reviewer, or you asked for it yourself (four-eyes rule).",
    ),
    404: OpenApiResponse(ErrorSerializer, description="No such request (for you)."),
}
OBJECT_IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description='The version of the object you read, as its ETag: "123" (the '
    "request's detail answers it as ETag).",
)


# ---------------------------------------------------------------------------------------
# PATCH of a source's or facility's protections
# ---------------------------------------------------------------------------------------

_PATCH_ANSWERS = {
    200: OpenApiResponse(description="Raised (or unchanged): in effect at once."),
    202: OpenApiResponse(
        ProtectionRequestSerializer,
        description="A lowering: nothing changed; the ProtectionRequest waits for a "
        "reviewer who did not ask.",
    ),
    400: OpenApiResponse(description="Invalid input, field-keyed."),
    401: OpenApiResponse(ErrorSerializer, description="No valid token or session."),
    403: OpenApiResponse(ErrorSerializer, description="Not staff."),
    404: OpenApiResponse(ErrorSerializer, description="No such object."),
}


class ProtectionPatchMixin:
    """`PATCH` of the protection flags of the viewset's object. Mix in before the
    viewset's other bases; set `protection_model` and `protection_fields`."""

    protection_model: type = Source
    protection_fields: tuple[str, ...] = ()

    def _is_protection_patch(self) -> bool:
        return getattr(self, "action", None) == "partial_update"

    def get_permissions(self):
        if self._is_protection_patch():
            return [IsStaffMember()]
        return super().get_permissions()

    def get_throttles(self):
        if self._is_protection_patch():
            return [AnonRateThrottle(), UserRateThrottle()]
        return super().get_throttles()

    def get_parsers(self):
        request = getattr(self, "request", None)
        if request is not None and request.method == "PATCH":
            return [LimitedJSONParser()]
        return super().get_parsers()

    def _protected_object(self):
        key = self.lookup_url_kwarg or self.lookup_field
        value = str(self.kwargs.get(key, ""))
        model = self.protection_model
        if model is Source:
            found = (
                Source.objects.filter(pk=int(value))
                if re.fullmatch(r"[0-9]{1,18}", value)
                else None
            )
        elif "\x00" not in value:
            found = Facility.objects.filter(ref=value)
        else:
            found = None
        obj = found.first() if found is not None else None
        if obj is None:
            raise exceptions.NotFound(f"No {model._meta.verbose_name} {value}.")
        return obj

    def _patch_body(self) -> tuple[dict[str, bool], str]:
        data = self.request.data
        if not isinstance(data, dict):
            raise exceptions.ValidationError(
                {"non_field_errors": ["Send a JSON object."]}
            )
        allowed = {*self.protection_fields, "reason"}
        unknown = sorted(set(data) - allowed)
        if unknown:
            message = (
                "Only the protections (" + ", ".join(self.protection_fields) + ") and "
                "reason are changed here; edit the rest in the admin."
            )
            raise exceptions.ValidationError({name: [message] for name in unknown})
        flags: dict[str, bool] = {}
        errors: dict[str, list[str]] = {}
        for name in self.protection_fields:
            if name in data:
                if not isinstance(data[name], bool):
                    errors[name] = ["Must be true or false."]
                else:
                    flags[name] = data[name]
        reason = ProtectionPatchSerializer(data={"reason": data.get("reason", "")})
        if not reason.is_valid():
            errors.update(reason.errors)
        if errors:
            raise exceptions.ValidationError(errors)
        if not flags:
            raise exceptions.ValidationError(
                {"non_field_errors": ["Send at least one protection to change."]}
            )
        return flags, reason.validated_data.get("reason", "")

    def partial_update(self, request, *args, **kwargs):
        obj = self._protected_object()
        flags, reason = self._patch_body()
        protected = {name: value for _m, name, value in services.PROTECTIONS.values()}
        lowers = any(
            getattr(obj, name) == protected[name] and value != protected[name]
            for name, value in flags.items()
        )
        if lowers and not reason.strip():
            raise exceptions.ValidationError(
                {
                    "reason": [
                        "Say why the protection may be lowered (for the reviewer)."
                    ]
                }
            )
        with service_errors():
            if isinstance(obj, Source):
                saved = services.source_update(
                    source=obj,
                    by=request.user,
                    reason=reason or "protection changed through the API",
                    **flags,
                )
            else:
                for name, value in flags.items():
                    setattr(obj, name, value)
                saved = services.facility_save(
                    facility=obj,
                    by=request.user,
                    reason=reason or "protection changed through the API",
                )
        asked = getattr(saved, "protection_requests", [])
        if asked:
            bodies = [protection_request_body(r, request) for r in asked]
            response = Response(
                bodies[0] if len(bodies) == 1 else {"protection_requests": bodies},
                status=status.HTTP_202_ACCEPTED,
            )
            response["Location"] = bodies[0]["url"]
            return response
        saved.refresh_from_db()
        body = {
            "id": saved.pk,
            **{n: getattr(saved, n) for n in self.protection_fields},
        }
        if isinstance(saved, Facility):
            body["ref"] = saved.ref
        return Response(body)


def _patch_schema(model_name: str, fields: tuple[str, ...]):
    return extend_schema(
        summary=f"Raise or lower a {model_name}'s protection (staff)",
        description="Raising takes effect at once (200). Lowering changes nothing and "
        "answers 202 with the ProtectionRequest (`/api/v1/protection-requests/{id}/`) "
        "that a reviewer who did not ask approves. Only "
        + ", ".join(f"`{f}`" for f in fields)
        + " and `reason` (required when lowering).",
        request=inline_serializer(
            f"{model_name.title()}ProtectionPatch",
            {
                **{f: serializers.BooleanField(required=False) for f in fields},
                "reason": serializers.CharField(required=False),
            },
        ),
        responses=_PATCH_ANSWERS,
    )


class SourceProtectionMixin(ProtectionPatchMixin):
    protection_model = Source
    protection_fields = ("confidential", "file_public")

    @_patch_schema("source", ("confidential", "file_public"))
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)


class FacilityProtectionMixin(ProtectionPatchMixin):
    protection_model = Facility
    protection_fields = ("sensitive",)

    @_patch_schema("facility", ("sensitive",))
    def partial_update(self, request, *args, **kwargs):
        return super().partial_update(request, *args, **kwargs)
