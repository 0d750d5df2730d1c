"""Issue 12 §7 on the pages: range sums written as a reader understands them.

The outside reviewer found the home page saying Russia killed "at least 96 … up to
unknown (9 known)": a "maximum" below the minimum, from summing the ceilings of part of
the incidents. These tests read the pages as a journalist would, in both languages: no
maximum below its minimum anywhere, "not recorded" never shown as 0, every figure a link
to the list that reproduces it, and the charts drawing both ends of each range.
"""

from __future__ import annotations

import json
import re
from html import unescape
from http import HTTPStatus

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from incidents.services import AttributionData, CasualtyRowData, IncidentParts
from tests.factories import ActorFactory, LocationFactory, make_incident
from tests.incidents.test_stats import _governorate

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()


def killed(group, low, high):
    return CasualtyRowData(group=group, outcome="killed", min=low, max=high)


def build_russia_world():
    """Russia: 96–100 (certain), a floor "at least 2" (children only) and an incident
    that records only everyone killed (civilians not recorded). ISIS: 5–5."""
    idleb = _governorate("SY07", "idleb", "Idleb")
    town = LocationFactory(parent=idleb, latitude=35.6, longitude=36.6)
    russia = ActorFactory(slug="pr-russia", name="Russian forces", bloc="russia")
    isis = ActorFactory(slug="pr-isis", name="Islamic State", bloc="isis")
    incidents = {}
    for name, rows, actor in (
        ("full", [killed("civilians", 96, 100)], russia),
        ("floor", [killed("children", 2, 2)], russia),
        ("everyone", [killed("all", 7, 9)], russia),
        ("isis", [killed("civilians", 5, 5), killed("children", 1, 1)], isis),
    ):
        incidents[name] = make_incident(
            status="published",
            title=f"Incident {name}",
            location=town,
            parts=IncidentParts(
                casualty_rows=rows,
                attributions=[AttributionData(actor=actor, confidence="likely")],
            ),
        )
    return russia, incidents


def _text(html: str) -> str:
    """What a reader sees: links and spans inline, other tags as spaces."""
    inline = re.sub(r"</?(a|span)\b[^>]*>", "", html)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", inline)))


def _numbers(text: str) -> list[int]:
    return [int(n.replace(",", "")) for n in re.findall(r"\d[\d,]*", text)]


def _bloc_rows(html: str) -> dict[str, list[str]]:
    """The home page's bloc table: label → its cells' HTML."""
    table = re.search(
        r'<section aria-labelledby="compare-h">(.*?)</section>', html, re.S
    )
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), re.S):
        label = re.search(r'<th scope="row">(.*?)</th>', row, re.S)
        if label:
            rows[_text(label.group(1)).strip()] = re.findall(
                r"<td[^>]*>(.*?)</td>", row, re.S
            )
    return rows


def test_the_home_page_never_shows_a_maximum_below_the_minimum(client):
    build_russia_world()

    html = client.get("/en/").content.decode()

    blocs = _bloc_rows(html)
    # Every bloc: a maximum, when one is written, is never below the minimum.
    for label, cells in blocs.items():
        low = _numbers(_text(cells[2]))
        high = _numbers(
            _text(re.sub(r'<span class="range-notes">.*?</span>', "", cells[3]))
        )
        if low and high:
            assert high[0] >= low[0], label
    russia = blocs["Russia"]
    # At least 96 + 2 (the floor); the incident recording only everyone adds nothing.
    assert _text(russia[2]).strip() == "98"
    up_to = _text(re.sub(r'<span class="range-notes">.*?</span>', "", russia[3]))
    # Russia's maximum is unknown: no number stands in the "up to" column.
    assert _numbers(up_to) == []
    assert "unknown" in up_to
    notes = _text(russia[3])
    assert "no upper figure for 1 of 3 incidents" in notes
    assert "not recorded in 1" in notes
    assert "known)" not in html
    assert "max_known" not in html


