"""Statistics selectors (DOMAIN.md "Statistics: how totals are counted", API.md
"Statistics"): pure reads over an incidents queryset that the caller has already filtered
(through `api.filters`, the one FilterSet) and, for the public, already redacted.

Everything is aggregated in SQL (GROUP BY), never by loading incidents into Python:
`stats_summary` runs two queries (the rows, then the totals row over distinct
incidents), `stats_compare` three (rows, totals, the datasets behind them).

How figures are counted:

- A range is `{"min", "max", "incidents_not_recorded", "incidents_max_unknown"}`
  (DOMAIN.md "Not recorded is not zero"). `min` sums the recorded minimums: an incident
  where the measure is not recorded (null min) adds nothing to the floor, so `min` stays
  a true "at least"; it is null only when no incident of the group records the measure.
  `max` sums the maximums, and is null as soon as one incident's max is unknown (not
  recorded, or a floor without a ceiling): a sum over part of the ceilings would read as
  a maximum below the minimum, so no such partial sum is given. The two counts say why,
  and never overlap: `incidents_not_recorded` (null min) and `incidents_max_unknown`
  (recorded min, null max).
- Rows grouped by `actor` or `bloc` count perpetrator attributions with the confidences
  asked for. The `min` of every range sums over the incidents in which the actor (with its
  subunits) or bloc is *certainly involved* (an unnumbered perpetrator row, or a row in
  every numbered hypothesis — computed over all perpetrator rows whatever confidences are
  counted, like `selectors.involvement_condition`); the `max` over all of its incidents;
  `incidents_possible` counts those in which it is only possibly involved. Joint
  perpetrators count fully for each, so actor rows can add up to more than the totals.
- The totals row (`"total": true`, always the last row) counts distinct incidents.

`row_filter_params()` gives, for a row, the incident-filter parameters of the list that
reproduces it (the API adds them to `/api/v1/incidents/?…`, the pages to `/incidents/?…`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import EmptyResultSet, ValidationError
from django.db import connection
from django.db.models import QuerySet
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from incidents.models import (
    Actor,
    Attribution,
    Bloc,
    CasualtyCount,
    CasualtyGroup,
    CasualtyOutcome,
    Citation,
    ExternalRef,
    Incident,
    IncidentTarget,
    IncidentType,
    IncidentWeapon,
    Location,
    Source,
    TargetType,
    WeaponType,
)

# ---------------------------------------------------------------------------------------
# What can be asked for
# ---------------------------------------------------------------------------------------

GROUP_KEYS = (
    "year",
    "month",
    "governorate",
    "incident_type",
    "weapon",
    "target_type",
    "actor",
    "bloc",
    "grading",
)
ACTOR_KEYS = ("actor", "bloc")

# The ranges every row carries (API.md), in this order.
DEFAULT_RANGES = (
    "civilians_killed",
    "children_killed",
    "civilians_injured",
    "total_killed",
)
# Denormalised totals on Incident (DOMAIN.md): a measure of one of these names reads the
# incident's own columns, so it agrees with the list's range filters.
DENORMALISED = (
    "civilians_killed",
    "civilians_injured",
    "children_killed",
    "medical_personnel_killed",
    "total_killed",
    "total_injured",
)
# Every CasualtyCount group × outcome, e.g. `aid_workers_abducted`. An incident without
# that row has the measure not recorded (null), never 0–0 (DOMAIN.md).
CASUALTY_MEASURES = tuple(
    f"{group}_{outcome}"
    for group in CasualtyGroup.values
    for outcome in CasualtyOutcome.values
)
MEASURES = tuple(dict.fromkeys([*DENORMALISED, *CASUALTY_MEASURES]))

DEFAULT_CONFIDENCES = ("confirmed", "likely")

NO_GOVERNORATE = "none"  # the governorate filter's value for country-level incidents
NO_GOVERNORATE_LABEL = _("Syria (no governorate)")
TOTALS_NOTE = _(
    "Totals count each incident once. Joint perpetrators count fully for each of them, "
    "so rows grouped by actor or bloc can add up to more than the totals."
)

# Datasets that do not separate some blocs (DOMAIN.md, Statistics): a comparison that
# involves one of these blocs and rests partly on the dataset gets a warning.
DATASET_CAVEATS = (
    {
        "system": ExternalRef.System.UCDP_GED.value,
        "blocs": frozenset({Bloc.RUSSIA.value, Bloc.SYRIAN_GOVERNMENT.value}),
        "message": _(
            "UCDP GED records Russian air strikes under “Government of Syria” and never "
            "names Russia: {count} of the incidents compared come from UCDP GED, where "
            "Russia's strikes count for the Syrian government. Figures from it cannot "
            "separate Russia from the Syrian government: Russia's are too low and the "
            "Syrian government's too high, by an amount the data does not tell."
        ),
    },
)


def validate_group_by(group_by: Iterable[str]) -> list[str]:
    """The grouping keys, checked: one or two of GROUP_KEYS, at most one of actor/bloc.
    Raises ValidationError keyed `group_by` naming what is allowed."""
    keys: list[str] = []
    for key in group_by:
        for part in str(key).split(","):
            part = part.strip()
            if part:
                keys.append(part)
    allowed = ", ".join(GROUP_KEYS)
    unknown = [k for k in keys if k not in GROUP_KEYS]
    if unknown:
        raise ValidationError(
            {
                "group_by": [
                    f"Unknown grouping {', '.join(unknown)}. Allowed: {allowed}."
                ]
            }
        )
    if not 1 <= len(keys) <= 2:
        raise ValidationError(
            {
                "group_by": [
                    f"Give one or two groupings (comma separated) of: {allowed}."
                ]
            }
        )
    if len(set(keys)) != len(keys):
        raise ValidationError({"group_by": ["Give two different groupings."]})
    if len([k for k in keys if k in ACTOR_KEYS]) > 1:
        raise ValidationError(
            {"group_by": ["Group by actor or by bloc, not both at once."]}
        )
    return keys


def validate_measures(measures: Iterable[str]) -> list[str]:
    """Extra measures `<group>_<outcome>` (or a denormalised total), checked."""
    names: list[str] = []
    for measure in measures:
        for part in str(measure).split(","):
            part = part.strip()
            if part and part not in names:
                names.append(part)
    unknown = [m for m in names if m not in MEASURES]
    if unknown:
        groups = ", ".join(CasualtyGroup.values)
        outcomes = ", ".join(CasualtyOutcome.values)
        raise ValidationError(
            {
                "measure": [
                    f"Unknown measure {', '.join(unknown)}. Give <group>_<outcome> with "
                    f"group one of {groups} and outcome one of {outcomes} (e.g. "
                    "medical_personnel_killed, aid_workers_abducted), or one of "
                    f"{', '.join(DENORMALISED)}."
                ]
            }
        )
    return names


# ---------------------------------------------------------------------------------------
# SQL building blocks
# ---------------------------------------------------------------------------------------

T_INCIDENT = Incident._meta.db_table
T_ATTR = Attribution._meta.db_table
T_ACTOR = Actor._meta.db_table
T_LOCATION = Location._meta.db_table
T_WEAPON = IncidentWeapon._meta.db_table
T_TARGET = IncidentTarget._meta.db_table
T_CASUALTY = CasualtyCount._meta.db_table
T_EXTREF = ExternalRef._meta.db_table
T_CITATION = Citation._meta.db_table
T_SOURCE = Source._meta.db_table
VOCAB_TABLES = {
    "incident_type": IncidentType._meta.db_table,
    "weapon": WeaponType._meta.db_table,
    "target_type": TargetType._meta.db_table,
}

# Columns of the filtered incidents the statistics read (the derived table `f`).
F_COLUMNS = (
    "id",
    "date_start",
    "governorate_id",
    "incident_type_id",
    "grading",
    *itertools.chain.from_iterable((f"{n}_min", f"{n}_max") for n in DENORMALISED),
)


@dataclass
class _Sql:
    """A query under construction: text and bound parameters in step."""

    parts: list[str] = field(default_factory=list)
    params: list[Any] = field(default_factory=list)

    def add(self, text: str, *params: Any) -> None:
        self.parts.append(text)
        self.params.extend(params)

    def extend(self, other: _Sql) -> None:
        self.parts.extend(other.parts)
        self.params.extend(other.params)

    def text(self) -> str:
        return "\n".join(self.parts)


def _filtered(incidents_qs: QuerySet[Incident]) -> tuple[str, list[Any]]:
    """SQL of the filtered incidents' columns; raises EmptyResultSet for `.none()`."""
    sql, params = incidents_qs.order_by().values(*F_COLUMNS).query.sql_with_params()
    return sql, list(params)


