"""Narrow write serializers: they check the shape of a request and the bounds the
database enforces (DRF never runs CheckConstraints: STACK.md), resolve slugs and codes to
rows, and hand plain values to `incidents.services`, which hold the one validation layer
shared with the admin and the importers (cross-row rules, the workflow, four-eyes).

They accept the keys the detail returns (`casualty_rows`, `attributions`, `citations`,
`weapons`, `targets`, `external_refs`, `victims`), with references written as the detail
shows them: actor slug, vocabulary code, facility ref, location slug or pcode, source id
(or a new source inline). Unknown keys and read-only keys are refused with a 400 naming
them, never silently dropped.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import build_basic_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from incidents.models import (
    Actor,
    Attribution,
    CasualtyCount,
    Citation,
    Claim,
    Confidence,
    DatePrecision,
    ExternalRef,
    Facility,
    GeoPrecision,
    ImportBatch,
    Incident,
    IncidentTarget,
    IncidentType,
    IncidentWeapon,
    Location,
    Source,
    TargetType,
    Victim,
    WeaponType,
)

# PostgreSQL's integer, smallint and bigint limits: a larger number would reach the
# database and fail there (a 500), so the serializers refuse it first.
MAX_INT = 2_147_483_647
MAX_SMALLINT = 32_767
MAX_BIGINT = 9_223_372_036_854_775_807
# Generous caps on nested lists: a real incident never comes near them; they keep one
# request from holding a transaction open for minutes.
MAX_ROWS = {
    "casualty_rows": 100,
    "attributions": 200,
    "citations": 500,
    "weapons": 100,
    "targets": 200,
    "external_refs": 100,
    "victims": 5000,
}
MAX_TEXT = 100_000  # long free text (summaries, notes, excerpts)


def _max_length(model, name: str) -> int:
    return model._meta.get_field(name).max_length


# ---------------------------------------------------------------------------------------
# Fields
# ---------------------------------------------------------------------------------------


class ChoiceField(serializers.ChoiceField):
    """A choice field whose error names the allowed values."""

    def __init__(self, choices, **kwargs):
        super().__init__(choices, **kwargs)
        allowed = ", ".join(str(key) for key in self.choices)
        self.error_messages["invalid_choice"] = (
            '"{input}" is not allowed; use one of: ' + allowed + "."
        )


def _choice(choices, **kwargs) -> ChoiceField:
    return ChoiceField(choices=choices, **kwargs)


class FiniteFloatField(serializers.FloatField):
    """A float that refuses NaN and infinity (which would pass a range check)."""

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if not math.isfinite(value):
            raise serializers.ValidationError("A finite number is required.")
        return value


@extend_schema_field(OpenApiTypes.STR)
class CodeField(serializers.Field):
    """A row named by its code/slug/ref, as the detail shows it. Merged actors and
    places resolve to their survivor (their old slugs keep working)."""

    def __init__(self, *, model, lookup: str, what: str, hint: str = "", **kwargs):
        self.model = model
        self.lookup = lookup
        self.what = what
        self.hint = hint
        super().__init__(**kwargs)

    def _queryset(self):
        return self.model.objects.all()

    def _find(self, value: str):
        return self._queryset().filter(**{self.lookup: value}).first()

    def to_internal_value(self, data):
        if not isinstance(data, str) or not data.strip():
            raise serializers.ValidationError(
                f"Give the {self.what} as a string (its {self.lookup})."
            )
        value = data.strip()
        if len(value) > 200 or "\x00" in value:
            raise serializers.ValidationError(f"No {self.what} '{value[:200]}'.")
        row = self._find(value)
        if row is None:
            raise serializers.ValidationError(
                f"No {self.what} '{value}'." + (f" {self.hint}" if self.hint else "")
            )
        for _hop in range(20):  # follow merges to the survivor
            survivor_id = getattr(row, "merged_into_id", None)
            if survivor_id is None:
                break
            row = self.model.objects.get(pk=survivor_id)
        return row

    def to_representation(self, value):
        return getattr(value, self.lookup) if value is not None else None


class LocationField(CodeField):
    def __init__(self, **kwargs):
        super().__init__(
            model=Location,
            lookup="slug",
            what="place",
            hint="Give a place's slug or pcode (see /api/v1/locations/).",
            **kwargs,
        )

    def _find(self, value: str):
        return Location.objects.filter(Q(slug=value) | Q(pcode=value)).first()


def _vocabulary(model, what: str, **kwargs) -> CodeField:
    return CodeField(
        model=model,
        lookup="code",
        what=what,
        hint="See /api/v1/vocabularies/ for the codes.",
        **kwargs,
    )


@dataclass
class NewSource:
    """A source given inline in a citation: created in the same transaction."""

    data: dict[str, Any]


class SourceRefField(serializers.Field):
    """A citation's source: an existing source's id (or `{"id": N}`), or an object
    describing a new source, which is created with the incident."""

    def to_internal_value(self, data):
        if isinstance(data, Mapping) and set(data) == {"id"}:
            data = data["id"]
        if isinstance(data, bool):
            raise serializers.ValidationError(
                "Give a source id or a new source object."
            )
        if isinstance(data, str) and data.isdigit():
            data = int(data)
        if isinstance(data, int):
            source = (
                Source.objects.filter(pk=data).first()
                if 1 <= data <= MAX_BIGINT
                else None
            )
            if source is None:
                raise serializers.ValidationError(f"No source #{data}.")
            return source
        if isinstance(data, Mapping):
            serializer = SourceWriteSerializer(data=data)
            if "id" in data:
                raise serializers.ValidationError(
                    'Cite an existing source as its id (or {"id": N}) alone, or '
                    "describe a new source without an id."
                )
            if not serializer.is_valid():
                raise serializers.ValidationError(serializer.errors)
            return NewSource(dict(serializer.validated_data))
        raise serializers.ValidationError(
            "Give a source id or a new source object (kind, title, url, …)."
        )

    def to_representation(self, value):
        return value.pk if isinstance(value, Source) else None


# ---------------------------------------------------------------------------------------
# Strictness
# ---------------------------------------------------------------------------------------


class RowListSerializer(serializers.ListSerializer):
    """A nested list whose errors are a list parallel to the input, `[{}, {"max": …}]`,
    as API.md shows them and as the services report theirs (DRF 3.18 would key them by
    index in a dict)."""

    def to_internal_value(self, data):
        try:
            return super().to_internal_value(data)
        except serializers.ValidationError as error:
            detail = error.detail
            if (
                isinstance(detail, dict)
                and detail
                and all(isinstance(key, int) for key in detail)
            ):
                detail = [detail.get(index, {}) for index in range(len(data))]
                raise serializers.ValidationError(detail) from error
            raise


class StrictSerializer(serializers.Serializer):
    """Refuses keys it does not know (and read-only keys) instead of ignoring them."""

    class Meta:
        list_serializer_class = RowListSerializer

    # Keys the read representation has but a write cannot set, with what to do instead.
    read_only_hints: dict[str, str] = {}

    def to_internal_value(self, data):
        if isinstance(data, Mapping):
            writable = {
                name for name, field in self.fields.items() if not field.read_only
            }
            errors = {}
            for key in data:
                if key in writable:
                    continue
                if key in self.read_only_hints:
                    errors[key] = [self.read_only_hints[key]]
                else:
                    errors[key] = [
                        "Unknown field; allowed: " + ", ".join(sorted(writable)) + "."
                    ]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


# ---------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------


class SourceWriteSerializer(StrictSerializer):
    """A new source (inline in a citation, or `POST /sources/` without the file)."""

    read_only_hints = dict.fromkeys(
        ("sha256", "size", "mime"), "Computed by the server from the uploaded file."
    ) | {"id": "Assigned by the server.", "created_at": "Assigned by the server."}

    kind = _choice(Source.Kind.choices)
    title = serializers.CharField(max_length=_max_length(Source, "title"))
    publisher = serializers.CharField(
        max_length=_max_length(Source, "publisher"), required=False, allow_blank=True
    )
    author = serializers.CharField(
        max_length=_max_length(Source, "author"), required=False, allow_blank=True
    )
    url = serializers.URLField(
        max_length=_max_length(Source, "url"), required=False, allow_blank=True
    )
    archive_url = serializers.URLField(
        max_length=_max_length(Source, "archive_url"), required=False, allow_blank=True
    )
    published_on = serializers.DateField(required=False, allow_null=True)
    accessed_on = serializers.DateField(required=False, allow_null=True)
    language = serializers.CharField(
        max_length=_max_length(Source, "language"), required=False, allow_blank=True
    )
    release = serializers.CharField(
        max_length=_max_length(Source, "release"), required=False, allow_blank=True
    )
    licence = serializers.CharField(
        max_length=_max_length(Source, "licence"), required=False, allow_blank=True
    )
    file_public = serializers.BooleanField(required=False)
    reliability = _choice(Source.Reliability.choices, required=False)
    confidential = serializers.BooleanField(required=False)
    graphic = serializers.BooleanField(required=False)


class SourceRefFieldExtension(OpenApiSerializerFieldExtension):
    """Schema of a citation's source: an id, or a new source object."""

    target_class = "api.write_serializers.SourceRefField"

    def map_serializer_field(self, auto_schema, direction):
        new_source = auto_schema.resolve_serializer(SourceWriteSerializer, direction)
        return {
            "oneOf": [
                {**build_basic_type(OpenApiTypes.INT), "description": "a source id"},
                new_source.ref,
            ]
        }


