"""Issue 12 §3: publishing publishes the version the reviewer read (DOMAIN.md).

Every path that publishes carries that version: the API's If-Match (missing → 428,
stale → 412 with current_version), the admin's confirm pages (the bulk action and the
change page's button) and the service itself. Someone else's edit between reading and
publishing is refused, never published unseen.
"""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.urls import reverse
from rest_framework.test import APIClient

from incidents import services
from incidents.models import Incident, PublicChange, WriteConflict
from tests.factories import api_token, make_incident, reviewer

pytestmark = pytest.mark.django_db

CHANGELIST = "admin:incidents_incident_changelist"


def _in_review() -> Incident:
    return make_incident(title="As reviewed", status=Incident.Status.IN_REVIEW)


def _edit_meanwhile(incident: Incident) -> Incident:
    """Another reviewer changes the figures after the first one read the incident."""
    return services.incident_update(
        incident=incident,
        expected_version=incident.version,
        fields={"title": "Changed after the review"},
        by=reviewer(),
    )


def _assert_not_published(incident: Incident) -> None:
    incident.refresh_from_db()
    assert incident.status == Incident.Status.IN_REVIEW
    assert not PublicChange.objects.filter(incident=incident).exists()


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


# ---------------------------------------------------------------------------------------
# The service
# ---------------------------------------------------------------------------------------


def test_the_service_refuses_a_version_that_is_not_the_current_one():
    incident = _in_review()
    read = incident.version
    _edit_meanwhile(incident)

    with pytest.raises(services.StaleVersionError):
        services.incident_publish(
            incident=incident, expected_version=read, by=reviewer()
        )

    _assert_not_published(incident)
    conflict = WriteConflict.objects.get(incident=incident)
    assert (conflict.sent_version, conflict.current_version) == (read, read + 1)


def test_the_service_needs_the_version_outside_an_import():
    incident = _in_review()

    with pytest.raises(TypeError, match="version"):
        services.incident_publish(
            incident=incident, expected_version=None, by=reviewer()
        )

    _assert_not_published(incident)


# ---------------------------------------------------------------------------------------
# The API
# ---------------------------------------------------------------------------------------


def _api(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    return client


def _publish_url(incident: Incident) -> str:
    return reverse("api:incident-publish", kwargs={"code": incident.code})


def test_publishing_without_if_match_is_428():
    incident = _in_review()

    response = _api(reviewer()).post(_publish_url(incident))

    assert response.status_code == HTTPStatus.PRECONDITION_REQUIRED
    assert "If-Match" in response.json()["detail"]
    _assert_not_published(incident)


def test_publishing_a_version_changed_since_it_was_read_is_412():
    incident = _in_review()
    client = _api(reviewer())
    read = client.get(reverse("api:incident-detail", kwargs={"code": incident.code}))
    _edit_meanwhile(incident)

    response = client.post(_publish_url(incident), HTTP_IF_MATCH=read["ETag"])

    assert response.status_code == HTTPStatus.PRECONDITION_FAILED
    body = response.json()
    assert body["current_version"] == incident.version + 1
    assert "title" in body["changed_fields"]
    assert response["ETag"] == f'"{incident.version + 1}"'
    _assert_not_published(incident)


@pytest.mark.parametrize("header", ['"abc"', "7", '"1", "2"', '"' + "9" * 30 + '"'])
def test_a_malformed_if_match_on_publish_is_400_naming_it(header):
    incident = _in_review()

    response = _api(reviewer()).post(_publish_url(incident), HTTP_IF_MATCH=header)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "If-Match" in response.json()
    _assert_not_published(incident)


def test_publishing_the_version_read_publishes_it():
    incident = _in_review()

    response = _api(reviewer()).post(
        _publish_url(incident), HTTP_IF_MATCH=f'"{incident.version}"'
    )

    assert response.status_code == HTTPStatus.OK
    incident.refresh_from_db()
    assert incident.status == Incident.Status.PUBLISHED


# ---------------------------------------------------------------------------------------
# The admin: the bulk action's confirm page and the change page's publish button
# ---------------------------------------------------------------------------------------


@pytest.mark.urls("tests.incidents.test_admin")
def test_the_bulk_publish_confirm_page_refuses_an_incident_changed_since(client):
    changed, untouched = _in_review(), _in_review()
    client.force_login(reviewer())
    page = client.post(
        reverse(CHANGELIST),
        {
            "action": "publish_selected",
            ACTION_CHECKBOX_NAME: [changed.pk, untouched.pk],
        },
    )
    html = page.content.decode()
    shown = dict(re.findall(r'name="version_(\d+)" value="(\d+)"', html))
    assert shown == {
        str(changed.pk): str(changed.version),
        str(untouched.pk): str(untouched.version),
    }
    assert not Incident.objects.filter(status=Incident.Status.PUBLISHED).exists()
    _edit_meanwhile(changed)

    response = client.post(
        reverse(CHANGELIST),
        {
            "action": "publish_selected",
            ACTION_CHECKBOX_NAME: [changed.pk, untouched.pk],
            "apply": "1",
            **{f"version_{pk}": version for pk, version in shown.items()},
        },
        follow=True,
    )

    _assert_not_published(changed)
    untouched.refresh_from_db()
    assert untouched.status == Incident.Status.PUBLISHED
    messages = _messages(response)
    assert any(
        m.startswith(f"{changed.code}: not published: it changed since version")
        for m in messages
    ), messages


@pytest.mark.urls("tests.incidents.test_admin")
def test_the_bulk_publish_without_versions_publishes_nothing(client):
    incident = _in_review()
    client.force_login(reviewer())

    response = client.post(
        reverse(CHANGELIST),
        {
            "action": "publish_selected",
            ACTION_CHECKBOX_NAME: [incident.pk],
            "apply": "1",
        },
        follow=True,
    )

    _assert_not_published(incident)
    assert any("version you reviewed was not sent" in m for m in _messages(response))


@pytest.mark.urls("tests.incidents.test_admin")
def test_the_publish_button_refuses_an_incident_changed_since_its_page(client):
    incident = _in_review()
    client.force_login(reviewer())
    url = reverse("admin:incidents_incident_workflow", args=[incident.pk, "publish"])
    page = client.get(url)
    match = re.search(r'name="version" value="(\d+)"', page.content.decode())
    assert match is not None
    assert int(match.group(1)) == incident.version
    _edit_meanwhile(incident)

    stale = client.post(url, {"version": match.group(1)}, follow=True)
    missing = client.post(url, {}, follow=True)

    _assert_not_published(incident)
    assert any("not published: it changed since" in m for m in _messages(stale))
    assert any("was not sent" in m for m in _messages(missing))
