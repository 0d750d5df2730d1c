"""Read representations of API v1.

Incidents are built as plain dicts from `values()` rows plus one query per related list
(a fixed number of queries per page, whatever its size) and rendered with orjson
(api/renderers.py); DRF's ModelSerializer measured about 10× slower for big lists. The
`*Serializer` classes at the end describe those shapes for drf-spectacular only.

Redaction (DOMAIN.md "What the public sees") happens here for the public: the public
place and point, a sensitive facility without its name, public sources only, victims
through `selectors.public_victim`. Staff get the real values and the restricted fields.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import extend_schema_serializer
from rest_framework import serializers

from api.filters import LIST_FIELDS, TOTALS
from incidents import public_files, selectors
from incidents.models import (
    Attribution,
    CasualtyCount,
    Citation,
    ExternalRef,
    Incident,
    IncidentTarget,
    IncidentWeapon,
    Victim,
)

# ---------------------------------------------------------------------------------------
# Incidents: the list item
# ---------------------------------------------------------------------------------------


def incident_values(*, staff: bool) -> list[str]:
    """The columns a list item is built from. The public get the redaction layer's place
    (public_location, public_latitude, …), never the real one."""
    place = "" if staff else "public_"
    return [
        "id",
        "code",
        "title",
        "title_ar",
        "summary",
        "date_start",
        "date_end",
        "date_precision",
        f"{place}location__slug",
        f"{place}location__name",
        f"{place}location__name_ar",
        f"{place}location__pcode",
        "governorate__slug",
        "governorate__name",
        "governorate__name_ar",
        "governorate__pcode",
        f"{place}latitude",
        f"{place}longitude",
        f"{place}geo_precision",
        "incident_type__code",
        "casualties_known",
        *[f"{total}_{bound}" for total in TOTALS for bound in ("min", "max")],
        "aggregate",
        "grading",
        "status",
        "updated_at",
        "version",
    ]


class IncidentContext:
    """What every item of one response shares: who asks, in which language, which
    fields, and the absolute URL prefixes (computed once, not per row)."""

    def __init__(self, request, *, staff: bool, lang: str = "en", fields=None):
        self.request = request
        self.staff = staff
        self.lang = lang or "en"
        self.fields = set(fields) if fields else set(LIST_FIELDS)
        list_url = reverse("api:incident-list")
        self.api_prefix = request.build_absolute_uri(list_url)
        self.page_prefix = request.build_absolute_uri(f"/{self.lang}/incidents/")

    def name(self, english: str | None, arabic: str | None) -> str | None:
        if self.lang == "ar" and arabic:
            return arabic
        return english

    def wants(self, *names: str) -> bool:
        return any(name in self.fields for name in names)


def _grouped(rows: Iterable[Sequence[Any]]) -> dict[int, list[Sequence[Any]]]:
    out: dict[int, list[Sequence[Any]]] = defaultdict(list)
    for row in rows:
        out[row[0]].append(row)
    return out


def id_array(ids: Sequence[int]) -> RawSQL:
    """The right side of `incident_id__in=` for many ids: one array parameter instead
    of one placeholder per id, which Django prepares one by one (about 30 µs per
    exported row with five such lists, issue 8)."""
    return RawSQL("SELECT unnest(%s::bigint[])", (list(ids),))


def build_incident_items(
    rows: list[dict[str, Any]], ctx: IncidentContext
) -> list[dict[str, Any]]:
    """List items for `rows` (from `incident_values()`), in order. At most five more
    queries, whatever the number of rows, and fewer when `fields=` leaves lists out."""
    ids = [row["id"] for row in rows]
    if not ids:
        return []
    place = "" if ctx.staff else "public_"
    weapons = targets = perpetrators = refs = {}
    counts: dict[tuple[int, bool], int] = {}
    if ctx.wants("weapons"):
        weapons = _grouped(
            IncidentWeapon.objects.filter(incident_id__in=id_array(ids))
            .order_by("incident_id", "id")
            .values_list("incident_id", "weapon__code", "certainty")
        )
    if ctx.wants("targets"):
        targets = _grouped(
            IncidentTarget.objects.filter(incident_id__in=id_array(ids))
            .order_by("incident_id", "id")
            .values_list(
                "incident_id",
                "target_type__code",
                "facility__ref",
                "facility__name",
                "facility__name_ar",
                "facility__sensitive",
                "damage",
            )
        )
    if ctx.wants("perpetrators"):
        perpetrators = _grouped(
            Attribution.objects.filter(
                incident_id__in=id_array(ids), role=Attribution.Role.PERPETRATOR
            )
            .order_by("incident_id", "alternative", "id")
            .values_list(
                "incident_id",
                "actor__slug",
                "actor__name",
                "actor__name_ar",
                "confidence",
                "alternative",
                "position",
            )
        )
    if ctx.wants("external_refs"):
        refs = _grouped(
            ExternalRef.objects.filter(incident_id__in=id_array(ids))
            .order_by("incident_id", "system", "value")
            .values_list("incident_id", "system", "value")
        )
    if ctx.wants("sources_count", "confidential_sources_count"):
        counts = {
            (row["incident_id"], row["source__confidential"]): row["n"]
            for row in Citation.objects.filter(incident_id__in=id_array(ids))
            .values("incident_id", "source__confidential")
            .annotate(n=Count("source_id", distinct=True))
            .order_by()
        }

    items = []
    for row in rows:
        pk, code = row["id"], row["code"]
        location = None
        if row[f"{place}location__slug"] is not None:
            governorate = None
            if row["governorate__slug"] is not None:
                governorate = {
                    "slug": row["governorate__slug"],
                    "name": ctx.name(
                        row["governorate__name"], row["governorate__name_ar"]
                    ),
                    "pcode": row["governorate__pcode"],
                }
            location = {
                "slug": row[f"{place}location__slug"],
                "name": ctx.name(
                    row[f"{place}location__name"], row[f"{place}location__name_ar"]
                ),
                "pcode": row[f"{place}location__pcode"],
                "governorate": governorate,
            }
        item = {
            "code": code,
            "url": f"{ctx.api_prefix}{code}/",
            "page_url": f"{ctx.page_prefix}{code}/",
            "title": row["title"],
            "title_ar": row["title_ar"],
            "summary": row["summary"],
            "date_start": row["date_start"],
            "date_end": row["date_end"],
            "date_precision": row["date_precision"],
            "location": location,
            "latitude": row[f"{place}latitude"],
            "longitude": row[f"{place}longitude"],
            "geo_precision": row[f"{place}geo_precision"],
            "incident_type": row["incident_type__code"],
            "weapons": [
                {"weapon": w[1], "certainty": w[2]} for w in weapons.get(pk, ())
            ],
            "targets": [
                {
                    "target_type": t[1],
                    "facility": None
                    if t[2] is None
                    else {
                        "ref": t[2],
                        "name": None
                        if (t[5] and not ctx.staff)
                        else ctx.name(t[3], t[4]),
                    },
                    "damage": t[6],
                }
                for t in targets.get(pk, ())
            ],
            "casualties_known": row["casualties_known"],
            "casualties": {
                total: {"min": row[f"{total}_min"], "max": row[f"{total}_max"]}
                for total in TOTALS
            },
            "perpetrators": [
                {
                    "actor": p[1],
                    "name": ctx.name(p[2], p[3]),
                    "confidence": p[4],
                    "alternative": p[5],
                    "position": p[6],
                }
                for p in perpetrators.get(pk, ())
            ],
            "aggregate": row["aggregate"],
            "grading": row["grading"],
            "status": row["status"],
            "external_refs": [
                {"system": r[1], "value": r[2]} for r in refs.get(pk, ())
            ],
            "sources_count": counts.get((pk, False), 0),
            "confidential_sources_count": counts.get((pk, True), 0),
            "updated_at": row["updated_at"],
            "version": row["version"],
        }
        if len(ctx.fields) != len(LIST_FIELDS):
            item = {key: value for key, value in item.items() if key in ctx.fields}
        items.append(item)
    return items


# ---------------------------------------------------------------------------------------
# Incidents: the detail
# ---------------------------------------------------------------------------------------


def _source(source, ctx: IncidentContext) -> dict[str, Any]:
    # The stored file is never served (it keeps its metadata, EXIF GPS included): only
    # the public copy, re-encoded without metadata, when the public may fetch it
    # (incidents/public_files.py). Staff see `file_public` to tell why it is null.
    file_url = None
    if public_files.public_file_available(source):
        file_url = ctx.request.build_absolute_uri(
            reverse("api:source-file", kwargs={"pk": source.pk})
        )
    data = {
        "id": source.pk,
        "api_url": ctx.request.build_absolute_uri(
            reverse("api:source-detail", kwargs={"pk": source.pk})
        ),
        "kind": source.kind,
        "title": source.title,
        "publisher": source.publisher,
        "author": source.author,
        "url": source.url,
        "archive_url": source.archive_url,
        "published_on": source.published_on,
        "accessed_on": source.accessed_on,
        "language": source.language,
        "release": source.release,
        "licence": source.licence,
        "sha256": source.sha256 or None,
        "size": source.size,
        "mime": source.mime or None,
        "file_url": file_url,
        "reliability": source.reliability,
        "graphic": source.graphic,
    }
    if ctx.staff:
        data["confidential"] = source.confidential
        data["file_public"] = source.file_public
    return data


def source_item(source, request, *, staff: bool) -> dict[str, Any]:
    return _source(source, IncidentContext(request, staff=staff))


def _victim(victim: Victim, staff: bool) -> dict[str, Any]:
    if not staff:
        return selectors.public_victim(victim)
    return {
        "name": victim.name,
        "name_ar": victim.name_ar,
        "sex": victim.sex,
        "age": victim.age,
        "age_group": victim.age_group,
        "civilian_status": victim.civilian_status,
        "outcome": victim.outcome,
        "protected_role": victim.protected_role,
        "consent_note": victim.consent_note,
        "publish_name": victim.publish_name,
    }


def citation_text(code: str, version: int, permalink: str) -> str:
    today = timezone.now().date().isoformat()
    return (
        f"{settings.CIVTRACK_INSTANCE_NAME}, incident {code}, version {version}, "
        f"retrieved {today}, {permalink}"
    )


def build_incident_detail(incident_id: int, ctx: IncidentContext) -> dict[str, Any]:
    """The full record: the list item plus citations, every attribution, casualty rows,
    victims, the lifecycle fields and a ready-to-paste citation. A fixed number of
    queries (the list item's, plus one each for the parts below)."""
    queryset = Incident.objects.filter(pk=incident_id)
    extra = [
        "summary_ar",
        "time_of_day",
        "withdrawn_reason",
        "published_at",
        "first_published_at",
        "created_at",
    ]
    if ctx.staff:
        extra += [
            "internal_notes",
            "public_location__slug",
            "public_latitude",
            "public_longitude",
            "public_geo_precision",
            "created_by__username",
            "last_edited_by__username",
            "submitted_by__username",
            "reviewed_by__username",
            "synthetic",
        ]
    row = queryset.values(*incident_values(staff=ctx.staff), *extra).get()
    item = build_incident_items([row], ctx)[0]

    citations = Citation.objects.filter(incident_id=incident_id).select_related(
        "source"
    )
    if not ctx.staff:
        citations = citations.filter(source__confidential=False)
    attributions = (
        Attribution.objects.filter(incident_id=incident_id)
        .select_related("actor")
        .order_by("role", "alternative", "id")
    )
    casualty_rows = CasualtyCount.objects.filter(incident_id=incident_id).order_by(
        "group", "outcome"
    )
    victims = Victim.objects.filter(incident_id=incident_id).order_by("id")
    code = row["code"]
    item.update(
        {
            "summary_ar": row["summary_ar"],
            "time_of_day": row["time_of_day"],
            "published_at": row["published_at"],
            "first_published_at": row["first_published_at"],
            "citations": [
                {
                    "source": _source(c.source, ctx),
                    "supports": list(c.supports),
                    "excerpt": c.excerpt,
                    "locator": c.locator,
                    "archive_url": c.source.archive_url,
                    "sha256": c.source.sha256 or None,
                }
                for c in citations.order_by("id")
            ],
            "attributions": [
                {
                    "actor": a.actor.slug,
                    "name": ctx.name(a.actor.name, a.actor.name_ar),
                    "role": a.role,
                    "confidence": a.confidence,
                    "alternative": a.alternative,
                    "position": a.position,
                    "conceded_killed": a.conceded_killed,
                    "note": a.note,
                }
                for a in attributions
            ],
            "casualty_rows": [
                {
                    "group": c.group,
                    "outcome": c.outcome,
                    "min": c.min,
                    "max": c.max,
                    "best": c.best,
                    "note": c.note,
                }
                for c in casualty_rows
            ],
            "victims": [_victim(v, ctx.staff) for v in victims],
            "withdrawn_reason": row["withdrawn_reason"] or None,
            "merged_into": None,
            "history_url": ctx.request.build_absolute_uri(
                reverse("api:incident-history", kwargs={"code": code})
            ),
            "citation": citation_text(
                code,
                row["version"],
                ctx.request.build_absolute_uri(f"/en/incidents/{code}/"),
            ),
        }
    )
    if ctx.staff:
        item["restricted"] = {
            "internal_notes": row["internal_notes"],
            "public_location": row["public_location__slug"],
            "public_latitude": row["public_latitude"],
            "public_longitude": row["public_longitude"],
            "public_geo_precision": row["public_geo_precision"],
            "created_by": row["created_by__username"],
            "last_edited_by": row["last_edited_by__username"],
            "submitted_by": row["submitted_by__username"],
            "reviewed_by": row["reviewed_by__username"],
            "synthetic": row["synthetic"],
            "created_at": row["created_at"],
        }
    return item


# ---------------------------------------------------------------------------------------
# Schema-only serializers (drf-spectacular): what the dict builders above return
# ---------------------------------------------------------------------------------------


class RangeSerializer(serializers.Serializer):
    """A per-incident count (DOMAIN.md "Not recorded is not zero"): both null = not
    recorded (never 0); `max` null alone = a floor ("at least min")."""

    min = serializers.IntegerField(
        allow_null=True,
        help_text="null: not recorded (not a claim of zero; v1 correction 2026-12-07).",
    )
    max = serializers.IntegerField(
        allow_null=True,
        help_text="null: not recorded, or an unknown upper bound ('at least min').",
    )


class CasualtiesSerializer(serializers.Serializer):
    civilians_killed = RangeSerializer()
    civilians_injured = RangeSerializer()
    children_killed = RangeSerializer()
    medical_personnel_killed = RangeSerializer()
    total_killed = RangeSerializer()
    total_injured = RangeSerializer()


class PlaceRefSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()
    pcode = serializers.CharField(allow_null=True)


class IncidentLocationSerializer(PlaceRefSerializer):
    governorate = PlaceRefSerializer(allow_null=True)


class WeaponItemSerializer(serializers.Serializer):
    weapon = serializers.CharField()
    certainty = serializers.CharField()


class FacilityRefSerializer(serializers.Serializer):
    ref = serializers.CharField()
    name = serializers.CharField(
        allow_null=True, help_text="null for a sensitive facility."
    )


class TargetItemSerializer(serializers.Serializer):
    target_type = serializers.CharField()
    facility = FacilityRefSerializer(allow_null=True)
    damage = serializers.CharField()


class PerpetratorSerializer(serializers.Serializer):
    actor = serializers.CharField(help_text="Actor slug.")
    name = serializers.CharField()
    confidence = serializers.CharField()
    alternative = serializers.IntegerField(allow_null=True)
    position = serializers.CharField()


class ExternalRefItemSerializer(serializers.Serializer):
    system = serializers.CharField()
    value = serializers.CharField()


class IncidentListItemSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="Public id, e.g. SY-2016-00042.")
    url = serializers.URLField()
    page_url = serializers.URLField()
    title = serializers.CharField()
    title_ar = serializers.CharField()
    summary = serializers.CharField()
    date_start = serializers.DateField()
    date_end = serializers.DateField()
    date_precision = serializers.CharField()
    location = IncidentLocationSerializer(
        allow_null=True, help_text="The public place (redaction layer) for the public."
    )
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)
    geo_precision = serializers.CharField()
    incident_type = serializers.CharField()
    weapons = WeaponItemSerializer(many=True)
    targets = TargetItemSerializer(many=True)
    casualties_known = serializers.BooleanField()
    casualties = CasualtiesSerializer()
    perpetrators = PerpetratorSerializer(many=True)
    aggregate = serializers.BooleanField()
    grading = serializers.CharField()
    status = serializers.CharField()
    external_refs = ExternalRefItemSerializer(many=True)
    sources_count = serializers.IntegerField(help_text="Public sources only.")
    confidential_sources_count = serializers.IntegerField()
    updated_at = serializers.DateTimeField()
    version = serializers.IntegerField()


