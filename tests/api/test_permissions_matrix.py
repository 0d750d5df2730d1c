"""Every write operation × every kind of caller (DOMAIN.md "Workflow and roles"):
the public, each role, an authenticated outsider, an inactive user, an expired token
and a revoked token."""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from knox.models import AuthToken
from rest_framework.test import APIClient

from incidents.models import Incident
from tests.factories import (
    IncidentTypeFactory,
    UserFactory,
    admin_user,
    api_token,
    make_incident,
    researcher,
    reviewer,
)

pytestmark = pytest.mark.django_db

OK, CREATED, ACCEPTED, NO_CONTENT = 200, 201, 202, 204
UNAUTHENTICATED, FORBIDDEN = 401, 403


def _token_client(user, **token_kwargs) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user, **token_kwargs)}")
    return client


def make_caller(kind: str) -> APIClient:
    if kind == "anonymous":
        return APIClient()
    if kind == "researcher":
        return _token_client(researcher())
    if kind == "reviewer":
        return _token_client(reviewer())
    if kind == "admin":
        return _token_client(admin_user())
    if kind == "outsider":  # logged in, but in no CivTrack role
        return _token_client(UserFactory(is_staff=False))
    if kind == "inactive":
        user = reviewer()
        client = _token_client(user)
        user.is_active = False
        user.save(update_fields=["is_active"])
        return client
    if kind == "expired":
        return _token_client(reviewer(), expiry=dt.timedelta(seconds=-1))
    if kind == "revoked":
        user = reviewer()
        client = _token_client(user)
        AuthToken.objects.filter(user=user).delete()
        return client
    raise ValueError(kind)


def _detail(incident) -> str:
    return reverse("api:incident-detail", kwargs={"code": incident.code})


def _action(incident, name: str) -> str:
    return reverse(f"api:incident-{name}", kwargs={"code": incident.code})


def _patch(status: str):
    def run(client):
        incident = make_incident(status=status)
        return client.patch(
            _detail(incident),
            {"summary": "Edited."},
            format="json",
            HTTP_IF_MATCH=f'"{incident.version}"',
        )

    return run


def _create(client):
    IncidentTypeFactory(code="airstrike")
    return client.post(
        reverse("api:incident-list"),
        {"title": "Strike", "date_start": "2016-02-15", "incident_type": "airstrike"},
        format="json",
    )


def _submit(client):
    return client.post(_action(make_incident(), "submit"))


def _send_back(client):
    incident = make_incident(status=Incident.Status.IN_REVIEW)
    return client.post(_action(incident, "send-back"), {"reason": "Check the date."})


def _publish(client):
    incident = make_incident(status=Incident.Status.IN_REVIEW)
    return client.post(_action(incident, "publish"))


def _withdraw(client):
    incident = make_incident(status=Incident.Status.PUBLISHED)
    return client.post(
        _action(incident, "withdraw"), {"withdrawn_reason": "Duplicate."}
    )


def _merge(client):
    survivor = make_incident()
    incident = make_incident()
    return client.post(_action(incident, "merge"), {"into": survivor.code})


def _source(client):
    return client.post(
        reverse("api:source-list"),
        {"kind": "news_report", "title": "Report", "url": "https://example.org/r"},
        format="json",
    )


def _import(publish: bool):
    def run(client):
        upload = SimpleUploadedFile("ged.csv", b"id\n1\n", content_type="text/csv")
        body = {"file": upload, "format": "ucdp-ged", "publish": publish}
        return client.post(reverse("api:import-list"), body, format="multipart")

    return run


def _import_progress(client):
    from incidents.importers.base import batch_create

    batch = batch_create(format="ucdp-ged", file_name="ged.csv", user=researcher())
    return client.get(reverse("api:import-detail", kwargs={"pk": batch.pk}))


def _logout(client):
    return client.post(reverse("api:auth-logout"))


OPERATIONS = {
    "create": _create,
    "patch_draft": _patch(Incident.Status.DRAFT),
    "patch_in_review": _patch(Incident.Status.IN_REVIEW),
    "patch_published": _patch(Incident.Status.PUBLISHED),
    "submit": _submit,
    "send_back": _send_back,
    "publish": _publish,
    "withdraw": _withdraw,
    "merge": _merge,
    "source_create": _source,
    "import": _import(publish=False),
    "import_publish": _import(publish=True),
    "import_progress": _import_progress,
    "logout": _logout,
}

# What a researcher may do (DOMAIN.md): create and edit drafts, submit, import into
# drafts, add sources. Reviewers and admins may do everything here.
RESEARCHER = {
    "create": CREATED,
    "patch_draft": OK,
    "patch_in_review": FORBIDDEN,
    "patch_published": FORBIDDEN,
    "submit": OK,
    "send_back": FORBIDDEN,
    "publish": FORBIDDEN,
    "withdraw": FORBIDDEN,
    "merge": FORBIDDEN,
    "source_create": CREATED,
    "import": ACCEPTED,
    "import_publish": FORBIDDEN,
    "import_progress": OK,
    "logout": NO_CONTENT,
}
REVIEWER = {
    **RESEARCHER,
    "patch_in_review": OK,
    "patch_published": OK,
    "send_back": OK,
    "publish": OK,
    "withdraw": OK,
    "merge": OK,
    "import_publish": ACCEPTED,
}
OUTSIDER = {
    name: (NO_CONTENT if name == "logout" else FORBIDDEN) for name in OPERATIONS
}
NOBODY = dict.fromkeys(OPERATIONS, UNAUTHENTICATED)

EXPECTED = {
    "anonymous": NOBODY,
    "inactive": NOBODY,
    "expired": NOBODY,
    "revoked": NOBODY,
    "outsider": OUTSIDER,
    "researcher": RESEARCHER,
    "reviewer": REVIEWER,
    "admin": REVIEWER,
}


@pytest.fixture(autouse=True)
def _no_task_queue(monkeypatch):
    monkeypatch.setattr("api.views_write.enqueue_import", lambda batch: None)


@pytest.mark.parametrize("operation", list(OPERATIONS))
@pytest.mark.parametrize("caller", list(EXPECTED))
def test_permission_matrix(caller, operation):
    client = make_caller(caller)

    response = OPERATIONS[operation](client)

    assert response.status_code == EXPECTED[caller][operation], (
        caller,
        operation,
        response.content[:300],
    )
    if response.status_code == UNAUTHENTICATED:
        assert response["WWW-Authenticate"] == "Token"
    if response.status_code in (UNAUTHENTICATED, FORBIDDEN):
        assert response.json()["detail"]


def test_a_refused_write_changes_nothing():
    incident = make_incident(status=Incident.Status.PUBLISHED, title="Original")
    client = make_caller("researcher")

    response = client.patch(
        _detail(incident),
        {"title": "Vandalised"},
        format="json",
        HTTP_IF_MATCH=f'"{incident.version}"',
    )

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "reviewers" in response.json()["detail"]
    incident.refresh_from_db()
    assert incident.title == "Original"


def test_nobody_edits_a_withdrawn_incident():
    incident = make_incident(status=Incident.Status.WITHDRAWN)

    response = make_caller("admin").patch(
        _detail(incident),
        {"title": "x"},
        format="json",
        HTTP_IF_MATCH=f'"{incident.version}"',
    )

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "withdrawn" in response.json()["detail"]
