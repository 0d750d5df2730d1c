"""The write side of API v1 (API.md "Writing"): token- or session-authenticated staff
create and edit incidents, move them through the workflow, add sources and start imports.

Views validate the request's shape (api/write_serializers.py), call `incidents.services`
and turn the services' errors into HTTP answers; they never write rows themselves.

- `IncidentWriteMixin` is mixed into the read side's `IncidentViewSet` (api/views.py),
  *before* its DRF base class, so that `/incidents/` and `/incidents/{code}/` answer
  POST, PATCH and the workflow actions as well as GET.
- `SourceWriteMixin` does the same for `POST /sources/` on the read side's sources
  viewset.
- `ImportBatchViewSet` is `POST /imports/` and `GET /imports/{id}/`.

No view here runs inside one request-wide transaction: a stale PATCH must leave its
WriteConflict row behind (services.incident_update logs it after refusing the write), so
each write opens its own `transaction.atomic()` around exactly what must be all or
nothing.
"""

from __future__ import annotations

import contextlib
import logging
import re
from datetime import timedelta
from typing import Any

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import SuspiciousFileOperation
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.text import get_valid_filename
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
)
from rest_framework import exceptions, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from api import write_serializers as ws
from api.exceptions import api_exception_handler
from api.parsers import LimitedJSONParser
from api.permissions import CanEditIncident, IsReviewer, IsStaffMember
from api.serializers import ErrorSerializer, IncidentDetailSerializer
from api.throttling import AnonRateThrottle, UserRateThrottle
from incidents import services
from incidents.importers.base import ImportFileError, batch_create
from incidents.models import ImportBatch, Incident
from incidents.uploads import max_upload_bytes

logger = logging.getLogger("civtrack.api")

ETAG_RE = re.compile(r'^\s*"(\d{1,10})"\s*$')

# A running batch whose heartbeat is older than this is shown as failed (DOMAIN.md).
HEARTBEAT_TIMEOUT = timedelta(minutes=1)


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------


class PreconditionRequired(exceptions.APIException):
    status_code = 428
    default_detail = (
        'Send the version you edited as If-Match: "<version>" (the ETag of the '
        "incident you read)."
    )
    default_code = "precondition_required"


class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Conflict."
    default_code = "conflict"


def _api_detail(detail: Any) -> Any:
    """A service's field-keyed detail with Django's `__all__` spelled as DRF spells it."""
    if isinstance(detail, dict) and "__all__" in detail:
        detail = dict(detail)
        detail["non_field_errors"] = detail.pop("__all__")
    return detail


@contextlib.contextmanager
def service_errors():
    """Turn the services' errors into DRF's: IncidentValidationError and Django's
    ValidationError → 400 field-keyed, Django's PermissionDenied → 403 with its reason
    (the four-eyes rule's words, for instance)."""
    try:
        yield
    except services.IncidentValidationError as error:
        raise exceptions.ValidationError(_api_detail(error.detail)) from error
    except DjangoValidationError as error:
        if hasattr(error, "error_dict"):
            raise exceptions.ValidationError(_api_detail(error.message_dict)) from error
        raise exceptions.ValidationError(
            {"non_field_errors": error.messages}
        ) from error
    except DjangoPermissionDenied as error:
        raise exceptions.PermissionDenied(
            str(error) or "You cannot do this."
        ) from error


def _duplicate_body(error: services.DuplicateSourceError) -> dict[str, Any]:
    existing = error.existing
    return {
        "detail": str(error),
        "existing": {
            "id": existing.pk,
            "url": existing.url,
            "title": existing.title,
            "sha256": existing.sha256,
        },
    }


def _etag(version: int) -> str:
    return f'"{version}"'


def _absolute(request, name: str, kwargs: dict[str, Any], fallback: str) -> str:
    try:
        path = reverse(name, kwargs=kwargs)
    except NoReverseMatch:
        path = fallback
    return request.build_absolute_uri(path)


class WriteThrottlesMixin:
    """Writes are throttled per caller: anonymous callers by IP (they are refused
    anyway), staff (token or session) by user at the higher `user` rate."""

    write_throttle_classes = (AnonRateThrottle, UserRateThrottle)


class PayloadTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


