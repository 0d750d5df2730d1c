"""Issue 12 §7, per incident: not recorded is not zero (DOMAIN.md).

An outsider reads one incident every way CivTrack offers it — the API list and detail,
the live CSV and GeoJSON exports, the English and Arabic pages, the admin — and checks
that a count no source gave is null / an empty cell / "not recorded", never 0 or
"at least 0"; that an explicit 0 stays 0; that a subgroup floor reads "at least N";
and that paging through an ordering on a nullable count returns every row exactly once,
both ways, in the API and on the pages."""

from __future__ import annotations

import csv
import io
import json
from http import HTTPStatus

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from rest_framework.test import APIClient

from api.pagination import Keyset
from incidents import services, views
from incidents.models import Incident
from incidents.services import CasualtyRowData as Row
from incidents.templatetags.civtrack import range_words
from tests.api.test_export_batches import body
from tests.factories import LocationFactory, admin_user, make_incident

pytestmark = pytest.mark.django_db

LIST = "/api/v1/incidents/"
NOT_RECORDED = {"min": None, "max": None}


def _published(title: str, rows: list[Row], **fields) -> Incident:
    return make_incident(
        status=Incident.Status.PUBLISHED,
        title=title,
        parts=services.IncidentParts(casualty_rows=rows),
        **fields,
    )


@pytest.fixture
def scene(db) -> dict[str, Incident]:
    place = LocationFactory()
    return {
        # UCDP: one `all` row (low/high/best), never children.
        "ucdp": _published(
            "UCDP event", [Row("all", "killed", 5, 9, 7)], location=place
        ),
        # Insecurity Insight: medical personnel killed 0, no civilian count.
        "ii": _published(
            "II event", [Row("medical_personnel", "killed", 0, 0)], location=place
        ),
        "zero": _published(
            "Nobody hurt",
            [Row("civilians", "killed", 0, 0), Row("children", "killed", 0, 0)],
            location=place,
        ),
        "floor": _published(
            "Subgroups only",
            [Row("children", "killed", 4, 6), Row("women", "killed", 5, 5)],
            location=place,
        ),
        "silent": _published("No figures", [], location=place),
    }


def _item(client, incident: Incident) -> dict:
    return client.get(f"{LIST}{incident.code}/").json()


# ---------------------------------------------------------------------------------------
# API list, detail, schema
# ---------------------------------------------------------------------------------------


def test_the_api_says_null_for_what_no_source_recorded(scene):
    client = APIClient()
    listed = {
        item["code"]: item["casualties"]
        for item in client.get(f"{LIST}?page_size=100").json()["results"]
    }

    ucdp = _item(client, scene["ucdp"])["casualties"]
    assert ucdp["children_killed"] == NOT_RECORDED
    assert ucdp["civilians_killed"] == NOT_RECORDED
    assert ucdp["total_killed"] == {"min": 5, "max": 9}
    assert listed[scene["ucdp"].code] == ucdp

    ii = listed[scene["ii"].code]
    assert ii["medical_personnel_killed"] == {"min": 0, "max": 0}
    assert ii["civilians_injured"] == NOT_RECORDED
    assert ii["children_killed"] == NOT_RECORDED

    zero = listed[scene["zero"].code]
    assert zero["civilians_killed"] == {"min": 0, "max": 0}
    assert zero["children_killed"] == {"min": 0, "max": 0}

    floor = listed[scene["floor"].code]
    assert floor["civilians_killed"] == {"min": 5, "max": None}
    assert floor["total_killed"] == {"min": 5, "max": None}

    silent = listed[scene["silent"].code]
    assert all(value == NOT_RECORDED for value in silent.values())


