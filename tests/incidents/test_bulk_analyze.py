"""Issue 12 §9: every bulk write ends with ANALYZE of the tables it filled.

Right after `make run` the planner had no statistics for the freshly loaded tables (a
server whose autovacuum is off, or has not run yet) and a count of
`external_ref=ucdp_ged` with a date window took 7–27 s. The tests count explicit
ANALYZE runs (`pg_stat_user_tables.analyze_count`; autovacuum's own runs are counted
apart, in `autoanalyze_count`, so they cannot make a test pass), not time.
"""

from __future__ import annotations

import gzip
import shutil

import pytest
from django.core.management import call_command
from django.db import connection

from incidents.dbstats import import_tables
from incidents.management.commands.load_demo import DEMO_FILES
from incidents.models import ImportBatch, Incident
from tests.incidents.test_import_support import (
    II_COLUMNS,
    II_HXL,
    UCDP_191_COLUMNS,
    ii_row,
    run,
    ucdp_row,
    write_csv,
)

pytestmark = pytest.mark.django_db

# What an import of one new incident fills, whatever else it touches.
FILLED_BY_AN_IMPORT = (
    "incidents_incident",
    "incidents_casualtycount",
    "incidents_attribution",
    "incidents_incidenttarget",
    "incidents_incidentweapon",
    "incidents_citation",
    "incidents_externalref",
    "incidents_incidentevent",
    "incidents_externalrefevent",
)


def analyze_counts() -> dict[str, int]:
    """Explicit ANALYZE runs per table, read afresh (the statistics views are otherwise
    a snapshot taken once per transaction)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute("SELECT relname, analyze_count FROM pg_stat_user_tables")
        return dict(cursor.fetchall())


def analysed_since(before: dict[str, int]) -> set[str]:
    after = analyze_counts()
    return {table for table, count in after.items() if count > before.get(table, 0)}


def test_the_import_tables_cover_what_an_import_fills():
    assert set(FILLED_BY_AN_IMPORT) <= set(import_tables())


def test_an_import_analyses_every_table_it_filled(tmp_path):
    path = write_csv(tmp_path / "ii.csv", II_COLUMNS, [II_HXL, ii_row()])
    before = analyze_counts()

    batch = run("insecurity-insight", path)

    assert batch.status == ImportBatch.Status.SUCCEEDED
    assert Incident.objects.count() == 1
    assert set(FILLED_BY_AN_IMPORT) <= analysed_since(before)


def test_an_import_through_the_command_analyses_too(tmp_path):
    path = write_csv(tmp_path / "ucdp.csv", UCDP_191_COLUMNS, [ucdp_row()])
    before = analyze_counts()

    call_command(
        "import_incidents",
        str(path),
        format="ucdp-ged",
        release="19.1",
        release_date="2019-12-01",
        verbosity=0,
    )

    assert Incident.objects.count() == 1
    assert set(FILLED_BY_AN_IMPORT) <= analysed_since(before)


def test_a_dry_run_writes_nothing_and_analyses_nothing(tmp_path):
    path = write_csv(tmp_path / "ii.csv", II_COLUMNS, [II_HXL, ii_row()])
    before = analyze_counts()

    run("insecurity-insight", path, dry_run=True)

    assert Incident.objects.count() == 0
    assert not analysed_since(before) & set(FILLED_BY_AN_IMPORT)


def test_load_demo_analyses_what_it_loaded(tmp_path):
    """load_demo on three small files in the shipped files' names (the real ones take
    minutes): every table the demo fills has fresh statistics afterwards."""
    rows = {
        "ucdp_ged_syria_652.1601.1911.csv.gz": (UCDP_191_COLUMNS, [ucdp_row()]),
        "ucdp_ged231_sample_syria_uncertainUCDP.csv.gz": (
            UCDP_191_COLUMNS,
            [ucdp_row(id="900002")],
        ),
        "insecurity_insight_attacks_on_health_care_2016_2023_syria.csv.gz": (
            II_COLUMNS,
            [II_HXL, ii_row()],
        ),
    }
    assert set(rows) == {name for _format, name, _release, _date in DEMO_FILES}
    for name, (columns, content) in rows.items():
        plain = write_csv(tmp_path / name.removesuffix(".gz"), columns, content)
        with plain.open("rb") as source, gzip.open(tmp_path / name, "wb") as target:
            shutil.copyfileobj(source, target)
    before = analyze_counts()

    call_command("load_demo", data_dir=str(tmp_path), skip_seed=True, verbosity=0)

    assert Incident.objects.count() == 3
    assert set(FILLED_BY_AN_IMPORT) <= analysed_since(before)

    # A later start finds every file loaded: it writes nothing and analyses nothing
    # (`make run` starts in a second or two).
    before = analyze_counts()
    call_command("load_demo", data_dir=str(tmp_path), skip_seed=True, verbosity=0)
    assert not analysed_since(before) & set(FILLED_BY_AN_IMPORT)


def test_synthetic_generation_analyses_what_it_loaded():
    before = analyze_counts()

    call_command("generate_synthetic", incidents=50, seed=3, no_progress=True)

    assert Incident.objects.filter(synthetic=True).count() == 50
    assert {
        "incidents_incident",
        "incidents_casualtycount",
        "incidents_attribution",
        "incidents_citation",
        "incidents_location",
        "incidents_actor",
        "incidents_source",
    } <= analysed_since(before)


def test_deleting_synthetic_data_analyses_the_tables_it_emptied():
    call_command("generate_synthetic", incidents=20, seed=4, no_progress=True)
    before = analyze_counts()

    call_command("generate_synthetic", delete=True, no_progress=True)

    assert not Incident.objects.filter(synthetic=True).exists()
    assert {
        "incidents_incident",
        "incidents_casualtycount",
        "incidents_attribution",
        "incidents_citation",
        "incidents_externalref",
    } <= analysed_since(before)