@extend_schema_serializer(many=False)  # one object, not an array of them
class IncidentListResponseSerializer(serializers.Serializer):
    count = serializers.IntegerField(help_text="Exact size of the filtered set.")
    next = serializers.URLField(allow_null=True)
    previous = serializers.URLField(allow_null=True)
    results = IncidentListItemSerializer(many=True)


class SourceSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    api_url = serializers.URLField()
    kind = serializers.CharField()
    title = serializers.CharField()
    publisher = serializers.CharField()
    author = serializers.CharField()
    url = serializers.CharField(help_text="The source's own URL.")
    archive_url = serializers.CharField()
    published_on = serializers.DateField(allow_null=True)
    accessed_on = serializers.DateField(allow_null=True)
    language = serializers.CharField()
    release = serializers.CharField()
    licence = serializers.CharField()
    sha256 = serializers.CharField(allow_null=True)
    size = serializers.IntegerField(allow_null=True)
    mime = serializers.CharField(allow_null=True)
    file_url = serializers.URLField(
        allow_null=True,
        help_text="The published file, re-encoded without metadata (EXIF GPS "
        "included): only for an image (JPEG, PNG, WebP, GIF) a reviewer published. "
        "Other files are not served; their hash, size and type are public.",
    )
    reliability = serializers.CharField()
    graphic = serializers.BooleanField()
    incidents_url = serializers.URLField(required=False)


