"""Reading incidents (API.md "Reading"): the list and its paging, the detail and its
lifecycle answers, history, staff views, redaction, errors, CORS and throttling."""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from incidents import services
from incidents.models import Incident
from tests.api.conftest import CANARIES
from tests.factories import (
    ActorFactory,
    LocationFactory,
    WeaponTypeFactory,
    make_incident,
    researcher,
    reviewer,
)

pytestmark = pytest.mark.django_db

LIST = "/api/v1/incidents/"


def detail(code: str) -> str:
    return reverse("api:incident-detail", kwargs={"code": code})


def staff_client() -> APIClient:
    client = APIClient()
    client.force_authenticate(researcher())
    return client


def _with_parts(n: int, **fields) -> list[Incident]:
    weapon = WeaponTypeFactory(code="artillery")
    incidents = []
    for i in range(n):
        actor = ActorFactory()
        incidents.append(
            make_incident(
                status=Incident.Status.PUBLISHED,
                date_start=dt.date(2016, 1, 1) + dt.timedelta(days=i % 4),
                parts=services.IncidentParts(
                    casualty_rows=[
                        services.CasualtyRowData("civilians", "killed", i, i + 1)
                    ],
                    attributions=[services.AttributionData(actor=actor)],
                    weapons=[services.WeaponData(weapon=weapon)],
                    external_refs=[services.ExternalRefData("acled", f"X{i}")],
                ),
                **fields,
            )
        )
    return incidents


# ---------------------------------------------------------------------------------------
# List
# ---------------------------------------------------------------------------------------


def test_it_lists_incidents_in_the_documented_shape(client, world):
    response = client.get(LIST)

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert set(body) == {"count", "next", "previous", "results"}
    item = next(i for i in body["results"] if i["code"] == world.code("A"))
    assert item == {
        "code": world.code("A"),
        "url": f"http://testserver/api/v1/incidents/{world.code('A')}/",
        "page_url": f"http://testserver/en/incidents/{world.code('A')}/",
        "title": "Air strike on Maarat hospital",
        "title_ar": "غارة جوية على مستشفى معرة النعمان",
        "summary": "Jets bombed the national hospital.",
        "date_start": "2016-02-15",
        "date_end": "2016-02-15",
        "date_precision": "day",
        "location": {
            "slug": "maarat-al-numan",
            "name": "Maarat al-Numan",
            "pcode": None,
            "governorate": {
                "slug": world.objects["idleb"].slug,
                "name": world.objects["idleb"].name,
                "pcode": "SY07",
            },
        },
        "latitude": 35.64,
        "longitude": 36.67,
        "geo_precision": "exact",
        "incident_type": "airstrike-fixed-wing",
        "weapons": [{"weapon": "cluster-munition", "certainty": "reported"}],
        "targets": [
            {
                "target_type": "hospital",
                "facility": {
                    "ref": world.objects["public_hospital"].ref,
                    "name": "Maarat National Hospital",
                },
                "damage": "destroyed",
            }
        ],
        "casualties_known": True,
        "casualties": {
            # Not recorded is not zero (v1 correction): no row, null; no combatant or
            # unknown-status row, so the total's maximum is unknown.
            "civilians_killed": {"min": 9, "max": 11},
            "civilians_injured": {"min": None, "max": None},
            "children_killed": {"min": 4, "max": 4},
            "medical_personnel_killed": {"min": None, "max": None},
            "total_killed": {"min": 9, "max": None},
            "total_injured": {"min": None, "max": None},
        },
        "perpetrators": [
            {
                "actor": "panther-brigade",
                "name": "Panther Brigade",
                "confidence": "likely",
                "alternative": None,
                "position": "no_statement",
            }
        ],
        "aggregate": False,
        "grading": "fair",
        "status": "published",
        "external_refs": [{"system": "ucdp_ged", "value": "1001"}],
        "sources_count": 1,
        "confidential_sources_count": 0,
        "updated_at": item["updated_at"],
        "version": world.objects["A"].version,
    }
    assert item["updated_at"].endswith("Z")


def test_it_orders_by_date_start_descending_by_default(client, world):
    body = client.get(LIST).json()

    dates = [i["date_start"] for i in body["results"]]
    assert dates == sorted(dates, reverse=True)
    assert body["count"] == 4