class SourceUploadSerializer(SourceWriteSerializer):
    """`POST /sources/`: JSON, or multipart with an optional file."""

    file = serializers.FileField(required=False, allow_empty_file=False)


class SourceResultSerializer(serializers.ModelSerializer):
    """What `POST /sources/` answers with (the caller is staff: every field)."""

    # Blank when the source has none: a string, not a `uri` (which "" is not).
    url = serializers.CharField(read_only=True, help_text="A URL, or empty.")
    archive_url = serializers.CharField(read_only=True, help_text="A URL, or empty.")

    class Meta:
        model = Source
        fields = [
            "id",
            "kind",
            "title",
            "publisher",
            "author",
            "url",
            "archive_url",
            "published_on",
            "accessed_on",
            "language",
            "release",
            "licence",
            "sha256",
            "size",
            "mime",
            "file_public",
            "reliability",
            "confidential",
            "graphic",
            "created_at",
        ]
        read_only_fields = fields


class DuplicateSourceSerializer(serializers.Serializer):
    """The 409 body: the existing source to cite instead."""

    class ExistingSerializer(serializers.Serializer):
        id = serializers.IntegerField()
        url = serializers.CharField()
        title = serializers.CharField()
        sha256 = serializers.CharField()

    detail = serializers.CharField()
    existing = ExistingSerializer()