def test_home_headline_figures_say_at_least_and_what_is_missing(client):
    build_russia_world()

    html = client.get("/en/").content.decode()
    figures = re.findall(
        r'<span class="value">(.*?)</span><span class="label">(.*?)</span>', html
    )
    values = {label: value for value, label in figures}

    # 96 + 2 (the floor) + 5; the "everyone" incident adds nothing to the floor.
    assert values["civilians killed (lowest–highest credible count)"] == "at least 103"
    # Children: recorded in 2 incidents (2 and 1), not in the other 2: never "0".
    assert values["children killed"] == "at least 3"
    gaps = re.search(
        r'<p class="note" data-gaps="civilians_killed">(.*?)</p>', html, re.S
    )
    assert _text(gaps.group(1)).strip() == (
        "Civilians killed: no upper figure for 1 of 4 incidents; not recorded in 1."
    )
    assert "civilians_killed_recorded=false" in gaps.group(1)
    assert "civilians_killed_recorded=true" in gaps.group(1)


def test_the_not_recorded_link_lists_exactly_those_incidents(client):
    _russia, incidents = build_russia_world()
    html = client.get("/en/").content.decode()
    gaps = re.search(
        r'<p class="note" data-gaps="civilians_killed">(.*?)</p>', html, re.S
    )
    href = unescape(
        re.search(r'href="([^"]*recorded=false[^"]*)"', gaps.group(1)).group(1)
    )

    listed = client.get(href).content.decode()

    assert incidents["everyone"].code in listed
    assert incidents["full"].code not in listed
    assert incidents["floor"].code not in listed


def test_the_home_page_writes_the_sums_in_arabic(client):
    build_russia_world()

    html = client.get("/ar/").content.decode()

    gaps = _text(
        re.search(
            r'<p class="note" data-gaps="civilians_killed">(.*?)</p>', html, re.S
        ).group(1)
    )
    assert "المدنيون القتلى:" in gaps
    assert "لا حدّ أعلى في" in gaps
    assert "غير مسجّل في" in gaps
    assert "no upper figure" not in html
    assert "not recorded in" not in html


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_stats_table_writes_each_range_sum_and_links_it(client, lang):
    build_russia_world()

    html = client.get(f"/{lang}/stats/?group_by=bloc").content.decode()

    rows = re.findall(r"<tr>(.*?)</tr>", html, re.S)
    russia = next(r for r in rows if "bloc=russia" in r)
    cells = re.findall(r'<td class="n">(.*?)</td>', russia, re.S)
    killed_cell = cells[2]  # incidents, possibly, civilians killed
    if lang == "en":
        assert _text(killed_cell).strip() == (
            "at least 98 — no upper figure for 1 of 3 incidents; not recorded in 1"
        )
    assert "civilians_killed_recorded=false" in killed_cell
    assert "actor_involvement=certain" in killed_cell  # the min's list
    # Children: "floor" records 2, the others do not: never 0–0.
    children = _text(cells[3])
    if lang == "en":
        assert children.strip().startswith("at least 2")
        assert "not recorded in 2" in children


@pytest.mark.parametrize("group_by", ["bloc", "year"])
def test_the_stats_chart_draws_an_open_end_where_the_max_is_unknown(client, group_by):
    build_russia_world()

    html = client.get(f"/en/stats/?group_by={group_by}").content.decode()

    svg = re.search(r'<svg class="chart".*?</svg>', html, re.S).group(0)
    assert 'class="bar-open"' in svg
    assert 'class="bar"' in svg
    legend = re.search(r'<p class="legend">(.*?)</p>', html, re.S).group(1)
    assert "minimum" in legend
    assert "up to the maximum" in legend
    assert "no upper figure" in legend


def test_a_closed_range_is_drawn_to_its_maximum_without_an_open_end(client):
    isis = ActorFactory(slug="pr-isis-2", bloc="isis")
    make_incident(
        status="published",
        parts=IncidentParts(
            casualty_rows=[killed("civilians", 2, 9)],
            attributions=[AttributionData(actor=isis, confidence="likely")],
        ),
    )

    html = client.get("/en/stats/?group_by=bloc").content.decode()

    svg = re.search(r'<svg class="chart".*?</svg>', html, re.S).group(0)
    assert 'class="bar-open"' not in svg
    widths = dict(
        re.findall(
            r'<rect class="(bar-max|bar)" x="[^"]+" y="[^"]+" width="([^"]+)"', svg
        )
    )
    assert float(widths["bar-max"]) > float(widths["bar"]) > 0  # 9 drawn beyond 2


