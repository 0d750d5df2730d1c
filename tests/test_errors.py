"""The database going away gives a 503 (JSON under /api/), never a 500, and the app
answers normally again once it is back."""

import pytest
from django.db import OperationalError, connection
from django.test import Client

pytestmark = pytest.mark.django_db


@pytest.fixture
def database_away(monkeypatch):
    def refuse(*args, **kwargs):
        raise OperationalError("could not connect to server: Connection refused")

    monkeypatch.setattr(connection, "cursor", refuse)
    return monkeypatch


@pytest.mark.parametrize("url", ["/api/v1/incidents/", "/api/v1/actors/"])
def test_the_api_answers_503_json_while_the_database_is_away(database_away, url):
    response = Client(raise_request_exception=False).get(url)

    assert response.status_code == 503
    assert response["Content-Type"].startswith("application/json")
    assert "database" in response.json()["detail"]
    assert response["Retry-After"] == "30"


@pytest.mark.parametrize("url", ["/en/", "/en/incidents/", "/ar/"])
def test_pages_answer_a_503_page_while_the_database_is_away(database_away, url):
    response = Client(raise_request_exception=False).get(url)

    assert response.status_code == 503
    assert b"Temporarily unavailable" in response.content


def test_the_app_recovers_when_the_database_is_back(database_away):
    client = Client(raise_request_exception=False)
    assert client.get("/api/v1/incidents/").status_code == 503

    database_away.undo()

    assert client.get("/api/v1/incidents/").status_code == 200
    assert client.get("/en/").status_code == 200


def test_an_unexpected_page_error_is_a_plain_500(monkeypatch):
    from incidents import views

    def broken(*args, **kwargs):
        raise RuntimeError("bug")

    monkeypatch.setattr(views, "render", broken)

    response = Client(raise_request_exception=False).get("/en/methodology/")

    assert response.status_code == 500
    assert b"Something went wrong" in response.content