def _refuse_oversized_body(request) -> None:
    """413 before reading a body that cannot hold an acceptable file (the file itself
    is checked by services.source_create: size and sniffed type)."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    limit = max_upload_bytes()
    if length > limit + 1024 * 1024:  # room for the form's other fields
        raise PayloadTooLarge(
            f"The request is {length / (1024 * 1024):.1f} MB; a source's file may be "
            f"at most {limit // (1024 * 1024)} MB."
        )


def _asked(request, saved) -> list[str]:
    """The ProtectionRequests a write filed instead of lowering a protection (a new
    file or victim's name starts protected: DOMAIN.md "Lowering protection")."""
    return [
        request.build_absolute_uri(f"/api/v1/protection-requests/{asked.pk}/")
        for asked in getattr(saved, "protection_requests", None) or []
    ]


# ---------------------------------------------------------------------------------------
# Incidents
# ---------------------------------------------------------------------------------------

_INCIDENT_WRITE_PERMISSIONS = {
    "create": (IsStaffMember,),
    "partial_update": (CanEditIncident,),
    "submit": (IsStaffMember,),
    "send_back": (IsReviewer,),
    "publish": (IsReviewer,),
    "withdraw": (IsReviewer,),
    "merge": (IsReviewer,),
}

_WRITE_RESPONSES = {
    400: OpenApiResponse(description="Invalid input, field-keyed."),
    401: OpenApiResponse(ErrorSerializer, description="No valid token or session."),
    403: OpenApiResponse(
        ErrorSerializer, description="Your role does not allow this (and why)."
    ),
    404: OpenApiResponse(ErrorSerializer, description="No incident with this code."),
}
# Writes answer with the staff detail representation (IncidentViewSet's
# incident_write_body) and the new version as ETag.
_INCIDENT_ANSWER = OpenApiResponse(
    IncidentDetailSerializer, description="The incident as it is now; ETag: version."
)

_IF_MATCH = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description='The version you edited, as its ETag: "7".',
)

_IF_MATCH_REVIEWED = OpenApiParameter(
    "If-Match",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description='The version you reviewed, as its ETag: "7".',
)

_CREATE_EXAMPLE = OpenApiExample(
    "A draft with its parts",
    request_only=True,
    value={
        "title": "Air strike on the central market",
        "date_start": "2016-02-15",
        "date_precision": "day",
        "location": "SY07",
        "geo_precision": "governorate",
        "incident_type": "airstrike-fixed-wing",
        "casualty_rows": [
            {"group": "civilians", "outcome": "killed", "min": 9, "max": 11},
            {"group": "children", "outcome": "killed", "min": 4, "max": 4},
        ],
        "attributions": [
            {
                "actor": "russian-aerospace-forces",
                "confidence": "likely",
                "alternative": 1,
            },
            {
                "actor": "syrian-arab-air-force",
                "confidence": "likely",
                "alternative": 2,
            },
        ],
        "weapons": [{"weapon": "cluster-munition", "certainty": "reported"}],
        "targets": [{"target_type": "market", "damage": "destroyed"}],
        "citations": [
            {"source": 12, "supports": ["occurrence", "casualties"]},
            {
                "source": {
                    "kind": "news_report",
                    "title": "Dozens killed in market strike",
                    "publisher": "Example News",
                    "url": "https://news.example.org/market-strike",
                },
                "supports": ["occurrence"],
            },
        ],
        "external_refs": [{"system": "snhr", "value": "2016-0215-03"}],
    },
)


