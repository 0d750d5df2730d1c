"""CSV and GeoJSON exports (API.md "Formats"): streamed, uncapped, exactly the rows the
same filter counts, with the documented headers, and nothing restricted in them."""

from __future__ import annotations

import csv
import io
import json
from http import HTTPStatus

import pytest
from django.http import StreamingHttpResponse

from incidents.importers.civtrack_csv import CSV_COLUMNS
from tests.api.conftest import CANARIES

pytestmark = pytest.mark.django_db

LIST = "/api/v1/incidents/"


def body(response) -> bytes:
    assert isinstance(response, StreamingHttpResponse)
    return b"".join(response.streaming_content)


def csv_rows(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(body(response).decode("utf-8"))))


@pytest.mark.parametrize(
    "query",
    ["", "bloc=syrian_government", "has_coordinates=false", "grading=discounted"],
)
def test_the_csv_is_exactly_the_filtered_set(client, world, query):
    listed = client.get(f"{LIST}?{query}&page_size=1000").json()

    response = client.get(f"{LIST}?{query}&format=csv")

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    rows = csv_rows(response)
    assert [r["code"] for r in rows] == [i["code"] for i in listed["results"]]
    assert len(rows) == listed["count"]


def test_the_csv_columns_are_the_importers(client, world):
    response = client.get(f"{LIST}?format=csv&q={world.code('A')}")

    text = body(response).decode()
    header = next(csv.reader(io.StringIO(text)))
    row = next(csv.DictReader(io.StringIO(text)))
    assert header == CSV_COLUMNS
    assert not text.startswith("\ufeff")
    assert row["civilians_killed_min"] == "9"
    assert row["civilians_killed_max"] == "11"
    assert row["row_civilians_killed_min"] == "9"
    assert row["row_children_killed_max"] == "4"
    assert row["row_combatants_killed_min"] == ""
    assert row["perpetrators"] == "panther-brigade"
    assert row["version"] == str(world.objects["A"].version)


def test_the_csv_lists_alternatives_in_parallel(client, world):
    row = csv_rows(client.get(f"{LIST}?format=csv&q={world.code('B')}"))[0]

    assert row["perpetrators"].split(";") == [
        "test-air-force",
        "test-government",
    ]
    assert row["perpetrator_alternatives"] == "1;2"


def test_bom_1_starts_the_csv_with_a_bom(client, world):
    response = client.get(f"{LIST}?format=csv&bom=1")

    assert body(response).startswith("\ufeff".encode())


def test_exports_carry_the_documented_headers(client, world):
    response = client.get(f"{LIST}?format=csv&bloc=russia&q=مستشفى")

    body(response)
    assert (
        response["X-CivTrack-Query"]
        == "bloc=russia&q=%D9%85%D8%B3%D8%AA%D8%B4%D9%81%D9%89"
    )
    assert response["X-CivTrack-Generated-At"].endswith("Z")
    assert 'rel="describedby"' in response["Link"]
    assert "/methodology/" in response["Link"]
    assert "CivTrack" in response["X-CivTrack-Citation"]
    disposition = response["Content-Disposition"]
    assert disposition.startswith(
        'attachment; filename="civtrack-incidents-bloc-russia'
    )
    assert disposition.endswith('.csv"')


def test_the_geojson_leaves_out_points_missing_and_aggregates(client, world):
    counted = client.get(f"{LIST}?has_coordinates=true&aggregate=false").json()

    response = client.get(f"{LIST}?format=geojson")

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "application/geo+json"
    collection = json.loads(body(response))
    assert collection["type"] == "FeatureCollection"
    codes = [f["properties"]["code"] for f in collection["features"]]
    assert codes == [i["code"] for i in counted["results"]]
    assert world.code("C") not in codes
    feature = next(f for f in collection["features"] if f["id"] == world.code("A"))
    assert feature["geometry"] == {"type": "Point", "coordinates": [36.67, 35.64]}


def test_an_empty_geojson_is_valid(client, world):
    response = client.get(f"{LIST}?format=geojson&bloc=hts")

    assert json.loads(body(response)) == {"type": "FeatureCollection", "features": []}


def test_exports_stream_in_chunks_and_match_the_count(client, world, monkeypatch):
    """Many chunks (chunk size forced down): every row once, in order."""
    monkeypatch.setattr("api.exports.CSV_BATCH", 1)
    monkeypatch.setattr("api.exports.GEOJSON_BATCH", 1)
    listed = client.get(f"{LIST}?ordering=-civilians_killed_max&page_size=1000").json()

    rows = csv_rows(client.get(f"{LIST}?format=csv&ordering=-civilians_killed_max"))
    features = json.loads(
        body(client.get(f"{LIST}?format=geojson&ordering=-civilians_killed_max"))
    )["features"]

    expected = [i["code"] for i in listed["results"]]
    assert [r["code"] for r in rows] == expected
    assert [f["id"] for f in features] == [
        i["code"]
        for i in listed["results"]
        if i["latitude"] is not None and not i["aggregate"]
    ]


def test_no_restricted_value_in_any_export(client, world):
    exports = {
        "csv": body(client.get(f"{LIST}?format=csv")).decode(),
        "geojson": body(client.get(f"{LIST}?format=geojson")).decode(),
        "geojson-ar": body(client.get(f"{LIST}?format=geojson&lang=ar")).decode(),
    }

    leaks = {
        name: [key for key, value in CANARIES.items() if value in text]
        for name, text in exports.items()
    }
    assert leaks == {"csv": [], "geojson": [], "geojson-ar": []}
    assert world.code("F") in exports["csv"]


def test_export_with_a_bad_filter_is_a_json_400(client, world):
    response = client.get(f"{LIST}?format=csv&date_from=yesterday")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"date_from": ["Enter a date as YYYY-MM-DD."]}