class CitationItemSerializer(serializers.Serializer):
    source = SourceSerializer()
    supports = serializers.ListField(child=serializers.CharField())
    excerpt = serializers.CharField()
    locator = serializers.CharField()
    archive_url = serializers.CharField()
    sha256 = serializers.CharField(allow_null=True)


class AttributionItemSerializer(PerpetratorSerializer):
    role = serializers.CharField()
    conceded_killed = serializers.IntegerField(allow_null=True)
    note = serializers.CharField()


class CasualtyRowSerializer(serializers.Serializer):
    group = serializers.CharField()
    outcome = serializers.CharField()
    min = serializers.IntegerField()
    max = serializers.IntegerField()
    best = serializers.IntegerField(allow_null=True)
    note = serializers.CharField()


class VictimSerializer(serializers.Serializer):
    name = serializers.CharField(
        allow_null=True, help_text="Only when publication was consented to."
    )
    name_ar = serializers.CharField(allow_null=True)
    sex = serializers.CharField()
    age = serializers.IntegerField(allow_null=True, help_text="Only when 18 or over.")
    age_group = serializers.CharField()
    civilian_status = serializers.CharField()
    outcome = serializers.CharField()
    protected_role = serializers.CharField()


class IncidentDetailSerializer(IncidentListItemSerializer):
    summary_ar = serializers.CharField()
    time_of_day = serializers.CharField()
    published_at = serializers.DateTimeField(allow_null=True)
    first_published_at = serializers.DateTimeField(allow_null=True)
    citations = CitationItemSerializer(many=True)
    attributions = AttributionItemSerializer(many=True)
    casualty_rows = CasualtyRowSerializer(many=True)
    victims = VictimSerializer(many=True)
    withdrawn_reason = serializers.CharField(allow_null=True)
    merged_into = serializers.CharField(allow_null=True)
    history_url = serializers.URLField()
    citation = serializers.CharField(help_text="A ready-to-paste reference.")
    restricted = serializers.DictField(
        required=False, help_text="Staff only: internal notes, the real place, users."
    )