class IncidentWriteMixin(WriteThrottlesMixin):
    """POST/PATCH and the workflow actions of `/api/v1/incidents/`.

    Mix into the incident ViewSet before its DRF base class (it overrides
    get_permissions, get_throttles, get_parsers and get_serializer_class for the write
    actions only and defers to the base class for reads). The viewset's lookup is the
    incident code. To answer writes with the detail representation, the viewset may
    define `incident_write_body(incident) -> dict`; without it the answer is
    `{code, url, status, version, …}`.
    """

    incident_write_actions = frozenset(_INCIDENT_WRITE_PERMISSIONS)

    # -- plumbing ------------------------------------------------------------------------

    def _is_incident_write(self) -> bool:
        return getattr(self, "action", None) in self.incident_write_actions

    def get_permissions(self):
        classes = _INCIDENT_WRITE_PERMISSIONS.get(getattr(self, "action", None))
        if classes is None:
            return super().get_permissions()
        return [permission() for permission in classes]

    def get_throttles(self):
        if self._is_incident_write():
            return [throttle() for throttle in self.write_throttle_classes]
        return super().get_throttles()

    def get_parsers(self):
        # Nested lists only make sense as JSON; the actions' few plain fields may come
        # as a form too. (`self.action` is set only after the parsers are chosen.)
        request = getattr(self, "request", None)
        action_map = getattr(self, "action_map", None) or {}
        name = action_map.get(request.method.lower()) if request is not None else None
        if name in ("create", "partial_update", "update"):
            return [LimitedJSONParser()]
        if name in self.incident_write_actions:
            return [LimitedJSONParser(), FormParser(), MultiPartParser()]
        return super().get_parsers()

    def get_serializer_class(self):
        write = {
            "create": ws.IncidentCreateSerializer,
            "partial_update": ws.IncidentWriteSerializer,
            "submit": ws.EmptySerializer,
            "send_back": ws.SendBackSerializer,
            "publish": ws.PublishSerializer,
            "withdraw": ws.WithdrawSerializer,
            "merge": ws.MergeSerializer,
        }.get(getattr(self, "action", None))
        return write or super().get_serializer_class()

    def _incident_lookup_kwarg(self) -> str:
        return (
            getattr(self, "lookup_url_kwarg", None)
            or getattr(self, "lookup_field", None)
            or "code"
        )

    def _write_incident(self) -> Incident:
        """The incident named in the URL, for staff (any status), with the object
        permission checked."""
        code = self.kwargs.get(self._incident_lookup_kwarg()) or self.kwargs.get("code")
        incident = Incident.objects.filter(code=code).first() if code else None
        if incident is None:
            raise exceptions.NotFound(f"No incident {code}.")
        self.check_object_permissions(self.request, incident)
        return incident

    def _incident_url(self, incident: Incident) -> str:
        return _absolute(
            self.request,
            "api:incident-detail",
            {self._incident_lookup_kwarg(): incident.code},
            f"/api/v1/incidents/{incident.code}/",
        )

    def _incident_body(self, incident: Incident) -> dict[str, Any]:
        render = getattr(self, "incident_write_body", None)
        if render is not None:
            return render(incident)
        return {
            "code": incident.code,
            "url": self._incident_url(incident),
            "status": incident.status,
            "version": incident.version,
            "withdrawn_reason": incident.withdrawn_reason,
            "merged_into": (
                Incident.objects.filter(pk=incident.merged_into_id)
                .values_list("code", flat=True)
                .first()
                if incident.merged_into_id
                else None
            ),
        }

    def _answer(self, incident: Incident, code: int = status.HTTP_200_OK) -> Response:
        incident.refresh_from_db()
        body = self._incident_body(incident)
        asked = _asked(self.request, incident)
        if asked:
            body = {**body, "protection_requests": asked}
        response = Response(body, status=code)
        response["ETag"] = _etag(incident.version)
        return response

    def _validated(self, serializer_class, data=None) -> dict[str, Any]:
        serializer = serializer_class(
            data=self.request.data if data is None else data,
            context=self.get_serializer_context(),
        )
        serializer.is_valid(raise_exception=True)
        return dict(serializer.validated_data)

    # -- building the services' input ------------------------------------------------

    def _fields_and_parts(
        self, data: dict[str, Any]
    ) -> tuple[dict[str, Any], services.IncidentParts]:
        """Split validated data into incident fields and parts. Creates the inline new
        sources of citations, so call it inside the write's transaction."""
        parts = services.IncidentParts()
        for name, rows in list(data.items()):
            if name not in ws.PART_SERIALIZERS:
                continue
            data.pop(name)
            if name == "citations":
                rows = self._citations_with_sources(rows)
            data_class = services.PART_MODELS[name][1]
            setattr(parts, name, [data_class(**row) for row in rows])
        return data, parts

    def _citations_with_sources(self, rows: list[dict]) -> list[dict]:
        out: list[dict] = []
        errors: list[dict] = []
        for row in rows:
            source = row["source"]
            problem: dict[str, list[str]] = {}
            if isinstance(source, ws.NewSource):
                try:
                    with service_errors():
                        source = services.source_create(
                            by=self.request.user, **source.data
                        )
                except services.DuplicateSourceError as error:
                    problem["source"] = [
                        f"{error} Cite it by its id ({error.existing.pk})."
                    ]
                except exceptions.ValidationError as error:
                    problem["source"] = error.detail
            errors.append(problem)
            out.append({**row, "source": source})
        if any(errors):
            raise exceptions.ValidationError({"citations": errors})
        return out

    # -- create and edit -------------------------------------------------------------

    @extend_schema(
        summary="Create a draft incident with its parts",
        description="Creates a `draft` (staff). Nested `casualty_rows`, "
        "`attributions`, `weapons`, `targets`, `citations` and `victims` are written "
        "in the same transaction; a source may be cited by id or created inline. "
        "Answers 201 with the incident, its version as ETag and its URL as Location.",
        request=ws.IncidentCreateSerializer,
        responses={
            201: _INCIDENT_ANSWER,
            **{code: r for code, r in _WRITE_RESPONSES.items() if code != 404},
        },
        examples=[_CREATE_EXAMPLE],
    )
    def create(self, request, *args, **kwargs):
        data = self._validated(ws.IncidentCreateSerializer)
        reason = data.pop("reason", "") or "created"
        with service_errors(), transaction.atomic():
            fields, parts = self._fields_and_parts(data)
            incident = services.incident_create(
                fields=fields, parts=parts, by=request.user, reason=reason
            )
        response = self._answer(incident, status.HTTP_201_CREATED)
        response["Location"] = self._incident_url(incident)
        return response

    @extend_schema(
        summary="Change an incident (optimistic locking with If-Match)",
        description="Send only what changes. A nested list given replaces that list "
        "as a whole. `If-Match` must carry the version you edited: without it the "
        "answer is 428; when the incident changed meanwhile, 412 and nothing is "
        "written.",
        parameters=[_IF_MATCH],
        request=ws.IncidentWriteSerializer,
        responses={
            200: _INCIDENT_ANSWER,
            **_WRITE_RESPONSES,
            412: ws.PreconditionFailedSerializer,
            428: OpenApiResponse(description="If-Match is missing."),
        },
    )
    def partial_update(self, request, *args, **kwargs):
        incident = self._write_incident()
        expected = self._if_match()
        data = self._validated(ws.IncidentWriteSerializer)
        reason = data.pop("reason", "") or "edited"
        public_reason = data.pop("public_reason", "")
        if not data:
            raise exceptions.ValidationError(
                {"non_field_errors": ["Send at least one field to change."]}
            )
        try:
            with service_errors():
                updated = None
                with transaction.atomic():
                    # Hold the row while inline sources are created, so that the
                    # version cannot move between this check and the update.
                    current = (
                        Incident.objects.select_for_update()
                        .only("id", "version")
                        .get(pk=incident.pk)
                    )
                    if current.version == expected:
                        fields, parts = self._fields_and_parts(data)
                        updated = services.incident_update(
                            incident=incident,
                            expected_version=expected,
                            fields=fields,
                            parts=parts,
                            by=request.user,
                            reason=reason,
                            public_reason=public_reason,
                        )
                if updated is None:
                    if expected > current.version:
                        return self._precondition_failed(
                            current.version,
                            f"Version {expected} of {incident.code} does not exist; "
                            f"it is at version {current.version}.",
                            [],
                        )
                    # Outside any transaction of ours: the service refuses the write
                    # (StaleVersionError) and logs the WriteConflict, which must
                    # survive the 412.
                    updated = services.incident_update(
                        incident=incident, expected_version=expected, by=request.user
                    )
        except services.StaleVersionError as conflict:
            return self._precondition_failed(
                conflict.current_version, str(conflict), conflict.changed_fields
            )
        return self._answer(updated)

    def _if_match(self) -> int:
        header = self.request.headers.get("If-Match")
        if header is None or not header.strip():
            raise PreconditionRequired()
        match = ETAG_RE.match(header)
        if match is None:
            raise exceptions.ValidationError(
                {
                    "If-Match": [
                        'Send exactly one version as a strong ETag, e.g. "7" '
                        "(the ETag of the incident you edited)."
                    ]
                }
            )
        return int(match.group(1))

    def _precondition_failed(
        self, current_version: int, detail: str, changed_fields: list[str]
    ) -> Response:
        response = Response(
            {
                "detail": detail,
                "current_version": current_version,
                "changed_fields": changed_fields,
            },
            status=status.HTTP_412_PRECONDITION_FAILED,
        )
        response["ETag"] = _etag(current_version)
        return response

    # -- workflow actions ------------------------------------------------------------

    @extend_schema(
        summary="Submit a draft for review",
        description="draft → in review (researchers, reviewers and admins). Only a "
        "draft can be submitted: otherwise 400 naming `status`.",
        request=ws.EmptySerializer,
        responses={200: _INCIDENT_ANSWER, **_WRITE_RESPONSES},
    )
    @action(detail=True, methods=["post"])
    def submit(self, request, *args, **kwargs):
        incident = self._write_incident()
        self._validated(ws.EmptySerializer, data=request.data or {})
        with service_errors():
            incident = services.incident_submit(incident=incident, by=request.user)
        return self._answer(incident)

    @extend_schema(
        summary="Send an incident in review back to its author (reviewers)",
        description="in review → draft, with the reason the researchers see in the "
        "history (`reason` is required).",
        request=ws.SendBackSerializer,
        responses={200: _INCIDENT_ANSWER, **_WRITE_RESPONSES},
    )
    @action(detail=True, methods=["post"], url_path="send-back", url_name="send-back")
    def send_back(self, request, *args, **kwargs):
        incident = self._write_incident()
        data = self._validated(ws.SendBackSerializer)
        with service_errors():
            incident = services.incident_send_back(
                incident=incident, reason=data["reason"], by=request.user
            )
        return self._answer(incident)

    @extend_schema(
        summary="Publish an incident in review (reviewers; four-eyes rule)",
        description="A reviewer who created or last edited the incident may not "
        "publish it: 403 with that reason. `If-Match` must carry the version you "
        "reviewed (the ETag of the incident you read): without it the answer is 428; "
        "when the incident changed since, 412 with `current_version` and nothing is "
        "published.",
        parameters=[_IF_MATCH_REVIEWED],
        request=ws.PublishSerializer,
        responses={
            200: _INCIDENT_ANSWER,
            **_WRITE_RESPONSES,
            412: ws.PreconditionFailedSerializer,
            428: OpenApiResponse(description="If-Match is missing."),
        },
    )
    @action(detail=True, methods=["post"])
    def publish(self, request, *args, **kwargs):
        incident = self._write_incident()
        expected = self._if_match()
        data = self._validated(ws.PublishSerializer, data=request.data or {})
        try:
            with service_errors():
                incident = services.incident_publish(
                    incident=incident,
                    expected_version=expected,
                    by=request.user,
                    public_reason=data.get("public_reason", ""),
                )
        except services.StaleVersionError as conflict:
            return self._precondition_failed(
                conflict.current_version,
                f"{conflict.incident.code} changed since version {expected}, which "
                f"you reviewed (it is at version {conflict.current_version}): read it "
                "again before publishing. Nothing was published.",
                conflict.changed_fields,
            )
        return self._answer(incident)

    @extend_schema(
        summary="Withdraw a published incident (reviewers)",
        description="published → withdrawn. Its code keeps answering (410) with "
        "`withdrawn_reason`, which is public and required.",
        request=ws.WithdrawSerializer,
        responses={200: _INCIDENT_ANSWER, **_WRITE_RESPONSES},
    )
    @action(detail=True, methods=["post"])
    def withdraw(self, request, *args, **kwargs):
        incident = self._write_incident()
        data = self._validated(ws.WithdrawSerializer)
        with service_errors():
            incident = services.incident_withdraw(
                incident=incident,
                withdrawn_reason=data["withdrawn_reason"],
                by=request.user,
            )
        return self._answer(incident)

    @extend_schema(
        summary="Merge an incident into another (reviewers)",
        description="The incident's external references move to the survivor (`into`, "
        "its code) and its code redirects there. An incident that has been public "
        "can only merge into a published survivor.",
        request=ws.MergeSerializer,
        responses={200: _INCIDENT_ANSWER, **_WRITE_RESPONSES},
    )
    @action(detail=True, methods=["post"])
    def merge(self, request, *args, **kwargs):
        incident = self._write_incident()
        data = self._validated(ws.MergeSerializer)
        into = Incident.objects.filter(code=data["into"].strip()).first()
        if into is None:
            raise exceptions.ValidationError({"into": [f"No incident {data['into']}."]})
        with service_errors():
            incident = services.incident_merge(
                incident=incident,
                into=into,
                by=request.user,
                reason=data.get("reason", ""),
            )
        return self._answer(incident)


