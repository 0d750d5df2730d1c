"""The one incident FilterSet (API.md "Filters"), shared by the API list, its CSV and
GeoJSON exports, the statistics, the map clusters and the public list page.

Use it through `filter_incidents(params, user=...)` (or `run_incident_filter` for the
ordering and cleaned values too). It always starts from `selectors.incidents_for(user)`,
so anonymous callers only ever filter published incidents, on their public place and
point. Every unknown parameter and every malformed value raises `InvalidFilter` (a DRF
ValidationError: a 400 naming the parameter and what is allowed); nothing is ignored.

Filters are subqueries on incident ids (`pk IN (SELECT incident_id …)`), never joins, so
the result has no duplicates and `count()` stays a plain COUNT over one table.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import django_filters
from django import forms
from django.contrib.postgres.search import SearchQuery
from django.db.models import Q, QuerySet, Value
from django.db.models.expressions import RawSQL
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import ValidationError as DRFValidationError

from api.pagination import Keyset
from incidents import selectors
from incidents.models import (
    GEO_PRECISION_ORDER,
    Actor,
    Attribution,
    Bloc,
    CasualtyCount,
    Citation,
    Confidence,
    DatePrecision,
    ExternalRef,
    Facility,
    Incident,
    IncidentTarget,
    IncidentType,
    IncidentWeapon,
    Location,
    Source,
    TargetType,
    WeaponType,
    arabic_normalized,
)
from incidents.services import is_staff_member

# ---------------------------------------------------------------------------------------
# Errors and parameter hygiene
# ---------------------------------------------------------------------------------------


class InvalidFilter(DRFValidationError):
    """Bad filter parameters. `errors` is `{"param": ["what is wrong / allowed"]}`; DRF
    answers it as a 400 with that body, pages show the messages beside the fields."""

    def __init__(self, errors: Mapping[str, list[str]]):
        self.errors = {name: [str(m) for m in msgs] for name, msgs in errors.items()}
        super().__init__(self.errors)


# Tracking parameters that shared links carry; the pages drop them (API.md), the API
# answers them with 400 like any unknown parameter.
TRACKING_PARAMS = frozenset({"fbclid", "gclid", "mc_cid", "mc_eid", "ref"})
TRACKING_PREFIXES = ("utm_",)

MAX_TEXT = 500
MAX_INT = 2**31 - 1


def _is_tracking(name: str) -> bool:
    return name in TRACKING_PARAMS or name.startswith(TRACKING_PREFIXES)


def clean_query_params(params: Any, *, for_pages: bool) -> dict[str, list[str]]:
    """The request's parameters as `{name: [values]}`. Pages (`for_pages=True`) drop the
    tracking parameters of shared links (utm_*, fbclid, gclid, mc_cid, mc_eid, ref); the
    API keeps them, so they are answered as unknown parameters."""
    if hasattr(params, "lists"):
        items = list(params.lists())
    else:
        items = [
            (k, list(v) if isinstance(v, (list, tuple)) else [v])
            for k, v in dict(params).items()
        ]
    out: dict[str, list[str]] = {}
    for name, values in items:
        if for_pages and _is_tracking(name):
            continue
        out.setdefault(name, []).extend("" if v is None else str(v) for v in values)
    return out


# ---------------------------------------------------------------------------------------
# Parameter fields: parse and validate one query parameter each
# ---------------------------------------------------------------------------------------


def _split(value: str) -> list[str]:
    items: list[str] = []
    for part in value.split(","):
        part = part.strip()
        if part and part not in items:
            items.append(part)
    return items


class ParamField(forms.Field):
    """A query parameter: a string in, a parsed value out, messages that say what is
    allowed."""

    def to_python(self, value):
        if value in (None, ""):
            return None
        if not isinstance(value, str):
            value = str(value)
        if "\x00" in value:
            raise forms.ValidationError("Contains a NUL character.")
        value = value.strip()
        if value == "":
            return None
        if len(value) > MAX_TEXT:
            raise forms.ValidationError(f"At most {MAX_TEXT} characters.")
        return self.parse(value)

    def parse(self, value: str):
        return value


class TextParam(ParamField):
    def parse(self, value):
        return " ".join(value.split())


class DateParam(ParamField):
    _date = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")

    def parse(self, value):
        if not self._date.match(value):
            raise forms.ValidationError("Enter a date as YYYY-MM-DD.")
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise forms.ValidationError(
                "Enter a date as YYYY-MM-DD (this day does not exist)."
            ) from None


class TimestampParam(ParamField):
    def parse(self, value):
        message = (
            "Enter an ISO 8601 timestamp such as 2024-05-01T10:00:00Z (or a date)."
        )
        try:
            if DateParam._date.match(value):
                parsed = dt.datetime.combine(dt.date.fromisoformat(value), dt.time())
            else:
                parsed = parse_datetime(
                    value.replace(" ", "+", 1) if "T" in value else value
                )
        except ValueError:
            raise forms.ValidationError(message) from None
        if parsed is None:
            raise forms.ValidationError(message)
        if timezone.is_naive(parsed):
            parsed = timezone.make_aware(parsed, dt.UTC)
        return parsed


class BoolParam(ParamField):
    def parse(self, value):
        lowered = value.lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise forms.ValidationError("Enter true or false.")


class IntParam(ParamField):
    def parse(self, value):
        if not re.fullmatch(r"[0-9]{1,10}", value) or int(value) > MAX_INT:
            raise forms.ValidationError(f"Enter a whole number from 0 to {MAX_INT}.")
        return int(value)


class ChoiceParam(ParamField):
    def __init__(self, *, choices: Iterable[str], **kwargs):
        self.allowed = list(choices)
        super().__init__(**kwargs)

    def parse(self, value):
        if value not in self.allowed:
            raise forms.ValidationError(
                f"Unknown value {value!r}. Choose one of: {', '.join(self.allowed)}."
            )
        return value


class ChoiceListParam(ChoiceParam):
    """Comma-separated values, each one of `choices`."""

    def parse(self, value):
        items = _split(value)
        unknown = [item for item in items if item not in self.allowed]
        if unknown:
            raise forms.ValidationError(
                f"Unknown value(s): {', '.join(unknown)}. "
                f"Choose from: {', '.join(self.allowed)} (comma separated)."
            )
        return items


@dataclass
class VocabularyChoice:
    """Codes picked in a hierarchical vocabulary: their ids, and with their children."""

    codes: list[str]
    exact_ids: list[int]
    tree_ids: list[int]


class VocabularyParam(ParamField):
    """Comma-separated codes of IncidentType / WeaponType / TargetType (one query: the
    tables are small, and the hierarchy is resolved here)."""

    def __init__(self, *, model, **kwargs):
        self.model = model
        super().__init__(**kwargs)

    def parse(self, value):
        codes = _split(value)
        rows = list(self.model.objects.values_list("id", "code", "parent_id"))
        by_code = {code: pk for pk, code, _parent in rows}
        unknown = [code for code in codes if code not in by_code]
        if unknown:
            raise forms.ValidationError(
                f"Unknown code(s): {', '.join(unknown)}. "
                f"Choose from: {', '.join(sorted(by_code))} (comma separated); "
                "see /api/v1/vocabularies/."
            )
        children: dict[int, list[int]] = {}
        for pk, _code, parent in rows:
            if parent is not None:
                children.setdefault(parent, []).append(pk)
        exact = [by_code[code] for code in codes]
        tree: list[int] = []
        stack = list(exact)
        while stack:
            pk = stack.pop()
            if pk not in tree:
                tree.append(pk)
                stack.extend(children.get(pk, []))
        return VocabularyChoice(codes=codes, exact_ids=exact, tree_ids=tree)


def _follow_merges(model, objects: dict[str, Any]) -> dict[str, Any]:
    """Merged actors/places answer as their survivor (the merge moved everything)."""
    out = {}
    for key, obj in objects.items():
        hops = 0
        while obj.merged_into_id is not None and hops < 20:
            obj = model.objects.only("id", "slug", "merged_into").get(
                pk=obj.merged_into_id
            )
            hops += 1
        out[key] = obj
    return out


class ActorParam(ParamField):
    """Comma-separated actor slugs → actor ids (a merged slug means its survivor)."""

    def parse(self, value):
        slugs = _split(value)
        found = {
            a.slug: a
            for a in Actor.objects.filter(slug__in=slugs).only(
                "id", "slug", "merged_into"
            )
        }
        unknown = [s for s in slugs if s not in found]
        if unknown:
            raise forms.ValidationError(
                f"Unknown actor slug(s): {', '.join(unknown)}. See /api/v1/actors/."
            )
        if any(a.merged_into_id for a in found.values()):
            found = _follow_merges(Actor, found)
        return sorted({a.pk for a in found.values()})


class LocationParam(ParamField):
    """Comma-separated location slugs or pcodes → location ids. For the public, a
    sensitive facility's own site is answered exactly as an unknown slug; every other
    place answers as it would if the facility were not sensitive (DOMAIN.md "Nothing may
    be inferred from what is hidden": the public values of the incidents that target it
    already sit at its district)."""

    def __init__(self, *, user=None, **kwargs):
        self.user = user
        super().__init__(**kwargs)

    def parse(self, value):
        keys = _split(value)
        places = Location.objects.all()
        if not is_staff_member(self.user):
            places = places.exclude(selectors.sensitive_facility_site())
        rows = list(
            places.filter(Q(slug__in=keys) | Q(pcode__in=keys)).only(
                "id", "slug", "pcode", "merged_into"
            )
        )
        found: dict[str, Location] = {}
        for row in rows:
            for key in (row.slug, row.pcode):
                if key in keys:
                    found[key] = row
        unknown = [k for k in keys if k not in found]
        if unknown:
            raise forms.ValidationError(
                f"Unknown location slug or pcode: {', '.join(unknown)}. "
                "See /api/v1/locations/."
            )
        if any(loc.merged_into_id for loc in found.values()):
            found = _follow_merges(Location, found)
        return sorted({loc.pk for loc in found.values()})


@dataclass
class GovernorateChoice:
    ids: list[int]
    none: bool


class GovernorateParam(ParamField):
    """Governorate slugs or pcodes, or `none` (country-level incidents)."""

    def parse(self, value):
        keys = _split(value)
        wanted = [k for k in keys if k != "none"]
        rows = list(
            Location.objects.filter(level=Location.Level.GOVERNORATE)
            .filter(Q(slug__in=wanted) | Q(pcode__in=wanted))
            .values_list("id", "slug", "pcode")
        )
        known = {s for _pk, s, _p in rows} | {p for _pk, _s, p in rows if p}
        unknown = [k for k in wanted if k not in known]
        if unknown:
            raise forms.ValidationError(
                f"Unknown governorate: {', '.join(unknown)}. Give a governorate slug "
                "or pcode (SY01–SY14), or none."
            )
        return GovernorateChoice(ids=[pk for pk, _s, _p in rows], none="none" in keys)


class FacilityParam(ParamField):
    def parse(self, value):
        refs = _split(value)
        bad = [r for r in refs if not re.fullmatch(r"F-[0-9]{6,}", r)]
        if bad:
            raise forms.ValidationError(
                "Enter facility refs (F- and six digits, as /api/v1/facilities/ "
                f"lists them), not {', '.join(bad)}."
            )
        ids = dict(Facility.objects.filter(ref__in=refs).values_list("ref", "id"))
        unknown = [r for r in refs if r not in ids]
        if unknown:
            raise forms.ValidationError(f"Unknown facility: {', '.join(unknown)}.")
        return list(ids.values())


class ExternalRefParam(ParamField):
    systems = [choice.value for choice in ExternalRef.System]

    def parse(self, value):
        system, sep, ref = value.partition(":")
        if system not in self.systems or (sep and not ref.strip()):
            raise forms.ValidationError(
                "Enter system:value (e.g. ucdp_ged:214797) or a bare system; "
                f"systems: {', '.join(self.systems)}."
            )
        return (system, ref.strip() if sep else None)


class SourceParam(ParamField):
    """A source id. For the public a confidential source is answered exactly as an
    unknown id (DOMAIN.md)."""

    def __init__(self, *, user=None, **kwargs):
        self.user = user
        super().__init__(**kwargs)

    def parse(self, value):
        message = f"Unknown source id {value}. See /api/v1/sources/."
        if not re.fullmatch(r"[0-9]{1,18}", value):
            raise forms.ValidationError("Enter a source id (a whole number).")
        sources = (
            Source.objects.all()
            if is_staff_member(self.user)
            else selectors.public_sources()
        )
        if not sources.filter(pk=int(value)).exists():
            raise forms.ValidationError(message)
        return int(value)


@dataclass
class BBox:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float


class BBoxParam(ParamField):
    def parse(self, value):
        message = (
            "Enter min_lon,min_lat,max_lon,max_lat in degrees "
            "(longitudes −180..180, latitudes −90..90, min ≤ max)."
        )
        parts = value.split(",")
        if len(parts) != 4:
            raise forms.ValidationError(message)
        try:
            numbers = [float(p) for p in parts]
        except ValueError:
            raise forms.ValidationError(message) from None
        box = BBox(*numbers)
        if (
            not all(math.isfinite(n) for n in numbers)
            or not (-180 <= box.min_lon <= box.max_lon <= 180)
            or not (-90 <= box.min_lat <= box.max_lat <= 90)
        ):
            raise forms.ValidationError(message)
        return box


class FieldsParam(ChoiceListParam):
    pass


# ---------------------------------------------------------------------------------------
# The FilterSet
# ---------------------------------------------------------------------------------------

DATE_MATCHES = ("overlap", "within", "start")
ACTOR_ROLES = [choice.value for choice in Attribution.Role]
INVOLVEMENTS = ("any", "certain", "possible")
DEFAULT_CONFIDENCES = ["confirmed", "likely"]
LANGS = ("en", "ar")

# Denormalised totals with range-aware filters (DOMAIN.md "Denormalised totals").
TOTALS = (
    "civilians_killed",
    "civilians_injured",
    "children_killed",
    "medical_personnel_killed",
    "total_killed",
    "total_injured",
)
CASUALTY_PARAMS = tuple(
    f"{total}_{bound}__{op}"
    for total in TOTALS
    for bound in ("min", "max")
    for op in ("gte", "lte")
)
# `<measure>_recorded=true|false`: whether the incident records the measure at all
# (DOMAIN.md "Not recorded is not zero": a null min is not recorded, a null max alone is
# only "at least min").
RECORDED_PARAMS = tuple(f"{total}_recorded" for total in TOTALS)

# Orderings (keyset: the field, then id the same way), each served by an index.
ORDERINGS = {
    "-date_start": Keyset("-date_start", "date_start", True, "date"),
    "date_start": Keyset("date_start", "date_start", False, "date"),
    "-civilians_killed_max": Keyset(
        "-civilians_killed_max", "civilians_killed_max", True, "int", nullable=True
    ),
    "civilians_killed_max": Keyset(
        "civilians_killed_max", "civilians_killed_max", False, "int", nullable=True
    ),
    "-updated_at": Keyset("-updated_at", "updated_at", True, "datetime"),
    "updated_at": Keyset("updated_at", "updated_at", False, "datetime"),
    "code": Keyset("code", "code", False, "str"),
}
DEFAULT_ORDERING = "-date_start"

# Top-level fields of an incident in the list (API.md's example), for `fields=`.
LIST_FIELDS = (
    "code",
    "url",
    "page_url",
    "title",
    "title_ar",
    "summary",
    "date_start",
    "date_end",
    "date_precision",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "incident_type",
    "weapons",
    "targets",
    "casualties_known",
    "casualties",
    "perpetrators",
    "aggregate",
    "grading",
    "status",
    "external_refs",
    "sources_count",
    "confidential_sources_count",
    "updated_at",
    "version",
)

# Parameters that only shape the response; not part of the normalised filter.
PRESENTATION_PARAMS = ("fields", "lang")


def _param(field_class, **extra) -> django_filters.Filter:
    flt = django_filters.Filter(**extra)
    flt.field_class = field_class
    return flt


class IncidentFilterSet(django_filters.FilterSet):
    """Every incident filter of API.md. Construct with `user=`; the queryset is always
    `selectors.incidents_for(user)`. The whole query is built in `filter_queryset`, since
    several parameters qualify others (`*_exact`, `actor_role`, `date_match`, …)."""

    q = _param(TextParam, label="Search")
    date_from = _param(DateParam)
    date_to = _param(DateParam)
    date_match = _param(ChoiceParam, choices=DATE_MATCHES)
    date_precision = _param(ChoiceListParam, choices=[c.value for c in DatePrecision])
    incident_type = _param(VocabularyParam, model=IncidentType)
    incident_type_exact = _param(BoolParam)
    weapon = _param(VocabularyParam, model=WeaponType)
    weapon_exact = _param(BoolParam)
    target_type = _param(VocabularyParam, model=TargetType)
    target_type_exact = _param(BoolParam)
    facility = _param(FacilityParam)
    governorate = _param(GovernorateParam)
    health_care = _param(BoolParam)
    actor = _param(ActorParam)
    actor_exact = _param(BoolParam)
    actor_role = _param(ChoiceParam, choices=ACTOR_ROLES)
    actor_involvement = _param(ChoiceParam, choices=INVOLVEMENTS)
    actor_confidence = _param(ChoiceListParam, choices=[c.value for c in Confidence])
    bloc = _param(ChoiceListParam, choices=[c.value for c in Bloc])
    location = _param(LocationParam)
    location_exact = _param(BoolParam)
    bbox = _param(BBoxParam)
    geo_precision = _param(ChoiceListParam, choices=GEO_PRECISION_ORDER)
    geo_precision_max = _param(ChoiceParam, choices=GEO_PRECISION_ORDER)
    grading = _param(ChoiceListParam, choices=[c.value for c in Incident.Grading])
    status = _param(ChoiceListParam, choices=[c.value for c in Incident.Status])
    locals().update({name: _param(IntParam) for name in CASUALTY_PARAMS})
    locals().update({name: _param(BoolParam) for name in RECORDED_PARAMS})
    casualties_known = _param(BoolParam)
    aggregate = _param(BoolParam)
    has_coordinates = _param(BoolParam)
    external_ref = _param(ExternalRefParam)
    source = _param(SourceParam)
    updated_since = _param(TimestampParam)
    ordering = _param(ChoiceParam, choices=list(ORDERINGS))
    fields = _param(FieldsParam, choices=LIST_FIELDS)
    lang = _param(ChoiceParam, choices=LANGS)

    class Meta:
        model = Incident
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, user=None, request=None, **kwargs):
        self.user = user if user is not None else getattr(request, "user", None)
        self.staff = is_staff_member(self.user)
        if queryset is None:
            queryset = selectors.incidents_for(self.user)
        super().__init__(data, queryset, request=request, **kwargs)
        self.filters["source"].extra["user"] = self.user
        self.filters["location"].extra["user"] = self.user

    # The place the caller may filter on: the public one for the public (DOMAIN.md
    # redaction layer: no query may narrow down a sensitive facility's real place).
    @property
    def place(self) -> dict[str, str]:
        if self.staff:
            return {
                "location": "location_id",
                "latitude": "latitude",
                "longitude": "longitude",
                "geo_precision": "geo_precision",
            }
        return {
            "location": "public_location_id",
            "latitude": "public_latitude",
            "longitude": "public_longitude",
            "geo_precision": "public_geo_precision",
        }

    def filter_queryset(self, queryset: QuerySet[Incident]) -> QuerySet[Incident]:
        data = self.form.cleaned_data
        get = data.get
        place = self.place

        # Status: staff may ask for any; the public sees published incidents only.
        statuses = get("status")
        if statuses:
            if not self.staff and statuses != ["published"]:
                raise InvalidFilter(
                    {
                        "status": [
                            "Only published incidents are public; only staff may "
                            "filter by another status."
                        ]
                    }
                )
            queryset = queryset.filter(status__in=statuses)

        if get("q"):
            queryset = queryset.filter(_search_condition(get("q")))

        queryset = self._filter_dates(queryset, data)
        if get("date_precision"):
            queryset = queryset.filter(date_precision__in=get("date_precision"))

        if get("incident_type"):
            ids = _ids(get("incident_type"), get("incident_type_exact"))
            queryset = queryset.filter(incident_type_id__in=ids)
        if get("weapon"):
            ids = _ids(get("weapon"), get("weapon_exact"))
            queryset = queryset.filter(
                pk__in=IncidentWeapon.objects.filter(weapon_id__in=ids).values(
                    "incident_id"
                )
            )
        if get("target_type"):
            ids = _ids(get("target_type"), get("target_type_exact"))
            queryset = queryset.filter(
                pk__in=IncidentTarget.objects.filter(target_type_id__in=ids).values(
                    "incident_id"
                )
            )
        if get("facility"):
            queryset = queryset.filter(
                pk__in=IncidentTarget.objects.filter(
                    facility_id__in=get("facility")
                ).values("incident_id")
            )
        governorate = get("governorate")
        if governorate:
            condition = Q(governorate_id__in=governorate.ids)
            if governorate.none:
                condition |= Q(governorate__isnull=True)
            queryset = queryset.filter(condition)
        if get("health_care") is not None:
            condition = _health_care_condition()
            queryset = (
                queryset.filter(condition)
                if get("health_care")
                else queryset.exclude(condition)
            )

        queryset = self._filter_actors(queryset, data)

        if get("location"):
            ids = get("location")
            if not get("location_exact"):
                ids = selectors.location_descendant_ids(ids)
            queryset = queryset.filter(**{f"{place['location']}__in": ids})
        box = get("bbox")
        if box is not None:
            queryset = queryset.filter(
                **{
                    f"{place['longitude']}__gte": box.min_lon,
                    f"{place['longitude']}__lte": box.max_lon,
                    f"{place['latitude']}__gte": box.min_lat,
                    f"{place['latitude']}__lte": box.max_lat,
                }
            )
        if get("geo_precision"):
            queryset = queryset.filter(
                **{f"{place['geo_precision']}__in": get("geo_precision")}
            )
        if get("geo_precision_max"):
            limit = GEO_PRECISION_ORDER.index(get("geo_precision_max"))
            queryset = queryset.filter(
                **{f"{place['geo_precision']}__in": GEO_PRECISION_ORDER[: limit + 1]}
            )

        if get("grading"):
            queryset = queryset.filter(grading__in=get("grading"))
        elif not self.staff:
            # Public default: every grading but `discounted` (API.md).
            queryset = queryset.exclude(grading=Incident.Grading.DISCOUNTED)

        for name in CASUALTY_PARAMS:
            value = get(name)
            if value is None:
                continue
            # A null bound satisfies no range filter (DOMAIN.md): nothing is inferred
            # about a count that is not recorded, nor about an unknown maximum.
            column, op = name.split("__")
            queryset = queryset.filter(**{f"{column}__{op}": value})
        for name in RECORDED_PARAMS:
            if get(name) is not None:
                # Recorded = a minimum exists (a floor "at least N" is recorded).
                column = name.removesuffix("_recorded") + "_min"
                queryset = queryset.filter(**{f"{column}__isnull": not get(name)})

        for name in ("casualties_known", "aggregate"):
            if get(name) is not None:
                queryset = queryset.filter(**{name: get(name)})
        if get("has_coordinates") is not None:
            queryset = queryset.filter(
                **{f"{place['latitude']}__isnull": not get("has_coordinates")}
            )
        if get("external_ref"):
            system, value = get("external_ref")
            refs = ExternalRef.objects.filter(system=system)
            if value is not None:
                refs = refs.filter(value=value)
            queryset = queryset.filter(pk__in=refs.values("incident_id"))
        if get("source") is not None:
            queryset = queryset.filter(
                pk__in=Citation.objects.filter(source_id=get("source")).values(
                    "incident_id"
                )
            )
        if get("updated_since"):
            queryset = queryset.filter(updated_at__gte=get("updated_since"))

        return queryset.order_by(
            *ORDERINGS[get("ordering") or DEFAULT_ORDERING].order_by()
        )

    def _filter_dates(self, queryset, data):
        date_from, date_to = data.get("date_from"), data.get("date_to")
        if date_from and date_to and date_to < date_from:
            raise InvalidFilter({"date_to": ["Must not be before date_from."]})
        match = data.get("date_match") or "overlap"
        if match == "overlap":
            if date_to:
                queryset = queryset.filter(date_start__lte=date_to)
            if date_from:
                queryset = queryset.filter(date_end__gte=date_from)
        elif match == "within":
            if date_from:
                queryset = queryset.filter(date_start__gte=date_from)
            if date_to:
                queryset = queryset.filter(date_end__lte=date_to)
        else:  # start
            if date_from:
                queryset = queryset.filter(date_start__gte=date_from)
            if date_to:
                queryset = queryset.filter(date_start__lte=date_to)
        return queryset

    def _filter_actors(self, queryset, data):
        role = data.get("actor_role") or Attribution.Role.PERPETRATOR
        involvement = data.get("actor_involvement") or "any"
        confidences = data.get("actor_confidence") or DEFAULT_CONFIDENCES
        if involvement != "any" and role != Attribution.Role.PERPETRATOR:
            raise InvalidFilter(
                {
                    "actor_involvement": [
                        "Certain / possible involvement applies to perpetrators only "
                        "(actor_role=perpetrator)."
                    ]
                }
            )
        groups: list[list[int]] = []
        if data.get("actor"):
            ids = data["actor"]
            groups.append(
                ids if data.get("actor_exact") else selectors.actor_descendant_ids(ids)
            )
        if data.get("bloc"):
            groups.append(
                list(
                    Actor.objects.filter(bloc__in=data["bloc"]).values_list(
                        "id", flat=True
                    )
                )
            )
        for actor_ids in groups:
            queryset = queryset.filter(
                pk__in=Attribution.objects.filter(
                    actor_id__in=actor_ids, role=role, confidence__in=confidences
                ).values("incident_id")
            )
            if involvement != "any":
                certain = certainly_involved_ids_sql(actor_ids)
                queryset = (
                    queryset.filter(pk__in=certain)
                    if involvement == "certain"
                    else queryset.exclude(pk__in=certain)
                )
        return queryset


def _ids(choice: VocabularyChoice, exact: bool | None) -> list[int]:
    return choice.exact_ids if exact else choice.tree_ids


def certainly_involved_ids_sql(actor_ids: list[int]) -> RawSQL:
    """Ids of the incidents in which the actor set is *certainly involved*, as a
    self-contained subquery around selectors.involvement_condition() (it never refers to
    the outer query, so it stays correct inside other subqueries)."""
    sql = (
        "SELECT i.id FROM incidents_incident i WHERE i.id IN ("
        "SELECT incident_id FROM incidents_attribution "
        "WHERE role = 'perpetrator' AND actor_id = ANY(%s)) AND "
        + selectors.involvement_condition()
    )
    return RawSQL(sql, [actor_ids, actor_ids, actor_ids])  # noqa: S611 (fixed SQL, bound ids)


def _health_care_condition() -> Q:
    """A health facility (or a child type) or ambulance hit, or medical personnel among
    the casualties (a row with max > 0)."""
    health_types = TargetType.objects.filter(
        Q(code__in=("health-facility", "ambulance")) | Q(parent__code="health-facility")
    ).values("id")
    return Q(
        pk__in=IncidentTarget.objects.filter(target_type_id__in=health_types).values(
            "incident_id"
        )
    ) | Q(
        pk__in=CasualtyCount.objects.filter(
            group="medical_personnel", max__gt=0
        ).values("incident_id")
    )


def _search_condition(text: str) -> Q:
    """Full text over the generated search column: English stems for the narrative,
    'simple' for codes and names, Arabic (normalised like the column: diacritics,
    alef/hamza forms, ta marbuta, alef maqsura, article) — or the exact incident code."""
    query = (
        SearchQuery(text, search_type="websearch", config="english")
        | SearchQuery(text, search_type="websearch", config="simple")
        | SearchQuery(
            arabic_normalized(Value(text)), search_type="websearch", config="arabic"
        )
    )
    return Q(search_vector=query) | Q(code=text.upper())


# ---------------------------------------------------------------------------------------
# Entry points
# ---------------------------------------------------------------------------------------

FILTER_PARAMS = tuple(IncidentFilterSet.base_filters)
LIST_PARAMS = frozenset({"q"} | set(FILTER_PARAMS))


@dataclass
class FilterResult:
    queryset: QuerySet[Incident]
    normalized: str  # the normalised filter (ordering included), e.g. for headers
    count_key: str  # the normalised filter without ordering: what `count` depends on
    ordering: str
    keyset: Keyset
    cleaned: dict[str, Any] = field(default_factory=dict)
    extra: dict[str, list[str]] = field(default_factory=dict)
    staff: bool = False


def _canonical(name: str, raw: str) -> str:
    value = raw.strip()
    if name == "q":
        return " ".join(value.split())
    if "," in value and name != "bbox":
        return ",".join(sorted(_split(value)))
    if value.lower() in ("true", "false", "1", "0") and name.endswith(
        (
            "_exact",
            "health_care",
            "_known",
            "_recorded",
            "aggregate",
            "has_coordinates",
        )
    ):
        return "true" if value.lower() in ("true", "1") else "false"
    return value


def run_incident_filter(
    params: Any,
    *,
    user,
    extra_params: Iterable[str] = (),
    for_pages: bool = False,
    request=None,
) -> FilterResult:
    """Validate `params` (a QueryDict or dict) and filter the incidents `user` may see.

    `extra_params` are the caller's own parameters (`cursor`, `page_size`, `format`,
    `group_by`, `zoom`, …): accepted here and returned untouched in `.extra`. Any other
    unknown parameter raises InvalidFilter; pages (`for_pages=True`) drop tracking
    parameters first."""
    cleaned_params = clean_query_params(params, for_pages=for_pages)
    extra_names = set(extra_params)
    errors: dict[str, list[str]] = {}
    data: dict[str, str] = {}
    extra: dict[str, list[str]] = {}
    for name, values in cleaned_params.items():
        if name in extra_names:
            extra[name] = values
            continue
        if name not in IncidentFilterSet.base_filters:
            errors[name] = [
                "Unknown parameter. Allowed: "
                + ", ".join([*FILTER_PARAMS, *sorted(extra_names)])
                + "."
            ]
            continue
        flt = IncidentFilterSet.base_filters[name]
        if len(values) > 1:
            if flt.field_class in (
                ChoiceListParam,
                VocabularyParam,
                ActorParam,
                LocationParam,
                GovernorateParam,
                FacilityParam,
                FieldsParam,
            ):
                data[name] = ",".join(values)
            else:
                errors[name] = ["Give this parameter once."]
                continue
        else:
            data[name] = values[0]
    if errors:
        raise InvalidFilter(errors)

    filterset = IncidentFilterSet(data, user=user, request=request)
    if not filterset.is_valid():
        raise InvalidFilter(
            {name: list(msgs) for name, msgs in filterset.form.errors.items()}
        )
    queryset = filterset.qs  # may raise InvalidFilter for cross-parameter rules

    pairs = sorted(
        (name, _canonical(name, value))
        for name, value in data.items()
        if name not in PRESENTATION_PARAMS and value.strip()
    )
    normalized = urlencode(pairs, safe=",:")
    count_key = urlencode([p for p in pairs if p[0] != "ordering"], safe=",:")
    ordering = filterset.form.cleaned_data.get("ordering") or DEFAULT_ORDERING
    return FilterResult(
        queryset=queryset,
        normalized=normalized,
        count_key=count_key,
        ordering=ordering,
        keyset=ORDERINGS[ordering],
        cleaned=dict(filterset.form.cleaned_data),
        extra=extra,
        staff=filterset.staff,
    )


def filter_incidents(
    params: Any, *, user, extra_params: Iterable[str] = (), for_pages: bool = False
) -> tuple[QuerySet[Incident], str]:
    """`(queryset, normalised filter string)` for `params`, as `user` may see them;
    raises InvalidFilter (`.errors` is field-keyed) for bad or unknown parameters."""
    result = run_incident_filter(
        params, user=user, extra_params=extra_params, for_pages=for_pages
    )
    return result.queryset, result.normalized


# ---------------------------------------------------------------------------------------
# Documentation of every parameter (the OpenAPI schema and the API docs use this table)
# ---------------------------------------------------------------------------------------


def _casualty_doc(name: str) -> str:
    column, op = name.split("__")
    total, bound = column.rsplit("_", 1)
    sign = "≥" if op == "gte" else "≤"
    text = f"{total.replace('_', ' ')}: the range's {bound} {sign} this number."
    text += " A null bound (not recorded, or an unknown max: 'at least') never matches."
    return text


def _recorded_doc(name: str) -> str:
    measure = name.removesuffix("_recorded").replace("_", " ")
    return (
        f"true: incidents that record {measure} (a range or a floor); false: those "
        "that do not (not recorded is not zero)."
    )


PARAMETER_DOCS: list[tuple[str, str, str]] = [
    (
        "q",
        "str",
        "Full-text search: title, summary (English and Arabic, Arabic "
        "normalised), place and actor names and aliases; or an exact incident code. "
        'Web-search syntax: "quoted phrase", or, -exclude.',
    ),
    ("date_from", "date", "YYYY-MM-DD, inclusive."),
    ("date_to", "date", "YYYY-MM-DD, inclusive."),
    (
        "date_match",
        "str",
        "overlap (default): the window overlaps the range; within: "
        "the whole window inside; start: date_start inside (as statistics group).",
    ),
    (
        "date_precision",
        "str",
        "Comma separated: " + ", ".join(c.value for c in DatePrecision),
    ),
    ("incident_type", "str", "Codes, comma separated; a code includes its children."),
    (
        "incident_type_exact",
        "bool",
        "true: incident_type codes without their children.",
    ),
    ("weapon", "str", "Weapon codes, comma separated; includes children."),
    ("weapon_exact", "bool", "true: weapon codes without their children."),
    ("target_type", "str", "Target type codes, comma separated; includes children."),
    ("target_type_exact", "bool", "true: target type codes without their children."),
    (
        "facility",
        "str",
        "Facility refs (F- and six digits, as /api/v1/facilities/ lists them), "
        "comma separated: their whole attack history.",
    ),
    (
        "governorate",
        "str",
        "Governorate slug or pcode (SY01–SY14), or none "
        "(country-level incidents); comma separated.",
    ),
    (
        "health_care",
        "bool",
        "true: a health facility or ambulance hit, or medical "
        "personnel among the casualties.",
    ),
    (
        "actor",
        "str",
        "Actor slugs, comma separated; includes subunits (e.g. "
        "25th-special-mission-forces-division, the Tiger Forces).",
    ),
    ("actor_exact", "bool", "true: the actors without their subunits."),
    ("actor_role", "str", "perpetrator (default), associated or target."),
    (
        "actor_involvement",
        "str",
        "any (default), certain or possible (an actor named in one of competing "
        "hypotheses is possible); qualifies actor and bloc.",
    ),
    ("actor_confidence", "str", "Confidences that count, default confirmed,likely."),
    ("bloc", "str", "Reporting blocs, comma separated: " + ", ".join(Bloc.values)),
    (
        "location",
        "str",
        "Place slug or pcode; includes every place under it (e.g. idleb or SY07).",
    ),
    ("location_exact", "bool", "true: the place only, not the places under it."),
    ("bbox", "str", "min_lon,min_lat,max_lon,max_lat (on the public point)."),
    ("geo_precision", "str", "Comma separated: " + ", ".join(GEO_PRECISION_ORDER)),
    ("geo_precision_max", "str", "This precise or better (e.g. community)."),
    (
        "grading",
        "str",
        "Comma separated; the public default is every grading but discounted.",
    ),
    ("status", "str", "Staff only; the public may only ask for published."),
    *[(name, "int", _casualty_doc(name)) for name in CASUALTY_PARAMS],
    *[(name, "bool", _recorded_doc(name)) for name in RECORDED_PARAMS],
    ("casualties_known", "bool", "Whether the incident records any casualty count."),
    ("aggregate", "bool", "Records that sum many events (default: both)."),
    ("has_coordinates", "bool", "Whether the incident has a (public) point."),
    (
        "external_ref",
        "str",
        "system:value (e.g. ucdp_ged:214797) or a bare system (e.g. "
        "insecurity_insight).",
    ),
    ("source", "int", "Source id: every incident citing it."),
    ("updated_since", "datetime", "ISO 8601 timestamp."),
    (
        "ordering",
        "str",
        "One of: "
        + ", ".join(ORDERINGS)
        + " (default -date_start). By civilians_killed_max, nulls (not recorded, or "
        "an unknown max) come last in both directions.",
    ),
    ("fields", "str", "Comma-separated subset of: " + ", ".join(LIST_FIELDS)),
    ("lang", "str", "en (default) or ar: names and labels in that language."),
]