@dataclass
class _ActorGroups:
    """How perpetrator rows map to row groups `g` (an actor id, or a bloc code)."""

    kind: str  # "actor" or "bloc"
    mode: str = "top"  # actor: "top", "focus" (X exact + children), "named"
    actor_ids: list[int] = field(default_factory=list)
    exact: bool = False
    blocs: list[str] = field(default_factory=list)

    def tree_sql(self) -> _Sql:
        """CTE `tree(actor_id, g)`: each actor with the group(s) it counts for."""
        sql = _Sql()
        if self.kind == "bloc":
            if self.blocs:
                sql.add(
                    f"tree AS (SELECT id AS actor_id, bloc AS g FROM {T_ACTOR} "
                    "WHERE bloc = ANY(%s))",
                    list(self.blocs),
                )
            else:
                sql.add(f"tree AS (SELECT id AS actor_id, bloc AS g FROM {T_ACTOR})")
            return sql
        if self.mode == "named" and self.exact:
            sql.add(
                f"tree AS (SELECT id AS actor_id, id AS g FROM {T_ACTOR} "
                "WHERE id = ANY(%s))",
                list(self.actor_ids),
            )
            return sql
        if self.mode == "top":
            seed, seed_params = (
                f"SELECT id, id FROM {T_ACTOR} WHERE parent_id IS NULL",
                [],
            )
        elif self.mode == "focus":
            seed, seed_params = (
                f"SELECT id, id FROM {T_ACTOR} WHERE parent_id = %s",
                [self.actor_ids[0]],
            )
        else:  # named, with subunits
            seed, seed_params = (
                f"SELECT id, id FROM {T_ACTOR} WHERE id = ANY(%s)",
                [list(self.actor_ids)],
            )
        # UNION (not UNION ALL): a cycle in bad parent data still terminates.
        sql.add(
            f"subtree(actor_id, g) AS ({seed} UNION SELECT a.id, s.g FROM {T_ACTOR} a "
            "JOIN subtree s ON a.parent_id = s.actor_id),",
            *seed_params,
        )
        if self.mode == "focus":
            sql.add(
                "tree AS (SELECT %s::bigint AS actor_id, %s::bigint AS g "
                "UNION ALL SELECT actor_id, g FROM subtree)",
                self.actor_ids[0],
                self.actor_ids[0],
            )
        else:
            sql.add("tree AS (SELECT actor_id, g FROM subtree)")
        return sql