# ---------------------------------------------------------------------------------------
# Incident parts
# ---------------------------------------------------------------------------------------


class CasualtyRowSerializer(StrictSerializer):
    """One CasualtyCount row: a group × outcome with its range (and best estimate)."""

    group = _choice(CasualtyCount._meta.get_field("group").choices)
    outcome = _choice(CasualtyCount._meta.get_field("outcome").choices)
    min = serializers.IntegerField(min_value=0, max_value=MAX_INT)
    max = serializers.IntegerField(min_value=0, max_value=MAX_INT)
    best = serializers.IntegerField(
        min_value=0, max_value=MAX_INT, required=False, allow_null=True
    )
    note = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True)

    def validate(self, attrs):
        # Same wording as services.validate_incident (and the DB constraints).
        if attrs["min"] > attrs["max"]:
            raise serializers.ValidationError(
                {"max": [f"must be >= min ({attrs['min']})"]}
            )
        best = attrs.get("best")
        if best is not None and not attrs["min"] <= best <= attrs["max"]:
            raise serializers.ValidationError(
                {
                    "best": [
                        f"must lie between min ({attrs['min']}) and max ({attrs['max']})"
                    ]
                }
            )
        return attrs


class AttributionSerializer(StrictSerializer):
    """An actor (by slug) in a role, with confidence, alternative hypothesis and position."""

    read_only_hints = {"name": "Shown from the actor; write its slug in actor."}

    actor = CodeField(
        model=Actor,
        lookup="slug",
        what="actor",
        hint="Give an actor's slug (see /api/v1/actors/).",
    )
    role = _choice(Attribution.Role.choices, required=False)
    confidence = _choice(Confidence.choices, required=False)
    alternative = serializers.IntegerField(
        min_value=1, max_value=MAX_SMALLINT, required=False, allow_null=True
    )
    position = _choice(Attribution.Position.choices, required=False)
    conceded_killed = serializers.IntegerField(
        min_value=0, max_value=MAX_INT, required=False, allow_null=True
    )
    note = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True)

    def validate(self, attrs):
        if attrs.get("alternative") is not None:
            if attrs.get("role", Attribution.Role.PERPETRATOR) != "perpetrator":
                raise serializers.ValidationError(
                    {
                        "alternative": [
                            "Only perpetrators can form alternative hypotheses."
                        ]
                    }
                )
            if attrs.get("confidence") == "confirmed":
                raise serializers.ValidationError(
                    {
                        "alternative": [
                            "A confirmed perpetrator cannot be one of several alternatives."
                        ]
                    }
                )
        return attrs


