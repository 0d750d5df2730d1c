"""The public site (PAGES.md): server-rendered pages for journalists and the public.

Every page reads public data through `incidents.selectors` (the redaction layer) and
filters through the one FilterSet, `api.filters.filter_incidents`, so a page, its CSV
and its API link always hold the same incidents. Views fetch everything a template
shows, in a fixed number of queries; templates never query.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core import signing
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.db.models import Count, F, Q, QuerySet, Sum
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponsePermanentRedirect,
    QueryDict,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language, gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_safe

from incidents import public_cache, selectors
from incidents.models import (
    Actor,
    ActorRelation,
    Attribution,
    Bloc,
    CasualtyGroup,
    CasualtyOutcome,
    Confidence,
    DatePrecision,
    GeoPrecision,
    Incident,
    IncidentTarget,
    IncidentType,
    IncidentWeapon,
    Location,
    PublicChange,
    Source,
    TargetType,
    WeaponType,
)
from incidents.templatetags.civtrack import (
    loc,
    num,
    range_links,
    range_sum_words,
    range_words,
)

# Parameters a shared link may carry that are not filters (API.md: the pages ignore them).
TRACKING_PARAMS = {"fbclid", "gclid", "mc_cid", "mc_eid", "ref", "dclid", "msclkid"}
# Parameters of the pages themselves, never passed to the FilterSet.
PAGE_PARAMS = {"cursor", "ordering", "group_by", "lang", "format", "page_size"}

LIST_PAGE_SIZE = 50
DEFAULT_CONFIDENCES = ("confirmed", "likely")
CACHE_SECONDS = 60

ORDERINGS = {
    "-date_start": ("date_start", True),
    "date_start": ("date_start", False),
    "-civilians_killed_max": ("civilians_killed_max", True),
    "civilians_killed_max": ("civilians_killed_max", False),
    "-updated_at": ("updated_at", True),
    "updated_at": ("updated_at", False),
    "code": ("code", False),
    "-code": ("code", True),
}
DEFAULT_ORDERING = "-date_start"

GROUPINGS = {
    "year": _("year"),
    "month": _("month"),
    "governorate": _("governorate"),
    "incident_type": _("incident type"),
    "weapon": _("weapon"),
    "target_type": _("target type"),
    "actor": _("actor"),
    "bloc": _("bloc"),
    "grading": _("grading"),
}

GRADING_DEFINITIONS = {
    "confirmed": _(
        "A specific belligerent has accepted responsibility, or the attack is "
        "documented by several independent, reliable sources including evidence from "
        "the scene (images, remnants, satellite imagery)."
    ),
    "fair": _(
        "Two or more credible sources report the incident and the belligerent, with "
        "no contradicting evidence; the usual standard for attribution."
    ),
    "weak": _(
        "A single source reports it, or the sources disagree on essential facts; "
        "plausible but not established."
    ),
    "contested": _(
        "Competing claims: sources attribute the incident to different belligerents, "
        "or dispute that civilians were harmed."
    ),
    "discounted": _(
        "Reported at first but later shown not to have happened as reported, or to "
        "have harmed no civilians; kept for the record and left out of default figures."
    ),
    "not_assessed": _(
        "Not yet graded by CivTrack's researchers (for example, imported from a "
        "dataset and not reviewed)."
    ),
}

DATASET_WARNINGS = [
    _(
        "UCDP GED records Russian air strikes under “Government of Syria” and never "
        "names Russia: incidents imported from UCDP count for the Syrian government "
        "bloc, so a comparison of Russia with the Syrian government (or of Russia with "
        "anyone) understates Russia and overstates the Syrian government."
    ),
    _(
        "In UCDP battles (state-based and non-state violence) both sides are competing "
        "hypotheses: their deaths count in each side's maximum and in neither side's "
        "minimum."
    ),
    _(
        "Insecurity Insight records attacks on health care; its perpetrator names are "
        "often “Syrian or Russian forces”, which count as possible for both."
    ),
]


# ---------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------


def _public_user():
    # The public site shows the public view to everyone, staff included, so that a page
    # is the same for every reader and can be cached.
    return AnonymousUser()


def _lang() -> str:
    return "ar" if (get_language() or "en").startswith("ar") else "en"


def clean_params(
    params: QueryDict, drop: set[str] | frozenset = frozenset()
) -> QueryDict:
    """The filter parameters of a page URL: tracking parameters (utm_*, fbclid, …),
    page-only parameters, empty values and `drop` removed."""
    cleaned = QueryDict(mutable=True)
    for key in params:
        if key.startswith("utm_") or key in TRACKING_PARAMS or key in PAGE_PARAMS:
            continue
        if key in drop:
            continue
        values = [v.strip() for v in params.getlist(key) if v.strip() != ""]
        if values:
            # Checkboxes repeat a parameter; the FilterSet reads comma-separated lists.
            cleaned[key] = ",".join(values)
    return cleaned


class FilterErrors(Exception):
    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(errors)
        self.errors = errors


def _error_dict(error: Exception) -> dict[str, list[str]]:
    if isinstance(getattr(error, "errors", None), dict):
        return {str(k): [str(m) for m in v] for k, v in error.errors.items()}
    detail = getattr(error, "detail", None)
    if detail is None and hasattr(error, "message_dict"):
        detail = error.message_dict
    if detail is None and hasattr(error, "messages"):
        detail = {"__all__": error.messages}
    if isinstance(detail, dict):
        return {
            str(key): [str(m) for m in (value if isinstance(value, list) else [value])]
            for key, value in detail.items()
        }
    if isinstance(detail, list):
        return {"__all__": [str(m) for m in detail]}
    return {"__all__": [str(detail or error)]}


def apply_filter(params: QueryDict) -> tuple[QuerySet[Incident], str]:
    """The one FilterSet (api.filters) over the public view; FilterErrors on bad input."""
    from api.filters import filter_incidents

    try:
        queryset, normalized = filter_incidents(
            params, user=_public_user(), for_pages=True
        )
    except Exception as error:
        if _is_validation_error(error):
            raise FilterErrors(_error_dict(error)) from error
        raise
    return queryset, normalized


def _is_validation_error(error: Exception) -> bool:
    if isinstance(error, DjangoValidationError):
        return True
    try:
        from rest_framework.exceptions import ValidationError as DRFValidationError
    except ImportError:  # pragma: no cover
        return False
    return isinstance(error, DRFValidationError)


def _list_link(query: str | QueryDict = "", **extra: Any) -> str:
    base = QueryDict(
        query if isinstance(query, str) else query.urlencode(), mutable=True
    )
    for key, value in extra.items():
        if value is None or value == "":
            base.pop(key, None)
        else:
            base[key] = str(value)
    url = reverse("incidents:list")
    encoded = base.urlencode(safe=",:")
    return f"{url}?{encoded}" if encoded else url


def _with(query: str, **extra: Any) -> str:
    """A query string plus parameters (for stats and export links)."""
    base = QueryDict(query, mutable=True)
    for key, value in extra.items():
        if value is None or value == "":
            base.pop(key, None)
        else:
            base[key] = str(value)
    return base.urlencode(safe=",:")


def _cacheable(response: HttpResponse, request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        response["Cache-Control"] = f"public, max-age={CACHE_SECONDS}"
    else:
        response["Cache-Control"] = "private, no-store"
    response["Vary"] = "Accept-Language, Cookie"
    return response


def _render(request, template, context, status=200):
    response = render(request, template, context, status=status)
    return _cacheable(response, request)


def _bad_request(request, template, context, errors):
    context = {**context, "errors": errors}
    response = render(request, template, context, status=400)
    response["Cache-Control"] = "no-store"
    return response


def _totals(queryset: QuerySet[Incident]) -> dict[str, Any]:
    """Incidents and range sums over a filtered set, in one query, counted as the
    statistics count them (DOMAIN.md "Statistics"): `min` sums the recorded minimums
    (null when none is recorded), `max` is null as soon as one incident has none, and
    `incidents_not_recorded` / `incidents_max_unknown` say how many lack which."""
    columns = {
        "killed": "civilians_killed",
        "children": "children_killed",
        "injured": "civilians_injured",
    }
    aggregates: dict[str, Any] = {"incidents": Count("id")}
    for name, column in columns.items():
        low, high = f"{column}_min", f"{column}_max"
        aggregates.update(
            {
                f"{name}_min": Sum(low),
                f"{name}_max": Sum(high),
                f"{name}_not_recorded": Count(
                    "id", filter=Q(**{f"{low}__isnull": True})
                ),
                f"{name}_max_unknown": Count(
                    "id",
                    filter=Q(**{f"{low}__isnull": False, f"{high}__isnull": True}),
                ),
            }
        )
    agg = queryset.order_by().aggregate(**aggregates)
    out: dict[str, Any] = {"incidents": agg["incidents"]}
    for name in columns:
        low = agg[f"{name}_min"]
        not_recorded = agg[f"{name}_not_recorded"]
        max_unknown = agg[f"{name}_max_unknown"]
        out[name] = {
            "min": low,
            "max": None
            if low is None or not_recorded or max_unknown
            else agg[f"{name}_max"],
            "incidents_not_recorded": not_recorded,
            "incidents_max_unknown": max_unknown,
        }
    return out


def _ids_sql(queryset: QuerySet[Incident]) -> tuple[str, tuple]:
    sql, params = queryset.order_by().values("id").query.sql_with_params()
    return sql, tuple(params)


# ---------------------------------------------------------------------------------------
# Vocabularies and facets
# ---------------------------------------------------------------------------------------


@dataclass
class Choice:
    value: str
    label: str
    depth: int = 0
    count: int | None = None
    checked: bool = False
    url: str = ""


@dataclass
class Facet:
    param: str
    label: str
    choices: list[Choice] = field(default_factory=list)
    multiple: bool = True
    error: list[str] | None = None
    exact_checked: bool | None = None  # for hierarchical vocabularies: ?<param>_exact

    @property
    def visible(self) -> bool:
        """Shown when a choice would give incidents, is chosen, or has an error."""
        return bool(self.error) or any(c.count or c.checked for c in self.choices)


def _vocabulary_tree(rows) -> list[tuple[Any, int]]:
    """Vocabulary rows in tree order with their depth (parents before children)."""
    children: dict[int | None, list] = defaultdict(list)
    for row in rows:
        children[row.parent_id].append(row)
    ordered: list[tuple[Any, int]] = []

    def walk(parent_id, depth):
        for row in children.get(parent_id, []):
            ordered.append((row, depth))
            walk(row.pk, depth + 1)

    walk(None, 0)
    known = {row.pk for row, _depth in ordered}
    ordered += [(row, 0) for row in rows if row.pk not in known]  # orphans, defensively
    return ordered


def _ancestor_pairs(rows) -> list[tuple[int, int]]:
    """(id, ancestor id) for every row and each of its ancestors, itself included: a
    code filter includes its children, so a parent's facet count covers its subtree."""
    parent = {row.pk: row.parent_id for row in rows}
    pairs = []
    for pk in parent:
        seen = set()
        current: int | None = pk
        while current is not None and current not in seen:
            pairs.append((pk, current))
            seen.add(current)
            current = parent.get(current)
    return pairs