def test_a_range_with_unknown_max_is_null(client, world):
    body = client.get(LIST + f"?q={world.code('B')}").json()

    assert body["results"][0]["casualties"]["civilians_killed"] == {
        "min": 2,
        "max": None,
    }
    assert body["results"][0]["confidential_sources_count"] == 1
    assert body["results"][0]["sources_count"] == 0


def test_it_gives_arabic_names_with_lang_ar(client, world):
    body = client.get(LIST + f"?q={world.code('A')}&lang=ar").json()

    item = body["results"][0]
    assert item["location"]["name"] == "معرة النعمان"
    assert item["perpetrators"][0]["name"] == "لواء الفهد"
    assert item["page_url"].endswith(f"/ar/incidents/{world.code('A')}/")


def test_fields_gives_a_subset(client, world):
    body = client.get(LIST + "?fields=code,casualties").json()

    assert all(set(item) == {"code", "casualties"} for item in body["results"])


@pytest.mark.parametrize("n", [3, 10])
def test_list_query_count_is_fixed(client, django_assert_num_queries, n):
    _with_parts(n)

    # last change seq, count, page, weapons, targets, perpetrators, external refs,
    # source counts
    with django_assert_num_queries(8):
        response = client.get(LIST + "?page_size=1000")

    assert response.status_code == HTTPStatus.OK
    assert len(response.json()["results"]) == n


def test_the_count_is_cached_until_public_data_changes(
    client, django_assert_num_queries
):
    incidents = _with_parts(2)
    client.get(LIST)

    with django_assert_num_queries(7):  # no COUNT: cached for this filter
        cached = client.get(LIST).json()
    services.incident_withdraw(
        incident=incidents[0], withdrawn_reason="Duplicate.", by=reviewer()
    )
    after = client.get(LIST).json()

    assert cached["count"] == 2
    assert after["count"] == 1


ORDERINGS = [
    "-date_start",
    "date_start",
    "-civilians_killed_max",
    "civilians_killed_max",
    "-updated_at",
    "updated_at",
    "code",
]


@pytest.mark.parametrize("ordering", ORDERINGS)
def test_cursor_paging_never_skips_or_repeats(client, ordering):
    _with_parts(9)
    # Two incidents whose max is unknown ("at least"): nulls in the keyset.
    for _ in range(2):
        make_incident(
            status=Incident.Status.PUBLISHED,
            date_start=dt.date(2016, 1, 2),
            parts=services.IncidentParts(
                casualty_rows=[services.CasualtyRowData("children", "killed", 1, 1)]
            ),
        )
    everything = client.get(LIST + f"?ordering={ordering}&page_size=1000").json()
    expected = [i["code"] for i in everything["results"]]

    seen, url, pages = [], LIST + f"?ordering={ordering}&page_size=3", []
    while url:
        page = client.get(url).json()
        pages.append(page)
        seen += [i["code"] for i in page["results"]]
        url = page["next"]
    back = []
    url = pages[-1]["previous"]
    while url:
        page = client.get(url).json()
        back = [i["code"] for i in page["results"]] + back
        url = page["previous"]

    assert len(expected) == 11
    assert seen == expected
    assert back + [i["code"] for i in pages[-1]["results"]] == expected
    assert all(p["count"] == 11 for p in pages)


def test_page_size_above_1000_is_a_400(client):
    response = client.get(LIST + "?page_size=1001")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"page_size": ["Enter a whole number from 1 to 1000."]}


# ---------------------------------------------------------------------------------------
# Detail and lifecycle
# ---------------------------------------------------------------------------------------


