"""`POST /sources/` (hash computed by the server, 409 on a duplicate) and
`POST /imports/` + `GET /imports/{id}/` (202 and a progress resource)."""

from __future__ import annotations

import datetime as dt
import hashlib
import sys
import types
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from incidents.models import ImportBatch, Source
from tests.factories import SourceFactory, api_token, researcher, reviewer

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n% a small report\n"


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    return client


# ---------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------


def test_it_creates_a_source_from_json():
    user = researcher()

    response = client_for(user).post(
        reverse("api:source-list"),
        {
            "kind": "ngo_report",
            "title": "Attacks on health care, February 2016",
            "publisher": "Example NGO",
            "url": "https://ngo.example.org/feb-2016",
            "published_on": "2016-03-01",
        },
        format="json",
    )

    assert response.status_code == HTTPStatus.CREATED, response.json()
    source = Source.objects.get()
    assert response.json()["id"] == source.pk
    assert response["Location"].endswith(f"/api/v1/sources/{source.pk}/")
    assert source.created_by == user
    assert source.published_on == dt.date(2016, 3, 1)
    assert source.sha256 == ""


def test_it_computes_the_hash_size_and_type_of_an_upload():
    upload = SimpleUploadedFile("report.pdf", PDF, content_type="application/pdf")

    response = client_for(researcher()).post(
        reverse("api:source-list"),
        {
            "kind": "ngo_report",
            "title": "Report",
            "file": upload,
            "sha256": "0" * 64,
        },
        format="multipart",
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST  # sha256 is the server's
    assert "sha256" in response.json()

    upload.seek(0)
    response = client_for(researcher()).post(
        reverse("api:source-list"),
        {"kind": "ngo_report", "title": "Report", "file": upload},
        format="multipart",
    )

    assert response.status_code == HTTPStatus.CREATED, response.json()
    body = response.json()
    assert body["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert body["size"] == len(PDF)
    assert body["mime"] == "application/pdf"
    source = Source.objects.get()
    assert source.file.read() == PDF


def test_a_duplicate_url_is_409_pointing_at_the_existing_source():
    existing = SourceFactory(url="https://news.example.org/strike")

    response = client_for(researcher()).post(
        reverse("api:source-list"),
        {"kind": "news_report", "title": "Same", "url": existing.url},
        format="json",
    )

    assert response.status_code == HTTPStatus.CONFLICT
    body = response.json()
    assert body["existing"]["id"] == existing.pk
    assert body["existing"]["url"] == existing.url
    assert body["detail"]
    assert Source.objects.count() == 1


def test_a_duplicate_file_is_409_pointing_at_the_existing_source():
    client = client_for(researcher())
    first = client.post(
        reverse("api:source-list"),
        {"kind": "photo", "title": "Photo", "file": SimpleUploadedFile("a.pdf", PDF)},
        format="multipart",
    )

    response = client.post(
        reverse("api:source-list"),
        {"kind": "photo", "title": "Copy", "file": SimpleUploadedFile("b.pdf", PDF)},
        format="multipart",
    )

    assert first.status_code == HTTPStatus.CREATED
    assert response.status_code == HTTPStatus.CONFLICT
    assert response.json()["existing"]["id"] == first.json()["id"]
    assert Source.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "No kind"}, "kind"),
        ({"kind": "rumour", "title": "x"}, "kind"),
        ({"kind": "news_report", "title": "x", "url": "not a url"}, "url"),
        ({"kind": "news_report", "title": "x" * 501}, "title"),
        (
            {"kind": "news_report", "title": "x", "published_on": "yesterday"},
            "published_on",
        ),
        ({"kind": "news_report", "title": "x", "owner": "me"}, "owner"),
    ],
)
def test_a_bad_source_is_400_naming_the_field(body, field):
    response = client_for(researcher()).post(
        reverse("api:source-list"), body, format="json"
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert field in response.json()
    assert Source.objects.count() == 0


@pytest.mark.parametrize("role", ["researcher", "reviewer"])
def test_a_new_file_starts_protected_and_publishing_it_is_asked_for(role):
    """Issue 12 §2 (DOMAIN.md "Lowering protection"): a new file starts protected,
    whoever adds it; `file_public` becomes a request a second person approves."""
    body = {"kind": "photo", "title": "Photo", "file_public": True}
    user = researcher() if role == "researcher" else reviewer()

    response = client_for(user).post(reverse("api:source-list"), body, format="json")

    assert response.status_code == HTTPStatus.CREATED
    assert response.json()["file_public"] is False
    assert Source.objects.get().file_public is False
    [asked] = response.json()["protection_requests"]
    assert "/api/v1/protection-requests/" in asked


# ---------------------------------------------------------------------------------------
# Imports
# ---------------------------------------------------------------------------------------


@pytest.fixture
def enqueued(monkeypatch):
    """Stands in for incidents.tasks.run_import_batch: records what was enqueued."""
    calls: list[int] = []

    class FakeTask:
        def enqueue(self, batch_id):
            calls.append(batch_id)

    module = sys.modules.get("incidents.tasks")
    if module is None:
        module = types.ModuleType("incidents.tasks")
        monkeypatch.setitem(sys.modules, "incidents.tasks", module)
    monkeypatch.setattr(module, "run_import_batch", FakeTask(), raising=False)
    return calls


def csv_upload(name="ged.csv", content=b"id,year\n1,2016\n"):
    return SimpleUploadedFile(name, content, content_type="text/csv")


def test_an_import_is_accepted_and_enqueued(enqueued):
    user = researcher()

    response = client_for(user).post(
        reverse("api:import-list"),
        {
            "file": csv_upload(),
            "format": "ucdp-ged",
            "dry_run": "true",
            "release": "23.1",
            "release_date": "2023-06-01",
            "note": "Test run",
        },
        format="multipart",
    )

    assert response.status_code == HTTPStatus.ACCEPTED, response.json()
    body = response.json()
    batch = ImportBatch.objects.get()
    assert body["id"] == batch.pk
    assert body["status"] == "queued"
    assert body["url"].endswith(f"/api/v1/imports/{batch.pk}/")
    assert enqueued == [batch.pk]
    assert batch.user == user
    assert batch.dry_run is True
    assert batch.publish is False
    assert batch.release == "23.1"
    assert batch.release_date == dt.date(2023, 6, 1)
    assert batch.file_name == "ged.csv"
    assert batch.file.read() == b"id,year\n1,2016\n"


def test_the_progress_resource_shows_counts_and_rejected_rows(enqueued):
    user = researcher()
    client = client_for(user)
    created = client.post(
        reverse("api:import-list"),
        {"file": csv_upload(), "format": "ucdp-ged"},
        format="multipart",
    ).json()
    report = [
        {"line": 3, "external_id": "ucdp_ged:9", "action": "rejected", "why": "no date"}
    ]
    ImportBatch.objects.filter(pk=created["id"]).update(
        status="running",
        started_at=timezone.now(),
        heartbeat_at=timezone.now(),
        progress_done=10,
        progress_total=40,
        rows_read=10,
        rows_created=8,
        rows_rejected=1,
        report=report,
    )

    response = client.get(created["url"])

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["status"] == "running"
    assert body["progress"] == {"done": 10, "total": 40}
    assert body["counts"]["created"] == 8
    assert body["counts"]["rejected"] == 1
    assert body["report"] == report
    assert body["user"] == user.username


def test_a_running_import_without_a_heartbeat_shows_as_failed(enqueued):
    client = client_for(researcher())
    created = client.post(
        reverse("api:import-list"),
        {"file": csv_upload(), "format": "ucdp-ged"},
        format="multipart",
    ).json()
    long_ago = timezone.now() - dt.timedelta(minutes=5)
    ImportBatch.objects.filter(pk=created["id"]).update(
        status="running", started_at=long_ago, heartbeat_at=long_ago
    )

    body = client.get(created["url"]).json()

    assert body["status"] == "failed"
    assert "heartbeat" in body["failure_reason"]


def test_only_reviewers_import_with_publish(enqueued):
    body = {"format": "ucdp-ged", "publish": "true"}

    refused = client_for(researcher()).post(
        reverse("api:import-list"), {**body, "file": csv_upload()}, format="multipart"
    )
    allowed = client_for(reviewer()).post(
        reverse("api:import-list"), {**body, "file": csv_upload()}, format="multipart"
    )

    assert refused.status_code == HTTPStatus.FORBIDDEN
    assert "publish" in refused.json()["detail"]
    assert allowed.status_code == HTTPStatus.ACCEPTED
    assert ImportBatch.objects.get().publish is True
    assert len(enqueued) == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"format": "ucdp-ged"}, "file"),
        ({"format": "excel", "file": "x"}, "format"),
        ({"format": "seed", "file": "x"}, "format"),
        ({"format": "ucdp-ged", "file": "x", "release_date": "June"}, "release_date"),
        ({"format": "ucdp-ged", "file": "x", "dry_run": "perhaps"}, "dry_run"),
    ],
)
def test_a_bad_import_is_400_naming_the_field(enqueued, body, field):
    if body.get("file") == "x":
        body = {**body, "file": csv_upload()}

    response = client_for(researcher()).post(
        reverse("api:import-list"), body, format="multipart"
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert field in response.json()
    assert ImportBatch.objects.count() == 0
    assert enqueued == []


def test_an_unknown_import_is_404():
    response = client_for(researcher()).get(
        reverse("api:import-detail", kwargs={"pk": 999999})
    )

    assert response.status_code == HTTPStatus.NOT_FOUND


def test_it_enqueues_through_the_importers_task_queue():
    from django_tasks_db.models import DBTaskResult

    response = client_for(researcher()).post(
        reverse("api:import-list"),
        {"file": csv_upload(), "format": "ucdp-ged"},
        format="multipart",
    )

    assert response.status_code == HTTPStatus.ACCEPTED
    queued = DBTaskResult.objects.get()
    assert queued.task_path == "incidents.tasks.run_import_batch"
    assert queued.args_kwargs["args"] == [response.json()["id"]]


def test_a_file_the_importer_cannot_read_ends_failed_with_the_reason(settings):
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}
    }
    client = client_for(researcher())

    created = client.post(
        reverse("api:import-list"),
        {
            "file": csv_upload(content=b"not,a,ged,file\n1,2,3,4\n"),
            "format": "ucdp-ged",
        },
        format="multipart",
    ).json()
    body = client.get(created["url"]).json()

    assert body["status"] == "failed"
    assert body["failure_reason"]