def _closure_counts(
    table: str, column: str, pairs: list[tuple[int, int]], ids_sql: str, params: tuple
) -> dict[int, int]:
    """Distinct incidents per vocabulary entry (subtree included), one GROUP BY."""
    if not pairs:
        return {}
    values = ", ".join(["(%s, %s)"] * len(pairs))
    flat = [value for pair in pairs for value in pair]
    sql = (
        f"SELECT c.anc, COUNT(DISTINCT t.incident_id) FROM {table} t "
        f"JOIN (VALUES {values}) AS c(vid, anc) ON c.vid = t.{column} "
        f"WHERE t.incident_id IN ({ids_sql}) GROUP BY c.anc"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*flat, *params])
        return {row[0]: row[1] for row in cursor.fetchall()}


def _selected(params: QueryDict, name: str) -> set[str]:
    values: set[str] = set()
    for raw in params.getlist(name):
        values.update(v.strip() for v in raw.split(",") if v.strip())
    return values


class Vocab:
    """The vocabularies a filter form shows (three queries, fetched once per page)."""

    def __init__(self):
        self.incident_types = list(IncidentType.objects.filter(active=True))
        self.weapons = list(WeaponType.objects.filter(active=True))
        self.targets = list(TargetType.objects.filter(active=True))
        self.by_code = {
            "incident_type": {v.code: v for v in self.incident_types},
            "weapon": {v.code: v for v in self.weapons},
            "target_type": {v.code: v for v in self.targets},
        }

    def label(self, kind: str, code: str) -> str:
        row = self.by_code.get(kind, {}).get(code)
        return loc(row) if row is not None else code


def _facet_for_vocab(params, param, label, rows, counts_by_pk, base_query) -> Facet:
    selected = _selected(params, param)
    facet = Facet(
        param=param,
        label=label,
        exact_checked=params.get(f"{param}_exact", "").lower() == "true",
    )
    for row, depth in _vocabulary_tree(rows):
        count = counts_by_pk.get(row.pk, 0) if counts_by_pk is not None else None
        facet.choices.append(
            Choice(
                value=row.code,
                label=loc(row),
                depth=depth,
                count=count,
                checked=row.code in selected,
                url=_list_link(base_query, **{param: row.code}),
            )
        )
    return facet


def build_facets(
    params: QueryDict, vocab: Vocab, governorates, *, version: str | None = None
) -> list[Facet]:
    """Facet counts beside every choice: how many incidents each value would give under
    the other filters. One filter application and one GROUP BY per facet, computed in
    the database (never per choice), and cached until public data changes
    (incidents/public_cache.py; `version` is its fingerprint when the caller has it):
    with every filter off they count every public incident."""
    facets: list[Facet] = []
    version = version or public_cache.public_data_version()

    def without(name: str, *extra: str) -> tuple[QueryDict, str]:
        reduced = clean_params(params, drop={name, f"{name}_exact", *extra})
        return reduced, reduced.urlencode()

    def counts_for(name: str, reduced: QueryDict, compute) -> dict | None:
        """compute(queryset) under `reduced`, cached; None when it does not validate."""

        def run() -> dict | None:
            try:
                queryset, _normalized = apply_filter(reduced)
            except FilterErrors:
                return None
            return compute(queryset)

        question = sorted((key, sorted(values)) for key, values in reduced.lists())
        return public_cache.cached(f"facet:{name}", question, run, version=version)

    def group_counts(column: str):
        def compute(queryset) -> dict:
            return {
                row[column]: row["n"]
                for row in queryset.order_by().values(column).annotate(n=Count("id"))
            }

        return compute

    # Incident type: one type per incident, so a parent's count is its subtree's sum.
    reduced, base = without("incident_type")
    exact = counts_for("incident_type", reduced, group_counts("incident_type_id"))
    subtree: dict[int, int] = defaultdict(int)
    for pk, anc in _ancestor_pairs(vocab.incident_types):
        subtree[anc] += (exact or {}).get(pk, 0)
    facets.append(
        _facet_for_vocab(
            params, "incident_type", _("Type"), vocab.incident_types, subtree, base
        )
    )

    for param, label, rows, table, column in (
        ("weapon", _("Weapon"), vocab.weapons, "incidents_incidentweapon", "weapon_id"),
        (
            "target_type",
            _("Target"),
            vocab.targets,
            "incidents_incidenttarget",
            "target_type_id",
        ),
    ):
        reduced, base = without(param)
        pairs = _ancestor_pairs(rows)

        def closure(queryset, table=table, column=column, pairs=pairs) -> dict:
            sql, sql_params = _ids_sql(queryset)
            return _closure_counts(table, column, pairs, sql, sql_params)

        counts = counts_for(param, reduced, closure)
        facets.append(_facet_for_vocab(params, param, label, rows, counts, base))

    # Governorate (denormalised on the incident; "none" = country-level).
    reduced, base = without("governorate")
    selected = _selected(params, "governorate")
    counts = counts_for("governorate", reduced, group_counts("governorate_id")) or {}
    facet = Facet(param="governorate", label=_("Governorate"))
    for place in governorates:
        facet.choices.append(
            Choice(
                value=place.slug,
                label=loc(place),
                count=counts.get(place.pk, 0),
                checked=place.slug in selected or (place.pcode or "") in selected,
                url=_list_link(base, governorate=place.slug),
            )
        )
    facet.choices.append(
        Choice(
            value="none",
            label=gettext("Syria (no governorate)"),
            count=counts.get(None, 0),
            checked="none" in selected,
            url=_list_link(base, governorate="none"),
        )
    )
    facets.append(facet)

    # Bloc of the perpetrators, with the confidences the filter counts.
    reduced, base = without("bloc")
    selected = _selected(params, "bloc")
    confidences = sorted(_selected(params, "actor_confidence")) or [
        "confirmed",
        "likely",
    ]

    def bloc_counts(queryset) -> dict:
        return {
            row["actor__bloc"]: row["n"]
            for row in Attribution.objects.filter(
                incident__in=queryset.order_by().values("id"),
                role=Attribution.Role.PERPETRATOR,
                confidence__in=confidences,
            )
            .values("actor__bloc")
            .annotate(n=Count("incident", distinct=True))
        }

    counts = counts_for("bloc", reduced, bloc_counts) or {}
    facet = Facet(param="bloc", label=_("Perpetrator bloc"))
    for value, label in Bloc.choices:
        facet.choices.append(
            Choice(
                value=value,
                label=str(label),
                count=counts.get(value, 0),
                checked=value in selected,
                url=_list_link(base, bloc=value),
            )
        )
    facets.append(facet)

    for param, column, label, choices in (
        ("grading", "grading", _("Grading"), Incident.Grading.choices),
        (
            "date_precision",
            "date_precision",
            _("Date precision"),
            DatePrecision.choices,
        ),
        (
            "geo_precision",
            "public_geo_precision",
            _("Place precision"),
            GeoPrecision.choices,
        ),
    ):
        reduced, base = without(
            param, "geo_precision_max" if param == "geo_precision" else ""
        )
        selected = _selected(params, param)
        counts = counts_for(param, reduced, group_counts(column)) or {}
        facet = Facet(param=param, label=label)
        for value, choice_label in choices:
            facet.choices.append(
                Choice(
                    value=value,
                    label=str(choice_label),
                    count=counts.get(value, 0),
                    checked=value in selected,
                    url=_list_link(base, **{param: value}),
                )
            )
        facets.append(facet)
    return facets


