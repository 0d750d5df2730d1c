"""Statistics endpoints (API.md "Statistics"): `/api/v1/stats/summary/` and
`/api/v1/stats/compare/`.

Both take every incident filter of api/filters.py (the one FilterSet) and hand the
filtered queryset to the selectors of incidents/stats.py, which count in SQL exactly as
DOMAIN.md "Statistics" says. Every row carries `incidents_url`, the filtered incident list
that reproduces it; actor and bloc rows add `incidents_certain_url` (the list behind the
ranges' `min`) and `incidents_possible_url` (behind `incidents_possible`).
"""

from __future__ import annotations

import csv
import io
from typing import Any
from urllib.parse import parse_qsl, urlencode

from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiParameter,
    extend_schema,
)
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from api.filters import FilterResult, run_incident_filter
from api.pagination import single
from api.views import BAD_REQUEST, ApiViewMixin, _filter_parameters
from incidents import public_cache, stats
from incidents.models import Actor, Attribution
from incidents.spreadsheet import spreadsheet_cells

SUMMARY_EXTRA_PARAMS = frozenset({"group_by", "measure", "format", "bom"})
COMPARE_EXTRA_PARAMS = frozenset({"measure", "format", "bom"})


# ---------------------------------------------------------------------------------------
# Shared helpers
# ---------------------------------------------------------------------------------------


def _perpetrator_filter(result: FilterResult) -> bool:
    """Whether the caller's actor/bloc filter is about perpetrators (the default role):
    only then does it shape the actor and bloc rows."""
    role = result.cleaned.get("actor_role") or Attribution.Role.PERPETRATOR
    return role == Attribution.Role.PERPETRATOR


def _base_params(result: FilterResult) -> dict[str, str]:
    """The caller's normalised filter as `{name: value}` (plus `lang`), the base of
    every row link."""
    base = dict(parse_qsl(result.normalized, keep_blank_values=False))
    lang = result.cleaned.get("lang")
    if lang and lang != "en":
        base["lang"] = lang
    return base


def _confidences(result: FilterResult) -> list[str]:
    return list(result.cleaned.get("actor_confidence") or stats.DEFAULT_CONFIDENCES)


def add_row_links(
    request,
    rows: list[dict[str, Any]],
    group_by: list[str],
    base: dict[str, str],
    confidences: list[str],
) -> None:
    """Put `incidents_url` (and, for actor and bloc rows, `incidents_certain_url` and
    `incidents_possible_url`) on every row."""
    list_url = request.build_absolute_uri(reverse("api:incident-list"))
    by_actor = any(k in stats.ACTOR_KEYS for k in group_by)

    def link(params: dict[str, str] | None) -> str | None:
        if params is None:
            return None
        return f"{list_url}?{urlencode(params, safe=',:')}" if params else list_url

    for row in rows:
        row["incidents_url"] = link(
            stats.row_filter_params(row, group_by, base, actor_confidence=confidences)
        )
        if by_actor and not row["total"]:
            for involvement in ("certain", "possible"):
                row[f"incidents_{involvement}_url"] = link(
                    stats.row_filter_params(
                        row,
                        group_by,
                        base,
                        actor_confidence=confidences,
                        involvement=involvement,
                    )
                )


def _measures(result: FilterResult) -> list[str]:
    return stats.validate_measures(result.extra.get("measure", []))


def _format(result: FilterResult) -> tuple[str, bool]:
    fmt = single(result.extra, "format") or "json"
    if fmt not in ("json", "csv"):
        raise ValidationError({"format": ["Choose json or csv."]})
    bom = single(result.extra, "bom")
    if bom is not None and (fmt != "csv" or bom not in ("1", "0", "true", "false")):
        raise ValidationError({"bom": ["Only with format=csv: bom=1 or bom=0."]})
    return fmt, bom in ("1", "true")


# ---------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------


def _key_columns(key: str) -> list[str]:
    if key in ("year", "month"):
        return [key]
    if key == "governorate":
        return ["governorate", "governorate_pcode", "governorate_name"]
    if key == "actor":
        return ["actor", "actor_name", "actor_exact"]
    return [key, f"{key}_label"]


def _key_cells(key: str, value: Any) -> list[Any]:
    if key in ("year", "month"):
        return [value]
    if value is None:
        return [""] * len(_key_columns(key))
    if key == "governorate":
        return [value["slug"], value["pcode"] or "", value["name"]]
    if key == "actor":
        return [value["slug"], value["name"], "true" if value["exact"] else "false"]
    return [value["code"], value["label"]]


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value


