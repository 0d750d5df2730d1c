"""Bad files given to `manage.py import_incidents` (issue 4, "Bad input"): each gets one
clear message (line, column, what was expected), the command exits non-zero without a
traceback, and the database is left exactly as it was."""

from __future__ import annotations

import datetime as dt
import tracemalloc

import pytest
from django.apps import apps
from django.db import connections

from incidents.importers import base
from incidents.management.commands.import_incidents import Command
from incidents.models import ImportBatch
from tests.factories import import_reference_data
from tests.incidents.test_import_support import (
    II_COLUMNS,
    UCDP_191_COLUMNS,
    ii_row,
    ucdp_row,
    write_csv,
)

pytestmark = pytest.mark.django_db

# Everything an import may write, apart from its own ImportBatch row.
TRACKED = (
    "Incident",
    "CasualtyCount",
    "Attribution",
    "IncidentWeapon",
    "IncidentTarget",
    "Citation",
    "ExternalRef",
    "Actor",
    "ActorName",
    "Location",
    "LocationName",
    "Source",
    "PublicChange",
    "IncidentEvent",
    "ActorEvent",
    "LocationEvent",
    "SourceEvent",
    "ExternalRefEvent",
)


@pytest.fixture(autouse=True)
def reference_data():
    return import_reference_data()


def db_state() -> dict[str, int]:
    return {name: apps.get_model("incidents", name).objects.count() for name in TRACKED}


def manage(capsys, monkeypatch, *args: str) -> tuple[int, str, str]:
    """Run the command as `manage.py import_incidents …` does (argv parsing, CommandError
    printed to stderr, the exit status) and return (status, stdout, stderr)."""
    # run_from_argv closes the connections at the end; the test's transaction stays.
    monkeypatch.setattr(connections, "close_all", lambda: None)
    argv = ["manage.py", "import_incidents", "--skip-checks", *args]
    try:
        Command().run_from_argv(argv)
        status = 0
    except SystemExit as exit_:
        status = exit_.code
    out = capsys.readouterr()
    return status, out.out, out.err


def ucdp(path, capsys, monkeypatch, *extra: str):
    return manage(
        capsys,
        monkeypatch,
        str(path),
        "--format=ucdp-ged",
        "--release=19.1",
        "--release-date=2019-06-01",
        *extra,
    )


def assert_refused(status: int, err: str, *expected: str) -> None:
    assert status != 0
    assert "Traceback" not in err
    errors = [line for line in err.splitlines() if line.startswith("CommandError:")]
    assert len(errors) == 1, err
    for text in expected:
        assert text in errors[0]


def test_a_truncated_file_names_the_line_and_column_cut_off(
    tmp_path, capsys, monkeypatch
):
    rows = [ucdp_row(id="1"), ucdp_row(id="2"), ucdp_row(id="3")]
    path = write_csv(tmp_path / "ged.csv", UCDP_191_COLUMNS, rows)
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b"SOHR") + 2])  # cut inside a quoted value
    before = db_state()

    status, _out, err = ucdp(path, capsys, monkeypatch)

    assert_refused(
        status,
        err,
        "Line 4, column 'source_article'",
        "ends inside a quoted value",
        "truncated",
    )
    assert db_state() == before
    batch = ImportBatch.objects.get()
    assert batch.status == "failed"
    assert "Line 4" in batch.failure_reason


def test_a_record_cut_at_a_field_boundary_is_rejected_naming_the_missing_column(
    tmp_path, capsys, monkeypatch
):
    path = write_csv(tmp_path / "ged.csv", UCDP_191_COLUMNS, [ucdp_row(id="1")])
    with path.open("a", encoding="utf-8") as handle:
        handle.write("2,2016,,1\n")
    before = db_state()

    status, out, err = ucdp(path, capsys, monkeypatch)

    assert_refused(status, err, "1 row(s) rejected: nothing was written")
    assert "line 3: 4 fields, the header has 41" in out
    assert "missing from 'conflict_new_id' on" in out
    assert db_state() == before


def test_the_wrong_format_is_one_message_naming_the_missing_columns(
    tmp_path, capsys, monkeypatch
):
    path = write_csv(tmp_path / "health.csv", II_COLUMNS, [ii_row()])
    before = db_state()

    status, _out, err = ucdp(path, capsys, monkeypatch)

    assert_refused(
        status,
        err,
        "Line 1: the header lacks the column(s) 'id', 'type_of_violence'",
        "is this the right --format?",
        "use --format insecurity-insight",
    )
    assert db_state() == before


