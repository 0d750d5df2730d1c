"""Issue 12 §7: recompute every incident's denormalised totals under the corrected rule
(DOMAIN.md, "Not recorded is not zero").

Until 0010 a group with no CasualtyCount row was stored as 0–0, which made CivTrack claim
that no child died in every UCDP incident. This recomputes all totals from the rows, in
one set-based UPDATE (a million incidents must not mean a million Python round trips),
with exactly the rules of `services.compute_totals` (tests/incidents/test_totals.py
holds the two to the same cases). Only rows whose totals change are written, so the
audit trail records real corrections and nothing else. Reversing is a noop: the old
zeros were false, and the model's fields stay nullable either way.
"""

from django.db import migrations

SUBGROUPS = (
    "children",
    "women",
    "men",
    "elderly",
    "medical_personnel",
    "first_responders",
    "aid_workers",
    "journalists",
)

TOTAL_COLUMNS = [
    f"{prefix}_{outcome}_{end}"
    for prefix, outcome in (
        ("civilians", "killed"),
        ("civilians", "injured"),
        ("children", "killed"),
        ("medical_personnel", "killed"),
        ("total", "killed"),
        ("total", "injured"),
    )
    for end in ("min", "max")
]


def _row(group: str, outcome: str, end: str) -> str:
    # (incident, group, outcome) is unique, so max() picks the one row's value or NULL.
    return (
        f'max(c.{end}) FILTER (WHERE c."group" = \'{group}\' '
        f"AND c.outcome = '{outcome}')"
    )


def _outcome_columns(outcome: str) -> str:
    subgroups = ", ".join(f"'{g}'" for g in SUBGROUPS)
    return f"""
        {_row("civilians", outcome, "min")} AS civ_{outcome}_min,
        {_row("civilians", outcome, "max")} AS civ_{outcome}_max,
        max(c.min) FILTER (WHERE c."group" IN ({subgroups})
                           AND c.outcome = '{outcome}') AS sub_{outcome}_min,
        {_row("combatants", outcome, "min")} AS comb_{outcome}_min,
        {_row("combatants", outcome, "max")} AS comb_{outcome}_max,
        {_row("unknown_status", outcome, "min")} AS unk_{outcome}_min,
        {_row("unknown_status", outcome, "max")} AS unk_{outcome}_max,
        {_row("all", outcome, "min")} AS all_{outcome}_min,
        {_row("all", outcome, "max")} AS all_{outcome}_max"""


def _civilians(outcome: str) -> tuple[str, str]:
    # The civilians row, else the fallback: the largest subgroup minimum as a floor.
    low = f"coalesce(r.civ_{outcome}_min, r.sub_{outcome}_min)"
    high = f"r.civ_{outcome}_max"
    return low, high


def _total(outcome: str) -> tuple[str, str]:
    civ_min, civ_max = _civilians(outcome)
    # An absent status group adds nothing to the minimum and makes the maximum unknown
    # (NULL + n is NULL); with no status group at all the total is not recorded.
    low = f"""CASE WHEN r.all_{outcome}_min IS NOT NULL THEN r.all_{outcome}_min
        WHEN {civ_min} IS NULL AND r.comb_{outcome}_min IS NULL
             AND r.unk_{outcome}_min IS NULL THEN NULL
        ELSE coalesce({civ_min}, 0) + coalesce(r.comb_{outcome}_min, 0)
             + coalesce(r.unk_{outcome}_min, 0) END"""
    high = f"""CASE WHEN r.all_{outcome}_min IS NOT NULL THEN r.all_{outcome}_max
        ELSE {civ_max} + r.comb_{outcome}_max + r.unk_{outcome}_max END"""
    return low, high


def _expressions() -> dict[str, str]:
    exprs = {"casualties_known": "r.incident_id IS NOT NULL"}
    for outcome in ("killed", "injured"):
        low, high = _civilians(outcome)
        exprs[f"civilians_{outcome}_min"] = low
        exprs[f"civilians_{outcome}_max"] = high
        low, high = _total(outcome)
        exprs[f"total_{outcome}_min"] = low
        exprs[f"total_{outcome}_max"] = high
    for group in ("children", "medical_personnel"):
        exprs[f"{group}_killed_min"] = f"r.{group}_killed_min"
        exprs[f"{group}_killed_max"] = f"r.{group}_killed_max"
    return exprs


def recompute_sql() -> str:
    """One UPDATE … FROM (aggregate per incident): the corrected totals for every
    incident whose stored totals differ from them."""
    exprs = _expressions()
    columns = ["casualties_known", *TOTAL_COLUMNS]
    sets = ",\n    ".join(f"{col} = t.{col}" for col in columns)
    computed = ",\n        ".join(f"{exprs[col]} AS {col}" for col in columns)
    changed = " OR ".join(f"i.{col} IS DISTINCT FROM t.{col}" for col in columns)
    return f"""
UPDATE incidents_incident AS i SET
    {sets}
FROM (
    SELECT inc.id,
        {computed}
    FROM incidents_incident AS inc
    LEFT JOIN (
        SELECT c.incident_id,
            {_outcome_columns("killed")},
            {_outcome_columns("injured")},
            {_row("children", "killed", "min")} AS children_killed_min,
            {_row("children", "killed", "max")} AS children_killed_max,
            {_row("medical_personnel", "killed", "min")} AS medical_personnel_killed_min,
            {_row("medical_personnel", "killed", "max")} AS medical_personnel_killed_max
        FROM incidents_casualtycount AS c
        GROUP BY c.incident_id
    ) AS r ON r.incident_id = inc.id
) AS t
WHERE t.id = i.id AND ({changed})
"""


def recompute_totals(apps, schema_editor):
    """Forward: write the corrected totals; then ANALYZE, since the planner's statistics
    on these columns (now partly NULL) are stale after a bulk write."""
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(recompute_sql())
        cursor.execute("ANALYZE incidents_incident")


class Migration(migrations.Migration):
    dependencies = [("incidents", "0010_totals_not_recorded_nullable")]

    operations = [
        migrations.RunPython(recompute_totals, migrations.RunPython.noop, elidable=False)
    ]
