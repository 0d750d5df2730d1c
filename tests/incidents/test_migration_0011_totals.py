"""Migration 0011 (issue 12 §7): the set-based SQL that recomputes every incident's
totals gives exactly `services.compute_totals()` — on hand-written cases (UCDP's lone
`all` row, a subgroup floor, explicit zeros, no rows at all) and on seeded random sets
of rows — starting from the old, false zeros."""

from __future__ import annotations

import importlib
import random

import pytest
from django.apps import apps
from django.db import connection

from incidents import services
from incidents.models import CIVILIAN_SUBGROUPS, CasualtyCount, Incident
from incidents.services import CasualtyRowData as Row
from tests.factories import make_incident

pytestmark = pytest.mark.django_db

migration = importlib.import_module(
    "incidents.migrations.0011_recompute_totals_not_recorded"
)

TOTALS = [name for name in services.compute_totals([]) if name != "casualties_known"]

CASES = [
    [],
    [Row("all", "killed", 5, 9, 7)],  # UCDP: a total, never children
    [Row("medical_personnel", "killed", 0, 0)],  # Insecurity Insight: a floor of 0
    [Row("children", "killed", 4, 6), Row("women", "killed", 5, 5)],
    [Row("civilians", "killed", 0, 0), Row("children", "killed", 0, 0)],
    [Row("civilians", "killed", 9, 11), Row("children", "killed", 4, 4)],
    [
        Row("civilians", "killed", 2, 3),
        Row("combatants", "killed", 10, 12),
        Row("unknown_status", "killed", 1, 4),
    ],
    [Row("combatants", "injured", 3, 4)],
    [Row("all", "injured", 20, 30), Row("civilians", "injured", 2, 3)],
    [Row("children", "killed", 4, 4), Row("combatants", "killed", 1, 1)],
    [Row("civilians", "killed", 1, 1), Row("civilians", "missing", 2, 2)],
]

GROUPS = ["civilians", "combatants", "unknown_status", "all", *CIVILIAN_SUBGROUPS]
OUTCOMES = ["killed", "injured", "missing"]


def _random_cases(count: int) -> list[list[Row]]:
    rng = random.Random(20261207)  # noqa: S311 (test data, not secrets)
    cases = []
    for _ in range(count):
        keys = rng.sample([(g, o) for g in GROUPS for o in OUTCOMES], rng.randint(0, 6))
        rows = []
        for group, outcome in keys:
            low = rng.choice([0, 0, 1, 3, 40])
            rows.append(Row(group, outcome, low, low + rng.choice([0, 0, 2, 15])))
        cases.append(rows)
    return cases


class _Editor:
    """What RunPython hands the function: only `.connection` is used."""

    connection = connection


def _set_old_zeros() -> None:
    Incident.objects.update(**dict.fromkeys(TOTALS, 0), casualties_known=True)


def test_the_migration_recomputes_the_old_zeros_exactly_as_the_services_do():
    cases = CASES + _random_cases(40)
    # Rows written straight to the table: the SQL must also get combinations right that
    # the services' validation would refuse (a subgroup above the civilians' maximum).
    first = make_incident()
    incidents = [first] + [
        Incident.objects.get(pk=make_incident(location=first.location).pk)
        for _ in cases[1:]
    ]
    CasualtyCount.objects.bulk_create(
        CasualtyCount(
            incident=incident,
            group=row.group,
            outcome=row.outcome,
            min=row.min,
            max=row.max,
            best=row.best,
        )
        for incident, rows in zip(incidents, cases, strict=True)
        for row in rows
    )
    _set_old_zeros()
    assert Incident.objects.filter(children_killed_max=0).count() == len(cases)

    migration.recompute_totals(apps, _Editor())

    for incident, rows in zip(incidents, cases, strict=True):
        incident.refresh_from_db()
        expected = services.compute_totals(rows)
        got = {name: getattr(incident, name) for name in expected}
        assert got == expected, rows


def test_a_ucdp_incident_loses_its_false_zero_children():
    ucdp = make_incident(
        parts=services.IncidentParts(casualty_rows=[Row("all", "killed", 5, 9, 7)])
    )
    _set_old_zeros()

    migration.recompute_totals(apps, _Editor())

    ucdp.refresh_from_db()
    assert (ucdp.children_killed_min, ucdp.children_killed_max) == (None, None)
    assert (ucdp.civilians_killed_min, ucdp.civilians_killed_max) == (None, None)
    assert (ucdp.total_killed_min, ucdp.total_killed_max) == (5, 9)


def test_the_migration_writes_only_incidents_whose_totals_change():
    """No audit event for an incident that is already right: the SQL skips it."""
    make_incident(
        parts=services.IncidentParts(casualty_rows=[Row("civilians", "killed", 1, 1)])
    )
    with connection.cursor() as cursor:
        cursor.execute(migration.recompute_sql() + " RETURNING i.id")
        assert cursor.fetchall() == []


def test_the_migration_is_reversible_as_a_noop():
    operation = migration.Migration.operations[0]
    assert operation.reversible
    assert operation.reverse_code is operation.noop
