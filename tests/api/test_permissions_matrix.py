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

from incidents import services
from incidents.models import Incident, ProtectionRequest
from tests.factories import (
    FacilityFactory,
    IncidentTypeFactory,
    SourceFactory,
    UserFactory,
    admin_user,
    api_token,
    make_incident,
    researcher,
    reviewer,
)

pytestmark = pytest.mark.django_db

OK, CREATED, ACCEPTED, NO_CONTENT = 200, 201, 202, 204
UNAUTHENTICATED, FORBIDDEN, NOT_FOUND = 401, 403, 404


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
    return client.post(
        _action(incident, "publish"), HTTP_IF_MATCH=f'"{incident.version}"'
    )


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


# Protections (DOMAIN.md "Lowering protection"): raising is anyone's on the staff and
# immediate (200), lowering is asked for (202), deciding is a reviewer's who did not ask.
def _protection_patch(make, url, body):
    def run(client):
        obj = make()
        return client.patch(url(obj), body, format="json")

    return run


def _source_url(source):
    return reverse("api:source-detail", kwargs={"pk": source.pk})


def _facility_url(facility):
    return reverse("api:facility-detail", kwargs={"ref": facility.ref})


def _asked_by_someone_else():
    facility = FacilityFactory(sensitive=True)
    facility.sensitive = False
    services.facility_save(facility=facility, by=researcher(), reason="Named.")
    return ProtectionRequest.objects.get(object_id=facility.pk)


def _decide(decision: str):
    def run(client):
        asked = _asked_by_someone_else()
        version = services.protection_object_version(services.protection_object(asked))
        return client.post(
            reverse(f"api:protection-request-{decision}", kwargs={"pk": asked.pk}),
            {},
            format="json",
            HTTP_IF_MATCH=f'"{version}"',
        )

    return run


def _decide_own(client):
    facility = FacilityFactory(sensitive=True)
    asked = client.patch(
        _facility_url(facility), {"sensitive": False, "reason": "x"}, format="json"
    )
    if asked.status_code != ACCEPTED:
        return asked
    version = services.protection_object_version(facility)
    return client.post(
        asked.json()["url"] + "approve/", {}, HTTP_IF_MATCH=f'"{version}"'
    )


def _protection_list(client):
    _asked_by_someone_else()
    return client.get(reverse("api:protection-request-list"))


def _protection_detail_of_another(client):
    asked = _asked_by_someone_else()
    return client.get(reverse("api:protection-request-detail", kwargs={"pk": asked.pk}))


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
    "source_raise": _protection_patch(
        lambda: SourceFactory(confidential=False), _source_url, {"confidential": True}
    ),
    "source_lower": _protection_patch(
        lambda: SourceFactory(confidential=True),
        _source_url,
        {"confidential": False, "reason": "The witness agreed."},
    ),
    "file_lower": _protection_patch(
        lambda: SourceFactory(file_public=False),
        _source_url,
        {"file_public": True, "reason": "No one is recognisable."},
    ),
    "facility_raise": _protection_patch(
        lambda: FacilityFactory(sensitive=False), _facility_url, {"sensitive": True}
    ),
    "facility_lower": _protection_patch(
        lambda: FacilityFactory(sensitive=True),
        _facility_url,
        {"sensitive": False, "reason": "Named in its own press release."},
    ),
    "protection_list": _protection_list,
    "protection_detail_of_another": _protection_detail_of_another,
    "protection_approve": _decide("approve"),
    "protection_reject": _decide("reject"),
    "protection_approve_own": _decide_own,
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
    "source_raise": OK,
    "source_lower": ACCEPTED,
    "file_lower": ACCEPTED,
    "facility_raise": OK,
    "facility_lower": ACCEPTED,
    "protection_list": OK,
    "protection_detail_of_another": NOT_FOUND,  # researchers see their own only
    "protection_approve": FORBIDDEN,
    "protection_reject": FORBIDDEN,
    "protection_approve_own": FORBIDDEN,
}
REVIEWER = {
    **RESEARCHER,
    "protection_detail_of_another": OK,
    "protection_approve": OK,
    "protection_reject": OK,
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