def test_the_actor_page_toll_is_at_least_with_its_gaps(client):
    russia, _incidents = build_russia_world()

    html = client.get(f"/en/actors/{russia.slug}/").content.decode()

    figures = _text(" ".join(re.findall(r'<ul class="figures">(.*?)</ul>', html, re.S)))
    assert "at least 98" in figures
    gaps = re.search(
        r'<p class="note" data-gaps="civilians_killed">(.*?)</p>', html, re.S
    )
    assert _text(gaps.group(1)).strip() == (
        "Civilians killed: no upper figure for 1 of 3 incidents; not recorded in 1."
    )
    assert "?" not in _text(
        re.search(r'<ul class="figures">(.*?)</ul>', html, re.S).group(1)
    )


PAGES = ("/{lang}/", "/{lang}/stats/", "/{lang}/stats/?group_by=bloc", "/{lang}/map/")


def test_no_page_or_api_response_mentions_max_known(client):
    russia, _incidents = build_russia_world()
    urls = [p.format(lang=lang) for p in PAGES for lang in ("en", "ar")]
    urls += [f"/{lang}/actors/{russia.slug}/" for lang in ("en", "ar")]
    urls += [
        "/api/v1/stats/summary/?group_by=year",
        "/api/v1/stats/summary/?group_by=bloc&measure=aid_workers_killed",
        "/api/v1/stats/summary/?group_by=bloc&format=csv",
        "/api/v1/stats/compare/?bloc=russia,isis",
        "/api/v1/stats/compare/?bloc=russia,isis&format=csv",
        "/api/v1/map/clusters/?zoom=6",
    ]
    for url in urls:
        response = client.get(url)
        assert response.status_code == HTTPStatus.OK, url
        body = response.content.decode()
        assert "max_known" not in body, url
        assert "known)" not in body, url
    # The schema announces the removal in its changelog, and describes no such field.
    schema = client.get("/api/schema/").content.decode()
    assert not re.search(r"^\s+\w*max_known:", schema, re.M)
    assert "incidents_not_recorded:" in schema


def test_the_stats_api_gives_every_range_its_four_fields(client):
    build_russia_world()

    body = client.get("/api/v1/stats/summary/?group_by=bloc").json()

    rows = {r["bloc"]["code"] if r["bloc"] else None: r for r in body["rows"]}
    assert rows["russia"]["civilians_killed"] == {
        "min": 98,
        "max": None,
        "incidents_not_recorded": 1,
        "incidents_max_unknown": 1,
    }
    assert rows["russia"]["children_killed"] == {
        "min": 2,
        "max": None,
        "incidents_not_recorded": 2,
        "incidents_max_unknown": 0,
    }
    assert rows["russia"]["total_killed"]["min"] is not None
    json.dumps(body)  # plain JSON all the way


def test_the_stats_csv_leaves_an_unknown_cell_empty_never_zero(client):
    import csv
    import io

    build_russia_world()

    response = client.get(
        "/api/v1/stats/summary/?group_by=bloc&measure=aid_workers_killed&format=csv"
    )

    table = list(csv.DictReader(io.StringIO(response.content.decode())))
    header = list(table[0])
    for measure in ("civilians_killed", "children_killed", "aid_workers_killed"):
        assert header[
            header.index(f"{measure}_min") : header.index(f"{measure}_min") + 4
        ] == [
            f"{measure}_min",
            f"{measure}_max",
            f"{measure}_incidents_not_recorded",
            f"{measure}_incidents_max_unknown",
        ]
    russia = next(r for r in table if r["bloc"] == "russia")
    assert russia["civilians_killed_min"] == "98"
    assert russia["civilians_killed_max"] == ""
    assert russia["civilians_killed_incidents_not_recorded"] == "1"
    assert russia["civilians_killed_incidents_max_unknown"] == "1"
    # Nobody records aid workers: empty, not 0.
    assert russia["aid_workers_killed_min"] == ""
    assert russia["aid_workers_killed_max"] == ""
    assert russia["aid_workers_killed_incidents_not_recorded"] == "3"


def _query_count(client, url: str) -> int:
    cache.clear()
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == HTTPStatus.OK
    return len(queries)


@pytest.mark.parametrize(
    "url", ["/en/", "/en/stats/?group_by=bloc", "/en/actors/pr-russia/"]
)
def test_the_pages_query_counts_do_not_grow_with_the_data(client, url):
    russia, _incidents = build_russia_world()
    before = _query_count(client, url)

    for index in range(3):
        make_incident(
            status="published",
            title=f"More {index}",
            parts=IncidentParts(
                casualty_rows=[killed("children", 1, 1)] if index else [],
                attributions=[AttributionData(actor=russia, confidence="likely")],
            ),
        )

    assert _query_count(client, url) == before