def test_the_schema_lets_every_bound_be_null(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    schema = json.loads(response.content)
    fields = schema["components"]["schemas"]["Range"]["properties"]

    assert fields["min"].get("nullable") is True
    assert fields["max"].get("nullable") is True
    assert "v1 correction" in fields["min"]["description"]
    assert "One correction within v1" in schema["info"]["description"]


# ---------------------------------------------------------------------------------------
# Exports: CSV (empty cell) and GeoJSON (null)
# ---------------------------------------------------------------------------------------


def test_the_csv_leaves_a_not_recorded_count_empty(scene):
    response = APIClient().get(f"{LIST}?format=csv")
    assert response.status_code == HTTPStatus.OK
    rows = {
        row["code"]: row
        for row in csv.DictReader(io.StringIO(body(response).decode("utf-8")))
    }

    ucdp = rows[scene["ucdp"].code]
    assert (ucdp["children_killed_min"], ucdp["children_killed_max"]) == ("", "")
    assert (ucdp["civilians_killed_min"], ucdp["civilians_killed_max"]) == ("", "")
    assert (ucdp["total_killed_min"], ucdp["total_killed_max"]) == ("5", "9")
    zero = rows[scene["zero"].code]
    assert (zero["children_killed_min"], zero["children_killed_max"]) == ("0", "0")
    floor = rows[scene["floor"].code]
    assert (floor["civilians_killed_min"], floor["civilians_killed_max"]) == ("5", "")


def test_the_geojson_says_null_for_a_not_recorded_count(scene):
    response = APIClient().get(f"{LIST}?format=geojson")
    assert response.status_code == HTTPStatus.OK
    features = {
        f["id"]: f["properties"]["casualties"]
        for f in json.loads(body(response))["features"]
    }

    assert features[scene["ucdp"].code]["children_killed"] == NOT_RECORDED
    assert features[scene["ii"].code]["civilians_killed"] == {"min": 0, "max": None}
    assert features[scene["zero"].code]["children_killed"] == {"min": 0, "max": 0}


# ---------------------------------------------------------------------------------------
# Pages, in both languages, and the admin
# ---------------------------------------------------------------------------------------


def _page(lang: str, path: str) -> str:
    response = Client().get(f"/{lang}{path}")
    assert response.status_code == HTTPStatus.OK, path
    return response.content.decode()


def test_the_detail_page_never_claims_zero_for_what_was_not_recorded(scene):
    ucdp = _page("en", f"/incidents/{scene['ucdp'].code}/")
    assert "including children" not in ucdp
    assert '<strong class="num">not recorded</strong>' in ucdp

    ii = _page("en", f"/incidents/{scene['ii'].code}/")
    assert "at least 0" not in ii
    assert '<strong class="num">not recorded</strong>' in ii

    zero = _page("en", f"/incidents/{scene['zero'].code}/")
    assert '<strong class="num">none (0)</strong>' in zero
    assert "including children: none (0)" in zero

    floor = _page("en", f"/incidents/{scene['floor'].code}/")
    assert '<strong class="num">at least 5</strong>' in floor
    assert "including children: \u20664–6\u2069" in floor


def test_the_arabic_pages_say_not_recorded_in_arabic(scene):
    ucdp = _page("ar", f"/incidents/{scene['ucdp'].code}/")
    assert '<strong class="num">غير مسجّل</strong>' in ucdp

    listing = _page("ar", "/incidents/")
    assert "غير مسجّل" in listing
    assert "لا أحد (0)" in listing
    assert "5 على الأقل" in listing
    assert "0 على الأقل" not in listing


def test_the_list_page_shows_each_range_as_a_reader_understands_it(scene):
    listing = _page("en", "/incidents/")

    assert "at least 0" not in listing
    assert "none (0)" in listing  # the explicit zero
    assert "at least 5" in listing  # the subgroup floor
    assert listing.count(">not recorded<") >= 3  # UCDP, II, no figures


def test_the_filter_form_offers_the_recorded_filters_in_both_languages(scene):
    english = _page("en", "/incidents/?children_killed_recorded=false")
    arabic = _page("ar", "/incidents/?children_killed_recorded=false")

    assert 'name="children_killed_recorded"' in english
    assert "Children killed recorded" in english
    assert "عدد الأطفال القتلى مسجّل" in arabic
    for code in (scene["ucdp"].code, scene["ii"].code, scene["silent"].code):
        assert code in english
    assert scene["zero"].code not in english


def test_the_admin_shows_not_recorded_never_zero(scene):
    client = Client()
    client.force_login(admin_user())
    ucdp = scene["ucdp"]

    page = client.get(
        reverse("admin:incidents_incident_change", args=[ucdp.pk])
    ).content.decode()
    listing = client.get(
        reverse("admin:incidents_incident_changelist")
    ).content.decode()

    assert "children killed: not recorded" in page
    assert "civilians killed: not recorded" in page
    assert "children killed: 0" not in page
    assert "killed (all): \u20665–9\u2069" in page
    assert ">not recorded<" in listing


@pytest.mark.parametrize(
    ("low", "high", "english", "arabic"),
    [
        (None, None, "not recorded", "غير مسجّل"),
        (0, None, "not recorded", "غير مسجّل"),  # "at least 0" says nothing
        (0, 0, "none (0)", "لا أحد (0)"),
        (4, 4, "4", "4"),
        (3, None, "at least 3", "3 على الأقل"),
        (9, 11, "\u20669–11\u2069", "\u20669–11\u2069"),
        (7, 2, "at least 7", "7 على الأقل"),  # never a maximum below the minimum
    ],
)
def test_range_words_in_both_languages(low, high, english, arabic):
    with translation.override("en"):
        assert range_words(low, high) == english
    with translation.override("ar"):
        assert range_words(low, high) == arabic


# ---------------------------------------------------------------------------------------
# Paging through an ordering on a nullable count: every row exactly once, both ways
# ---------------------------------------------------------------------------------------


@pytest.fixture
def many(db) -> list[str]:
    place = LocationFactory()
    codes = []
    for index, killed in enumerate([3, None, 7, 3, None, 0, 12, None, 3, 7, None]):
        rows = [] if killed is None else [Row("civilians", "killed", killed, killed)]
        if index % 4 == 1:  # a floor: civilians killed "at least 2", max null
            rows = [Row("children", "killed", 2, 2)]
        codes.append(_published(f"Paged {index}", rows, location=place).code)
    return codes


def _expected(codes: list[str], *, descending: bool) -> list[str]:
    rows = list(
        Incident.objects.filter(code__in=codes).values_list(
            "code", "civilians_killed_max", "id"
        )
    )
    numbers = sorted(
        (r for r in rows if r[1] is not None),
        key=lambda r: (r[1], r[2]),
        reverse=descending,
    )
    nulls = sorted(
        (r for r in rows if r[1] is None), key=lambda r: r[2], reverse=descending
    )
    return [r[0] for r in numbers + nulls]


@pytest.mark.parametrize("ordering", ["civilians_killed_max", "-civilians_killed_max"])
def test_api_paging_by_a_nullable_count_returns_every_row_once(many, ordering):
    client = APIClient()
    expected = _expected(many, descending=ordering.startswith("-"))
    url = f"{LIST}?ordering={ordering}&page_size=2"
    pages, page = [], None
    while url:
        page = client.get(url).json()
        pages.append([item["code"] for item in page["results"]])
        url = page["next"]

    assert [code for rows in pages for code in rows] == expected

    # Back from the last page with `previous`: the same rows, nulls first going back.
    back = pages[-1]
    url = page["previous"]
    while url:
        page = client.get(url).json()
        back = [item["code"] for item in page["results"]] + back
        url = page["previous"]
    assert back == expected


@pytest.mark.parametrize("descending", [False, True])
def test_keyset_after_agrees_with_its_order_both_ways(many, descending):
    """Keyset.after() from every row, walking forwards and backwards, gives exactly the
    rows that follow it in `order_by()`."""
    keyset = Keyset("k", "civilians_killed_max", descending, "int", nullable=True)
    base = Incident.objects.filter(code__in=many)
    for backwards in (False, True):
        ordered = list(
            base.order_by(*keyset.order_by(reverse=backwards)).values_list(
                "civilians_killed_max", "id"
            )
        )
        for position, (value, pk) in enumerate(ordered):
            after = list(
                base.filter(keyset.after(value, pk, reverse=backwards))
                .order_by(*keyset.order_by(reverse=backwards))
                .values_list("civilians_killed_max", "id")
            )
            assert after == ordered[position + 1 :], (backwards, value, pk)


@pytest.mark.parametrize("ordering", ["civilians_killed_max", "-civilians_killed_max"])
def test_page_paging_by_a_nullable_count_returns_every_row_once(
    many, ordering, monkeypatch
):
    monkeypatch.setattr(views, "LIST_PAGE_SIZE", 3)
    client = Client()
    expected = _expected(many, descending=ordering.startswith("-"))
    url = f"/en/incidents/?ordering={ordering}"
    seen, last = [], None
    while url:
        response = client.get(url if url.startswith("/") else f"/en/incidents/{url}")
        assert response.status_code == HTTPStatus.OK
        last = response
        seen += [row["incident"].code for row in response.context["rows"]]
        url = response.context["next_url"]
    assert seen == expected

    back = []
    url = last.context["prev_url"]
    while url:
        response = client.get(f"/en/incidents/{url}")
        back = [row["incident"].code for row in response.context["rows"]] + back
        url = response.context["prev_url"]
    last_page = [row["incident"].code for row in last.context["rows"]]
    assert back + last_page == expected


def test_the_recorded_filters_and_null_orderings_cost_no_extra_query(many):
    """The list's queries are as many with `_recorded`, a null bound and the nulls-last
    ordering (and a cursor into the nulls) as for the plain list: the filters are one
    WHERE clause, not a query each."""
    client = APIClient()

    def queries(query: str) -> int:
        cache.clear()
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(f"{LIST}?{query}").status_code == HTTPStatus.OK
        return len(ctx.captured_queries)

    plain = queries("page_size=2")
    first = client.get(f"{LIST}?ordering=civilians_killed_max&page_size=9").json()
    deep = first["next"].split("?", 1)[1]

    assert queries("children_killed_recorded=false&page_size=2") == plain
    assert queries("civilians_killed_min__gte=0&page_size=2") == plain
    assert queries(deep) == plain