class IncidentGoneSerializer(serializers.Serializer):
    code = serializers.CharField()
    status = serializers.CharField()
    withdrawn_reason = serializers.CharField(required=False)
    merged_into = serializers.CharField(required=False)


class HistoryEntrySerializer(serializers.Serializer):
    version = serializers.IntegerField()
    at = serializers.DateTimeField()
    action = serializers.CharField()
    changes = serializers.DictField(help_text="field → {old, new}")
    public_reason = serializers.CharField()
    user = serializers.CharField(required=False, help_text="Staff only.")
    reason = serializers.CharField(required=False, help_text="Staff only.")


class IncidentHistorySerializer(serializers.Serializer):
    code = serializers.CharField()
    history = HistoryEntrySerializer(many=True)


class ErrorSerializer(serializers.Serializer):
    detail = serializers.CharField()


class ActorRefSerializer(serializers.Serializer):
    slug = serializers.CharField()
    name = serializers.CharField()


class ActorSerializer(serializers.Serializer):
    slug = serializers.CharField()
    url = serializers.URLField()
    name = serializers.CharField()
    name_ar = serializers.CharField()
    kind = serializers.CharField()
    bloc = serializers.CharField()
    country = serializers.CharField()
    parent = ActorRefSerializer(allow_null=True)
    incidents_url = serializers.URLField()