def test_the_detail_has_everything_public(client, world):
    response = client.get(detail(world.code("F")))

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["code"] == world.code("F")
    assert [c["source"]["title"] for c in body["citations"]] == [
        world.objects["public_source"].title
    ]
    assert body["confidential_sources_count"] == 1
    assert body["attributions"][0]["role"] == "associated"
    assert body["casualty_rows"] == [
        {
            "group": "civilians",
            "outcome": "killed",
            "min": 1,
            "max": 1,
            "best": None,
            "note": "",
        }
    ]
    victims = body["victims"]
    assert [v["name"] for v in victims] == [None, None, "Named With Consent"]
    assert [v["age"] for v in victims] == [40, None, 30]
    assert "consent_note" not in victims[2]
    assert body["history_url"].endswith(f"/api/v1/incidents/{world.code('F')}/history/")
    assert body["citation"].startswith(
        f"CivTrack, incident {world.code('F')}, version "
    )
    assert "retrieved" in body["citation"]
    assert "restricted" not in body
    # The public place: the district, at its centroid, with district precision.
    assert body["location"]["slug"] == "jebel-saman"
    assert (body["latitude"], body["longitude"], body["geo_precision"]) == (
        36.25,
        37.05,
        "district",
    )
    assert body["targets"][0]["facility"] == {
        "ref": world.objects["sensitive_hospital"].ref,
        "name": None,
    }


def test_detail_etag_and_if_none_match(client, world):
    url = detail(world.code("A"))

    first = client.get(url)
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    stale = client.get(url, HTTP_IF_NONE_MATCH='"1"')

    assert first["ETag"] == f'"{world.objects["A"].version}"'
    assert again.status_code == HTTPStatus.NOT_MODIFIED
    assert again.content == b""
    assert stale.status_code == HTTPStatus.OK


@pytest.mark.parametrize("status", [Incident.Status.DRAFT, Incident.Status.IN_REVIEW])
def test_an_unpublished_incident_is_a_404_for_the_public(client, status):
    incident = make_incident(status=status)

    response = client.get(detail(incident.code))
    history = client.get(detail(incident.code) + "history/")

    assert response.status_code == history.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"detail": f"No published incident {incident.code}."}


def test_an_unknown_code_is_a_json_404(client):
    response = client.get(detail("SY-1999-99999"))

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response["Content-Type"] == "application/json"


def test_a_withdrawn_incident_is_a_410(client):
    incident = make_incident(status=Incident.Status.WITHDRAWN)

    response = client.get(detail(incident.code))

    assert response.status_code == HTTPStatus.GONE
    assert response.json() == {
        "code": incident.code,
        "status": "withdrawn",
        "withdrawn_reason": "Duplicate of another record.",
    }


def test_a_merged_incident_is_a_301_to_the_survivor(client):
    merged = make_incident(status=Incident.Status.PUBLISHED)
    survivor = make_incident(status=Incident.Status.PUBLISHED)
    services.incident_merge(incident=merged, into=survivor, by=reviewer())

    response = client.get(detail(merged.code) + "?lang=ar")

    assert response.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert response["Location"] == f"http://testserver{detail(survivor.code)}?lang=ar"
    assert response.json() == {
        "code": merged.code,
        "status": "merged",
        "merged_into": survivor.code,
    }


def test_staff_see_drafts_and_restricted_fields(world):
    client = staff_client()

    draft = client.get(detail(world.code("E")))
    sensitive = client.get(detail(world.code("F"))).json()
    listed = client.get(LIST + "?status=draft").json()

    assert draft.status_code == HTTPStatus.OK
    assert draft.json()["title"] == CANARIES["draft_title"]
    assert [i["code"] for i in listed["results"]] == [world.code("E")]
    assert sensitive["restricted"]["internal_notes"] == CANARIES["internal_notes"]
    assert sensitive["restricted"]["created_by"] == CANARIES["username"]
    assert sensitive["location"]["slug"] == CANARIES["real_place"]
    assert sensitive["targets"][0]["facility"]["name"] == CANARIES["facility_name"]
    assert {v["name"] for v in sensitive["victims"]} >= {CANARIES["victim_name"]}
    assert len(sensitive["citations"]) == 2


def test_public_history_starts_at_publication(client, world):
    incident = world.objects["A"]
    services.incident_update(
        incident=incident,
        expected_version=Incident.objects.get(pk=incident.pk).version,
        fields={"title": "Air strike on Maarat National Hospital"},
        by=reviewer(),
        reason="typo",
        public_reason="Named the hospital.",
    )

    body = client.get(detail(incident.code) + "history/").json()

    assert body["code"] == incident.code
    assert body["history"][0]["action"] == "published"
    last = body["history"][-1]
    assert last["changes"]["title"] == {
        "old": "Air strike on Maarat hospital",
        "new": "Air strike on Maarat National Hospital",
    }
    assert last["public_reason"] == "Named the hospital."
    assert "reason" not in last
    assert "user" not in last