class CitationSerializer(StrictSerializer):
    """A source cited for some claims: an existing source id, or a new source inline."""

    read_only_hints = dict.fromkeys(
        ("archive_url", "sha256"), "Shown from the source; cite the source by its id."
    )

    source = SourceRefField()
    supports = serializers.ListField(
        child=_choice(Claim.choices), required=False, max_length=len(Claim.choices)
    )
    excerpt = serializers.CharField(
        max_length=MAX_TEXT, required=False, allow_blank=True
    )
    locator = serializers.CharField(
        max_length=_max_length(Citation, "locator"),
        required=False,
        allow_blank=True,
    )


class WeaponSerializer(StrictSerializer):
    """A weapon type (code) with how certain its use is."""

    weapon = _vocabulary(WeaponType, "weapon type")
    certainty = _choice(IncidentWeapon.Certainty.choices, required=False)


class FacilityRefField(CodeField):
    def __init__(self, **kwargs):
        super().__init__(
            model=Facility,
            lookup="ref",
            what="facility",
            hint="Give a facility's ref as /api/v1/facilities/ lists it (F- and six digits).",
            **kwargs,
        )

    def to_internal_value(self, data):
        if isinstance(data, Mapping) and "ref" in data:
            data = data["ref"]  # the detail shows {"ref": …, "name": …}
        return super().to_internal_value(data)


class TargetSerializer(StrictSerializer):
    """What was hit: a target type (code), optionally a facility (ref), and the damage."""

    target_type = _vocabulary(TargetType, "target type")
    facility = FacilityRefField(required=False, allow_null=True)
    damage = _choice(IncidentTarget.Damage.choices, required=False)


class ExternalRefSerializer(StrictSerializer):
    """A reference to the same event in another dataset (unique per system and value)."""

    read_only_hints = {
        "raw": "Only importers keep the imported row.",
        "batch": "Set by importers.",
    }

    system = _choice(ExternalRef.System.choices)
    value = serializers.CharField(max_length=_max_length(ExternalRef, "value"))
    url = serializers.URLField(
        max_length=_max_length(ExternalRef, "url"), required=False, allow_blank=True
    )
    release = serializers.CharField(
        max_length=_max_length(ExternalRef, "release"), required=False, allow_blank=True
    )
    release_date = serializers.DateField(required=False, allow_null=True)


class VictimSerializer(StrictSerializer):
    """A victim (names restricted unless publish_name, which needs a consent note)."""

    name = serializers.CharField(
        max_length=_max_length(Victim, "name"), required=False, allow_blank=True
    )
    name_ar = serializers.CharField(
        max_length=_max_length(Victim, "name_ar"), required=False, allow_blank=True
    )
    sex = _choice(Victim.Sex.choices, required=False)
    age = serializers.IntegerField(
        min_value=0, max_value=130, required=False, allow_null=True
    )
    age_group = _choice(Victim.AgeGroup.choices, required=False)
    civilian_status = _choice(Victim.CivilianStatus.choices, required=False)
    outcome = _choice(Victim.Outcome.choices)
    protected_role = _choice(Victim.ProtectedRole.choices, required=False)
    consent_note = serializers.CharField(
        max_length=MAX_TEXT, required=False, allow_blank=True
    )
    publish_name = serializers.BooleanField(required=False)

    def validate(self, attrs):
        if attrs.get("publish_name") and not attrs.get("consent_note", "").strip():
            raise serializers.ValidationError(
                {"publish_name": ["A name may be published only with a consent note."]}
            )
        age = attrs.get("age")
        if age is not None and age < 18 and attrs.get("age_group") == "adult":
            raise serializers.ValidationError(
                {"age_group": ["A victim under 18 is a child, not an adult."]}
            )
        return attrs