def _unit_ctes(groups: _ActorGroups, confidences: Sequence[str]) -> _Sql:
    """CTEs `tree`, `unit(incident_id, g, certain)` and `hyp` over the filtered `f`.

    `unit` holds one row per (incident, group) where the group has a perpetrator row with
    a counted confidence. `certain` follows DOMAIN.md, over *all* perpetrator rows: one
    of the group's rows is unnumbered, or the group has a row in every numbered
    hypothesis of the incident (same rule as selectors.involvement_condition)."""
    sql = groups.tree_sql()
    sql.add(
        f""",
        cover AS (
            SELECT a.incident_id, t.g,
                   bool_or(a.confidence = ANY(%s)) AS counted,
                   bool_or(a.alternative IS NULL) AS unnumbered
            FROM {T_ATTR} a JOIN tree t ON t.actor_id = a.actor_id
            WHERE a.role = 'perpetrator' AND a.incident_id IN (SELECT id FROM f)
            GROUP BY a.incident_id, t.g
        ),
        -- Numbered hypotheses are rare: count them on their own rows only.
        numbered AS (
            SELECT a.incident_id, a.actor_id, a.alternative
            FROM {T_ATTR} a
            WHERE a.role = 'perpetrator' AND a.alternative IS NOT NULL
              AND a.incident_id IN (SELECT id FROM f)
        ),
        hyp AS (
            SELECT incident_id, count(DISTINCT alternative) AS n
            FROM numbered GROUP BY incident_id
        ),
        alt_cover AS (
            SELECT n.incident_id, t.g, count(DISTINCT n.alternative) AS covered
            FROM numbered n JOIN tree t ON t.actor_id = n.actor_id
            GROUP BY n.incident_id, t.g
        ),
        unit AS (
            SELECT c.incident_id, c.g,
                   (c.unnumbered OR COALESCE(ac.covered = h.n, FALSE)) AS certain
            FROM cover c
            LEFT JOIN hyp h ON h.incident_id = c.incident_id
            LEFT JOIN alt_cover ac
                   ON ac.incident_id = c.incident_id AND ac.g = c.g
            WHERE c.counted
        )""",
        list(confidences),
    )
    return sql


@dataclass
class _Dimension:
    key: str
    expr: str  # the group key over f (and its join)
    join: str = ""


def _dimension(key: str) -> _Dimension:
    if key == "year":
        return _Dimension(key, "EXTRACT(YEAR FROM f.date_start)::int")
    if key == "month":
        return _Dimension(key, "to_char(f.date_start, 'YYYY-MM')")
    if key == "governorate":
        return _Dimension(key, "f.governorate_id")
    if key == "incident_type":
        return _Dimension(key, "f.incident_type_id")
    if key == "grading":
        return _Dimension(key, "f.grading")
    if key == "weapon":
        return _Dimension(
            key, "w.weapon_id", f"JOIN {T_WEAPON} w ON w.incident_id = f.id"
        )
    if key == "target_type":
        # An incident hitting two hospitals counts once for `hospital`.
        return _Dimension(
            key,
            "tt.target_type_id",
            f"JOIN (SELECT DISTINCT incident_id, target_type_id FROM {T_TARGET}) tt "
            "ON tt.incident_id = f.id",
        )
    # actor / bloc: the unit CTE
    return _Dimension(key, "u.g", "JOIN unit u ON u.incident_id = f.id")


def _measure_sql(measures: Sequence[str]) -> tuple[dict[str, tuple[str, str]], _Sql]:
    """name → (min expr, max expr) over f, and the joins the casualty measures need."""
    exprs: dict[str, tuple[str, str]] = {}
    joins = _Sql()
    for index, name in enumerate(measures):
        if name in DENORMALISED:
            exprs[name] = (f"f.{name}_min", f"f.{name}_max")
            continue
        group, outcome = _split_measure(name)
        alias = f"m{index}"
        # One row at most per (incident, group, outcome): the join never multiplies.
        joins.add(
            f"LEFT JOIN {T_CASUALTY} {alias} ON {alias}.incident_id = f.id "
            f'AND {alias}."group" = %s AND {alias}.outcome = %s',
            group,
            outcome,
        )
        # No row: not recorded, null (DOMAIN.md "Not recorded is not zero").
        exprs[name] = (f"{alias}.min", f"{alias}.max")
    return exprs, joins


def _split_measure(name: str) -> tuple[str, str]:
    group, _sep, outcome = name.rpartition("_")
    return group, outcome


def _aggregates(exprs: Mapping[str, tuple[str, str]], certain: str | None) -> list[str]:
    """Aggregate columns per range: `<n>__min` (recorded minimums, over the certainly
    involved incidents when `certain` is given; null when none), `<n>__recorded`
    (incidents of the group that record the measure, whatever their involvement),
    `<n>__max` (sum of the maximums), `<n>__not_recorded` and `<n>__max_unknown`."""
    columns = ["count(*) AS n"]
    if certain is not None:
        columns.append(f"count(*) FILTER (WHERE NOT {certain}) AS n_possible")
    for name, (min_expr, max_expr) in exprs.items():
        where = f" FILTER (WHERE {certain})" if certain else ""
        columns += [
            f'sum({min_expr}){where} AS "{name}__min"',
            f'count({min_expr}) AS "{name}__recorded"',
            f'sum({max_expr}) AS "{name}__max"',
            f'count(*) FILTER (WHERE {min_expr} IS NULL) AS "{name}__not_recorded"',
            f"count(*) FILTER (WHERE {min_expr} IS NOT NULL AND {max_expr} IS NULL) "
            f'AS "{name}__max_unknown"',
        ]
    return columns


def _range(record: Mapping[str, Any], name: str) -> dict[str, Any]:
    """One range sum from its aggregate columns (see the module docstring)."""
    not_recorded = int(record[f"{name}__not_recorded"] or 0)
    max_unknown = int(record[f"{name}__max_unknown"] or 0)
    if not int(record[f"{name}__recorded"] or 0):
        low = None  # no incident of the group records the measure
    else:
        # Recorded somewhere in the group: a floor, 0 when only incidents in which an
        # actor is possibly involved record it.
        low = int(record[f"{name}__min"] or 0)
    high = record[f"{name}__max"]
    return {
        "min": low,
        "max": None
        if low is None or not_recorded or max_unknown or high is None
        else int(high),
        "incidents_not_recorded": not_recorded,
        "incidents_max_unknown": max_unknown,
    }


def _empty_aggregates(exprs: Mapping[str, tuple[str, str]]) -> dict[str, Any]:
    """The aggregate columns of a group without incidents: nothing recorded."""
    record: dict[str, Any] = {}
    for name in exprs:
        record.update(
            {
                f"{name}__min": None,
                f"{name}__recorded": 0,
                f"{name}__max": None,
                f"{name}__not_recorded": 0,
                f"{name}__max_unknown": 0,
            }
        )
    return record


