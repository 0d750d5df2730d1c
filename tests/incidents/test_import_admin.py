"""The admin's import page: upload → dry run → confirm → progress → revert."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from incidents import admin_imports
from incidents.models import ImportBatch, Incident
from incidents.tasks import run_import_batch
from tests.factories import import_reference_data, researcher, reviewer
from tests.incidents.test_import_support import UCDP_191_COLUMNS, ucdp_row, write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def synchronous_tasks(monkeypatch):
    import_reference_data()
    monkeypatch.setattr(
        admin_imports, "enqueue", lambda batch: run_import_batch.call(batch.pk)
    )


def upload(tmp_path, rows=None):
    path = write_csv(tmp_path / "ged.csv", UCDP_191_COLUMNS, rows or [ucdp_row()])
    return SimpleUploadedFile("ged.csv", path.read_bytes(), content_type="text/csv")


def post_import(client, tmp_path, **extra):
    data = {
        "file": upload(tmp_path),
        "format": "ucdp-ged",
        "release": "19.1",
        "release_date": "2019-06-01",
        **extra,
    }
    return client.post(reverse("admin:incidents_importbatch_import"), data)


def test_a_researcher_gets_a_dry_run_report_and_nothing_is_written(client, tmp_path):
    client.force_login(researcher())

    response = post_import(client, tmp_path)

    batch = ImportBatch.objects.get()
    assert response.status_code == HTTPStatus.FOUND
    assert batch.dry_run
    assert batch.status == "succeeded"
    assert batch.rows_created == 1
    assert Incident.objects.count() == 0
    page = client.get(response.url)
    assert b"created 1" in page.content
    assert b"Confirm" in page.content


def test_confirming_runs_the_real_import(client, tmp_path):
    client.force_login(researcher())
    post_import(client, tmp_path)
    dry = ImportBatch.objects.get()

    response = client.post(
        reverse("admin:incidents_importbatch_confirm", args=[dry.pk])
    )

    real = ImportBatch.objects.exclude(pk=dry.pk).get()
    assert response.status_code == HTTPStatus.FOUND
    assert not real.dry_run
    assert real.status == "succeeded"
    assert Incident.objects.count() == 1


def test_a_bad_release_date_is_a_form_error(client, tmp_path):
    client.force_login(researcher())

    response = post_import(client, tmp_path, release_date="2019-02-30")

    assert response.status_code == HTTPStatus.OK
    assert b"release_date" in response.content or b"valid date" in response.content
    assert not ImportBatch.objects.exists()


def test_a_researcher_cannot_import_with_publish(client, tmp_path):
    client.force_login(researcher())

    response = post_import(client, tmp_path, publish="on")

    assert response.status_code == HTTPStatus.OK
    assert b"Only reviewers and admins" in response.content


def test_a_reviewer_reverts_a_batch(client, tmp_path):
    client.force_login(reviewer())
    post_import(client, tmp_path)
    client.post(
        reverse(
            "admin:incidents_importbatch_confirm", args=[ImportBatch.objects.get().pk]
        )
    )
    real = ImportBatch.objects.get(dry_run=False)

    client.post(reverse("admin:incidents_importbatch_revert", args=[real.pk]))

    real.refresh_from_db()
    assert real.status == "reverted"
    assert Incident.objects.count() == 0


def test_the_batch_list_query_count(client, tmp_path, django_assert_max_num_queries):
    client.force_login(researcher())
    for _ in range(3):
        post_import(client, tmp_path)

    with django_assert_max_num_queries(12):
        response = client.get(reverse("admin:incidents_importbatch_changelist"))

    assert response.status_code == HTTPStatus.OK
    assert response.content.count(b"ged.csv") >= 3


def test_an_outsider_cannot_open_the_import_page(client):
    response = client.get(reverse("admin:incidents_importbatch_import"))

    assert response.status_code == HTTPStatus.FOUND
    assert "/login/" in response.url
