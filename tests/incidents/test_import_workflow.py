"""Issue 12 §3: imports pass the same permission check as every other write.

A researcher's import creates and updates drafts only: a row that would change an
incident in review or published is left untouched and reported "needs a reviewer" with
its line and external id, the rest of the batch goes on, and a reviewer re-running the
file applies it. Attacked through every way in: the engine, the admin's import page,
`POST /api/v1/imports/`, the command line, and a CivTrack CSV re-import.
"""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus

import pytest
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from incidents import admin_imports, services, tasks
from incidents.importers.base import ImportFileError, batch_create, run_batch
from incidents.importers.civtrack_csv import CSV_COLUMNS, export_row
from incidents.models import ExternalRef, ImportBatch, Incident
from incidents.tasks import run_import_batch
from tests.factories import (
    api_token,
    import_reference_data,
    make_incident,
    researcher,
    reviewer,
)
from tests.incidents.test_import_support import (
    UCDP_191_COLUMNS,
    rows_of,
    run,
    ucdp_row,
    write_csv,
)

pytestmark = pytest.mark.django_db

NEWER = {"release": "23.1", "release_date": dt.date(2023, 6, 1)}


@pytest.fixture(autouse=True)
def reference_data():
    return import_reference_data()


def _rows(**changes) -> list[dict[str, str]]:
    return [ucdp_row(id=str(n), **changes) for n in (1, 2, 3)]


@pytest.fixture
def three(tmp_path):
    """UCDP events 1, 2, 3 imported (by the system account) as drafts; then 2 is
    submitted for review and 3 is reviewed and published. Returns them by id and the
    newer file that changes all three (casualties 4–5 → 35–45)."""
    first = write_csv(tmp_path / "first.csv", UCDP_191_COLUMNS, _rows())
    run("ucdp-ged", first, release="19.1", release_date=dt.date(2019, 6, 1))
    incidents = {
        ref.value: ref.incident
        for ref in ExternalRef.objects.select_related("incident")
    }
    author = researcher()
    incidents["2"] = services.incident_submit(incident=incidents["2"], by=author)
    submitted = services.incident_submit(incident=incidents["3"], by=author)
    incidents["3"] = services.incident_publish(
        incident=submitted, expected_version=submitted.version, by=reviewer()
    )
    newer = write_csv(
        tmp_path / "newer.csv",
        UCDP_191_COLUMNS,
        _rows(low=35, best=40, high=45, deaths_unknown=31),
    )
    return incidents, newer


def _state(incident: Incident):
    incident = Incident.objects.get(pk=incident.pk)
    rows = sorted(
        (c.group, c.outcome, c.min, c.max, c.best) for c in incident.casualties.all()
    )
    return incident.status, incident.version, rows


def _assert_reported_and_untouched(batch, incidents, before) -> None:
    """Events 2 and 3 are skipped "needs a reviewer" with line and id; 1 is updated."""
    assert batch.status == "succeeded", batch.failure_reason
    assert batch.rows_updated == 1
    assert batch.rows_skipped == 2
    skipped = {entry["external_id"]: entry for entry in rows_of(batch, "skipped")}
    assert set(skipped) == {"2", "3"}
    for value, line in (("2", 3), ("3", 4)):
        entry = skipped[value]
        assert entry["line"] == line
        assert entry["reason"] == "needs a reviewer"
        assert entry["incident"] == incidents[value].code
        assert any("needs a reviewer" in m for m in entry["messages"]), entry
        assert _state(incidents[value]) == before[value]
    assert [e["external_id"] for e in rows_of(batch, "updated")] == ["1"]
    assert _state(incidents["1"]) != before["1"]


def _before(incidents):
    return {value: _state(incident) for value, incident in incidents.items()}


# ---------------------------------------------------------------------------------------
# The engine (every format goes through it) and a reviewer's re-run
# ---------------------------------------------------------------------------------------


def test_a_researchers_import_leaves_in_review_and_published_incidents_alone(three):
    incidents, newer = three
    before = _before(incidents)

    batch = run("ucdp-ged", newer, user=researcher(), **NEWER)

    _assert_reported_and_untouched(batch, incidents, before)
    assert not ImportBatch.objects.filter(pk=batch.pk, rows_rejected__gt=0).exists()