def stats_csv_table(
    rows: list[dict[str, Any]], keys: list[str], measures: list[str]
) -> list[list[Any]]:
    """One header row and one line per row (totals last): keys, `incidents`,
    `incidents_possible` for actor/bloc rows, and per range `<m>_min` (empty when no
    incident records it), `<m>_max` (empty when unknown), `<m>_incidents_not_recorded`,
    `<m>_incidents_max_unknown`; then the links. An empty cell is never a zero."""
    by_actor = any(k in stats.ACTOR_KEYS for k in keys)
    header: list[str] = ["total"]
    for key in keys:
        header += _key_columns(key)
    header.append("incidents")
    if by_actor:
        header.append("incidents_possible")
    for name in measures:
        header += [
            f"{name}_min",
            f"{name}_max",
            f"{name}_incidents_not_recorded",
            f"{name}_incidents_max_unknown",
        ]
    header.append("incidents_url")
    if by_actor:
        header += ["incidents_certain_url", "incidents_possible_url"]
    table = [header]
    for row in rows:
        line: list[Any] = [_cell(row["total"])]
        for key in keys:
            line += _key_cells(key, row.get(key))
        line.append(row["incidents"])
        if by_actor:
            line.append(_cell(row.get("incidents_possible")))
        for name in measures:
            value = row[name]
            line += [
                _cell(value["min"]),
                _cell(value["max"]),
                value["incidents_not_recorded"],
                value["incidents_max_unknown"],
            ]
        line.append(_cell(row.get("incidents_url")))
        if by_actor:
            line += [
                _cell(row.get("incidents_certain_url")),
                _cell(row.get("incidents_possible_url")),
            ]
        table.append(line)
    return table


def _csv_response(
    table: list[list[Any]], *, name: str, result: FilterResult, bom: bool
) -> HttpResponse:
    buffer = io.StringIO()
    if bom:
        buffer.write("\ufeff")
    # Text cells spreadsheet-safe (API.md): the table's numbers are ints, its text str.
    csv.writer(buffer).writerows(spreadsheet_cells(line) for line in table)
    now = timezone.now()
    query = slugify(result.normalized.replace("=", "-").replace("&", "-"))[:80]
    filename = f"civtrack-{name}-{query or 'all'}-{now.date().isoformat()}.csv"
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-CivTrack-Query"] = result.normalized
    response["X-CivTrack-Generated-At"] = now.isoformat().replace("+00:00", "Z")
    return response


# ---------------------------------------------------------------------------------------
# Schema
# ---------------------------------------------------------------------------------------


class RangeSumSerializer(serializers.Serializer):
    min = serializers.IntegerField(
        allow_null=True,
        help_text="Sum of the recorded minimums (an incident where the measure is not "
        "recorded adds nothing): a true 'at least'. null only when no incident of the "
        "row records the measure.",
    )
    max = serializers.IntegerField(
        allow_null=True,
        help_text="Sum of the maximums; null when any incident's max is unknown or the "
        "measure is not recorded in any incident ('at least min').",
    )
    incidents_not_recorded = serializers.IntegerField(
        help_text="Incidents where the measure is not recorded (null min)."
    )
    incidents_max_unknown = serializers.IntegerField(
        help_text="Incidents that record a minimum but no maximum (never counted in "
        "incidents_not_recorded as well)."
    )


class StatsRowSerializer(serializers.Serializer):
    total = serializers.BooleanField(help_text="true for the totals row (the last).")
    incidents = serializers.IntegerField()
    incidents_possible = serializers.IntegerField(
        required=False, help_text="Actor/bloc rows: incidents only possibly theirs."
    )
    civilians_killed = RangeSumSerializer()
    children_killed = RangeSumSerializer()
    civilians_injured = RangeSumSerializer()
    total_killed = RangeSumSerializer()
    incidents_url = serializers.URLField()
    incidents_certain_url = serializers.URLField(required=False)
    incidents_possible_url = serializers.URLField(required=False)
    note = serializers.CharField(required=False)