# Memory for the sorts and hashes of one statistics query (PostgreSQL's default 4MB
# spilled them to disk at 150,000 incidents, issue 8); SET LOCAL ends with the query's
# own transaction (or the caller's, inside one).
STATS_WORK_MEM = "128MB"


def _fetch(sql: _Sql) -> list[dict[str, Any]]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SET LOCAL work_mem = '{STATS_WORK_MEM}'; {sql.text()}", sql.params
        )
        names = [col.name for col in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


# ---------------------------------------------------------------------------------------
# Labels
# ---------------------------------------------------------------------------------------


def _label_columns(index: int, key: str) -> tuple[list[str], str]:
    """Label columns and the join that brings them, for group key number `index`."""
    k = f"agg.k{index}"
    alias = f"l{index}"
    if key == "governorate":
        return (
            [
                f"{alias}.slug AS l{index}_slug",
                f"{alias}.pcode AS l{index}_pcode",
                f"{alias}.name AS l{index}_name",
                f"{alias}.name_ar AS l{index}_name_ar",
            ],
            f"LEFT JOIN {T_LOCATION} {alias} ON {alias}.id = {k}",
        )
    if key in VOCAB_TABLES:
        return (
            [
                f"{alias}.code AS l{index}_code",
                f"{alias}.label AS l{index}_label",
                f"{alias}.label_ar AS l{index}_label_ar",
            ],
            f"LEFT JOIN {VOCAB_TABLES[key]} {alias} ON {alias}.id = {k}",
        )
    if key == "actor":
        return (
            [
                f"{alias}.slug AS l{index}_slug",
                f"{alias}.name AS l{index}_name",
                f"{alias}.name_ar AS l{index}_name_ar",
            ],
            f"LEFT JOIN {T_ACTOR} {alias} ON {alias}.id = {k}",
        )
    return [], ""


def _localized(english: str | None, arabic: str | None, lang: str) -> str | None:
    if lang == "ar" and arabic:
        return arabic
    return english


def _key_value(
    record: Mapping[str, Any],
    index: int,
    key: str,
    lang: str,
    groups: _ActorGroups | None,
) -> Any:
    raw = record[f"k{index}"]
    if key == "year":
        return int(raw)
    if key == "month":
        return raw
    if key == "governorate":
        if raw is None:
            return {
                "slug": NO_GOVERNORATE,
                "pcode": None,
                "name": str(NO_GOVERNORATE_LABEL),
            }
        return {
            "slug": record[f"l{index}_slug"],
            "pcode": record[f"l{index}_pcode"],
            "name": _localized(
                record[f"l{index}_name"], record[f"l{index}_name_ar"], lang
            ),
        }
    if key in VOCAB_TABLES:
        return {
            "code": record[f"l{index}_code"],
            "label": _localized(
                record[f"l{index}_label"], record[f"l{index}_label_ar"], lang
            ),
        }
    if key == "actor":
        exact = bool(
            groups
            and (
                (groups.mode == "focus" and raw == groups.actor_ids[0])
                or (groups.mode == "named" and groups.exact)
            )
        )
        return {
            "slug": record[f"l{index}_slug"],
            "name": _localized(
                record[f"l{index}_name"], record[f"l{index}_name_ar"], lang
            ),
            "exact": exact,
        }
    if key == "bloc":
        return {"code": raw, "label": _choice_label(Bloc, raw, lang)}
    if key == "grading":
        return {"code": raw, "label": _choice_label(Incident.Grading, raw, lang)}
    raise AssertionError(key)  # pragma: no cover - keys are validated first


def _choice_label(choices, value: str, lang: str) -> str:
    with translation.override(lang):
        try:
            return str(choices(value).label)
        except ValueError:
            return value


# ---------------------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------------------


def _actor_groups(
    key: str,
    *,
    actor_filter_ids: Sequence[int] | None,
    bloc_filter: Sequence[str] | None,
    actor_exact: bool,
    named: bool = False,
) -> _ActorGroups:
    if key == "bloc":
        return _ActorGroups("bloc", blocs=list(bloc_filter or []))
    ids = list(actor_filter_ids or [])
    if not ids:
        return _ActorGroups("actor", mode="top")
    if len(ids) == 1 and not named:
        return _ActorGroups("actor", mode="focus", actor_ids=ids)
    return _ActorGroups("actor", mode="named", actor_ids=ids, exact=actor_exact)


def _grouped_rows(
    f_sql: tuple[str, list[Any]],
    keys: Sequence[str],
    exprs: Mapping[str, tuple[str, str]],
    measure_joins: _Sql,
    groups: _ActorGroups | None,
    confidences: Sequence[str],
) -> list[dict[str, Any]]:
    sql = _Sql()
    sql.add(f"WITH RECURSIVE f AS ({f_sql[0]})", *f_sql[1])
    if groups is not None:
        sql.add(",")
        sql.extend(_unit_ctes(groups, confidences))
    dims = [_dimension(k) for k in keys]
    certain = "u.certain" if groups is not None else None
    select = [f"{d.expr} AS k{i}" for i, d in enumerate(dims)]
    inner = _Sql()
    inner.add(
        "SELECT " + ", ".join([*select, *_aggregates(exprs, certain)]) + " FROM f"
    )
    for d in dims:
        if d.join:
            inner.add(d.join)
    inner.extend(measure_joins)
    inner.add("GROUP BY " + ", ".join(f"k{i}" for i in range(len(dims))))

    label_cols: list[str] = []
    label_joins: list[str] = []
    for i, key in enumerate(keys):
        cols, join = _label_columns(i, key)
        label_cols += cols
        if join:
            label_joins.append(join)
    sql.add("SELECT " + ", ".join(["agg.*", *label_cols]) + " FROM (")
    sql.extend(inner)
    sql.add(") agg")
    for join in label_joins:
        sql.add(join)
    return _fetch(sql)


def _totals(
    f_sql: tuple[str, list[Any]],
    exprs: Mapping[str, tuple[str, str]],
    measure_joins: _Sql,
) -> dict[str, Any]:
    sql = _Sql()
    sql.add(f"WITH f AS ({f_sql[0]})", *f_sql[1])
    sql.add("SELECT " + ", ".join(_aggregates(exprs, None)) + " FROM f")
    sql.extend(measure_joins)
    return _fetch(sql)[0]


def _row(
    record: Mapping[str, Any],
    keys: Sequence[str],
    exprs: Mapping[str, tuple[str, str]],
    lang: str,
    groups: _ActorGroups | None,
) -> dict[str, Any]:
    row: dict[str, Any] = {"total": False}
    for i, key in enumerate(keys):
        row[key] = _key_value(record, i, key, lang, groups)
    row["incidents"] = int(record["n"])
    if groups is not None:
        row["incidents_possible"] = int(record["n_possible"])
    for name in exprs:
        row[name] = _range(record, name)
    return row


def _totals_row(
    record: Mapping[str, Any],
    keys: Sequence[str],
    exprs: Mapping[str, tuple[str, str]],
    lang: str,
) -> dict[str, Any]:
    row: dict[str, Any] = {"total": True}
    for key in keys:
        row[key] = None
    row["incidents"] = int(record["n"])
    for name in exprs:
        row[name] = _range(record, name)
    with translation.override(lang):
        row["note"] = str(TOTALS_NOTE)
    return row


def _sort_key(key: str, value: Any, row: Mapping[str, Any]) -> tuple:
    if key in ("year", "month"):
        return (0, value)
    if key == "actor" and value.get("exact"):
        return (-1, "")
    if key == "governorate" and value["slug"] == NO_GOVERNORATE:
        return (1, "")
    label = value.get("label") or value.get("name") or ""
    return (0, str(label).casefold())


def _empty_result(keys, exprs, lang) -> list[dict[str, Any]]:
    zero = {"n": 0, **_empty_aggregates(exprs)}
    return [_totals_row(zero, keys, exprs, lang)]


def stats_summary(
    incidents_qs: QuerySet[Incident],
    *,
    group_by: Sequence[str],
    measures: Sequence[str] = (),
    actor_confidence: Sequence[str] = DEFAULT_CONFIDENCES,
    actor_filter_ids: Sequence[int] | None = None,
    actor_exact: bool = False,
    bloc_filter: Sequence[str] | None = None,
    lang: str = "en",
) -> dict[str, Any]:
    """Range sums of the filtered incidents grouped by one or two keys (API.md
    "Statistics"); two queries.

    - `group_by`: one or two of GROUP_KEYS (`year`/`month` of `date_start`; a null
      governorate is the row "Syria (no governorate)" with slug `none`; `weapon` and
      `target_type` give one row per exact code, an incident with two codes counting in
      both; incidents with none appear only in the totals).
    - `measures`: extra ranges, `<group>_<outcome>` of CasualtyCount (absent row: not
      recorded) or a denormalised total.
    - `actor_confidence`: the perpetrator confidences counted by actor/bloc rows.
    - `actor_filter_ids`: the `actor` filter's ids. None: top-level actors, each with its
      subunits; one id X: X itself (exact) and each of X's children with their subunits;
      several: each of them with its subunits (exactly, with `actor_exact`).
    - `bloc_filter`: the `bloc` filter; bloc rows are limited to those blocs.

    Returns `{"group_by", "measures", "actor_confidence", "rows"}`; each row has its keys,
    `incidents` (and `incidents_possible` for actor/bloc rows) and a range per measure;
    the last row is the totals row (`"total": true`, with `note`).
    """
    keys = validate_group_by(group_by)
    measure_names = validate_measures(measures)
    names = list(dict.fromkeys([*DEFAULT_RANGES, *measure_names]))
    confidences = list(actor_confidence or DEFAULT_CONFIDENCES)
    exprs, measure_joins = _measure_sql(names)
    actor_key = next((k for k in keys if k in ACTOR_KEYS), None)
    groups = (
        _actor_groups(
            actor_key,
            actor_filter_ids=actor_filter_ids,
            bloc_filter=bloc_filter,
            actor_exact=actor_exact,
        )
        if actor_key
        else None
    )
    result = {
        "group_by": keys,
        "measures": names,
        "actor_confidence": confidences,
        "rows": [],
    }
    try:
        f_sql = _filtered(incidents_qs)
    except EmptyResultSet:
        result["rows"] = _empty_result(keys, exprs, lang)
        return result
    records = _grouped_rows(f_sql, keys, exprs, measure_joins, groups, confidences)
    rows = [_row(r, keys, exprs, lang, groups) for r in records]
    _sort_rows(rows, keys)
    rows.append(_totals_row(_totals(f_sql, exprs, measure_joins), keys, exprs, lang))
    result["rows"] = rows
    return result


def _sort_rows(rows: list[dict[str, Any]], keys: Sequence[str]) -> None:
    if len(keys) == 1 and keys[0] not in ("year", "month"):
        # One categorical key: the biggest groups first, then by name.
        rows.sort(
            key=lambda r: (
                _sort_key(keys[0], r[keys[0]], r)[0],
                -r["incidents"],
                _sort_key(keys[0], r[keys[0]], r)[1],
            )
        )
        return
    rows.sort(key=lambda r: tuple(_sort_key(k, r[k], r) for k in keys))


# ---------------------------------------------------------------------------------------
# Row links
# ---------------------------------------------------------------------------------------

# Filter parameters a row's key replaces in the base filter.
_REPLACED = {
    "year": ("date_from", "date_to", "date_match"),
    "month": ("date_from", "date_to", "date_match"),
    "governorate": ("governorate",),
    "incident_type": ("incident_type", "incident_type_exact"),
    "weapon": ("weapon", "weapon_exact"),
    "target_type": ("target_type", "target_type_exact"),
    "actor": ("actor", "actor_exact", "actor_role", "actor_involvement"),
    "bloc": ("bloc", "actor_role", "actor_involvement"),
    "grading": ("grading",),
}


def row_filter_params(
    row: Mapping[str, Any],
    group_by: Sequence[str],
    base: Mapping[str, str],
    *,
    actor_confidence: Sequence[str] = DEFAULT_CONFIDENCES,
    involvement: str | None = None,
) -> dict[str, str] | None:
    """The incident-filter parameters of the list that reproduces `row`: `base` (the
    caller's own filter, `{name: value}`) with the row's keys put in — `date_match=start`
    and the period for `year`/`month`, `<param>_exact=true` for a vocabulary code,
    `governorate=none` for country-level incidents, `actor`/`bloc` with
    `actor_role=perpetrator` and `actor_confidence`; `involvement="certain"` (the rows'
    `min`) or `"possible"` adds `actor_involvement`. The totals row gives `base`.
    None when the row cannot be linked (an actor row for `involvement` without actor)."""
    params = dict(base)
    if row.get("total"):
        return params
    for key in group_by:
        for name in _REPLACED[key]:
            params.pop(name, None)
    for key in group_by:
        value = row[key]
        if key == "year":
            _set_period(params, base, f"{value:04d}-01-01", f"{value:04d}-12-31")
        elif key == "month":
            year, month = (int(part) for part in value.split("-"))
            _set_period(
                params, base, f"{value}-01", f"{value}-{_month_days(year, month):02d}"
            )
        elif key == "governorate":
            params["governorate"] = value["slug"] or NO_GOVERNORATE
        elif key in VOCAB_TABLES:
            params[key] = value["code"]
            params[f"{key}_exact"] = "true"
        elif key == "grading":
            params["grading"] = value["code"]
        elif key in ACTOR_KEYS:
            if key == "actor":
                params["actor"] = value["slug"]
                if value.get("exact"):
                    params["actor_exact"] = "true"
            else:
                params["bloc"] = value["code"]
            params["actor_role"] = Attribution.Role.PERPETRATOR.value
            params["actor_confidence"] = ",".join(sorted(actor_confidence))
            if involvement:
                params["actor_involvement"] = involvement
    if involvement and not any(k in ACTOR_KEYS for k in group_by):
        return None
    return params


def _set_period(params: dict[str, str], base: Mapping[str, str], start: str, end: str):
    """The row's period intersected with the caller's own date window (ISO dates compare
    as strings)."""
    date_from = max(start, base.get("date_from") or start)
    date_to = min(end, base.get("date_to") or end)
    params["date_from"] = date_from
    params["date_to"] = date_to
    params["date_match"] = "start"


def _month_days(year: int, month: int) -> int:
    import calendar

    return calendar.monthrange(year, month)[1]


def period_links_are_approximate(
    group_by: Sequence[str], base: Mapping[str, str]
) -> bool:
    """Rows grouped by year/month are counted by `date_start`; their links can only be
    exact when the caller's own date window also matches on the start date."""
    return (
        any(k in ("year", "month") for k in group_by)
        and bool(base.get("date_from") or base.get("date_to"))
        and (base.get("date_match") or "overlap") != "start"
    )


# ---------------------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------------------


def _difference(a: Mapping[str, Any], b: Mapping[str, Any]) -> dict[str, Any]:
    """A − B as a range: [A.min − B.max, A.max − B.min]; an unknown max leaves that end
    open (null). A side that records nothing (null min) has the floor every count has,
    0, so the difference stays a true bound."""
    low = None if b["max"] is None else (a["min"] or 0) - b["max"]
    high = None if a["max"] is None else a["max"] - (b["min"] or 0)
    return {"min": low, "max": high}


def _verdict(diff: Mapping[str, Any], a: str, b: str) -> str | None:
    """Which side is certainly larger, or None when the ranges overlap."""
    if diff["min"] is not None and diff["min"] > 0:
        return a
    if diff["max"] is not None and diff["max"] < 0:
        return b
    return None


def stats_compare(
    incidents_qs: QuerySet[Incident],
    *,
    blocs: Sequence[str] | None = None,
    actors: Sequence[Actor] | None = None,
    measures: Sequence[str] = (),
    actor_confidence: Sequence[str] = DEFAULT_CONFIDENCES,
    actor_exact: bool = False,
    lang: str = "en",
) -> dict[str, Any]:
    """Two or more blocs (or actors, each with its subunits) side by side, counted as
    `stats_summary(group_by=["bloc"|"actor"])` counts them, with the pairwise differences
    stated as ranges (A − B = [A.min − B.max, A.max − B.min]; `greater` names the side
    that is larger whatever the uncertainty, or is null), the datasets the figures come
    from (external reference systems and public dataset sources, with incident counts,
    overall and per item) and warnings where a dataset does not separate the actors
    compared (DATASET_CAVEATS). Four queries.

    `incidents_qs` is normally filtered to the compared blocs/actors already (the API's
    `bloc=`/`actor=` parameters)."""
    if bool(blocs) == bool(actors):
        raise ValidationError({"bloc": ["Compare either blocs or actors (give one)."]})
    key = "bloc" if blocs else "actor"
    items = list(blocs) if blocs else list(actors)
    if len(items) < 2:
        raise ValidationError(
            {key: [f"Give two or more {key}s to compare, comma separated."]}
        )
    measure_names = validate_measures(measures)
    names = list(dict.fromkeys([*DEFAULT_RANGES, *measure_names]))
    confidences = list(actor_confidence or DEFAULT_CONFIDENCES)
    exprs, measure_joins = _measure_sql(names)
    if key == "bloc":
        groups = _ActorGroups("bloc", blocs=list(items))
    else:
        groups = _ActorGroups(
            "actor", mode="named", actor_ids=[a.pk for a in items], exact=actor_exact
        )

    try:
        f_sql = _filtered(incidents_qs)
    except EmptyResultSet:
        f_sql = None
    records = (
        _grouped_rows(f_sql, [key], exprs, measure_joins, groups, confidences)
        if f_sql
        else []
    )
    by_group = {r["k0"]: r for r in records}
    rows = []
    for item in items:
        group_id = item if key == "bloc" else item.pk
        record = by_group.get(group_id)
        if record is None:
            record = _zero_record(exprs, group_id)
            if key == "actor":
                record.update(
                    l0_slug=item.slug, l0_name=item.name, l0_name_ar=item.name_ar
                )
        rows.append(_row(record, [key], exprs, lang, groups))
    totals = (
        _totals_row(_totals(f_sql, exprs, measure_joins), [key], exprs, lang)
        if f_sql
        else _empty_result([key], exprs, lang)[0]
    )
    datasets, sources, per_item = (
        _datasets(f_sql, groups, confidences) if f_sql else ([], [], {})
    )
    for item, row in zip(items, rows, strict=True):
        row["datasets"] = per_item.get(item if key == "bloc" else item.pk, {})

    item_keys = [_item_code(row, key) for row in rows]
    differences = []
    for (i, a), (j, b) in itertools.combinations(enumerate(rows), 2):
        diff: dict[str, Any] = {
            "a": item_keys[i],
            "b": item_keys[j],
            "incidents": a["incidents"] - b["incidents"],
        }
        for name in names:
            diff[name] = _difference(a[name], b[name])
            diff[name]["greater"] = _verdict(diff[name], item_keys[i], item_keys[j])
        differences.append(diff)

    item_blocs = set(items) if key == "bloc" else {a.bloc for a in items}
    warnings = []
    counts = {d["system"]: d["incidents"] for d in datasets}
    with translation.override(lang):
        for caveat in DATASET_CAVEATS:
            count = counts.get(caveat["system"], 0)
            if count and item_blocs & caveat["blocs"]:
                warnings.append(
                    {
                        "system": caveat["system"],
                        "message": str(caveat["message"]).format(count=count),
                    }
                )
    return {
        "compare": key,
        "measures": names,
        "actor_confidence": confidences,
        "rows": rows,
        "totals": totals,
        "differences": differences,
        "datasets": datasets,
        "dataset_sources": sources,
        "warnings": warnings,
    }


def _item_code(row: Mapping[str, Any], key: str) -> str:
    return row[key]["code"] if key == "bloc" else row[key]["slug"]


def _zero_record(exprs, group_id) -> dict[str, Any]:
    return {"k0": group_id, "n": 0, "n_possible": 0, **_empty_aggregates(exprs)}


def _datasets(
    f_sql: tuple[str, list[Any]], groups: _ActorGroups, confidences: Sequence[str]
) -> tuple[list[dict], list[dict], dict[Any, dict[str, int]]]:
    """The datasets behind the compared rows, in one query: per external reference
    system and per public dataset source, the incidents of each group (g) and of all
    compared groups together (g IS NULL, via GROUPING SETS)."""
    sql = _Sql()
    sql.add(f"WITH RECURSIVE f AS ({f_sql[0]}),", *f_sql[1])
    sql.extend(_unit_ctes(groups, confidences))
    sql.add(
        f""",
        origin AS (
            SELECT e.incident_id, e.system AS system, NULL::bigint AS source_id
            FROM {T_EXTREF} e WHERE e.incident_id IN (SELECT incident_id FROM unit)
            UNION
            SELECT c.incident_id, NULL, c.source_id
            FROM {T_CITATION} c JOIN {T_SOURCE} s ON s.id = c.source_id
            WHERE s.kind = 'dataset' AND NOT s.confidential
              AND c.incident_id IN (SELECT incident_id FROM unit)
        )
        SELECT o.system, o.source_id, u.g::text AS g,
               GROUPING(u.g) AS overall, count(DISTINCT o.incident_id) AS n,
               max(s.title) AS title, max(s.publisher) AS publisher,
               max(s.release) AS release, max(s.licence) AS licence
        FROM origin o JOIN unit u ON u.incident_id = o.incident_id
        LEFT JOIN {T_SOURCE} s ON s.id = o.source_id
        GROUP BY GROUPING SETS ((o.system, o.source_id, u.g), (o.system, o.source_id))
        """
    )
    system_labels = dict(ExternalRef.System.choices)
    datasets: list[dict] = []
    sources: list[dict] = []
    per_item: dict[Any, dict[str, int]] = {}
    for record in _fetch(sql):
        if record["overall"]:
            if record["system"] is not None:
                datasets.append(
                    {
                        "system": record["system"],
                        "label": str(
                            system_labels.get(record["system"], record["system"])
                        ),
                        "incidents": record["n"],
                    }
                )
            else:
                sources.append(
                    {
                        "id": record["source_id"],
                        "title": record["title"],
                        "publisher": record["publisher"],
                        "release": record["release"],
                        "licence": record["licence"],
                        "incidents": record["n"],
                    }
                )
        elif record["system"] is not None:
            group = record["g"] if groups.kind == "bloc" else int(record["g"])
            per_item.setdefault(group, {})[record["system"]] = record["n"]
    datasets.sort(key=lambda d: (-d["incidents"], d["system"]))
    sources.sort(key=lambda d: (-d["incidents"], d["id"]))
    return datasets, sources, per_item


# ---------------------------------------------------------------------------------------
# Map clusters
# ---------------------------------------------------------------------------------------

MAX_ZOOM = 18
CELLS_PER_TILE = 4  # grid cells across one 256-px map tile: about 64 px per cell
DETAIL_ZOOM = 12  # from this zoom on, a cell lists its incidents
MAX_CELL_INCIDENTS = 50
MAX_CELLS = 10_000


def cell_size(zoom: int) -> float:
    """Grid cell size in degrees at a web-map zoom level."""
    return 360.0 / (2**zoom) / CELLS_PER_TILE


def map_clusters(
    incidents_qs: QuerySet[Incident],
    *,
    zoom: int,
    latitude: str = "public_latitude",
    longitude: str = "public_longitude",
    lang: str = "en",
) -> dict[str, Any]:
    """Grid clusters of the filtered incidents' points, in two queries: GROUP BY
    floor(lon / cell), floor(lat / cell), the cell size set by `zoom`, over the points on
    the map; and the counts of those left off.

    Incidents without a point and aggregate records are left off (and counted in
    `left_off`). Each cell: `lat`, `lon` (mean of its points), `count`,
    `civilians_killed_min` and `civilians_killed_max` (range sums as in the statistics:
    min over the recorded counts, null when none is; max null when one is unknown or not
    recorded, with `civilians_killed_incidents_not_recorded` and
    `civilians_killed_incidents_max_unknown` saying how many), `bbox` ([min_lon, min_lat, max_lon,
    max_lat] of its points); a cell of one incident has its `code` and `title`, and
    from zoom DETAIL_ZOOM on every cell lists up to MAX_CELL_INCIDENTS `incidents`
    (latest first). The public reads the public point (the caller passes the columns the
    FilterSet used for it). At most MAX_CELLS cells, the fullest first (`truncated`).

    The cells read only what the covering index `incidents_inc_pub_map` holds (titles
    are joined afterwards, for one-incident cells), and the left-off counts what
    `incidents_inc_pub_cover` holds, so neither touches the wide incident rows."""
    size = cell_size(zoom)
    detail = zoom >= DETAIL_ZOOM
    result: dict[str, Any] = {
        "zoom": zoom,
        "cell_size": size,
        "count": 0,
        "clusters": [],
        "left_off": {"without_coordinates": 0, "aggregate": 0},
        "truncated": False,
    }
    on_map = incidents_qs.order_by().filter(
        **{f"{latitude}__isnull": False, f"{longitude}__isnull": False},
        aggregate=False,
    )
    columns = [
        "code",
        "civilians_killed_min",
        "civilians_killed_max",
        latitude,
        longitude,
    ]
    if detail:
        columns += ["id", "title", "title_ar", "date_start"]
    try:
        f_sql, f_params = on_map.values(*columns).query.sql_with_params()
        left_sql, left_params = (
            incidents_qs.order_by()
            .values("aggregate", latitude)
            .query.sql_with_params()
        )
    except EmptyResultSet:
        return result
    incidents_col = (
        "(array_agg(json_build_array(f.code, f.title, f.title_ar) "
        f"ORDER BY f.date_start DESC, f.id DESC))[1:{MAX_CELL_INCIDENTS}] AS incidents"
        if detail
        else "NULL AS incidents"
    )
    sql = f"""
        SELECT c.*, i.title, i.title_ar FROM (
            SELECT
                floor(f."{longitude}" / %s)::bigint AS gx,
                floor(f."{latitude}" / %s)::bigint AS gy,
                count(*) AS n,
                avg(f."{latitude}") AS lat, avg(f."{longitude}") AS lon,
                min(f."{longitude}") AS min_lon, min(f."{latitude}") AS min_lat,
                max(f."{longitude}") AS max_lon, max(f."{latitude}") AS max_lat,
                sum(f.civilians_killed_min) AS ck_min,
                sum(f.civilians_killed_max) AS ck_max,
                count(*) FILTER (WHERE f.civilians_killed_min IS NULL)
                    AS ck_not_recorded,
                count(*) FILTER (WHERE f.civilians_killed_min IS NOT NULL
                                   AND f.civilians_killed_max IS NULL) AS ck_max_unknown,
                min(f.code) AS code,
                {incidents_col}
            FROM ({f_sql}) f
            GROUP BY 1, 2
        ) c
        LEFT JOIN {T_INCIDENT} i ON c.n = 1 AND i.code = c.code
    """
    left = f"""
        SELECT count(*) FILTER (WHERE f."{latitude}" IS NULL),
               count(*) FILTER (WHERE f.aggregate AND f."{latitude}" IS NOT NULL)
        FROM ({left_sql}) f
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [size, size, *f_params])
        names = [col.name for col in cursor.description]
        records = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        cursor.execute(left, left_params)
        no_point, aggregate = cursor.fetchone()
    result["left_off"] = {
        "without_coordinates": int(no_point),
        "aggregate": int(aggregate),
    }
    clusters = [_cluster(record, detail=detail, lang=lang) for record in records]
    clusters.sort(key=lambda c: (-c["count"], c["lat"], c["lon"]))
    if len(clusters) > MAX_CELLS:
        clusters = clusters[:MAX_CELLS]
        result["truncated"] = True
    result["clusters"] = clusters
    result["count"] = sum(c["count"] for c in clusters)
    return result


def _title(title: str | None, title_ar: str | None, lang: str) -> str | None:
    return _localized(title, title_ar, lang)


def _cluster(record: Mapping[str, Any], *, detail: bool, lang: str) -> dict[str, Any]:
    count = int(record["n"])
    not_recorded = int(record["ck_not_recorded"])
    max_unknown = int(record["ck_max_unknown"])
    low = record["ck_min"]  # null: no incident of the cell records it
    cluster: dict[str, Any] = {
        "lat": float(record["lat"]),
        "lon": float(record["lon"]),
        "count": count,
        "civilians_killed_min": None if low is None else int(low),
        "civilians_killed_max": None
        if low is None or not_recorded or max_unknown
        else int(record["ck_max"]),
        "civilians_killed_incidents_not_recorded": not_recorded,
        "civilians_killed_incidents_max_unknown": max_unknown,
        "bbox": [
            record["min_lon"],
            record["min_lat"],
            record["max_lon"],
            record["max_lat"],
        ],
        "code": record["code"] if count == 1 else None,
        "title": _title(record["title"], record["title_ar"], lang)
        if count == 1
        else None,
    }
    if detail:
        cluster["incidents"] = [
            {"code": code, "title": _title(title, title_ar, lang)}
            for code, title, title_ar in record["incidents"] or []
        ]
    return cluster