def test_a_reviewers_re_run_applies_what_the_researchers_left(three):
    incidents, newer = three
    run("ucdp-ged", newer, user=researcher(), **NEWER)
    checker = reviewer()

    in_review_only = run("ucdp-ged", newer, user=checker, **NEWER)
    with_publish = run("ucdp-ged", newer, user=checker, publish=True, **NEWER)

    # Without --publish a published incident stays as it is (IMPORTS.md), with its
    # own reason; with --publish the reviewer's batch applies it.
    assert [e["external_id"] for e in rows_of(in_review_only, "updated")] == ["2"]
    assert [e.get("reason") for e in rows_of(in_review_only, "skipped")] == [
        "published"
    ]
    assert [e["external_id"] for e in rows_of(with_publish, "updated")] == ["3"]
    for value in ("2", "3"):
        *_, rows = _state(incidents[value])
        assert ("all", "killed", 35, 45, 40) in rows


def test_the_system_account_imports_with_a_reviewers_rights(three):
    incidents, newer = three

    batch = run("ucdp-ged", newer, **NEWER)  # no user: the `importer` account

    assert batch.user.username == "importer"
    assert [e["external_id"] for e in rows_of(batch, "updated")] == ["1", "2"]
    assert _state(incidents["2"])[0] == "in_review"


def test_the_update_service_itself_refuses_a_researchers_batch(three):
    """No path around the engine's check: the service checks the batch's user too."""
    incidents, _newer = three
    batch = batch_create(format="ucdp-ged", file_name="x.csv", user=researcher())
    current = Incident.objects.get(pk=incidents["2"].pk)

    with pytest.raises(PermissionDenied, match="needs a reviewer"):
        services.incident_update(
            incident=current,
            expected_version=current.version,
            fields={"title": "Changed by a file"},
            by=None,
            batch=batch,
        )

    assert Incident.objects.get(pk=current.pk).title == current.title


def test_a_login_account_named_importer_gets_no_reviewers_rights():
    user = researcher(username="importer")

    assert not services.import_acts_as_reviewer(user)
    system = services.system_user()
    assert system.pk == user.pk
    assert services.import_acts_as_reviewer(system)  # made unusable first
    assert not system.is_active
    assert not system.has_usable_password()


# ---------------------------------------------------------------------------------------
# The admin's import page, the API and the command line
# ---------------------------------------------------------------------------------------


def test_through_the_admin_a_researchers_import_needs_a_reviewer(
    three, client, monkeypatch
):
    incidents, newer = three
    before = _before(incidents)
    monkeypatch.setattr(
        admin_imports, "enqueue", lambda batch: run_import_batch.call(batch.pk)
    )
    client.force_login(researcher())
    client.post(
        reverse("admin:incidents_importbatch_import"),
        {
            "file": SimpleUploadedFile("newer.csv", newer.read_bytes()),
            "format": "ucdp-ged",
            "release": "23.1",
            "release_date": "2023-06-01",
        },
    )
    dry = ImportBatch.objects.get(file_name="newer.csv")

    client.post(reverse("admin:incidents_importbatch_confirm", args=[dry.pk]))

    real = ImportBatch.objects.get(file_name="newer.csv", dry_run=False)
    _assert_reported_and_untouched(real, incidents, before)
    page = client.get(reverse("admin:incidents_importbatch_progress", args=[real.pk]))
    assert b"needs a reviewer" in page.content


def test_through_the_api_a_researchers_import_needs_a_reviewer(three, monkeypatch):
    incidents, newer = three
    before = _before(incidents)

    class Inline:  # the API's background task, run at once
        def enqueue(self, batch_id):
            return run_import_batch.call(batch_id)

    monkeypatch.setattr(tasks, "run_import_batch", Inline())
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(researcher())}")

    response = client.post(
        reverse("api:import-list"),
        {
            "file": SimpleUploadedFile("newer.csv", newer.read_bytes()),
            "format": "ucdp-ged",
            "release": "23.1",
            "release_date": "2023-06-01",
        },
        format="multipart",
    )

    assert response.status_code == HTTPStatus.ACCEPTED, response.content
    batch = ImportBatch.objects.get(pk=response.json()["id"])
    _assert_reported_and_untouched(batch, incidents, before)
    progress = client.get(response.json()["url"]).json()
    assert progress["counts"]["skipped"] == 2
    assert {
        (e["line"], e["external_id"], e.get("reason"))
        for e in progress["report"]
        if e["action"] == "skipped"
    } == {(3, "2", "needs a reviewer"), (4, "3", "needs a reviewer")}