class StatsSummarySerializer(serializers.Serializer):
    group_by = serializers.ListField(child=serializers.CharField())
    measures = serializers.ListField(child=serializers.CharField())
    actor_confidence = serializers.ListField(child=serializers.CharField())
    query = serializers.CharField(help_text="The normalised incident filter.")
    notes = serializers.ListField(child=serializers.CharField())
    rows = StatsRowSerializer(
        many=True,
        help_text="Each row also has its group keys: `year` (int), `month` "
        "('YYYY-MM'), `governorate` {slug, pcode, name}, `incident_type`/`weapon`/"
        "`target_type`/`bloc`/`grading` {code, label}, `actor` {slug, name, exact}; "
        "and a range per `measure`.",
    )


class DifferenceSerializer(serializers.Serializer):
    a = serializers.CharField()
    b = serializers.CharField()
    incidents = serializers.IntegerField()
    civilians_killed = serializers.DictField(
        help_text="A − B as {min: A.min − B.max, max: A.max − B.min, greater: the side "
        "certainly larger or null}."
    )


class StatsCompareSerializer(serializers.Serializer):
    compare = serializers.ChoiceField(choices=["bloc", "actor"])
    measures = serializers.ListField(child=serializers.CharField())
    actor_confidence = serializers.ListField(child=serializers.CharField())
    query = serializers.CharField()
    rows = StatsRowSerializer(many=True)
    totals = StatsRowSerializer()
    differences = DifferenceSerializer(many=True)
    datasets = serializers.ListField(child=serializers.DictField())
    dataset_sources = serializers.ListField(child=serializers.DictField())
    warnings = serializers.ListField(child=serializers.DictField())


STATS_PARAMETERS = [
    OpenApiParameter(
        "measure",
        OpenApiTypes.STR,
        many=True,
        description="Repeatable: an extra range, <group>_<outcome> (e.g. "
        "medical_personnel_killed, aid_workers_abducted).",
    ),
    OpenApiParameter("format", OpenApiTypes.STR, enum=["json", "csv"]),
    OpenApiParameter(
        "bom", OpenApiTypes.BOOL, description="CSV only: start with a UTF-8 BOM."
    ),
]


# ---------------------------------------------------------------------------------------
# Views
# ---------------------------------------------------------------------------------------


class StatsSummaryView(ApiViewMixin, APIView):
    """`GET /api/v1/stats/summary/?group_by=…&measure=…&<any incident filter>`."""

    export_formats = ("csv",)

    @extend_schema(
        summary="Statistics: range sums grouped by one or two keys",
        operation_id="v1_stats_summary",
        description="Counts as the methodology page defines them: ranges [sum of min, sum "
        "of max]; actor/bloc rows take `min` over the incidents in which the actor is "
        "certainly involved and `max` over all of them. The last row is the totals "
        "row, over distinct incidents.",
        parameters=[
            OpenApiParameter(
                "group_by",
                OpenApiTypes.STR,
                required=True,
                description="One or two (comma separated) of: "
                + ", ".join(stats.GROUP_KEYS)
                + ".",
            ),
            *STATS_PARAMETERS,
            *_filter_parameters(),
        ],
        responses={
            (200, "application/json"): StatsSummarySerializer,
            (200, "text/csv"): OpenApiTypes.STR,
            400: BAD_REQUEST,
        },
        examples=[
            OpenApiExample(
                "By year",
                value={
                    "year": 2016,
                    "total": False,
                    "incidents": 2,
                    "civilians_killed": {
                        "min": 15,
                        "max": 20,
                        "incidents_not_recorded": 0,
                        "incidents_max_unknown": 0,
                    },
                },
                response_only=True,
            )
        ],
    )
    def get(self, request):
        result = run_incident_filter(
            request.query_params,
            user=request.user,
            extra_params=SUMMARY_EXTRA_PARAMS,
            request=request,
        )
        group_by = result.extra.get("group_by")
        if not group_by:
            raise ValidationError(
                {
                    "group_by": [
                        "Required: one or two (comma separated) of "
                        + ", ".join(stats.GROUP_KEYS)
                        + "."
                    ]
                }
            )
        keys = stats.validate_group_by(group_by)
        measures = _measures(result)
        fmt, bom = _format(result)
        perpetrators = _perpetrator_filter(result)
        confidences = _confidences(result)
        options = {
            "group_by": keys,
            "measures": measures,
            "actor_confidence": confidences,
            "actor_filter_ids": result.cleaned.get("actor") if perpetrators else None,
            "actor_exact": bool(result.cleaned.get("actor_exact")),
            "bloc_filter": result.cleaned.get("bloc") if perpetrators else None,
            "lang": result.cleaned.get("lang") or "en",
        }
        # Cached for the public until the data changes (incidents/public_cache.py).
        summary = public_cache.cached(
            "stats-summary",
            (result.count_key, sorted(options.items(), key=str)),
            lambda: stats.stats_summary(result.queryset, **options),
            enabled=not result.staff,
        )
        base = _base_params(result)
        add_row_links(request, summary["rows"], keys, base, confidences)
        notes = []
        if stats.period_links_are_approximate(keys, base):
            notes.append(
                "Rows are grouped by date_start; with date_match="
                f"{base.get('date_match') or 'overlap'} the links of the first and "
                "last periods select by date_start too and may differ slightly."
            )
        if fmt == "csv":
            table = stats_csv_table(summary["rows"], keys, summary["measures"])
            return _csv_response(table, name="stats", result=result, bom=bom)
        return Response(
            {
                "group_by": summary["group_by"],
                "measures": summary["measures"],
                "actor_confidence": summary["actor_confidence"],
                "query": result.normalized,
                "notes": notes,
                "rows": summary["rows"],
            }
        )