# ---------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------


class SourceWriteMixin(WriteThrottlesMixin):
    """`POST /api/v1/sources/` (JSON, or multipart with an optional file). Mix into the
    sources viewset before its DRF base class."""

    def get_permissions(self):
        if getattr(self, "action", None) == "create":
            return [IsStaffMember()]
        return super().get_permissions()

    def get_throttles(self):
        if getattr(self, "action", None) == "create":
            return [throttle() for throttle in self.write_throttle_classes]
        return super().get_throttles()

    def get_parsers(self):
        request = getattr(self, "request", None)
        if request is not None and request.method == "POST":
            return [LimitedJSONParser(), MultiPartParser(), FormParser()]
        return super().get_parsers()

    def get_serializer_class(self):
        if getattr(self, "action", None) == "create":
            return ws.SourceUploadSerializer
        return super().get_serializer_class()

    @extend_schema(
        summary="Add a source (optionally with a file)",
        description="sha256, size and MIME type are computed by the server. A URL or "
        "file that is already a source answers 409 with the existing source.",
        request={
            "application/json": ws.SourceWriteSerializer,
            "multipart/form-data": ws.SourceUploadSerializer,
        },
        responses={
            201: ws.SourceResultSerializer,
            400: OpenApiResponse(description="Invalid input, field-keyed."),
            401: OpenApiResponse(description="No valid token or session."),
            403: OpenApiResponse(description="Your role does not allow this."),
            409: ws.DuplicateSourceSerializer,
            413: OpenApiResponse(
                ErrorSerializer, description="The upload is too large."
            ),
        },
    )
    def create(self, request, *args, **kwargs):
        _refuse_oversized_body(request)
        serializer = ws.SourceUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        upload = data.pop("file", None)
        try:
            with service_errors():
                source = services.source_create(by=request.user, file=upload, **data)
        except services.DuplicateSourceError as error:
            return Response(_duplicate_body(error), status=status.HTTP_409_CONFLICT)
        body = dict(ws.SourceResultSerializer(source).data)
        asked = _asked(request, source)
        if asked:
            body["protection_requests"] = asked
        response = Response(body, status=status.HTTP_201_CREATED)
        response["Location"] = _absolute(
            request,
            "api:source-detail",
            {"pk": source.pk},
            f"/api/v1/sources/{source.pk}/",
        )
        return response