# ---------------------------------------------------------------------------------------
# Incidents
# ---------------------------------------------------------------------------------------

PART_SERIALIZERS = {
    "casualty_rows": CasualtyRowSerializer,
    "attributions": AttributionSerializer,
    "citations": CitationSerializer,
    "weapons": WeaponSerializer,
    "targets": TargetSerializer,
    "external_refs": ExternalRefSerializer,
    "victims": VictimSerializer,
}

_COMPUTED = "Computed by the server from casualty_rows; write casualty_rows instead."
INCIDENT_READ_ONLY_HINTS = {
    "code": "Assigned by the server on creation and never changed.",
    "id": "Assigned by the server.",
    "url": "Assigned by the server.",
    "page_url": "Assigned by the server.",
    "history_url": "Assigned by the server.",
    "citation": "Assigned by the server.",
    "version": "Send the version you edited in the If-Match header instead.",
    "status": "Change the status with the submit, send-back, publish, withdraw and "
    "merge actions.",
    "withdrawn_reason": "Set by the withdraw action.",
    "merged_into": "Set by the merge action.",
    "casualties": _COMPUTED,
    "casualties_known": _COMPUTED,
    "perpetrators": "Computed from attributions; write attributions instead.",
    "sources_count": "Computed from citations.",
    "confidential_sources_count": "Computed from citations.",
    "governorate": "Derived from location.",
    "created_at": "Assigned by the server.",
    "updated_at": "Assigned by the server.",
    "published_at": "Set by the publish action.",
}


class IncidentWriteSerializer(StrictSerializer):
    """`PATCH /incidents/{code}/`: every key optional; a nested list given replaces that
    list as a whole. (Not DRF's `partial=True`, which would also make the required keys
    of each nested row optional.)"""

    read_only_hints = INCIDENT_READ_ONLY_HINTS

    title = serializers.CharField(
        max_length=_max_length(Incident, "title"), required=False
    )
    title_ar = serializers.CharField(
        max_length=_max_length(Incident, "title_ar"), required=False, allow_blank=True
    )
    summary = serializers.CharField(
        max_length=MAX_TEXT, required=False, allow_blank=True
    )
    summary_ar = serializers.CharField(
        max_length=MAX_TEXT, required=False, allow_blank=True
    )
    internal_notes = serializers.CharField(
        max_length=MAX_TEXT, required=False, allow_blank=True
    )
    date_start = serializers.DateField(required=False)
    date_end = serializers.DateField(required=False)
    date_precision = _choice(DatePrecision.choices, required=False)
    time_of_day = _choice(Incident.TimeOfDay.choices, required=False)
    location = LocationField(required=False, allow_null=True)
    latitude = FiniteFloatField(
        min_value=-90, max_value=90, required=False, allow_null=True
    )
    longitude = FiniteFloatField(
        min_value=-180, max_value=180, required=False, allow_null=True
    )
    geo_precision = _choice(GeoPrecision.choices, required=False)
    incident_type = _vocabulary(IncidentType, "incident type", required=False)
    aggregate = serializers.BooleanField(required=False)
    grading = _choice(Incident.Grading.choices, required=False)

    casualty_rows = CasualtyRowSerializer(
        many=True, required=False, max_length=MAX_ROWS["casualty_rows"]
    )
    attributions = AttributionSerializer(
        many=True, required=False, max_length=MAX_ROWS["attributions"]
    )
    citations = CitationSerializer(
        many=True, required=False, max_length=MAX_ROWS["citations"]
    )
    weapons = WeaponSerializer(
        many=True, required=False, max_length=MAX_ROWS["weapons"]
    )
    targets = TargetSerializer(
        many=True, required=False, max_length=MAX_ROWS["targets"]
    )
    external_refs = ExternalRefSerializer(
        many=True, required=False, max_length=MAX_ROWS["external_refs"]
    )
    victims = VictimSerializer(
        many=True, required=False, max_length=MAX_ROWS["victims"]
    )

    reason = serializers.CharField(
        max_length=1000,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Why you changed it (internal, kept in the audit trail).",
    )
    public_reason = serializers.CharField(
        max_length=1000,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="The public reason for a change to a published incident "
        "(shown in its public history).",
    )

    def validate(self, attrs):
        start, end = attrs.get("date_start"), attrs.get("date_end")
        if start and end and end < start:
            raise serializers.ValidationError(
                {
                    "date_end": [
                        f"The window cannot end ({end}) before it starts ({start})."
                    ]
                }
            )
        return attrs