class StatsCompareView(ApiViewMixin, APIView):
    """`GET /api/v1/stats/compare/?bloc=russia,isis` (or `actor=<slug>,<slug>`)."""

    export_formats = ("csv",)

    @extend_schema(
        summary="Compare blocs or actors side by side",
        operation_id="v1_stats_compare",
        description="The rows of summary?group_by=bloc (or actor) for the blocs/actors "
        "named, the differences between them as ranges (A − B = [A.min − B.max, "
        "A.max − B.min]), the datasets behind the figures, and warnings where a "
        "dataset does not separate the actors compared (UCDP GED never names Russia).",
        parameters=[*STATS_PARAMETERS, *_filter_parameters()],
        responses={
            (200, "application/json"): StatsCompareSerializer,
            (200, "text/csv"): OpenApiTypes.STR,
            400: BAD_REQUEST,
        },
    )
    def get(self, request):
        result = run_incident_filter(
            request.query_params,
            user=request.user,
            extra_params=COMPARE_EXTRA_PARAMS,
            request=request,
        )
        blocs = result.cleaned.get("bloc") or []
        actor_ids = result.cleaned.get("actor") or []
        if blocs and actor_ids:
            raise ValidationError(
                {"bloc": ["Compare either blocs (bloc=) or actors (actor=), not both."]}
            )
        if not _perpetrator_filter(result):
            raise ValidationError(
                {
                    "actor_role": [
                        "Comparisons are of perpetrators: leave actor_role out."
                    ]
                }
            )
        if len(blocs) + len(actor_ids) < 2:
            raise ValidationError(
                {
                    "bloc": [
                        "Give two or more blocs (bloc=russia,isis) or actors "
                        "(actor=<slug>,<slug>) to compare."
                    ]
                }
            )
        measures = _measures(result)
        fmt, bom = _format(result)
        confidences = _confidences(result)
        actors = _actors_in_given_order(actor_ids, request.query_params.get("actor"))
        options = {
            "blocs": blocs or None,
            "actors": actors or None,
            "measures": measures,
            "actor_confidence": confidences,
            "actor_exact": bool(result.cleaned.get("actor_exact")),
            "lang": result.cleaned.get("lang") or "en",
        }
        question = {**options, "actors": [a.pk for a in actors]}
        comparison = public_cache.cached(
            "stats-compare",
            (result.count_key, sorted(question.items(), key=str)),
            lambda: stats.stats_compare(result.queryset, **options),
            enabled=not result.staff,
        )
        key = comparison["compare"]
        base = _base_params(result)
        add_row_links(request, comparison["rows"], [key], base, confidences)
        add_row_links(request, [comparison["totals"]], [key], base, confidences)
        if fmt == "csv":
            table = stats_csv_table(
                [*comparison["rows"], comparison["totals"]],
                [key],
                comparison["measures"],
            )
            return _csv_response(table, name="compare", result=result, bom=bom)
        return Response({**comparison, "query": result.normalized})


def _actors_in_given_order(ids: list[int], raw: str | None) -> list[Actor]:
    """The compared actors in the order the caller named them (one query)."""
    if not ids:
        return []
    actors = list(Actor.objects.filter(pk__in=ids))
    order = [s.strip() for s in (raw or "").split(",")]
    return sorted(
        actors,
        key=lambda a: (order.index(a.slug) if a.slug in order else len(order), a.pk),
    )