class ActorRelationSerializer(serializers.Serializer):
    kind = serializers.CharField()
    direction = serializers.ChoiceField(choices=["from", "to"])
    actor = ActorRefSerializer()
    start_date = serializers.DateField(allow_null=True)
    end_date = serializers.DateField(allow_null=True)
    confidence = serializers.CharField()
    note = serializers.CharField()
    sources = serializers.ListField(child=serializers.DictField())


class ActorDetailSerializer(ActorSerializer):
    description = serializers.CharField()
    description_ar = serializers.CharField()
    aliases = serializers.ListField(child=serializers.DictField())
    ancestors = ActorRefSerializer(many=True)
    children = ActorRefSerializer(many=True)
    relations = ActorRelationSerializer(many=True)
    statistics = serializers.DictField()


class LocationSerializer(serializers.Serializer):
    slug = serializers.CharField()
    url = serializers.URLField()
    name = serializers.CharField()
    name_ar = serializers.CharField()
    level = serializers.CharField()
    pcode = serializers.CharField(allow_null=True)
    parent = PlaceRefSerializer(allow_null=True)
    latitude = serializers.FloatField(allow_null=True)
    longitude = serializers.FloatField(allow_null=True)
    incidents_url = serializers.URLField()


class LocationDetailSerializer(LocationSerializer):
    ancestors = PlaceRefSerializer(many=True)
    children = PlaceRefSerializer(many=True)
    aliases = serializers.ListField(child=serializers.DictField())