def test_staff_history_says_who_and_why(world):
    body = staff_client().get(detail(world.code("F")) + "history/").json()

    assert body["history"][0]["user"] == CANARIES["username"]
    assert body["history"][0]["reason"] == "created"


def test_a_withdrawn_incidents_history_answers_as_the_incident(client):
    incident = make_incident(status=Incident.Status.WITHDRAWN)

    response = client.get(detail(incident.code) + "history/")

    assert response.status_code == HTTPStatus.GONE


# ---------------------------------------------------------------------------------------
# Redaction: nothing restricted in any public JSON answer
# ---------------------------------------------------------------------------------------


def test_no_restricted_value_reaches_an_anonymous_caller(client, world):
    urls = [
        LIST,
        LIST + "?page_size=1000&lang=ar",
        LIST + "?status=published&grading=confirmed",
        detail(world.code("F")),
        detail(world.code("F")) + "?lang=ar",
        detail(world.code("F")) + "history/",
        detail(world.code("B")),
        reverse("api:facility-list"),
        reverse(
            "api:facility-detail",
            kwargs={"ref": world.objects["sensitive_hospital"].ref},
        ),
        reverse("api:source-list"),
        reverse("api:actor-detail", kwargs={"slug": "test-air-force"}),
    ]

    leaks = {}
    for url in urls:
        response = client.get(url)
        assert response.status_code == HTTPStatus.OK, url
        text = response.content.decode()
        found = [name for name, value in CANARIES.items() if value in text]
        if found:
            leaks[url] = found

    assert leaks == {}
    assert client.get(detail(world.code("E"))).status_code == HTTPStatus.NOT_FOUND
    confidential = world.objects["confidential"].pk
    assert (
        client.get(
            reverse("api:source-detail", kwargs={"pk": confidential})
        ).status_code
        == HTTPStatus.NOT_FOUND
    )


# ---------------------------------------------------------------------------------------
# Errors, CORS, throttling
# ---------------------------------------------------------------------------------------


def test_unknown_api_paths_are_json_404s(client):
    response = client.get("/api/v1/no-such-thing/")

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {"detail": "Not found."}


def test_a_missing_slash_redirects(client):
    response = client.get("/api/v1/incidents?q=x")

    assert response.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert response["Location"] == "/api/v1/incidents/?q=x"


def test_reads_allow_any_origin(client, world):
    response = client.get(LIST, HTTP_ORIGIN="https://newsroom.example.org")
    preflight = client.options(LIST, HTTP_ORIGIN="https://newsroom.example.org")

    assert response["Access-Control-Allow-Origin"] == "*"
    assert "X-CivTrack-Query" in response["Access-Control-Expose-Headers"]
    assert preflight["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"


def test_writes_get_no_cors_header(world):
    client = APIClient()

    response = client.post(LIST, {}, format="json", HTTP_ORIGIN="https://x.example")

    assert "Access-Control-Allow-Origin" not in response


def test_anonymous_callers_are_throttled_with_retry_after(client, settings):
    from rest_framework.throttling import AnonRateThrottle

    rates = {**AnonRateThrottle.THROTTLE_RATES, "anon": "3/min"}
    original = AnonRateThrottle.THROTTLE_RATES
    AnonRateThrottle.THROTTLE_RATES = rates
    try:
        answers = [client.get(reverse("api:vocabularies")) for _ in range(4)]
    finally:
        AnonRateThrottle.THROTTLE_RATES = original

    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    assert int(answers[-1]["Retry-After"]) >= 1
    assert "detail" in answers[-1].json()


def test_staff_list_is_not_the_public_one(world):
    place = LocationFactory()
    make_incident(status=Incident.Status.DRAFT, location=place)

    body = staff_client().get(LIST + f"?location={place.slug}").json()

    assert body["count"] == 1
    assert body["results"][0]["status"] == "draft"
