"""The batched exports (api/exports.py) give exactly what the straightforward paths give:
the CSV byte for byte what `export_row()` writes for each incident loaded through the
ORM, the GeoJSON properties exactly the JSON list's items, with a fixed number of
queries per batch whatever its size (issue 8)."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

import pytest
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from api.filters import run_incident_filter
from incidents import services
from incidents.importers.civtrack_csv import CSV_COLUMNS, export_row
from incidents.models import Incident
from tests.factories import (
    ActorFactory,
    LocationFactory,
    TargetTypeFactory,
    WeaponTypeFactory,
    make_incident,
    researcher,
)

pytestmark = pytest.mark.django_db

LIST = "/api/v1/incidents/"


class _Echo:
    def write(self, value: str) -> str:
        return value


def reference_csv(queryset, *, bom: bool = False) -> bytes:
    """The export as the instance path wrote it before issue 8: `export_row()` over
    ORM instances with their related rows prefetched."""
    writer = csv.writer(_Echo())
    text = ("\ufeff" if bom else "") + writer.writerow(CSV_COLUMNS)
    for incident in queryset.select_related(
        "public_location", "governorate", "incident_type"
    ).prefetch_related(
        "casualties", "attributions__actor", "weapons__weapon", "targets__target_type"
    ):
        row = export_row(incident)
        text += writer.writerow([row.get(c, "") for c in CSV_COLUMNS])
    return text.encode()


def body(response) -> bytes:
    return b"".join(response.streaming_content)


@pytest.fixture
def awkward(world):
    """Besides `world`: text that needs quoting, a whole-number point, numbered
    hypotheses out of order, several weapons and targets, casualty rows with and
    without a best estimate, a draft (staff only) and an incident without a place."""
    P = services.IncidentParts
    first, second, third = ActorFactory(), ActorFactory(), ActorFactory()
    shell, rocket = WeaponTypeFactory(code="shell-x"), WeaponTypeFactory(code="rkt")
    school, home = TargetTypeFactory(code="school-x"), TargetTypeFactory(code="home-x")
    place = LocationFactory(latitude=36.0, longitude=37.0)
    make_incident(
        status=Incident.Status.PUBLISHED,
        title='Shelling, "heavy"\r\nof the old city',
        title_ar='قصف، "عنيف"',
        summary="Line one\nline two, with a comma; and a semicolon",
        summary_ar="نص\rعربي",
        date_start=dt.date(2014, 7, 1),
        date_end=dt.date(2014, 7, 3),
        location=place,
        latitude=36.0,
        longitude=37.0,
        parts=P(
            casualty_rows=[
                services.CasualtyRowData("civilians", "killed", 3, 7, best=5),
                services.CasualtyRowData("journalists", "abducted", 1, 1),
                services.CasualtyRowData("all", "detained", 0, 2, best=0),
            ],
            attributions=[
                services.AttributionData(actor=third, alternative=2),
                services.AttributionData(actor=first, alternative=1),
                services.AttributionData(actor=second, alternative=1),
            ],
            weapons=[
                services.WeaponData(weapon=rocket),
                services.WeaponData(weapon=shell),
            ],
            targets=[
                services.TargetData(target_type=home),
                services.TargetData(target_type=school),
            ],
        ),
    )
    make_incident(
        status=Incident.Status.PUBLISHED,
        title="Country-level record",
        date_start=dt.date(2014, 7, 1),
        location=None,
        latitude=None,
        longitude=None,
        parts=P(attributions=[services.AttributionData(actor=first)]),
    )
    make_incident(title="A draft, staff only", date_start=dt.date(2013, 1, 1))
    return world


@pytest.mark.parametrize(
    "query",
    [
        "",
        "ordering=-civilians_killed_max",
        "ordering=updated_at",
        "ordering=code",
        "bloc=syrian_government",
        "grading=discounted",
    ],
)
def test_it_writes_the_csv_byte_for_byte_as_export_row(client, awkward, query):
    got = body(client.get(f"{LIST}?{query}&format=csv"))

    result = run_incident_filter(QueryDict(query), user=None)
    ordered = result.queryset.order_by(*result.keyset.order_by())
    assert got == reference_csv(ordered)
    listed = client.get(f"{LIST}?{query}&page_size=1000").json()["results"]
    assert got.count(b"\r\n") >= len(listed) + 1


def test_it_writes_the_staff_csv_byte_for_byte_as_export_row(awkward):
    client = APIClient()
    client.force_authenticate(researcher())

    got = body(client.get(f"{LIST}?format=csv&bom=1"))

    expected = reference_csv(Incident.objects.order_by("-date_start", "-id"), bom=True)
    assert got == expected
    assert b"A draft, staff only" in got
    assert b'"Shelling, ""heavy""\r\nof the old city"' in got


def test_it_keeps_the_casualty_columns_in_place(client, awkward):
    text = body(client.get(f"{LIST}?format=csv")).decode()
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    row = next(r for r in rows if r["title"].startswith('Shelling, "heavy"'))

    assert row["row_civilians_killed_best"] == "5"
    assert row["row_journalists_abducted_min"] == "1"
    assert row["row_journalists_abducted_best"] == ""
    assert row["row_all_detained_best"] == "0"
    assert row["latitude"] == "36.0"
    assert row["perpetrator_alternatives"] == "1;1;2"
    assert row["weapons"].split(";") == ["rkt", "shell-x"]
    assert len(rows[0]) == len(CSV_COLUMNS)


@pytest.mark.parametrize("query", ["", "lang=ar", "fields=code,perpetrators"])
def test_its_geojson_properties_are_the_list_items(client, awkward, query):
    listed = client.get(f"{LIST}?{query}&page_size=1000").json()["results"]

    features = json.loads(body(client.get(f"{LIST}?{query}&format=geojson")))[
        "features"
    ]

    by_code = {item["code"]: item for item in listed}
    assert features
    for feature in features:
        assert feature["properties"] == by_code[feature["id"]]


def test_it_runs_the_same_queries_whatever_the_size(client, awkward, monkeypatch):
    """One query writes every line (related lists included) through a server-side
    cursor: the number of queries does not grow with the rows or the fetch size."""

    def queries(query: str, fetch: int) -> tuple[int, int]:
        monkeypatch.setattr("api.exports.CSV_BATCH", fetch)
        monkeypatch.setattr("api.exports.GEOJSON_BATCH", fetch)
        counts = []
        for fmt in ("csv", "geojson"):
            with CaptureQueriesContext(connection) as ctx:
                got = body(client.get(f"{LIST}?{query}&format={fmt}"))
            assert got
            counts.append(len(ctx.captured_queries))
        return tuple(counts)

    everything = queries("", 1000)
    assert queries("", 1) == everything
    assert queries("q=Country-level", 1000) == everything
    assert all(n <= 8 for n in everything), everything