def test_on_the_command_line_user_researcher_needs_a_reviewer(three, capsys):
    incidents, newer = three
    before = _before(incidents)
    user = researcher()

    call_command(
        "import_incidents", str(newer), format="ucdp-ged", user=user.username, **NEWER
    )

    batch = ImportBatch.objects.latest("pk")
    assert batch.user == user
    _assert_reported_and_untouched(batch, incidents, before)
    out = capsys.readouterr().out
    assert "line 3 2: skipped" in out
    assert "needs a reviewer" in out


# ---------------------------------------------------------------------------------------
# --publish is a reviewer's choice on every path
# ---------------------------------------------------------------------------------------


def test_publish_with_a_researcher_is_refused_on_the_command_line(tmp_path):
    path = write_csv(tmp_path / "a.csv", UCDP_191_COLUMNS, [ucdp_row()])
    user = researcher()

    with pytest.raises(CommandError, match="Only reviewers and admins"):
        call_command(
            "import_incidents",
            str(path),
            format="ucdp-ged",
            user=user.username,
            publish=True,
            **NEWER,
        )

    assert not Incident.objects.exists()
    with pytest.raises(ImportFileError):
        batch_create(format="ucdp-ged", file_name="a.csv", user=user, publish=True)


def test_the_publish_service_refuses_a_researchers_batch(tmp_path):
    """A batch row forged with publish=True (bypassing batch_create) publishes nothing."""
    incident = make_incident()
    batch = ImportBatch.objects.create(
        format="ucdp-ged", file_name="x.csv", user=researcher(), publish=True
    )

    with pytest.raises(PermissionDenied):
        services.incident_publish(
            incident=incident, expected_version=incident.version, by=None, batch=batch
        )

    incident.refresh_from_db()
    assert incident.status == "draft"


# ---------------------------------------------------------------------------------------
# A CivTrack CSV re-import (the instance's own export, matched by code)
# ---------------------------------------------------------------------------------------


def test_a_researchers_civtrack_csv_skips_an_incident_in_review(tmp_path):
    draft = make_incident(title="A draft")
    in_review = make_incident(title="In review", status=Incident.Status.IN_REVIEW)
    rows = []
    for incident in (draft, in_review):
        row = export_row(Incident.objects.get(pk=incident.pk))
        row["title"] = f"{incident.title}, edited in a spreadsheet"
        rows.append(row)
    path = write_csv(tmp_path / "export.csv", CSV_COLUMNS, rows)
    before = _state(in_review)

    batch = run("civtrack", path, user=researcher())

    assert batch.status == "succeeded", batch.failure_reason
    assert (batch.rows_updated, batch.rows_skipped, batch.rows_rejected) == (1, 1, 0)
    (entry,) = rows_of(batch, "skipped")
    assert (entry["line"], entry["external_id"], entry["reason"]) == (
        3,
        in_review.code,
        "needs a reviewer",
    )
    assert _state(in_review) == before
    assert Incident.objects.get(pk=in_review.pk).title == "In review"

    # The draft's row now carries an old version (rejected); the rest goes on.
    again = run("civtrack", path, user=reviewer(), skip_bad_rows=True)

    assert (again.rows_updated, again.rows_rejected) == (1, 1)
    assert (
        Incident.objects.get(pk=in_review.pk).title
        == "In review, edited in a spreadsheet"
    )


def test_a_forged_publish_batch_of_a_researcher_fails_and_writes_nothing(tmp_path):
    """_bulk_publish trusts the batch: the run checks its user before any row."""
    path = write_csv(tmp_path / "a.csv", UCDP_191_COLUMNS, [ucdp_row()])
    batch = ImportBatch.objects.create(
        format="ucdp-ged",
        file_name="a.csv",
        user=researcher(),
        publish=True,
        release="19.1",
        release_date=dt.date(2019, 6, 1),
    )

    run_batch(batch, path)

    batch.refresh_from_db()
    assert batch.status == "failed"
    assert "Only reviewers and admins" in batch.failure_reason
    assert not Incident.objects.exists()