class IncidentCreateSerializer(IncidentWriteSerializer):
    """`POST /incidents/`: a new draft with its parts."""

    title = serializers.CharField(max_length=_max_length(Incident, "title"))
    date_start = serializers.DateField()
    incident_type = _vocabulary(IncidentType, "incident type")
    reason = serializers.CharField(
        max_length=1000,
        required=False,
        allow_blank=True,
        write_only=True,
        help_text="Internal note for the audit trail (default: created).",
    )
    public_reason = None


class SendBackSerializer(StrictSerializer):
    """Send an incident in review back to its author."""

    reason = serializers.CharField(
        max_length=1000, help_text="Why it goes back to the author."
    )


class PublishSerializer(StrictSerializer):
    """Publish an incident in review."""

    public_reason = serializers.CharField(
        max_length=1000, required=False, allow_blank=True
    )


class WithdrawSerializer(StrictSerializer):
    """Withdraw a published incident, saying publicly why."""

    withdrawn_reason = serializers.CharField(
        max_length=MAX_TEXT, help_text="Public: why the incident is withdrawn."
    )


class MergeSerializer(StrictSerializer):
    """Merge this incident into another (the survivor)."""

    into = serializers.CharField(
        max_length=20, help_text="The code of the surviving incident."
    )
    reason = serializers.CharField(max_length=1000, required=False, allow_blank=True)


class EmptySerializer(StrictSerializer):
    """An action that takes no parameters."""


class PreconditionFailedSerializer(serializers.Serializer):
    detail = serializers.CharField()
    current_version = serializers.IntegerField()
    changed_fields = serializers.ListField(child=serializers.CharField())


# ---------------------------------------------------------------------------------------
# Imports
# ---------------------------------------------------------------------------------------

API_IMPORT_FORMATS = [
    (value, label)
    for value, label in ImportBatch.Format.choices
    if value != ImportBatch.Format.SEED  # the curated seed is loaded by `make run` only
]


class ImportCreateSerializer(StrictSerializer):
    """Start an import: the file and its options (IMPORTS.md)."""

    file = serializers.FileField(allow_empty_file=False)
    format = _choice(API_IMPORT_FORMATS)
    dry_run = serializers.BooleanField(required=False, default=False)
    skip_bad_rows = serializers.BooleanField(required=False, default=False)
    publish = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Publish the imported incidents (reviewers and admins only; "
        "records the four-eyes waiver).",
    )
    release = serializers.CharField(
        max_length=_max_length(ImportBatch, "release"), required=False, allow_blank=True
    )
    release_date = serializers.DateField(required=False, allow_null=True)
    note = serializers.CharField(max_length=MAX_TEXT, required=False, allow_blank=True)


class ImportAcceptedSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    url = serializers.CharField()


class ImportBatchSerializer(serializers.Serializer):
    """`GET /imports/{id}/`: progress, counts and the per-row report (staff only)."""

    id = serializers.IntegerField()
    url = serializers.CharField()
    status = serializers.CharField()
    format = serializers.CharField()
    file_name = serializers.CharField()
    sha256 = serializers.CharField()
    user = serializers.CharField(allow_null=True)
    dry_run = serializers.BooleanField()
    skip_bad_rows = serializers.BooleanField()
    publish = serializers.BooleanField()
    four_eyes_waived = serializers.BooleanField()
    release = serializers.CharField()
    release_date = serializers.DateField(allow_null=True)
    note = serializers.CharField()
    failure_reason = serializers.CharField()
    progress = serializers.DictField(
        child=serializers.IntegerField(allow_null=True),
        help_text='{"done": rows done, "total": rows in the file (null until known)}',
    )
    counts = serializers.DictField(child=serializers.IntegerField())
    report = serializers.ListField(
        child=serializers.DictField(),
        help_text="One entry per reported row: line, external id, what happened, why.",
    )
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    heartbeat_at = serializers.DateTimeField(allow_null=True)
