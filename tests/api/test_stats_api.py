"""`/api/v1/stats/summary/` and `/api/v1/stats/compare/` (API.md "Statistics"), on the
hand-computed world of tests/incidents/test_stats.py."""

from __future__ import annotations

import csv
import datetime as dt
import io
from http import HTTPStatus
from urllib.parse import urlsplit

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from incidents.services import IncidentParts
from tests.factories import api_token, make_incident, researcher
from tests.incidents.test_stats import build_world, killed, perp

pytestmark = pytest.mark.django_db

SUMMARY = "api:stats-summary"
COMPARE = "api:stats-compare"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Factories create users; Argon2 would make each one take a noticeable while.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def stats_world():
    return build_world()


@pytest.fixture
def client():
    return APIClient()


def get(client, name: str, query: str = ""):
    return client.get(f"{reverse(name)}?{query}")


def list_of(client, url: str) -> dict:
    """The incident list behind a row link (all of it: page_size=1000)."""
    parts = urlsplit(url)
    response = client.get(f"{parts.path}?{parts.query}&page_size=1000")
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def data_rows(body: dict) -> list[dict]:
    return [row for row in body["rows"] if not row["total"]]


# ---------------------------------------------------------------------------------------
# Summary
# ---------------------------------------------------------------------------------------


def test_it_answers_anonymous_callers_with_public_figures(client, stats_world):
    response = get(client, SUMMARY, "group_by=year")

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["group_by"] == ["year"]
    assert [(r["year"], r["incidents"]) for r in body["rows"]] == [
        (2016, 2),
        (2017, 3),
        (None, 5),  # the draft is not public
    ]
    assert body["rows"][1]["civilians_killed"] == {
        "min": 23,
        "max": None,
        "incidents_not_recorded": 0,
        "incidents_max_unknown": 1,
    }


def test_staff_may_count_drafts(client, stats_world):
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(researcher())}")

    response = get(client, SUMMARY, "group_by=year&status=draft")

    assert response.status_code == HTTPStatus.OK
    first = response.json()["rows"][0]
    assert (first["year"], first["incidents"]) == (2017, 1)
    assert first["civilians_killed"] == {
        "min": 100,
        "max": 100,
        "incidents_not_recorded": 0,
        "incidents_max_unknown": 0,
    }


def test_the_public_may_not_ask_for_drafts(client, stats_world):
    response = get(client, SUMMARY, "group_by=year&status=draft")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "status" in response.json()


@pytest.mark.parametrize(
    "group_by",
    [
        "year",
        "month",
        "governorate",
        "incident_type",
        "weapon",
        "target_type",
        "grading",
        "actor",
        "bloc",
        "year,governorate",
        "bloc,year",
    ],
)
def test_every_row_link_reproduces_the_row(client, stats_world, group_by):
    body = get(client, SUMMARY, f"group_by={group_by}").json()

    for row in body["rows"]:
        listed = list_of(client, row["incidents_url"])
        assert listed["count"] == row["incidents"], (row, row["incidents_url"])
        if "incidents_possible" in row:
            certain = list_of(client, row["incidents_certain_url"])
            possible = list_of(client, row["incidents_possible_url"])
            assert possible["count"] == row["incidents_possible"]
            assert certain["count"] == row["incidents"] - row["incidents_possible"]
            minimum = sum(
                item["casualties"]["civilians_killed"]["min"]
                for item in certain["results"]
            )
            assert minimum == row["civilians_killed"]["min"]


def test_row_links_keep_the_callers_filter(client, stats_world):
    body = get(client, SUMMARY, "group_by=governorate&incident_type=shelling").json()

    aleppo = next(r for r in body["rows"] if r["governorate"]["slug"] == "aleppo")
    assert "incident_type=shelling" in aleppo["incidents_url"]
    assert "governorate=aleppo" in aleppo["incidents_url"]
    assert list_of(client, aleppo["incidents_url"])["count"] == aleppo["incidents"] == 1
    none = next(r for r in body["rows"] if r["governorate"]["slug"] == "none")
    assert "governorate=none" in none["incidents_url"]