# ---------------------------------------------------------------------------------------
# Imports
# ---------------------------------------------------------------------------------------


def _safe_file_name(name: str | None) -> str:
    """The uploaded file's own name, made safe to store (never a path)."""
    base = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    try:
        return get_valid_filename(base)[:200]
    except SuspiciousFileOperation:
        return "upload"


def enqueue_import(batch: ImportBatch) -> None:
    """Hand the batch to the importers' background task (incidents/tasks.py)."""
    from incidents.tasks import run_import_batch

    run_import_batch.enqueue(batch.pk)


def batch_display_status(batch: ImportBatch, now=None) -> tuple[str, str]:
    """The status to show, and the failure reason: a running batch whose heartbeat
    stopped over a minute ago is shown as failed (DOMAIN.md)."""
    now = now or timezone.now()
    if batch.status == ImportBatch.Status.RUNNING:
        beat = batch.heartbeat_at or batch.started_at
        if beat is not None and now - beat > HEARTBEAT_TIMEOUT:
            return (
                ImportBatch.Status.FAILED,
                batch.failure_reason
                or "The import stopped sending a heartbeat over a minute ago "
                "(the worker died or was stopped).",
            )
    return batch.status, batch.failure_reason


class ImportBatchViewSet(WriteThrottlesMixin, viewsets.GenericViewSet):
    """`POST /api/v1/imports/` starts an import in the background; `GET
    /api/v1/imports/{id}/` shows its progress, counts and per-row report (staff)."""

    queryset = ImportBatch.objects.select_related("user")
    parser_classes = (MultiPartParser, FormParser)
    permission_classes = (IsStaffMember,)
    serializer_class = ws.ImportBatchSerializer

    def get_throttles(self):
        return [throttle() for throttle in self.write_throttle_classes]

    def get_exception_handler(self):
        return api_exception_handler

    def get_serializer_class(self):
        if getattr(self, "action", None) == "create":
            return ws.ImportCreateSerializer
        return ws.ImportBatchSerializer

    def _url(self, batch: ImportBatch) -> str:
        return _absolute(
            self.request,
            "api:import-detail",
            {"pk": batch.pk},
            f"/api/v1/imports/{batch.pk}/",
        )

    @extend_schema(
        summary="Start an import (multipart: file + format)",
        description="The import runs in the background; poll the `url` answered for "
        "progress. `publish` needs a reviewer or admin and records the four-eyes "
        "waiver. `dry_run` reports what would change and writes nothing.",
        request={"multipart/form-data": ws.ImportCreateSerializer},
        responses={
            202: ws.ImportAcceptedSerializer,
            400: OpenApiResponse(description="Invalid input, field-keyed."),
            401: OpenApiResponse(description="No valid token or session."),
            403: OpenApiResponse(description="Your role does not allow this."),
        },
    )
    def create(self, request, *args, **kwargs):
        serializer = ws.ImportCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        if data.get("publish") and not services.is_reviewer(request.user):
            raise exceptions.PermissionDenied(
                "Only reviewers and admins import with publish."
            )
        upload = data.pop("file")
        fmt = data.pop("format")
        options = {
            "dry_run": data.get("dry_run", False),
            "skip_bad_rows": data.get("skip_bad_rows", False),
            "publish": data.get("publish", False),
            "release": data.get("release", ""),
            "release_date": data.get("release_date"),
            "note": data.get("note", ""),
        }
        try:
            with service_errors(), transaction.atomic():
                batch = batch_create(
                    format=fmt,
                    file_name=_safe_file_name(upload.name),
                    file=upload,
                    user=request.user,
                    **options,
                )
        except ImportFileError as error:
            raise exceptions.ValidationError({"format": [str(error)]}) from error
        # Enqueued after the commit above, so that the worker finds the batch row.
        enqueue_import(batch)
        url = self._url(batch)
        response = Response(
            {"id": batch.pk, "status": batch.status, "url": url},
            status=status.HTTP_202_ACCEPTED,
        )
        response["Location"] = url
        return response

    @extend_schema(
        summary="An import's progress, counts and per-row report",
        description="Staff. The batch's status, progress, counts (created, updated, "
        "unchanged, skipped, rejected) and the per-row report: line, external id, "
        'what happened and why (for instance "needs a reviewer" for a row of a '
        "researcher's import that would change an incident in review or published).",
        responses={
            200: ws.ImportBatchSerializer,
            401: OpenApiResponse(description="No valid token or session."),
            403: OpenApiResponse(description="Staff only."),
            404: OpenApiResponse(description="No such import."),
        },
    )
    def retrieve(self, request, *args, **kwargs):
        lookup = self.kwargs.get("pk", "")
        if not str(lookup).isdigit() or int(lookup) > ws.MAX_BIGINT:
            raise exceptions.NotFound("No such import.")
        batch = self.get_queryset().filter(pk=int(lookup)).first()
        if batch is None:
            raise exceptions.NotFound("No such import.")
        shown_status, failure_reason = batch_display_status(batch)
        return Response(
            {
                "id": batch.pk,
                "url": self._url(batch),
                "status": shown_status,
                "format": batch.format,
                "file_name": batch.file_name,
                "sha256": batch.sha256,
                "user": batch.user.get_username() if batch.user else None,
                "dry_run": batch.dry_run,
                "skip_bad_rows": batch.skip_bad_rows,
                "publish": batch.publish,
                "four_eyes_waived": batch.four_eyes_waived,
                "release": batch.release,
                "release_date": batch.release_date,
                "note": batch.note,
                "failure_reason": failure_reason,
                "progress": {
                    "done": batch.progress_done,
                    "total": batch.progress_total,
                },
                "counts": {
                    "read": batch.rows_read,
                    "created": batch.rows_created,
                    "updated": batch.rows_updated,
                    "unchanged": batch.rows_unchanged,
                    "skipped": batch.rows_skipped,
                    "rejected": batch.rows_rejected,
                    "warnings": batch.rows_warnings,
                },
                "report": batch.report,
                "created_at": batch.created_at,
                "started_at": batch.started_at,
                "finished_at": batch.finished_at,
                "heartbeat_at": batch.heartbeat_at,
            }
        )