def top_perpetrators(
    params: QueryDict, limit: int = 15, *, version: str | None = None
) -> tuple[list[dict], str]:
    """The actors (each with its subunits) with the most incidents under the other
    filters: one recursive GROUP BY, cached until public data changes
    (incidents/public_cache.py; `version` is its fingerprint when the caller has it)."""
    reduced = clean_params(params, drop={"actor", "actor_exact"})
    try:
        queryset, _normalized = apply_filter(reduced)
    except FilterErrors:
        return [], reduced.urlencode()
    confidences = sorted(_selected(params, "actor_confidence")) or [
        "confirmed",
        "likely",
    ]
    role = params.get("actor_role") or "perpetrator"
    ids_sql, ids_params = _ids_sql(queryset)
    sql = f"""
        WITH RECURSIVE anc(actor_id, anc_id) AS (
            SELECT id, id FROM incidents_actor WHERE merged_into_id IS NULL
            UNION
            SELECT anc.actor_id, a.parent_id FROM anc
            JOIN incidents_actor a ON a.id = anc.anc_id
            WHERE a.parent_id IS NOT NULL
        ), counts AS (
            SELECT anc.anc_id, COUNT(DISTINCT t.incident_id) AS n
            FROM incidents_attribution t JOIN anc ON anc.actor_id = t.actor_id
            WHERE t.role = %s AND t.confidence = ANY(%s) AND t.incident_id IN ({ids_sql})
            GROUP BY anc.anc_id
        )
        SELECT a.slug, a.name, a.name_ar, counts.n FROM counts
        JOIN incidents_actor a ON a.id = counts.anc_id
        ORDER BY counts.n DESC, a.name LIMIT %s
    """

    def run() -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(sql, [role, confidences, *ids_params, limit])
            return cursor.fetchall()

    question = (
        sorted((key, sorted(values)) for key, values in reduced.lists()),
        role,
        confidences,
        limit,
    )
    rows = public_cache.cached("top-perpetrators", question, run, version=version)
    selected = _selected(params, "actor")
    base = reduced.urlencode()
    return [
        {
            "slug": slug,
            "name": name,
            "name_ar": name_ar,
            "count": n,
            "checked": slug in selected,
            "url": _list_link(base, actor=slug),
        }
        for slug, name, name_ar, n in rows
    ], base


# ---------------------------------------------------------------------------------------
# Incident rows for lists
# ---------------------------------------------------------------------------------------


def perpetrator_groups(attributions, role: str = "perpetrator") -> list[list[dict]]:
    """Certain (unnumbered) perpetrators form one joint group; each numbered hypothesis
    another: rendered "A and B" within a group, "A *or* B" between groups."""
    certain: list[dict] = []
    numbered: dict[int, list[dict]] = defaultdict(list)
    for attribution in attributions:
        if attribution.role != role:
            continue
        entry = {
            "url": reverse("incidents:actor", args=[attribution.actor.slug]),
            "name": loc(attribution.actor),
            "slug": attribution.actor.slug,
            "confidence": attribution.confidence,
            "confidence_label": attribution.get_confidence_display(),
            "position": attribution.position,
            "position_label": attribution.get_position_display(),
            "alternative": attribution.alternative,
            "conceded_killed": attribution.conceded_killed,
            "bloc_label": attribution.actor.get_bloc_display(),
        }
        if attribution.alternative is None:
            certain.append(entry)
        else:
            numbered[attribution.alternative].append(entry)
    groups = [numbered[key] for key in sorted(numbered)]
    if certain and groups:
        # Certain actors act in every hypothesis; shown first, joined with each.
        return [certain + group for group in groups]
    return [certain] if certain else groups


def incident_rows(incidents) -> list[dict]:
    rows = []
    for incident in incidents:
        rows.append(
            {
                "incident": incident,
                "url": reverse("incidents:detail", args=[incident.code]),
                "perpetrators": perpetrator_groups(incident.attributions.all()),
            }
        )
    return rows


def _list_queryset(queryset: QuerySet[Incident]) -> QuerySet[Incident]:
    return queryset.select_related(
        "incident_type", "public_location", "governorate"
    ).prefetch_related(
        # Actors only: graphic material is never shown in a list.
        _perpetrator_prefetch()
    )


def _perpetrator_prefetch():
    from django.db.models import Prefetch

    return Prefetch(
        "attributions",
        queryset=Attribution.objects.filter(role=Attribution.Role.PERPETRATOR)
        .select_related("actor")
        .order_by("alternative", "id"),
    )


# ---------------------------------------------------------------------------------------
# Keyset pagination for the list page
# ---------------------------------------------------------------------------------------

CURSOR_SALT = "civtrack.incident-list"


def _order_by(ordering: str, reverse_: bool = False):
    field_name, desc = ORDERINGS[ordering]
    desc = desc != reverse_
    if not Incident._meta.get_field(field_name).null:
        # A key that is never null sorts the same whatever its NULLS clause; without
        # one the indexes serve it (incidents_inc_pub_date: `date_start DESC NULLS
        # LAST` made PostgreSQL sort every public incident, issue 8).
        return [
            F(field_name).desc() if desc else F(field_name).asc(),
            "-id" if desc else "id",
        ]
    # Nulls last as shown; a page walked backwards reads them first. (Django refuses
    # `nulls_last=False`: building it for "previous" links was a 500.)
    nulls = {"nulls_first": True} if reverse_ else {"nulls_last": True}
    primary = F(field_name).desc(**nulls) if desc else F(field_name).asc(**nulls)
    return [primary, "-id" if desc else "id"]


def _encode_value(value):
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return value


def _decode_value(field_name: str, value):
    if value is None:
        return None
    if field_name == "date_start":
        return dt.date.fromisoformat(value)
    if field_name == "updated_at":
        return dt.datetime.fromisoformat(value)
    if field_name == "civilians_killed_max":
        return int(value)
    return str(value)


def _range(field_name: str, below: bool, value, pk: int) -> Q:
    """For a key that is never null: rows strictly below (or above) (value, pk), written
    `key <= v AND (key < v OR id < pk)` so that the index range starts at v."""
    if below:
        return Q(**{f"{field_name}__lte": value}) & (
            Q(**{f"{field_name}__lt": value}) | Q(id__lt=pk)
        )
    return Q(**{f"{field_name}__gte": value}) & (
        Q(**{f"{field_name}__gt": value}) | Q(id__gt=pk)
    )


def _after(field_name: str, desc: bool, value, pk: int) -> Q:
    """Rows after (value, pk) in the order (field desc/asc NULLS LAST, id same way)."""
    if value is not None and not Incident._meta.get_field(field_name).null:
        return _range(field_name, desc, value, pk)
    if value is None:
        return Q(**{f"{field_name}__isnull": True}) & (
            Q(id__lt=pk) if desc else Q(id__gt=pk)
        )
    cmp = "lt" if desc else "gt"
    return (
        Q(**{f"{field_name}__{cmp}": value})
        | Q(**{field_name: value, f"id__{cmp}": pk})
        | Q(**{f"{field_name}__isnull": True})
    )


def _before(field_name: str, desc: bool, value, pk: int) -> Q:
    """Rows before (value, pk) in the same order."""
    if value is not None and not Incident._meta.get_field(field_name).null:
        return _range(field_name, not desc, value, pk)
    cmp = "gt" if desc else "lt"
    if value is None:
        return Q(**{f"{field_name}__isnull": False}) | Q(
            **{f"{field_name}__isnull": True, f"id__{cmp}": pk}
        )
    return Q(**{f"{field_name}__{cmp}": value}) | Q(
        **{field_name: value, f"id__{cmp}": pk}
    )