def test_a_single_actor_filter_gives_the_actor_and_its_children(client, stats_world):
    body = get(client, SUMMARY, "group_by=actor&actor=st-saa").json()

    rows = data_rows(body)
    assert [
        (r["actor"]["slug"], r["actor"]["exact"], r["incidents"]) for r in rows
    ] == [
        ("st-saa", True, 2),
        ("st-tiger", False, 1),
    ]
    assert "actor_exact=true" in rows[0]["incidents_url"]
    assert list_of(client, rows[0]["incidents_url"])["count"] == 2


def test_the_confidence_filter_reaches_actor_rows(client, stats_world):
    body = get(
        client,
        SUMMARY,
        "group_by=actor&actor_confidence=confirmed,likely,possible",
    ).json()

    russia = next(r for r in data_rows(body) if r["actor"]["slug"] == "st-ru-af")
    assert russia["incidents"] == 3
    assert "actor_confidence=confirmed,likely,possible" in russia["incidents_url"]
    assert list_of(client, russia["incidents_url"])["count"] == 3


def test_it_adds_measures(client, stats_world):
    body = get(
        client,
        SUMMARY,
        "group_by=year&measure=aid_workers_killed&measure=total_injured",
    ).json()

    assert body["measures"][-2:] == ["aid_workers_killed", "total_injured"]
    # i2 (2016) records no aid workers: not 0, so 2016 has no upper figure.
    assert body["rows"][0]["aid_workers_killed"] == {
        "min": 1,
        "max": None,
        "incidents_not_recorded": 1,
        "incidents_max_unknown": 0,
    }


def test_it_speaks_arabic_when_asked(client, stats_world):
    stats_world.saa.name_ar = "الجيش العربي السوري"
    stats_world.saa.save()

    body = get(client, SUMMARY, "group_by=actor&lang=ar").json()

    saa = next(r for r in data_rows(body) if r["actor"]["slug"] == "st-saa")
    assert saa["actor"]["name"] == "الجيش العربي السوري"
    assert "lang=ar" in saa["incidents_url"]


@pytest.mark.parametrize(
    ("query", "parameter", "says"),
    [
        ("", "group_by", "Required"),
        ("group_by=colour", "group_by", "Allowed: year, month, governorate"),
        ("group_by=year,month,grading", "group_by", "one or two"),
        ("group_by=actor,bloc", "group_by", "not both"),
        ("group_by=year&measure=goats_killed", "measure", "<group>_<outcome>"),
        ("group_by=year&colour=red", "colour", "Unknown parameter"),
        ("group_by=year&date_from=2016-13-01", "date_from", "YYYY-MM-DD"),
        ("group_by=year&format=xml", "format", "csv"),
        ("group_by=year&bom=1", "bom", "format=csv"),
    ],
)
def test_bad_parameters_are_a_400_naming_them(client, query, parameter, says):
    response = get(client, SUMMARY, query)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert says in " ".join(response.json()[parameter])


def test_it_exports_csv(client, stats_world):
    response = get(client, SUMMARY, "group_by=bloc&format=csv&bom=1")

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    text = response.content.decode("utf-8")
    assert text.startswith("\ufeff")
    table = list(csv.DictReader(io.StringIO(text.lstrip("\ufeff"))))
    by_bloc = {row["bloc"]: row for row in table}
    sg = by_bloc["syrian_government"]
    assert (sg["incidents"], sg["incidents_possible"]) == ("3", "1")
    assert (sg["civilians_killed_min"], sg["civilians_killed_max"]) == ("12", "")
    assert sg["civilians_killed_incidents_max_unknown"] == "1"
    assert sg["civilians_killed_incidents_not_recorded"] == "0"
    assert "civilians_killed_max_known" not in sg
    assert sg["incidents_certain_url"].endswith("actor_involvement=certain")
    assert by_bloc[""]["total"] == "true"
    assert by_bloc[""]["incidents"] == "5"


