"""The import command, load_demo, the background task, progress and the real files."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import time
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connections
from django.db.models import Sum

from incidents.importers import base
from incidents.models import Actor, CasualtyCount, ImportBatch, Incident
from incidents.tasks import run_import_batch
from tests.factories import import_reference_data
from tests.incidents.test_import_support import UCDP_191_COLUMNS, ucdp_row, write_csv

DATA = Path(settings.BASE_DIR) / "data"
UCDP_SYRIA = DATA / "ucdp_ged_syria_652.1601.1911.csv.gz"
UCDP_231 = DATA / "ucdp_ged231_sample_syria_uncertainUCDP.csv.gz"
INSECURITY = DATA / "insecurity_insight_attacks_on_health_care_2016_2023_syria.csv.gz"


@pytest.fixture
def reference_data(db):
    return import_reference_data()


def read_gz(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_the_command_imports_and_prints_a_summary(reference_data, tmp_path, capsys):
    path = write_csv(tmp_path / "ged.csv", UCDP_191_COLUMNS, [ucdp_row()])

    call_command(
        "import_incidents",
        str(path),
        format="ucdp-ged",
        release="19.1",
        release_date=dt.date(2019, 6, 1),
    )

    out = capsys.readouterr()
    assert (
        "created 1, updated 0, unchanged 0, skipped 0, rejected 0, warnings 0"
        in out.out
    )
    assert "progress: 1/1 rows" in out.err  # plain lines when stderr is not a terminal
    batch = ImportBatch.objects.get()
    assert batch.user.username == "importer"
    assert not batch.user.is_active
    assert not batch.user.has_usable_password()


def test_the_command_requires_a_release_for_ucdp(reference_data, tmp_path):
    path = write_csv(tmp_path / "ged.csv", UCDP_191_COLUMNS, [ucdp_row()])

    with pytest.raises(CommandError, match="--release"):
        call_command("import_incidents", str(path), format="ucdp-ged")


def test_a_file_imported_before_reuses_its_release(reference_data, tmp_path):
    path = write_csv(tmp_path / "ged.csv", UCDP_191_COLUMNS, [ucdp_row()])
    call_command(
        "import_incidents",
        str(path),
        format="ucdp-ged",
        release="19.1",
        release_date=dt.date(2019, 6, 1),
    )

    call_command("import_incidents", str(path), format="ucdp-ged")

    assert ImportBatch.objects.order_by("-pk").first().release == "19.1"


def test_the_task_runs_a_queued_batch(reference_data, tmp_path):
    path = write_csv(tmp_path / "ged.csv", UCDP_191_COLUMNS, [ucdp_row()])
    with path.open("rb") as handle:
        from django.core.files import File

        batch = base.batch_create(
            format="ucdp-ged",
            file_name="ged.csv",
            file=File(handle),
            release="19.1",
            release_date=dt.date(2019, 6, 1),
        )

    status = run_import_batch.call(batch.pk)

    assert status == "succeeded"
    assert Incident.objects.count() == 1


@pytest.mark.django_db(transaction=True)
def test_progress_is_visible_from_another_connection(tmp_path, monkeypatch):
    import_reference_data()
    rows = [ucdp_row(id=str(n)) for n in range(1, 2501)]
    path = write_csv(tmp_path / "ged.csv", UCDP_191_COLUMNS, rows)
    batch = base.batch_create(
        format="ucdp-ged",
        file_name="ged.csv",
        release="19.1",
        release_date=dt.date(2019, 6, 1),
    )
    seen = []
    original = base.Engine._run_chunk

    def spy(engine, chunk):
        original(engine, chunk)
        other = connections.create_connection("default")
        with other.cursor() as cursor:
            cursor.execute(
                "SELECT progress_done, progress_total FROM incidents_importbatch WHERE id = %s",
                [batch.pk],
            )
            seen.append(cursor.fetchone())
            cursor.execute("SELECT count(*) FROM incidents_incident")
            seen.append(cursor.fetchone()[0])
        other.close()

    monkeypatch.setattr(base.Engine, "_run_chunk", spy)
    update = base.ProgressWriter.update
    monkeypatch.setattr(
        base.ProgressWriter,
        "update",
        lambda self, done, force=False: update(self, done, force=True),
    )

    base.run_batch(batch, path)

    assert seen[0] == (0, 2500)  # written before the first chunk, visible outside
    assert seen[1] == 0  # the batch's own rows are not visible before it commits
    assert seen[2] == (1000, 2500)
    assert Incident.objects.count() == 2500


@pytest.mark.django_db(transaction=True)
def test_an_exception_half_way_leaves_no_trace(tmp_path, monkeypatch):
    import_reference_data()
    rows = [ucdp_row(id=str(n)) for n in range(1, 1501)]
    path = write_csv(tmp_path / "ged.csv", UCDP_191_COLUMNS, rows)
    batch = base.batch_create(
        format="ucdp-ged",
        file_name="ged.csv",
        release="19.1",
        release_date=dt.date(2019, 6, 1),
    )
    calls = Counter()
    original = base.Engine._bulk_create

    def explode(engine, plans):
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("power cut")
        original(engine, plans)

    monkeypatch.setattr(base.Engine, "_bulk_create", explode)

    with pytest.raises(RuntimeError):
        base.run_batch(batch, path)

    batch.refresh_from_db()
    assert Incident.objects.count() == 0
    assert batch.status == "failed"
    assert "power cut" in batch.failure_reason


# ---------------------------------------------------------------------------------------
# The real files (SLOW, kept in the suite: the whole UCDP Syria release; select them
# with -k real_data or leave them out with -k 'not real_data')
# ---------------------------------------------------------------------------------------


def test_real_data_the_real_ucdp_release_imports_fully_and_fast(reference_data, capsys):
    rows = read_gz(UCDP_SYRIA)
    started = time.monotonic()

    call_command(
        "import_incidents",
        str(UCDP_SYRIA),
        format="ucdp-ged",
        release="652.1601.1911",
        release_date=dt.date(2019, 12, 1),
        report_limit=0,
    )

    elapsed = time.monotonic() - started
    batch = ImportBatch.objects.get()
    assert batch.status == "succeeded"
    assert batch.rows_created == len(rows) == 16566
    assert Incident.objects.count() == 16566
    best = Incident.objects.filter(
        casualties__group="all", casualties__outcome="killed"
    ).aggregate(s=Sum("casualties__best"))["s"]
    assert best == sum(int(r["best"]) for r in rows)
    warned = [e for e in batch.report if any("range" in m for m in e["messages"])]
    assert len(warned) == 101
    per_year = Counter()
    for r in rows:
        per_year[int(r["date_start"][:4])] += int(r["best"])
    by_year = (
        CasualtyCount.objects.filter(group="all", outcome="killed")
        .values_list("incident__date_start__year")
        .annotate(total=Sum("best"))
    )
    assert dict(by_year) == dict(per_year)
    assert elapsed < 120  # target ≤ 30 s on an idle 2-core machine


def test_real_data_the_shipped_files_load_in_release_order_and_skip_when_loaded(
    reference_data,
):
    call_command("load_demo", skip_seed=True)
    shared = {r["id"] for r in read_gz(UCDP_SYRIA)} & {
        r["id"] for r in read_gz(UCDP_231)
    }
    second = ImportBatch.objects.get(release="23.1")
    ii = ImportBatch.objects.get(format="insecurity-insight")

    started = time.monotonic()
    call_command("load_demo", skip_seed=True)
    again = time.monotonic() - started

    assert len(shared) == 42
    assert second.rows_updated + second.rows_unchanged == 42
    assert second.rows_created == 265 - 42
    assert ii.rows_created == 904
    assert Incident.objects.filter(status="published").count() == 16566 + 223 + 904
    assert ImportBatch.objects.count() == 3
    assert again < 5
    older = ImportBatch.objects.order_by("pk").first()
    assert older.four_eyes_waived


def test_real_data_the_older_release_again_rolls_nothing_back(reference_data):
    call_command(
        "import_incidents",
        str(UCDP_231),
        format="ucdp-ged",
        release="23.1",
        release_date=dt.date(2023, 6, 1),
        report_limit=0,
    )
    values = dict(Incident.objects.values_list("pk", "version"))

    call_command(
        "import_incidents",
        str(UCDP_SYRIA),
        format="ucdp-ged",
        release="652.1601.1911",
        release_date=dt.date(2019, 12, 1),
        report_limit=0,
    )

    batch = ImportBatch.objects.order_by("-pk").first()
    assert batch.rows_skipped == 42
    assert batch.rows_created == 16566 - 42
    assert {
        pk: v for pk, v in Incident.objects.values_list("pk", "version") if pk in values
    } == values


def test_real_data_the_shipped_files_create_no_unknown_actor(reference_data):
    if not Actor.objects.exists():
        pytest.skip("the starting actor table (migration 0006) is not loaded")

    call_command("load_demo", skip_seed=True)

    assert (
        not Actor.objects.filter(kind="unknown").exclude(slug="unidentified").exists()
    )