class FacilitySerializer(serializers.Serializer):
    ref = serializers.CharField()
    url = serializers.URLField()
    target_type = serializers.CharField()
    district = PlaceRefSerializer(allow_null=True)
    name = serializers.CharField(required=False, help_text="Not for a sensitive one.")
    name_ar = serializers.CharField(required=False)
    operator = serializers.CharField(required=False)
    location = PlaceRefSerializer(required=False)
    latitude = serializers.FloatField(required=False, allow_null=True)
    longitude = serializers.FloatField(required=False, allow_null=True)
    sensitive = serializers.BooleanField()
    incidents_url = serializers.URLField()


class FacilityDetailSerializer(FacilitySerializer):
    incidents = serializers.ListField(child=serializers.DictField())


def paginated(item_serializer, name: str):
    """A `{count, next, previous, results}` schema around `item_serializer` (one object:
    `many=False` stops drf-spectacular wrapping a list action's response in an array)."""
    return extend_schema_serializer(many=False)(
        type(
            name,
            (serializers.Serializer,),
            {
                "count": serializers.IntegerField(),
                "next": serializers.URLField(allow_null=True),
                "previous": serializers.URLField(allow_null=True),
                "results": item_serializer(many=True),
            },
        )
    )


ActorListResponseSerializer = paginated(ActorSerializer, "ActorListResponse")
LocationListResponseSerializer = paginated(LocationSerializer, "LocationListResponse")
FacilityListResponseSerializer = paginated(FacilitySerializer, "FacilityListResponse")
SourceListResponseSerializer = paginated(SourceSerializer, "SourceListResponse")


class VocabularyItemSerializer(serializers.Serializer):
    code = serializers.CharField()
    label = serializers.CharField()
    label_ar = serializers.CharField()
    definition = serializers.CharField()
    parent = serializers.CharField(required=False, allow_null=True)


class VocabulariesSerializer(serializers.Serializer):
    incident_types = VocabularyItemSerializer(many=True)
    weapons = VocabularyItemSerializer(many=True)
    target_types = VocabularyItemSerializer(many=True)
    gradings = VocabularyItemSerializer(many=True)
    date_precisions = VocabularyItemSerializer(many=True)
    geo_precisions = VocabularyItemSerializer(many=True)
    casualty_groups = VocabularyItemSerializer(many=True)
    casualty_outcomes = VocabularyItemSerializer(many=True)
    blocs = VocabularyItemSerializer(many=True)
    confidences = VocabularyItemSerializer(many=True)
    roles = VocabularyItemSerializer(many=True)
    positions = VocabularyItemSerializer(many=True)