def test_summary_query_count_is_fixed(client, stats_world, django_assert_num_queries):
    # the data's fingerprint (public_cache), grouped rows (labels joined), totals
    with django_assert_num_queries(3):
        response = get(
            client, SUMMARY, "group_by=actor,year&measure=aid_workers_killed"
        )

    assert response.status_code == HTTPStatus.OK
    assert len(response.json()["rows"]) == 6


def test_summary_is_cached_for_the_public_until_the_data_changes(
    client, stats_world, django_assert_num_queries
):
    query = "group_by=bloc"
    first = get(client, SUMMARY, query).json()
    with django_assert_num_queries(1):  # the fingerprint only
        again = get(client, SUMMARY, query).json()
    make_incident(
        status="published",
        date_start=dt.date(2018, 1, 1),
        location=stats_world.town_b,
        parts=IncidentParts(
            casualty_rows=[killed("civilians", 1, 1)],
            attributions=[perp(stats_world.tiger)],
        ),
    )

    after = get(client, SUMMARY, query).json()

    assert again == first
    assert after["rows"][-1]["incidents"] == first["rows"][-1]["incidents"] + 1


def test_summary_query_count_does_not_grow(
    client, stats_world, django_assert_num_queries
):
    for day in range(1, 6):
        make_incident(
            status="published",
            date_start=dt.date(2018, 1, day),
            location=stats_world.town_b,
            parts=IncidentParts(
                casualty_rows=[killed("civilians", day, day)],
                attributions=[perp(stats_world.tiger)],
            ),
        )

    with django_assert_num_queries(3):
        response = get(
            client, SUMMARY, "group_by=actor,year&measure=aid_workers_killed"
        )

    assert len(response.json()["rows"]) == 7


# ---------------------------------------------------------------------------------------
# Compare
# ---------------------------------------------------------------------------------------


def test_compare_puts_blocs_side_by_side(client, stats_world):
    response = get(client, COMPARE, "bloc=russia,syrian_government")

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert [r["bloc"]["code"] for r in body["rows"]] == ["russia", "syrian_government"]
    diff = body["differences"][0]
    assert diff["incidents"] == 2 - 3
    # Russia's civilians killed: min 2 (i3), max unknown; the government's: min 12.
    assert diff["civilians_killed"] == {"min": None, "max": None, "greater": None}
    # i2, attributed to either, records no children: not 0, so neither side has a
    # maximum and the data cannot say who killed more children.
    assert diff["children_killed"] == {"min": None, "max": None, "greater": None}
    assert [w["system"] for w in body["warnings"]] == ["ucdp_ged"]
    for row in body["rows"]:
        assert list_of(client, row["incidents_url"])["count"] == row["incidents"]


def test_compare_of_actors_in_the_order_given(client, stats_world):
    body = get(client, COMPARE, "actor=st-ru-af,st-isis").json()

    assert [r["actor"]["slug"] for r in body["rows"]] == ["st-ru-af", "st-isis"]
    assert body["differences"][0]["civilians_killed"]["greater"] is None
    assert {d["system"] for d in body["datasets"]} == {"ucdp_ged", "insecurity_insight"}


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("bloc=russia", "bloc"),
        ("", "bloc"),
        ("bloc=russia,isis&actor=st-saa,st-isis", "bloc"),
        ("bloc=russia,narnia", "bloc"),
        ("bloc=russia,isis&actor_role=target", "actor_role"),
    ],
)
def test_compare_rejects_bad_requests(client, stats_world, query, parameter):
    response = get(client, COMPARE, query)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert parameter in response.json()


def test_compare_exports_csv(client, stats_world):
    response = get(client, COMPARE, "bloc=russia,isis&format=csv")

    table = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert [row["bloc"] for row in table] == ["russia", "isis", ""]


def test_compare_query_count_is_fixed(client, stats_world, django_assert_num_queries):
    # the data's fingerprint (public_cache), the bloc filter's actors, rows, totals,
    # datasets
    with django_assert_num_queries(5):
        response = get(client, COMPARE, "bloc=russia,isis,syrian_government")

    assert response.status_code == HTTPStatus.OK
