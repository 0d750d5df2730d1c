"""CivTrack CSV: export → edit in a spreadsheet → import, and another instance's file."""

from __future__ import annotations

import datetime as dt

import pytest

from incidents import services
from incidents.importers.civtrack_csv import CSV_COLUMNS, export_row
from incidents.models import ExternalRef, Incident
from tests.factories import import_reference_data, make_incident, researcher
from tests.incidents.test_import_support import rows_of, run, write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture
def incident():
    import_reference_data()
    return make_incident(
        parts=services.IncidentParts(
            casualty_rows=[services.CasualtyRowData("civilians", "killed", 3, 5, 4)]
        )
    )


def exported(incident) -> dict[str, str]:
    fresh = (
        Incident.objects.select_related(
            "public_location", "governorate", "incident_type"
        )
        .prefetch_related(
            "casualties",
            "attributions__actor",
            "weapons__weapon",
            "targets__target_type",
        )
        .get(pk=incident.pk)
    )
    return export_row(fresh)


def test_the_column_list_has_the_casualty_triples_and_version():
    assert {"code", "version", "perpetrators", "perpetrator_alternatives"} <= set(
        CSV_COLUMNS
    )
    assert "row_civilians_killed_min" in CSV_COLUMNS
    assert "row_all_abducted_best" in CSV_COLUMNS


def test_the_round_trip_changes_only_the_edited_fields(tmp_path, incident):
    row = exported(incident)
    row["title"] = "Edited in a spreadsheet"
    row["row_civilians_killed_max"] = "6"
    path = write_csv(tmp_path / "export.csv", CSV_COLUMNS, [row])
    before = {
        name: getattr(incident, name)
        for name in ("summary", "date_start", "location_id")
    }

    batch = run("civtrack", path, user=researcher())

    incident.refresh_from_db()
    assert batch.rows_updated == 1, batch.report
    assert incident.title == "Edited in a spreadsheet"
    assert incident.civilians_killed_max == 6
    assert incident.civilians_killed_min == 3
    assert {name: getattr(incident, name) for name in before} == before
    assert incident.version == int(row["version"]) + 1


def test_an_unedited_export_changes_nothing(tmp_path, incident):
    path = write_csv(tmp_path / "export.csv", CSV_COLUMNS, [exported(incident)])

    batch = run("civtrack", path)

    incident.refresh_from_db()
    assert batch.rows_unchanged == 1
    assert incident.version == 1


def test_a_stale_version_is_refused(tmp_path, incident):
    row = exported(incident)
    services.incident_update(
        incident=incident,
        expected_version=incident.version,
        fields={"summary": "meanwhile"},
        by=researcher(),
    )
    row["title"] = "Too late"
    path = write_csv(tmp_path / "export.csv", CSV_COLUMNS, [row])

    batch = run("civtrack", path)

    incident.refresh_from_db()
    assert batch.rows_rejected == 1
    assert incident.title != "Too late"
    assert (
        "someone changed the incident meanwhile"
        in rows_of(batch, "rejected")[0]["messages"][0]
    )


def test_a_changed_derived_column_is_ignored_with_a_warning(tmp_path, incident):
    row = exported(incident)
    row["total_killed_max"] = "99"
    path = write_csv(tmp_path / "export.csv", CSV_COLUMNS, [row])

    batch = run("civtrack", path)

    assert batch.rows_unchanged == 1
    assert "read-only" in rows_of(batch, "unchanged")[0]["messages"][0]


def test_another_instances_file_creates_incidents_with_codes_of_their_own(
    tmp_path, incident
):
    row = exported(incident)
    path = write_csv(tmp_path / "other.csv", CSV_COLUMNS, [row])

    batch = run(
        "civtrack",
        path,
        instance="aleppo-lab",
        release="2024-05",
        release_date=dt.date(2024, 5, 1),
    )

    ref = ExternalRef.objects.get(system="civtrack")
    assert batch.rows_created == 1
    assert ref.value == f"aleppo-lab/{incident.code}"
    assert ref.incident.code != incident.code
    assert ref.incident.civilians_killed_max == 5