def paginate(queryset, ordering: str, cursor: str | None, size: int):
    """One page of a keyset-paginated list; cursors are signed and opaque."""
    field_name, desc = ORDERINGS[ordering]
    direction = "next"
    if cursor:
        try:
            data = signing.loads(cursor, salt=CURSOR_SALT)
            direction = data["d"]
            value = _decode_value(field_name, data["v"])
            pk = int(data["id"])
            if data["o"] != ordering or direction not in ("next", "prev"):
                raise ValueError
        except (signing.BadSignature, KeyError, TypeError, ValueError) as error:
            raise FilterErrors(
                {
                    "cursor": [
                        gettext(
                            "This page link is invalid or expired; start again from the first page."
                        )
                    ]
                }
            ) from error
        if direction == "next":
            queryset = queryset.filter(_after(field_name, desc, value, pk))
        else:
            queryset = queryset.filter(_before(field_name, desc, value, pk))
    reverse_ = direction == "prev"
    rows = list(queryset.order_by(*_order_by(ordering, reverse_))[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    if reverse_:
        rows.reverse()

    def make(row, d):
        return signing.dumps(
            {
                "o": ordering,
                "d": d,
                "v": _encode_value(getattr(row, field_name)),
                "id": row.pk,
            },
            salt=CURSOR_SALT,
        )

    next_cursor = prev_cursor = None
    if rows:
        if (direction == "next" and more) or (direction == "prev"):
            next_cursor = make(rows[-1], "next")
        if (direction == "prev" and more) or (direction == "next" and cursor):
            prev_cursor = make(rows[0], "prev")
    return rows, next_cursor, prev_cursor


# ---------------------------------------------------------------------------------------
# Pages
# ---------------------------------------------------------------------------------------


def _governorates():
    return list(
        selectors.live_locations()
        .filter(level=Location.Level.GOVERNORATE)
        .order_by("pcode")
    )


@require_safe
def incident_list(request: HttpRequest) -> HttpResponse:
    params = clean_params(request.GET)
    ordering = request.GET.get("ordering") or DEFAULT_ORDERING
    vocab = Vocab()
    governorates = _governorates()
    context: dict[str, Any] = {
        "params": params,
        "query": params.urlencode(),
        "ordering": ordering,
        "vocab": vocab,
        "q": params.get("q", ""),
        "orderings": _ordering_links(params, ordering),
    }
    errors: dict[str, list[str]] = {}
    if ordering not in ORDERINGS:
        errors["ordering"] = [
            gettext("Choose one of: %(allowed)s.") % {"allowed": ", ".join(ORDERINGS)}
        ]
        ordering = DEFAULT_ORDERING
    try:
        queryset, normalized = apply_filter(params)
    except FilterErrors as error:
        errors.update(error.errors)
        queryset = None
    if queryset is not None and not errors:
        try:
            rows, next_cursor, prev_cursor = paginate(
                _list_queryset(queryset),
                ordering,
                request.GET.get("cursor"),
                LIST_PAGE_SIZE,
            )
        except FilterErrors as error:
            errors.update(error.errors)
    version = public_cache.public_data_version()
    context["facets"] = build_facets(params, vocab, governorates, version=version)
    context["actors"], _base = top_perpetrators(params, version=version)
    context["governorates"] = governorates
    context["form_groups"] = filter_form(params, errors)
    context["other_errors"] = form_errors_elsewhere(errors, _form_names())
    if errors:
        context.update({"count": None, "rows": []})
        return _bad_request(request, "incidents/list.html", context, errors)
    count = public_cache.cached(
        "page-count", normalized, queryset.order_by().count, version=version
    )
    export_query = normalized if isinstance(normalized, str) else params.urlencode()
    context.update(
        {
            "count": count,
            "rows": incident_rows(rows),
            "next_url": f"?{_with(params.urlencode(), ordering=_nondefault(ordering), cursor=next_cursor)}"
            if next_cursor
            else None,
            "prev_url": f"?{_with(params.urlencode(), ordering=_nondefault(ordering), cursor=prev_cursor)}"
            if prev_cursor
            else None,
            "first_url": f"?{_with(params.urlencode(), ordering=_nondefault(ordering))}"
            if request.GET.get("cursor")
            else None,
            "export_csv": "/api/v1/incidents/?" + _with(export_query, format="csv"),
            "export_geojson": "/api/v1/incidents/?"
            + _with(export_query, format="geojson"),
            "export_api": "/api/v1/incidents/"
            + (f"?{export_query}" if export_query else ""),
            "stats_url": reverse("incidents:stats")
            + (f"?{export_query}" if export_query else ""),
            "map_url": reverse("incidents:map")
            + (f"?{export_query}" if export_query else ""),
            "normalized": export_query,
        }
    )
    return _render(request, "incidents/list.html", context)


def _nondefault(ordering: str) -> str | None:
    return None if ordering == DEFAULT_ORDERING else ordering


def _ordering_links(params: QueryDict, current: str) -> dict[str, dict]:
    """Sort links for the sortable columns: a second click reverses the order."""
    links = {}
    for column, default in (
        ("date_start", "-date_start"),
        ("civilians_killed_max", "-civilians_killed_max"),
        ("code", "code"),
    ):
        active = current.lstrip("-") == column
        if active:
            target = current[1:] if current.startswith("-") else f"-{current}"
        else:
            target = default
        links[column] = {
            "url": "?" + _with(params.urlencode(), ordering=_nondefault(target)),
            "active": active,
            "direction": ("descending" if current.startswith("-") else "ascending")
            if active
            else "none",
        }
    return links


@require_safe
def incident_detail(request: HttpRequest, code: str) -> HttpResponse:
    lookup = selectors.public_incident_lookup(code)
    if lookup.kind == "missing":
        raise Http404(
            gettext("No published incident has the code %(code)s.") % {"code": code}
        )
    if lookup.kind == "merged":
        return HttpResponsePermanentRedirect(
            reverse("incidents:detail", args=[lookup.survivor_code])
        )
    if lookup.kind == "withdrawn":
        return _render(
            request,
            "incidents/withdrawn.html",
            {"incident": lookup.incident},
            status=410,
        )
    incident = lookup.incident
    etag = f'"{incident.code}-{incident.version}-{_lang()}"'
    if (
        request.headers.get("If-None-Match") == etag
        and not request.user.is_authenticated
    ):
        response = HttpResponse(status=304)
        response["ETag"] = etag
        return response

    attributions = list(incident.attributions.all())
    hypotheses = perpetrator_groups(attributions)
    perpetrators = [a for a in attributions if a.role == Attribution.Role.PERPETRATOR]
    others = [a for a in attributions if a.role != Attribution.Role.PERPETRATOR]
    casualty_table = _casualty_table(incident)
    targets = []
    for target in incident.targets.all():
        facility = selectors.public_facility_summary(target.facility)
        targets.append({"target": target, "facility": facility})
    citations = incident.public_citations
    confidential = selectors.confidential_source_counts([incident.pk]).get(
        incident.pk, 0
    )
    victims = [
        _victim_labels(selectors.public_victim(v)) for v in incident.victims.all()
    ]
    history = selectors.public_history(incident)
    permalink = request.build_absolute_uri(
        reverse("incidents:detail", args=[incident.code])
    )
    today = timezone.localdate()
    citation = gettext(
        "%(instance)s, incident %(code)s, version %(version)s: “%(title)s”. Retrieved "
        "%(date)s from %(url)s"
    ) % {
        "instance": settings.CIVTRACK_INSTANCE_NAME,
        "code": incident.code,
        "version": incident.version,
        "title": loc(incident, "title"),
        "date": today.isoformat(),
        "url": permalink,
    }
    place_chain = []
    place = incident.public_location
    while place is not None and len(place_chain) < 4:
        place_chain.append(place)
        place = place.parent if place.parent_id else None
    context = {
        "incident": incident,
        "hypotheses": hypotheses,
        "perpetrators": perpetrators,
        "other_attributions": others,
        "casualty_table": casualty_table,
        "targets": targets,
        "weapons": list(incident.weapons.all()),
        "citations": citations,
        "confidential_count": confidential,
        "victims": victims,
        "history": _history_rows(history),
        "permalink": permalink,
        "citation": citation,
        "place_chain": place_chain,
        "grading_definition": GRADING_DEFINITIONS.get(incident.grading, ""),
        "external_refs": list(incident.external_refs.all()),
        "map_point": _point(incident),
        "tile_url": settings.CIVTRACK_TILE_URL,
        "type_url": _list_link(incident_type=incident.incident_type.code),
    }
    response = _render(request, "incidents/detail.html", context)
    response["ETag"] = etag
    if incident.updated_at:
        from django.utils.http import http_date

        response["Last-Modified"] = http_date(incident.updated_at.timestamp())
    return response


def _victim_labels(victim: dict) -> dict:
    """The public victim row with its codes as words in the reader's language."""
    from incidents.models import Victim

    labelled = dict(victim)
    for key, choices in (
        ("outcome", Victim.Outcome),
        ("civilian_status", Victim.CivilianStatus),
        ("age_group", Victim.AgeGroup),
        ("protected_role", Victim.ProtectedRole),
        ("sex", Victim.Sex),
    ):
        labelled[f"{key}_label"] = dict(choices.choices).get(
            victim.get(key), victim.get(key)
        )
    return labelled


def _point(incident) -> dict | None:
    if incident.public_latitude is None or incident.aggregate:
        return None
    return {
        "lat": incident.public_latitude,
        "lon": incident.public_longitude,
        "precision": incident.public_geo_precision,
    }


def _casualty_table(incident) -> dict[str, Any]:
    """Group × outcome with ranges, only the groups and outcomes the incident has."""
    rows = list(incident.casualties.all())
    outcomes = [o for o in CasualtyOutcome if any(r.outcome == o for r in rows)]
    groups = [g for g in CasualtyGroup if any(r.group == g for r in rows)]
    cells = {(r.group, r.outcome): r for r in rows}
    table_rows = []
    for group in groups:
        row_cells = []
        for outcome in outcomes:
            cell = cells.get((group, outcome))
            row_cells.append(
                None
                if cell is None
                else {
                    "range": range_words(cell.min, cell.max),
                    "best": cell.best,
                    "note": cell.note,
                }
            )
        table_rows.append(
            {
                "group": group.label,
                "subgroup": group.value
                not in ("civilians", "combatants", "unknown_status", "all"),
                "cells": row_cells,
            }
        )
    return {"outcomes": [o.label for o in outcomes], "rows": table_rows}


def _history_rows(history: list[dict]) -> list[dict]:
    rows = []
    for entry in history:
        rows.append(
            {
                "version": entry.get("version"),
                "at": entry.get("at"),
                "action": entry.get("action"),
                "fields": sorted(entry.get("changes", {}).keys()),
                "public_reason": entry.get("public_reason", ""),
            }
        )
    return rows


# ---------------------------------------------------------------------------------------
# Actor, place, facility
# ---------------------------------------------------------------------------------------


def _latest(queryset: QuerySet[Incident], limit: int = 20) -> list[dict]:
    return incident_rows(
        _list_queryset(queryset).order_by("-date_start", "-id")[:limit]
    )


@require_safe
def actor_detail(request: HttpRequest, slug: str) -> HttpResponse:
    actor = (
        Actor.objects.select_related("parent__parent__parent", "merged_into")
        .filter(slug=slug)
        .first()
    )
    if actor is None:
        raise Http404(gettext("No actor has the slug %(slug)s.") % {"slug": slug})
    if actor.merged_into_id is not None:
        return HttpResponsePermanentRedirect(
            reverse("incidents:actor", args=[actor.merged_into.slug])
        )
    chain = []
    parent = actor.parent
    while parent is not None and len(chain) < 3:
        chain.append(parent)
        parent = parent.parent if parent.parent_id else None
    chain.reverse()
    children = list(
        selectors.live_actors()
        .filter(parent=actor)
        .order_by("name")
        .only("slug", "name", "name_ar", "kind", "bloc")
    )
    names = list(actor.names.all())
    relations = list(
        ActorRelation.objects.filter(Q(from_actor=actor) | Q(to_actor=actor))
        .select_related("from_actor", "to_actor")
        .prefetch_related(_public_citations_prefetch())
        .order_by("kind", "start_date", "id")
    )
    relation_rows = []
    for relation in relations:
        outgoing = relation.from_actor_id == actor.pk
        relation_rows.append(
            {
                "relation": relation,
                "other": relation.to_actor if outgoing else relation.from_actor,
                "label": _relation_label(relation.kind, outgoing),
                "sources": list(relation.citations.all()),
            }
        )
    params = QueryDict(mutable=True)
    params["actor"] = actor.slug
    base = params.urlencode()
    context: dict[str, Any] = {
        "actor": actor,
        "chain": chain,
        "children": children,
        "names": names,
        "relations": relation_rows,
        "list_url": _list_link(base),
    }
    queryset, _normalized = apply_filter(params)
    context.update(_toll_context(params, actor))
    context["latest"] = _latest(queryset)
    context["top_targets"] = _top_parts(queryset, "target_type", base)
    context["top_weapons"] = _top_parts(queryset, "weapon", base)
    return _render(request, "incidents/actor.html", context)


def _relation_label(kind: str, outgoing: bool) -> str:
    labels = {
        ("commanded_by", True): gettext("commanded by"),
        ("commanded_by", False): gettext("commander of"),
        ("supported_by", True): gettext("supported by"),
        ("supported_by", False): gettext("supporter of"),
        ("allied_with", True): gettext("allied with"),
        ("allied_with", False): gettext("allied with"),
        ("successor_of", True): gettext("successor of"),
        ("successor_of", False): gettext("predecessor of"),
    }
    return labels.get((kind, outgoing), kind)


def _public_citations_prefetch():
    from django.db.models import Prefetch

    return Prefetch("citations", queryset=selectors.public_sources().order_by("id"))


def _toll_context(params: QueryDict, actor: Actor) -> dict:
    """The actor's toll (with its subunits) as DOMAIN.md "Statistics" counts it: the
    min sums the incidents in which it is certainly involved, the max all of its
    incidents; per year, and per subunit. Every figure links to the list behind it.

    Two applications of the one FilterSet (all incidents, and
    `actor_involvement=certain`) and stats_summary over each."""
    from incidents.stats import row_filter_params, stats_summary

    all_qs, all_query = apply_filter(params)
    certain_params = params.copy()
    certain_params["actor_involvement"] = "certain"
    certain_qs, certain_query = apply_filter(certain_params)
    possible_query = _with(all_query, actor_involvement="possible")
    lang = _lang()
    every = stats_summary(all_qs, group_by=["year"], lang=lang)["rows"]
    certain_rows = stats_summary(certain_qs, group_by=["year"], lang=lang)["rows"]
    certain = {r["year"]: r for r in certain_rows if not r["total"]}
    years = []
    for row in every:
        if row["total"]:
            continue
        sure = certain.get(row["year"])
        killed = _actor_range(row["civilians_killed"], sure)
        low = killed["min"]
        sure_n = sure["incidents"] if sure else 0
        period = {
            "date_from": f"{row['year']:04d}-01-01",
            "date_to": f"{row['year']:04d}-12-31",
            "date_match": "start",
        }
        years.append(
            {
                "year": row["year"],
                "incidents": row["incidents"],
                "incidents_url": _list_link(_with(all_query, **period)),
                "possible": row["incidents"] - sure_n,
                "possible_url": _list_link(_with(possible_query, **period)),
                "min": low,
                "min_url": _list_link(_with(certain_query, **period)),
                "max": killed["max"],
                "killed": killed,
                "max_url": _list_link(
                    _with(all_query, ordering="-civilians_killed_max", **period)
                ),
                "links": range_links(
                    _list_link(_with(all_query, **period)),
                    "civilians_killed",
                    min=_list_link(_with(certain_query, **period)),
                    max=_list_link(
                        _with(all_query, ordering="-civilians_killed_max", **period)
                    ),
                ),
                "range": range_sum_words(killed, row["incidents"]),
            }
        )
    total = every[-1]
    total_killed = _actor_range(total["civilians_killed"], certain_rows[-1])
    toll = {
        "incidents": total["incidents"],
        "incidents_url": _list_link(all_query),
        "possible": total["incidents"] - certain_rows[-1]["incidents"],
        "possible_url": _list_link(possible_query),
        "killed": total_killed,
        "min": total_killed["min"],
        "min_url": _list_link(certain_query),
        "max": total_killed["max"],
        "max_url": _list_link(_with(all_query, ordering="-civilians_killed_max")),
        "links": range_links(
            _list_link(all_query),
            "civilians_killed",
            min=_list_link(certain_query),
            max=_list_link(_with(all_query, ordering="-civilians_killed_max")),
        ),
        "range": range_sum_words(total_killed, total["incidents"]),
        "children": _actor_range(
            total["children_killed"], certain_rows[-1], "children_killed"
        ),
    }
    units = []
    # The actor itself (exact) and each subunit with its own subunits.
    summary = stats_summary(
        all_qs, group_by=["actor"], actor_filter_ids=[actor.pk], lang=lang
    )
    base = dict(QueryDict(all_query).items())
    for row in summary["rows"]:
        if row["total"]:
            continue
        link = row_filter_params(row, ["actor"], base)
        low_link = row_filter_params(row, ["actor"], base, involvement="certain")
        possible_link = row_filter_params(row, ["actor"], base, involvement="possible")
        units.append(
            {
                "name": row["actor"]["name"],
                "slug": row["actor"]["slug"],
                "exact": row["actor"].get("exact"),
                "incidents": row["incidents"],
                "incidents_url": _list_link(_encode(link)),
                "possible": row.get("incidents_possible", 0),
                "possible_url": _list_link(_encode(possible_link)),
                "killed": row["civilians_killed"],
                "min": row["civilians_killed"]["min"],
                "min_url": _list_link(_encode(low_link)),
                "max": row["civilians_killed"]["max"],
                "links": range_links(
                    _list_link(_encode(link)),
                    "civilians_killed",
                    min=_list_link(_encode(low_link)),
                    max=_list_link(_encode(link)),
                ),
                "range": range_sum_words(row["civilians_killed"], row["incidents"]),
            }
        )
    return {
        "toll": toll,
        "years": years,
        "chart": column_chart(years, "year"),
        "units": units,
    }


def _measure_links(
    link: dict | None, certain: dict | None, measure: str
) -> dict[str, str]:
    """The lists behind a statistics row's range of `measure` (see range_links): the
    min from the certainly involved incidents' list when the row has one, the max
    from the row's list (ordered by civilians killed for that measure, the one
    ordering the list offers)."""
    ordering = "-civilians_killed_max" if measure == "civilians_killed" else None
    return range_links(
        _list_link(_encode(link)),
        measure,
        min=_list_link(_encode(certain if certain else link)),
        max=_list_link(_with(_encode(link), ordering=ordering)),
    )


def _actor_range(
    every: dict, certain_row: dict | None, measure: str = "civilians_killed"
) -> dict:
    """An actor's range sum (DOMAIN.md "Statistics") from the sums over all of its
    incidents (`every`) and over those in which it is certainly involved: the min is the
    certain incidents' (0 when only possible ones record the measure, null when none
    does), the max and the counts of missing figures are those of all its incidents."""
    sure = certain_row[measure] if certain_row else None
    low = None if every["min"] is None else (sure or {}).get("min") or 0
    return {**every, "min": low}


def column_chart(rows: list[dict], label_key: str, height: int = 180) -> dict:
    """Geometry of a server-side SVG column chart of ranges: a solid column up to each
    row's min, a light one up to its max, and, where the max is unknown ("at least"),
    an open-ended dashed cap above the min instead of a ceiling (a wide or open range
    must not look like a small number). Rows need `min`, `max`, `max_url`, `incidents`
    and the label. The page shows the same numbers in a table beside it."""
    if not rows:
        return {}
    peak = max(
        [(r["max"] if r["max"] is not None else r["min"]) or 0 for r in rows] + [1]
    )
    top = _nice_ceiling(peak)
    width = 760
    left, bottom, right = 44, 24, 8
    plot_w = width - left - right
    plot_h = height - bottom - 8
    step = plot_w / len(rows)
    bar_w = max(1.0, step * 0.78)
    bars = []
    label_every = max(1, len(rows) // 12)
    for i, row in enumerate(rows):
        high = row["max"] if row["max"] is not None else row["min"]
        x = left + i * step + (step - bar_w) / 2
        h_max = plot_h * (high or 0) / top
        h_min = plot_h * (row["min"] or 0) / top
        is_open = row["max"] is None and row["min"] is not None
        bars.append(
            {
                "x": round(x, 2),
                "w": round(bar_w, 2),
                "y_max": round(8 + plot_h - h_max, 2),
                "h_max": round(h_max, 2),
                "y_min": round(8 + plot_h - h_min, 2),
                "h_min": round(h_min, 2),
                "open": is_open,
                "y_open": round(max(0.0, 8 + plot_h - h_min - OPEN_END), 2),
                "h_open": round(min(OPEN_END, 8 + plot_h - h_min), 2),
                "label": str(row[label_key]),
                "show_label": i % label_every == 0,
                "label_x": round(x + bar_w / 2, 2),
                "title": f"{row[label_key]}: {_chart_range(row)}",
                "url": row.get("max_url") or row.get("incidents_url") or "",
            }
        )
    ticks = [
        {"y": round(8 + plot_h - plot_h * t / 4, 2), "value": num(int(top * t / 4))}
        for t in range(5)
    ]
    return {
        "width": width,
        "height": height,
        "bars": bars,
        "open": any(b["open"] for b in bars),
        "ticks": ticks,
        "left": left,
        "right": width - right,
        "base_y": 8 + plot_h,
        "label_y": height - 6,
    }


# Length (SVG units) of the dashed open end drawn where a range has no maximum.
OPEN_END = 14


def _chart_range(row: dict) -> str:
    """A chart row's range in words: "not recorded" rather than 0 when its min is
    null (DOMAIN.md "Not recorded is not zero")."""
    if row.get("min") is None:
        return gettext("not recorded")
    return range_words(row["min"], row["max"])


def _nice_ceiling(value: float) -> int:
    """The next round number at or above `value` for an axis (1, 2, 2.5, 5 × 10^n)."""
    import math

    if value <= 4:
        return 4
    magnitude = 10 ** math.floor(math.log10(value))
    for factor in (1, 2, 2.5, 4, 5, 8, 10):
        if value <= factor * magnitude:
            return int(factor * magnitude)
    return int(10 * magnitude)


def _encode(params: dict | None) -> str:
    if not params:
        return ""
    query = QueryDict(mutable=True)
    for key, value in params.items():
        query[key] = str(value)
    return query.urlencode(safe=",:")


def _top_parts(queryset: QuerySet[Incident], kind: str, base: str, limit: int = 8):
    """Top target types or weapons among a set of incidents (one GROUP BY)."""
    ids = queryset.order_by().values("id")
    if kind == "weapon":
        rows = (
            IncidentWeapon.objects.filter(incident__in=ids)
            .values("weapon__code", "weapon__label", "weapon__label_ar")
            .annotate(n=Count("incident", distinct=True))
            .order_by("-n", "weapon__code")[:limit]
        )
        prefix = "weapon"
    else:
        rows = (
            IncidentTarget.objects.filter(incident__in=ids)
            .values("target_type__code", "target_type__label", "target_type__label_ar")
            .annotate(n=Count("incident", distinct=True))
            .order_by("-n", "target_type__code")[:limit]
        )
        prefix = "target_type"
    return [
        {
            "label": loc(
                {
                    "label": row[f"{prefix}__label"],
                    "label_ar": row[f"{prefix}__label_ar"],
                }
            ),
            "count": row["n"],
            "url": _list_link(
                base, **{kind: row[f"{prefix}__code"], f"{kind}_exact": "true"}
            ),
        }
        for row in rows
    ]


@require_safe
def place_detail(request: HttpRequest, slug: str) -> HttpResponse:
    place = (
        Location.objects.select_related("parent__parent__parent", "merged_into")
        .filter(slug=slug)
        .first()
    )
    if place is None or (
        Location.objects.filter(pk__in=[place.pk, place.merged_into_id])
        .filter(selectors.sensitive_facility_site())
        .exists()
    ):
        # A sensitive facility's own site is the facility (DOMAIN.md: the public knows
        # it only by its district): it, and a redirect to it, answer as an unknown slug.
        # No other place hides.
        raise Http404(gettext("No place has the slug %(slug)s.") % {"slug": slug})
    if place.merged_into_id is not None:
        return HttpResponsePermanentRedirect(
            reverse("incidents:place", args=[place.merged_into.slug])
        )
    chain = []
    parent = place.parent
    while parent is not None and len(chain) < 3:
        chain.append(parent)
        parent = parent.parent if parent.parent_id else None
    chain.reverse()
    children = list(
        selectors.live_locations()
        .filter(parent=place)
        .exclude(selectors.sensitive_facility_site())
        .order_by("name")
        .only("slug", "name", "name_ar", "level")
    )
    names = list(place.names.all())
    params = QueryDict(mutable=True)
    params["location"] = place.slug
    base = params.urlencode()
    queryset, _normalized = apply_filter(params)
    context = {
        "place": place,
        "chain": chain,
        "children": children,
        "names": names,
        "totals": _totals(queryset),
        "base": base,
        "list_url": _list_link(base),
        "latest": _latest(queryset),
        "top_targets": _top_parts(queryset, "target_type", base),
        "map_point": {"lat": place.latitude, "lon": place.longitude}
        if place.latitude is not None
        else None,
        "tile_url": settings.CIVTRACK_TILE_URL,
    }
    return _render(request, "incidents/place.html", context)


@require_safe
def facility_detail(request: HttpRequest, ref: str) -> HttpResponse:
    facility = (
        selectors.public_facilities()
        .select_related("location__parent__parent")
        .filter(ref=ref)
        .first()
    )
    if facility is None:
        raise Http404(gettext("No facility has the reference %(ref)s.") % {"ref": ref})
    summary = selectors.public_facility_summary(facility)
    # A sensitive facility is known only by its ref, type and district (DOMAIN.md).
    district = None
    place = facility.location
    while place is not None:
        if place.level in (
            Location.Level.DISTRICT,
            Location.Level.GOVERNORATE,
            Location.Level.COUNTRY,
        ):
            district = place
            break
        place = place.parent if place.parent_id else None
    params = QueryDict(mutable=True)
    params["facility"] = facility.ref
    base = params.urlencode()
    queryset, _normalized = apply_filter(params)
    attacks = incident_rows(
        _list_queryset(queryset)
        .prefetch_related("weapons__weapon")
        .order_by("date_start", "id")
    )
    context = {
        "facility": facility,
        "summary": summary,
        "sensitive": facility.sensitive,
        "district": district,
        "place": None if facility.sensitive else facility.location,
        "attacks": attacks,
        "totals": _totals(queryset),
        "base": base,
        "list_url": _list_link(base),
    }
    return _render(request, "incidents/facility.html", context)


# ---------------------------------------------------------------------------------------
# Methodology and changes
# ---------------------------------------------------------------------------------------


@require_safe
def methodology(request: HttpRequest) -> HttpResponse:
    vocab = Vocab()
    datasets = list(
        selectors.public_sources()
        .filter(kind=Source.Kind.DATASET)
        .order_by("publisher", "release")
        .only("id", "title", "publisher", "release", "licence", "url", "published_on")
    )
    context = {
        "vocabularies": [
            (
                "incident-types",
                _("Incident types"),
                "incident_type",
                _vocabulary_tree(vocab.incident_types),
            ),
            ("weapons", _("Weapons"), "weapon", _vocabulary_tree(vocab.weapons)),
            ("targets", _("Targets"), "target_type", _vocabulary_tree(vocab.targets)),
        ],
        "gradings": [
            (value, label, GRADING_DEFINITIONS[value], _list_link(grading=value))
            for value, label in Incident.Grading.choices
        ],
        "date_precisions": DatePrecision.choices,
        "geo_precisions": GeoPrecision.choices,
        "groups": CasualtyGroup.choices,
        "outcomes": CasualtyOutcome.choices,
        "confidences": Confidence.choices,
        "positions": Attribution.Position.choices,
        "blocs": Bloc.choices,
        "source_kinds": Source.Kind.choices,
        "reliabilities": Source.Reliability.choices,
        "datasets": datasets,
        "dataset_warnings": DATASET_WARNINGS,
    }
    return _render(request, "incidents/methodology.html", context)


@require_safe
def changes(request: HttpRequest) -> HttpResponse:
    entries = list(PublicChange.objects.order_by("-seq")[:100])
    # Titles only for incidents that are public now (a withdrawn one shows its code).
    titles = {
        row.pk: row
        for row in selectors.public_incidents()
        .filter(pk__in={e.incident_id for e in entries})
        .only("id", "code", "title", "title_ar")
    }
    rows = [
        {
            "entry": entry,
            "incident": titles.get(entry.incident_id),
            "url": reverse("incidents:detail", args=[entry.code]),
        }
        for entry in entries
    ]
    return _render(request, "incidents/changes.html", {"rows": rows})


def changes_feed(request: HttpRequest) -> HttpResponse:
    """Atom feed of public changes (incidents.feeds, written with the changes API)."""
    from incidents.feeds import PublicChangesFeed

    return PublicChangesFeed()(request)


def page_not_found(request: HttpRequest, exception=None) -> HttpResponse:
    message = ""
    if exception is not None and exception.args:
        message = str(exception.args[0])
        if "Resolver404" in message or message.startswith("{"):
            message = ""
    response = render(request, "incidents/404.html", {"message": message}, status=404)
    return response


# ---------------------------------------------------------------------------------------
# The filter form (list, map and statistics share it)
# ---------------------------------------------------------------------------------------

YES_NO_ANY = [("", _("either")), ("true", _("yes")), ("false", _("no"))]


def _field(name, label, kind="text", options=None, help_text="", **extra):
    return {
        "name": name,
        "label": label,
        "kind": kind,
        "options": options or [],
        "help": help_text,
        **extra,
    }


FORM_GROUPS = [
    (
        _("When"),
        [
            _field("date_from", _("From"), "date"),
            _field("date_to", _("To"), "date"),
            _field(
                "date_match",
                _("Date window must"),
                "select",
                [
                    ("", _("overlap the range")),
                    ("within", _("lie within the range")),
                    ("start", _("start within the range")),
                ],
            ),
        ],
    ),
    (
        _("Who"),
        [
            _field(
                "actor",
                _("Actor (slug, subunits included)"),
                "text",
                help_text=_(
                    "e.g. 25th-special-mission-forces-division, the Tiger Forces; "
                    "several separated by commas"
                ),
            ),
            _field("actor_exact", _("This actor only, without subunits"), "checkbox"),
            _field(
                "actor_role",
                _("Role"),
                "select",
                [
                    ("", _("perpetrator")),
                    ("associated", _("associated")),
                    ("target", _("target")),
                ],
            ),
            _field(
                "actor_involvement",
                _("Involvement"),
                "select",
                [
                    ("", _("any")),
                    ("certain", _("certainly involved")),
                    ("possible", _("only possibly involved")),
                ],
            ),
            _field(
                "actor_confidence",
                _("Confidence counted"),
                "checkboxes",
                [(value, label) for value, label in Confidence.choices],
                help_text=_("Default: confirmed and likely."),
            ),
        ],
    ),
    (
        _("Where"),
        [
            _field(
                "location",
                _("Place (slug or pcode, everything under it)"),
                "text",
                help_text=_("e.g. idleb or SY07"),
            ),
            _field("location_exact", _("This place only"), "checkbox"),
            _field(
                "bbox",
                _("Bounding box"),
                "text",
                help_text=_("min_lon,min_lat,max_lon,max_lat"),
            ),
            _field(
                "geo_precision_max",
                _("At least this precise"),
                "select",
                [("", _("any precision"))]
                + [(v, label) for v, label in GeoPrecision.choices],
            ),
            _field(
                "facility",
                _("Facility reference"),
                "text",
                help_text=_("F- and six digits, as on the facility's page"),
            ),
        ],
    ),
    (
        _("Harm"),
        [
            _field("health_care", _("Attacks on health care only"), "checkbox"),
            _field(
                "civilians_killed_max__gte",
                _("Civilians killed: up to at least"),
                "number",
            ),
            _field(
                "civilians_killed_min__gte", _("Civilians killed: at least"), "number"
            ),
            _field(
                "civilians_killed_max__lte", _("Civilians killed: at most"), "number"
            ),
            _field(
                "children_killed_min__gte", _("Children killed: at least"), "number"
            ),
            _field(
                "medical_personnel_killed_min__gte",
                _("Medical personnel killed: at least"),
                "number",
            ),
            _field("total_killed_min__gte", _("Everyone killed: at least"), "number"),
            _field(
                "civilians_injured_min__gte", _("Civilians injured: at least"), "number"
            ),
            _field("casualties_known", _("Casualties recorded"), "select", YES_NO_ANY),
            # Not recorded is not zero (DOMAIN.md): ask for records that give a count.
            _field(
                "civilians_killed_recorded",
                _("Civilians killed recorded"),
                "select",
                YES_NO_ANY,
            ),
            _field(
                "civilians_injured_recorded",
                _("Civilians injured recorded"),
                "select",
                YES_NO_ANY,
            ),
            _field(
                "children_killed_recorded",
                _("Children killed recorded"),
                "select",
                YES_NO_ANY,
            ),
            _field(
                "medical_personnel_killed_recorded",
                _("Medical personnel killed recorded"),
                "select",
                YES_NO_ANY,
            ),
            _field(
                "total_killed_recorded",
                _("Everyone killed recorded"),
                "select",
                YES_NO_ANY,
            ),
            _field(
                "total_injured_recorded",
                _("Everyone injured recorded"),
                "select",
                YES_NO_ANY,
            ),
        ],
    ),
    (
        _("Record"),
        [
            _field(
                "aggregate", _("Aggregate records (many events)"), "select", YES_NO_ANY
            ),
            _field("has_coordinates", _("Has coordinates"), "select", YES_NO_ANY),
            _field(
                "external_ref",
                _("External reference"),
                "text",
                help_text=_("e.g. ucdp_ged:214797 or insecurity_insight"),
            ),
            _field("source", _("Source id"), "text"),
            _field(
                "updated_since",
                _("Updated since"),
                "text",
                help_text=_("YYYY-MM-DD or an ISO timestamp"),
            ),
        ],
    ),
]


def filter_form(params: QueryDict, errors: dict[str, list[str]] | None) -> list[dict]:
    """The form's groups with each field's current value and its error."""
    errors = errors or {}
    groups = []
    for legend, fields in FORM_GROUPS:
        rendered = []
        for spec in fields:
            value = params.get(spec["name"], "")
            item = {
                **spec,
                "value": value,
                "errors": errors.get(spec["name"], []),
                "id": f"f-{spec['name']}",
            }
            if spec["kind"] == "checkboxes":
                selected = _selected(params, spec["name"])
                item["choices"] = [
                    {
                        "value": v,
                        "label": label,
                        "checked": v in selected,
                        "id": f"f-{spec['name']}-{v}",
                    }
                    for v, label in spec["options"]
                ]
            rendered.append(item)
        groups.append({"legend": legend, "fields": rendered})
    return groups


def form_errors_elsewhere(
    errors: dict[str, list[str]] | None, shown: set[str]
) -> list[tuple[str, list[str]]]:
    """Errors for parameters the form has no field for (unknown parameters and the like)."""
    return [
        (key, messages) for key, messages in (errors or {}).items() if key not in shown
    ]


def _form_names() -> set[str]:
    names = {spec["name"] for _legend, fields in FORM_GROUPS for spec in fields}
    return names | {
        "q",
        "incident_type",
        "weapon",
        "target_type",
        "governorate",
        "bloc",
        "grading",
        "date_precision",
        "geo_precision",
        "ordering",
        "cursor",
        "group_by",
    }


# ---------------------------------------------------------------------------------------
# Home, statistics, map
# ---------------------------------------------------------------------------------------

HOME_BLOCS = [value for value, _label in Bloc.choices]


@require_safe
def home(request: HttpRequest) -> HttpResponse:
    from incidents.stats import row_filter_params, stats_compare, stats_summary

    lang = _lang()
    version = public_cache.public_data_version()
    queryset, _normalized = apply_filter(QueryDict())
    totals = public_cache.cached(
        "home-totals", "", lambda: _totals(queryset), version=version
    )
    health_params = QueryDict(mutable=True)
    health_params["health_care"] = "true"
    health_qs, health_query = apply_filter(health_params)
    health_count = public_cache.cached(
        "home-health", "", health_qs.order_by().count, version=version
    )

    # The bloc-by-bloc comparison over the whole public dataset (DOMAIN.md Statistics).
    compare = public_cache.cached(
        "home-compare",
        lang,
        lambda: stats_compare(queryset, blocs=HOME_BLOCS, lang=lang),
        version=version,
    )
    blocs = []
    peak = 1
    for row in compare["rows"]:
        if not row["incidents"]:
            continue
        code = row["bloc"]["code"]
        base = {}
        all_link = row_filter_params(row, ["bloc"], base)
        certain_link = row_filter_params(row, ["bloc"], base, involvement="certain")
        possible_link = row_filter_params(row, ["bloc"], base, involvement="possible")
        killed = row["civilians_killed"]
        # The bar reaches the maximum when every incident has one; otherwise the
        # minimum, drawn open-ended (no partial sum of ceilings: it could read as a
        # maximum below the minimum).
        high = killed["max"] if killed["max"] is not None else killed["min"] or 0
        peak = max(peak, high)
        blocs.append(
            {
                "code": code,
                "label": row["bloc"]["label"],
                "incidents": row["incidents"],
                "incidents_url": _list_link(_encode(all_link)),
                "possible": row.get("incidents_possible", 0),
                "possible_url": _list_link(_encode(possible_link)),
                "killed": killed,
                "min": killed["min"],
                "min_url": _list_link(_encode(certain_link)),
                "max": killed["max"],
                "max_url": _list_link(
                    _with(_encode(all_link), ordering="-civilians_killed_max")
                ),
                "links": range_links(
                    _list_link(_encode(all_link)),
                    "civilians_killed",
                    min=_list_link(_encode(certain_link)),
                    max=_list_link(
                        _with(_encode(all_link), ordering="-civilians_killed_max")
                    ),
                ),
                "high": high,
                "open": killed["max"] is None,
                "datasets": row.get("datasets", {}),
            }
        )
    blocs.sort(key=lambda b: (-b["high"], -b["incidents"]))
    for bloc in blocs:
        bloc["min_pct"] = round(100 * (bloc["min"] or 0) / peak, 2)
        bloc["max_pct"] = round(100 * bloc["high"] / peak, 2)
    headline = _headline_difference(compare, blocs)

    # Which eight are the latest is cached (no index orders by published_at: the
    # answer sorts every public incident); their rows are read fresh.
    latest_ids = public_cache.cached(
        "home-latest",
        "",
        lambda: list(
            queryset.order_by(
                F("published_at").desc(nulls_last=True), "-id"
            ).values_list("id", flat=True)[:8]
        ),
        version=version,
    )
    position = {pk: index for index, pk in enumerate(latest_ids)}
    latest = incident_rows(
        sorted(
            _list_queryset(queryset).filter(id__in=latest_ids),
            key=lambda incident: position[incident.pk],
        )
    )
    months = public_cache.cached(
        "home-months",
        lang,
        lambda: stats_summary(queryset, group_by=["month"], lang=lang)["rows"],
        version=version,
    )
    timeline = []
    for row in months:
        if row["total"]:
            continue
        link = row_filter_params(row, ["month"], {})
        timeline.append(
            {
                "month": row["month"],
                "incidents": row["incidents"],
                "min": row["civilians_killed"]["min"],
                "max": row["civilians_killed"]["max"],
                "range": range_sum_words(row["civilians_killed"], row["incidents"]),
                "incidents_url": _list_link(_encode(link)),
                "max_url": _list_link(_encode(link)),
            }
        )
    context = {
        "totals": totals,
        "all_url": _list_link(),
        "killed_url": _list_link(ordering="-civilians_killed_max"),
        "killed_links": range_links(_list_link(), "civilians_killed"),
        "children_url": _list_link(children_killed_max__gte=1),
        "children_links": range_links(_list_link(), "children_killed"),
        "health_count": health_count,
        "health_url": _list_link(health_query),
        "blocs": blocs,
        "headline": headline,
        "datasets": compare.get("datasets", []),
        "dataset_sources": compare.get("dataset_sources", []),
        "warnings": compare.get("warnings", []),
        "totals_note": DATASET_WARNINGS[1],
        "latest": latest,
        "timeline": timeline,
        "timeline_chart": column_chart(timeline, "month"),
        "compare_url": "/api/v1/stats/compare/?bloc="
        + ",".join(b["code"] for b in blocs[:2]),
    }
    return _render(request, "incidents/home.html", context)


def _headline_difference(compare: dict, blocs: list[dict]) -> dict | None:
    """ "Did Russia kill more civilians than ISIS?", answered as ranges."""
    pair = {"russia", "isis"}
    for diff in compare.get("differences", []):
        if {diff["a"], diff["b"]} == pair:
            killed = diff["civilians_killed"]
            labels = {b["code"]: b["label"] for b in blocs}
            return {
                "a": labels.get(diff["a"], diff["a"]),
                "b": labels.get(diff["b"], diff["b"]),
                "range": range_words(killed["min"], killed["max"])
                if killed["min"] is not None
                else None,
                "min": killed["min"],
                "max": killed["max"],
                "greater": labels.get(killed.get("greater")),
            }
    return None


@require_safe
def stats(request: HttpRequest) -> HttpResponse:
    from api.filters import run_incident_filter
    from incidents.stats import (
        GROUP_KEYS,
        period_links_are_approximate,
        row_filter_params,
        stats_summary,
        validate_group_by,
    )

    params = clean_params(request.GET)
    chosen = [g for g in request.GET.getlist("group_by") if g.strip()] or ["year"]
    vocab = Vocab()
    governorates = _governorates()
    errors: dict[str, list[str]] = {}
    context: dict[str, Any] = {
        "params": params,
        "query": params.urlencode(),
        "groupings": [(key, GROUPINGS[key]) for key in GROUP_KEYS],
        "group_by": ",".join(chosen),
        "chosen": chosen + [""] * (2 - len(chosen)),
        "vocab": vocab,
    }
    try:
        keys = validate_group_by(chosen)
    except DjangoValidationError as error:
        errors.update(_error_dict(error))
        keys = []
    result = None
    try:
        result = run_incident_filter(params, user=_public_user(), for_pages=True)
    except Exception as error:
        if not _is_validation_error(error):
            raise
        errors.update(_error_dict(error))
    version = public_cache.public_data_version()
    context["facets"] = build_facets(params, vocab, governorates, version=version)
    context["actors"], _base = top_perpetrators(params, version=version)
    context["form_groups"] = filter_form(params, errors)
    if errors or result is None:
        return _bad_request(request, "incidents/stats.html", context, errors)
    cleaned = result.cleaned
    confidences = cleaned.get("actor_confidence") or DEFAULT_CONFIDENCES
    options = {
        "group_by": keys,
        "actor_confidence": list(confidences),
        "actor_filter_ids": cleaned.get("actor") or None,
        "actor_exact": bool(cleaned.get("actor_exact")),
        "bloc_filter": cleaned.get("bloc") or None,
        "lang": _lang(),
    }
    summary = public_cache.cached(
        "page-stats",
        (result.count_key, sorted(options.items(), key=str)),
        lambda: stats_summary(result.queryset, **options),
        version=version,
    )
    base = dict(QueryDict(result.count_key).items())
    actor_rows = any(k in ("actor", "bloc") for k in keys)
    rows = []
    for row in summary["rows"]:
        link = row_filter_params(row, keys, base, actor_confidence=confidences)
        certain = (
            row_filter_params(
                row, keys, base, actor_confidence=confidences, involvement="certain"
            )
            if actor_rows and not row["total"]
            else None
        )
        possible = (
            row_filter_params(
                row, keys, base, actor_confidence=confidences, involvement="possible"
            )
            if actor_rows and not row["total"]
            else None
        )
        rows.append(
            {
                "total": row["total"],
                "labels": [_key_label(key, row[key]) for key in keys]
                if not row["total"]
                else [],
                "incidents": row["incidents"],
                "incidents_url": _list_link(_encode(link)),
                "possible": row.get("incidents_possible"),
                "possible_url": _list_link(_encode(possible)) if possible else "",
                "killed": row["civilians_killed"],
                "killed_min_url": _list_link(_encode(certain if certain else link)),
                "killed_max_url": _list_link(
                    _with(_encode(link), ordering="-civilians_killed_max")
                ),
                "killed_links": _measure_links(link, certain, "civilians_killed"),
                "children": row["children_killed"],
                "children_links": _measure_links(link, certain, "children_killed"),
                "injured": row["civilians_injured"],
                "injured_links": _measure_links(link, certain, "civilians_injured"),
                "total_killed": row["total_killed"],
                "total_killed_links": _measure_links(link, certain, "total_killed"),
                "note": row.get("note", ""),
            }
        )
    chart = {}
    if len(keys) == 1:
        series = [
            {
                "label": r["labels"][0],
                "min": r["killed"]["min"],
                "max": r["killed"]["max"],
                "max_url": r["killed_max_url"],
                "incidents": r["incidents"],
            }
            for r in rows
            if not r["total"]
        ]
        chart = (
            column_chart(series, "label")
            if keys[0] in ("year", "month")
            else bar_chart(series)
        )
    csv_query = _with(result.count_key, group_by=",".join(keys), format="csv")
    context.update(
        {
            "keys": keys,
            "key_labels": [GROUPINGS[k] for k in keys],
            "rows": rows,
            "actor_rows": actor_rows,
            "chart": chart,
            "chart_kind": "columns"
            if keys and keys[0] in ("year", "month") and len(keys) == 1
            else "bars",
            "csv_url": f"/api/v1/stats/summary/?{csv_query}",
            "api_url": "/api/v1/stats/summary/?"
            + _with(result.count_key, group_by=",".join(keys)),
            "list_url": _list_link(result.count_key),
            "approximate_periods": period_links_are_approximate(keys, base),
            "normalized": result.count_key,
        }
    )
    return _render(request, "incidents/stats.html", context)


def _key_label(key: str, value) -> str:
    if key in ("year", "month"):
        return str(value)
    if isinstance(value, dict):
        return (
            value.get("label")
            or value.get("name")
            or value.get("code")
            or value.get("slug")
            or ""
        )
    return str(value)


def bar_chart(rows: list[dict], limit: int = 25) -> dict:
    """Horizontal bars of ranges for a categorical grouping (server-side SVG): solid to
    the min, light to the max, a dashed open end where the max is unknown (see
    column_chart)."""
    rows = rows[:limit]
    if not rows:
        return {}
    peak = max(
        [(r["max"] if r["max"] is not None else r["min"]) or 0 for r in rows] + [1]
    )
    top = _nice_ceiling(peak)
    width, label_w, bar_h, gap = 760, 210, 16, 8
    plot_w = width - label_w - 60
    bars = []
    for i, row in enumerate(rows):
        high = row["max"] if row["max"] is not None else row["min"]
        y = 10 + i * (bar_h + gap)
        is_open = row["max"] is None and row["min"] is not None
        w_min = round(plot_w * (row["min"] or 0) / top, 2)
        bars.append(
            {
                "y": y,
                "h": bar_h,
                "x": label_w,
                "w_max": round(plot_w * (high or 0) / top, 2),
                "w_min": w_min,
                "open": is_open,
                "x_open": round(label_w + w_min, 2),
                "w_open": OPEN_END,
                "label": row["label"][:34],
                "label_y": y + bar_h - 4,
                "value_x": label_w
                + round(plot_w * (high or 0) / top, 2)
                + (OPEN_END if is_open else 0)
                + 6,
                "value": _chart_range(row),
                "title": f"{row['label']}: {_chart_range(row)}",
                "url": row.get("max_url", ""),
            }
        )
    return {
        "width": width,
        "height": 20 + len(rows) * (bar_h + gap),
        "bars": bars,
        "open": any(b["open"] for b in bars),
        "label_w": label_w,
    }


@require_safe
def map_page(request: HttpRequest) -> HttpResponse:
    from incidents.stats import row_filter_params, stats_summary

    params = clean_params(request.GET)
    vocab = Vocab()
    governorates = _governorates()
    errors: dict[str, list[str]] = {}
    context: dict[str, Any] = {
        "params": params,
        "query": params.urlencode(),
        "vocab": vocab,
        "tile_url": settings.CIVTRACK_TILE_URL,
    }
    try:
        queryset, normalized = apply_filter(params)
    except FilterErrors as error:
        errors.update(error.errors)
        queryset = None
    version = public_cache.public_data_version()
    context["facets"] = build_facets(params, vocab, governorates, version=version)
    context["actors"], _base = top_perpetrators(params, version=version)
    context["form_groups"] = filter_form(params, errors)
    if errors:
        return _bad_request(request, "incidents/map.html", context, errors)
    lang = _lang()
    summary = public_cache.cached(
        "page-map-governorates",
        (normalized, lang),
        lambda: stats_summary(queryset, group_by=["governorate"], lang=lang),
        version=version,
    )
    base = dict(QueryDict(normalized).items())
    by_governorate = []
    for row in summary["rows"]:
        link = row_filter_params(row, ["governorate"], base)
        by_governorate.append(
            {
                "total": row["total"],
                "label": _key_label("governorate", row["governorate"])
                if not row["total"]
                else "",
                "incidents": row["incidents"],
                "incidents_url": _list_link(_encode(link)),
                "killed": row["civilians_killed"],
                "killed_url": _list_link(
                    _with(_encode(link), ordering="-civilians_killed_max")
                ),
                "killed_links": _measure_links(link, None, "civilians_killed"),
            }
        )
    context.update(
        {
            "by_governorate": by_governorate,
            "normalized": normalized,
            "list_url": _list_link(normalized),
            "clusters_api": "/api/v1/map/clusters/",
            "detail_base": reverse("incidents:list"),
        }
    )
    return _render(request, "incidents/map.html", context)
