"""A code that was never published answers exactly like a code that never existed
(API.md "Unpublished or unknown code → 404"; issue 12 §6): a draft merged before
publication used to answer 301 with its survivor, which told an outsider the draft
existed and where it went. Only a code that was once public redirects or says gone."""

from __future__ import annotations

from http import HTTPStatus

import pytest
from django.test import Client
from rest_framework.test import APIClient

from incidents import services
from incidents.models import Incident
from tests.factories import make_incident, reviewer

pytestmark = pytest.mark.django_db

UNKNOWN = "SY-2016-99999"
PLACEHOLDER = "SY-CODE"


def _urls(code: str) -> list[str]:
    return [
        f"/api/v1/incidents/{code}/",
        f"/api/v1/incidents/{code}/history/",
        f"/api/v1/incidents/{code}/?lang=ar",
        f"/en/incidents/{code}/",
        f"/ar/incidents/{code}/",
    ]


def _answer(client, url: str, code: str) -> tuple:
    """Status, the headers a client sees and the body, with `code` (the one thing
    that differs between the two requests) replaced."""
    response = client.get(url)
    body = response.content.replace(code.encode(), PLACEHOLDER.encode())
    headers = {
        name: value.replace(code, PLACEHOLDER)
        for name, value in response.items()
        if name.lower() not in ("date", "x-request-id")
    }
    return response.status_code, headers, body


def assert_answers_like_an_unknown_code(code: str) -> None:
    for client in (Client(), APIClient()):
        for url, unknown_url in zip(_urls(code), _urls(UNKNOWN), strict=True):
            got = _answer(client, url, code)
            expected = _answer(client, unknown_url, UNKNOWN)

            assert got[0] == HTTPStatus.NOT_FOUND, url
            assert got == expected, url


@pytest.fixture
def survivor():
    return make_incident(status=Incident.Status.PUBLISHED, title="The survivor")


def test_a_draft_merged_before_publication_answers_like_an_unknown_code(survivor):
    draft = make_incident(title="A duplicate draft")
    services.incident_merge(incident=draft, into=survivor, by=reviewer())
    draft.refresh_from_db()
    assert draft.status == Incident.Status.MERGED

    assert_answers_like_an_unknown_code(draft.code)


def test_a_draft_withdrawn_before_publication_answers_like_an_unknown_code():
    draft = make_incident(title="Withdrawn before anyone saw it")
    Incident.objects.filter(pk=draft.pk).update(
        status=Incident.Status.WITHDRAWN, withdrawn_reason="Duplicate of a rumour."
    )

    assert_answers_like_an_unknown_code(draft.code)


@pytest.mark.parametrize("status", ["draft", "in_review"])
def test_drafts_and_incidents_in_review_answer_like_an_unknown_code(status):
    incident = make_incident(status=status)

    assert_answers_like_an_unknown_code(incident.code)


def test_a_published_incident_merged_later_still_redirects(survivor):
    once_public = make_incident(status=Incident.Status.PUBLISHED, title="Public dup")
    services.incident_merge(incident=once_public, into=survivor, by=reviewer())

    api = APIClient().get(f"/api/v1/incidents/{once_public.code}/")
    page = Client().get(f"/en/incidents/{once_public.code}/")

    assert api.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert api.json()["merged_into"] == survivor.code
    assert page.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert survivor.code in page["Location"]