def test_a_header_missing_a_column_names_it(tmp_path, capsys, monkeypatch):
    columns = [c for c in UCDP_191_COLUMNS if c != "date_start"]
    path = write_csv(tmp_path / "ged.csv", columns, [ucdp_row()])
    before = db_state()

    status, _out, err = ucdp(path, capsys, monkeypatch)

    assert_refused(status, err, "Line 1: the header lacks the column(s) 'date_start'")
    assert "use --format" not in err  # no other format fits either
    assert db_state() == before


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"best": "12a"},
            "line 3, column 'best': '12a' is not a whole number",
        ),
        (
            {"date_start": "2016-02-30", "date_end": "2016-02-30"},
            "line 3, column 'date_start': '2016-02-30' is not a valid date "
            "(expected YYYY-MM-DD)",
        ),
    ],
    ids=["letters-in-a-number", "february-30"],
)
def test_a_bad_value_names_line_column_and_what_was_expected(
    tmp_path, capsys, monkeypatch, values, expected
):
    rows = [ucdp_row(id="1"), ucdp_row(id="2", **values), ucdp_row(id="3")]
    path = write_csv(tmp_path / "ged.csv", UCDP_191_COLUMNS, rows)
    before = db_state()

    status, out, err = ucdp(path, capsys, monkeypatch)

    assert_refused(status, err, "1 row(s) rejected: nothing was written")
    assert expected in out
    assert db_state() == before


def test_skip_bad_rows_imports_the_good_rows_and_reports_the_bad_one(
    tmp_path, capsys, monkeypatch
):
    rows = [ucdp_row(id="1"), ucdp_row(id="2", best="12a"), ucdp_row(id="3")]
    path = write_csv(tmp_path / "ged.csv", UCDP_191_COLUMNS, rows)

    status, out, _err = ucdp(path, capsys, monkeypatch, "--skip-bad-rows")

    assert status == 0
    assert "created 2, updated 0, unchanged 0, skipped 0, rejected 1" in out
    assert "line 3, column 'best': '12a' is not a whole number" in out


def test_an_empty_file_is_refused(tmp_path, capsys, monkeypatch):
    path = tmp_path / "ged.csv"
    path.write_bytes(b"")
    before = db_state()

    status, _out, err = ucdp(path, capsys, monkeypatch)

    assert_refused(status, err, "The file is empty: expected a header row and records.")
    assert db_state() == before


def test_a_file_of_blank_lines_is_empty_too(tmp_path, capsys, monkeypatch):
    path = tmp_path / "ged.csv"
    path.write_bytes(b"\xef\xbb\xbf\r\n  \n\n")

    status, _out, err = ucdp(path, capsys, monkeypatch)

    assert_refused(status, err, "The file is empty")


def test_a_latin1_file_names_the_line_and_byte(tmp_path, capsys, monkeypatch):
    path = write_csv(tmp_path / "ged.csv", UCDP_191_COLUMNS, [ucdp_row(id="1")])
    row = write_csv(tmp_path / "row.csv", UCDP_191_COLUMNS, [ucdp_row(id="2")])
    second = row.read_text(encoding="utf-8").splitlines()[1]
    latin1 = second.replace("Teir Maaleh", "Teir Ma\u00e2leh").encode("latin-1")
    data = path.read_bytes()
    path.write_bytes(data + latin1 + b"\r\n")
    before = db_state()

    status, _out, err = ucdp(path, capsys, monkeypatch)

    offset = len(data) + latin1.index(b"\xe2")
    assert_refused(
        status,
        err,
        f"Line 3: the file is not UTF-8 (byte 0xe2 at offset {offset})",
        "save it as UTF-8 CSV",
    )
    assert db_state() == before


