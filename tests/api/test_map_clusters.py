"""`/api/v1/map/clusters/` (API.md "Map"): grid clusters of the filtered incidents."""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus
from types import SimpleNamespace

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from incidents.services import IncidentParts, TargetData
from tests.factories import (
    FacilityFactory,
    LocationFactory,
    api_token,
    make_incident,
    researcher,
)

pytestmark = pytest.mark.django_db

CLUSTERS = "api:map-clusters"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Factories create users; Argon2 would make each one take a noticeable while.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def client():
    return APIClient()


def clusters(client, query: str) -> dict:
    response = client.get(f"{reverse(CLUSTERS)}?{query}")
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


def list_count(client, query: str) -> int:
    response = client.get(f"{reverse('api:incident-list')}?{query}")
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()["count"]


@pytest.fixture
def spread(db):
    """Nine published incidents: four around Idleb, four around Aleppo (two at one point),
    one without a point, one aggregate record with a point."""
    idleb = LocationFactory(latitude=35.93, longitude=36.63)
    aleppo = LocationFactory(latitude=36.20, longitude=37.15)
    made = []
    for i in range(4):
        made.append(
            make_incident(
                status="published",
                title=f"Idleb {i}",
                date_start=dt.date(2016, 1, 1 + i),
                location=idleb,
                latitude=35.90 + i * 0.01,
                longitude=36.60 + i * 0.01,
            )
        )
    for i in range(4):
        made.append(
            make_incident(
                status="published",
                title=f"Aleppo {i}",
                date_start=dt.date(2017, 1, 1 + i),
                location=aleppo,
                latitude=36.20 + (i // 2) * 0.3,
                longitude=37.15,
            )
        )
    made.append(
        make_incident(
            status="published",
            title="No point",
            location=aleppo,
            latitude=None,
            longitude=None,
        )
    )
    made.append(
        make_incident(
            status="published",
            title="A year of deaths",
            location=aleppo,
            aggregate=True,
        )
    )
    make_incident(title="A draft", location=aleppo)  # never on the public map
    return made


@pytest.mark.parametrize("zoom", [0, 5, 9, 13, 18])
def test_cluster_counts_add_up_to_the_mappable_incidents(client, spread, zoom):
    body = clusters(client, f"zoom={zoom}")

    expected = list_count(client, "has_coordinates=true&aggregate=false")
    assert expected == 8
    assert sum(c["count"] for c in body["clusters"]) == body["count"] == expected
    assert body["left_off"] == {"without_coordinates": 1, "aggregate": 1}


def test_it_honours_filters(client, spread):
    body = clusters(client, "zoom=6&date_from=2017-01-01&bbox=37,36,38,37")

    assert body["count"] == list_count(
        client,
        "date_from=2017-01-01&bbox=37,36,38,37&has_coordinates=true&aggregate=false",
    )
    assert body["count"] == 4


def test_low_zoom_groups_nearby_incidents(client, spread):
    body = clusters(client, "zoom=4")

    assert len(body["clusters"]) < 8
    big = body["clusters"][0]
    assert big["code"] is None
    assert big["title"] is None
    west, south, east, north = big["bbox"]
    assert west <= big["lon"] <= east
    assert south <= big["lat"] <= north


def test_high_zoom_names_the_incidents(client, spread):
    body = clusters(client, "zoom=14")

    singles = [c for c in body["clusters"] if c["count"] == 1]
    assert singles
    assert all(c["code"] and c["title"] for c in singles)
    shared = [c for c in body["clusters"] if c["count"] == 2]
    assert len(shared) == 2  # two Aleppo points hold two incidents each
    assert [i["title"] for i in shared[0]["incidents"]] in (
        ["Aleppo 1", "Aleppo 0"],
        ["Aleppo 3", "Aleppo 2"],
    )


def test_it_sums_civilians_killed_with_unknown_maxima(client, db):
    from incidents.services import CasualtyRowData, IncidentParts

    place = LocationFactory(latitude=35.0, longitude=38.0)
    for rows in (
        [CasualtyRowData("civilians", "killed", 2, 5)],
        [CasualtyRowData("children", "killed", 3, 3)],  # civilians 3..unknown
    ):
        make_incident(
            status="published", location=place, parts=IncidentParts(casualty_rows=rows)
        )

    (cell,) = clusters(client, "zoom=3")["clusters"]

    assert cell["count"] == 2
    assert cell["civilians_killed_min"] == 5
    assert cell["civilians_killed_max"] is None
    assert cell["civilians_killed_incidents_max_unknown"] == 1
    assert cell["civilians_killed_incidents_not_recorded"] == 0
    assert "civilians_killed_max_known" not in cell


@pytest.mark.parametrize("zoom", ["", "19", "-1", "abc", "1.5", "100"])
def test_zoom_is_validated(client, zoom):
    response = client.get(f"{reverse(CLUSTERS)}?zoom={zoom}")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "0 to 18" in response.json()["zoom"][0]


def test_zoom_is_required(client):
    response = client.get(reverse(CLUSTERS))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "zoom" in response.json()


def test_bad_filters_are_a_400(client):
    response = client.get(f"{reverse(CLUSTERS)}?zoom=5&bbox=1,2,3")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "bbox" in response.json()


@pytest.fixture
def sensitive(db):
    """A published strike on a sensitive hospital in a village: the public place is the
    village's district (the redaction layer)."""
    district = LocationFactory(level="district", latitude=36.25, longitude=37.05)
    village = LocationFactory(parent=district, latitude=36.3, longitude=37.3)
    hospital = FacilityFactory(
        location=village, latitude=36.301234, longitude=37.301234, sensitive=True
    )
    incident = make_incident(
        status="published",
        title="Strike on a hospital",
        location=village,
        latitude=36.311119,
        longitude=37.322229,
        geo_precision="exact",
        parts=IncidentParts(
            targets=[TargetData(target_type=hospital.target_type, facility=hospital)]
        ),
    )
    return SimpleNamespace(district=district, incident=incident)


def test_the_public_sees_a_sensitive_facility_at_its_district(client, sensitive):
    body = clusters(client, "zoom=18")

    (cell,) = body["clusters"]
    assert cell["code"] == sensitive.incident.code
    assert (cell["lat"], cell["lon"]) == (36.25, 37.05)
    assert cell["bbox"] == [37.05, 36.25, 37.05, 36.25]
    assert "36.31" not in str(body)
    assert "37.32" not in str(body)


def test_a_bbox_around_the_real_place_finds_nothing_public(client, sensitive):
    body = clusters(client, "zoom=10&bbox=37.31,36.30,37.33,36.32")

    assert body["count"] == 0


def test_staff_see_the_real_point(client, sensitive):
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(researcher())}")

    (cell,) = clusters(client, "zoom=18")["clusters"]

    assert (cell["lat"], cell["lon"]) == (36.311119, 37.322229)


def test_query_count_is_fixed(client, spread, django_assert_num_queries):
    # The data's fingerprint (public_cache), the cells, the left-off counts.
    with django_assert_num_queries(3):
        response = client.get(f"{reverse(CLUSTERS)}?zoom=14")

    assert response.status_code == HTTPStatus.OK
    assert len(response.json()["clusters"]) == 6


def test_it_answers_again_from_the_cache_until_the_data_changes(
    client, spread, django_assert_num_queries
):
    first = clusters(client, "zoom=6")
    with django_assert_num_queries(1):  # the fingerprint only
        again = clusters(client, "zoom=6")
    make_incident(
        status="published",
        location=LocationFactory(latitude=33.5, longitude=36.3),
    )

    after = clusters(client, "zoom=6")

    assert again == first
    assert after["count"] == first["count"] + 1