def test_a_gzip_file_cut_short_is_refused(tmp_path, capsys, monkeypatch):
    import gzip

    rows = [ucdp_row(id=str(n)) for n in range(1, 200)]
    plain = write_csv(tmp_path / "ged.csv", UCDP_191_COLUMNS, rows)
    packed = gzip.compress(plain.read_bytes())
    path = tmp_path / "ged.csv.gz"
    path.write_bytes(packed[: len(packed) // 2])
    before = db_state()

    status, _out, err = ucdp(path, capsys, monkeypatch)

    assert_refused(status, err, "cannot be decompressed", "is it truncated?")
    assert db_state() == before


def test_a_50_mb_file_is_read_as_a_stream_with_a_clear_outcome(
    tmp_path, capsys, monkeypatch
):
    """50 MB of rows with a valid header: the importer never holds the file (it reads
    it twice as a stream), rejects every row and writes nothing."""
    columns = UCDP_191_COLUMNS
    path = tmp_path / "big.csv"
    header = write_csv(tmp_path / "h.csv", columns, [ucdp_row()]).read_text()
    head, template = header.splitlines()[:2]
    template = template.replace(",4,4,5", ",4,many,5")  # low, best, high
    assert template.endswith(",4,many,5")
    padding = "x" * 4000
    target = 50 * 1024 * 1024
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(head + "\r\n")
        written, n = 0, 0
        while written < target:
            n += 1
            line = f"{n},{template.split(',', 1)[1]}".replace(
                "Shelling on the town", padding
            )
            handle.write(line + "\r\n")
            written += len(line) + 2
    size = path.stat().st_size
    assert size >= target
    before = db_state()

    tracemalloc.start()
    try:
        status, out, err = ucdp(path, capsys, monkeypatch, "--report-limit=3")
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()

    assert_refused(status, err, f"{n} row(s) rejected: nothing was written")
    assert "line 2, column 'best': 'many' is not a whole number" in out
    assert f"… {n - 3} more rows in the batch report" in out
    assert peak < size / 2, (
        f"peak {peak / 2**20:.0f} MB for a {size / 2**20:.0f} MB file"
    )
    assert db_state() == before
    batch = ImportBatch.objects.get()
    assert (batch.rows_read, batch.rows_rejected) == (n, n)


def test_a_crash_half_way_is_one_clean_message_and_leaves_no_trace(
    tmp_path, capsys, monkeypatch
):
    rows = [ucdp_row(id=str(n)) for n in range(1, 1501)]
    path = write_csv(tmp_path / "ged.csv", UCDP_191_COLUMNS, rows)
    before = db_state()
    original = base.Engine._bulk_create
    calls = []

    def explode(engine, plans):
        calls.append(len(plans))
        if len(calls) == 2:
            raise RuntimeError("power cut")
        original(engine, plans)

    monkeypatch.setattr(base.Engine, "_bulk_create", explode)

    status, _out, err = ucdp(path, capsys, monkeypatch)

    assert calls == [1000, 500]  # the first chunk was written, then rolled back
    assert_refused(status, err, "failed: RuntimeError: power cut. Nothing was written.")
    assert db_state() == before
    batch = ImportBatch.objects.get()
    assert batch.status == "failed"
    assert batch.failure_reason == "RuntimeError: power cut"


def test_the_file_is_hashed_as_before(tmp_path):
    path = write_csv(tmp_path / "ged.csv", UCDP_191_COLUMNS, [ucdp_row()])
    import gzip
    import hashlib

    packed = tmp_path / "ged.csv.gz"
    packed.write_bytes(gzip.compress(path.read_bytes()))
    batch = base.batch_create(
        format="ucdp-ged",
        file_name="ged.csv.gz",
        release="19.1",
        release_date=dt.date(2019, 6, 1),
    )

    base.run_batch(batch, packed)

    assert batch.status == "succeeded"
    assert batch.sha256 == hashlib.sha256(packed.read_bytes()).hexdigest()


def test_the_report_is_english_whatever_language_the_thread_has_active(tmp_path):
    from django.utils import translation

    from tests.incidents.test_import_support import rows_of, run

    first = write_csv(tmp_path / "a.csv", UCDP_191_COLUMNS, [ucdp_row()])
    run("ucdp-ged", first, release="19.1", release_date=dt.date(2019, 6, 1))
    newer = write_csv(tmp_path / "b.csv", UCDP_191_COLUMNS, [ucdp_row(best=5, high=6)])

    with translation.override("ar"):
        batch = run("ucdp-ged", newer, release="23.1", release_date=dt.date(2023, 6, 1))

    assert (
        "everyone killed: 4–5 (best 4) → 4–6 (best 5)"
        in (rows_of(batch, "updated")[0]["messages"])
    )
