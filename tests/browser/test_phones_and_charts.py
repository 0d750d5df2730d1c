"""Phones in both languages, and charts that draw in Arabic (issue 12 §8 and §10).

Most readers open CivTrack on a phone, in Arabic. Every public page must fit a 390 px
screen in English and in Arabic (right to left, where content pushed past the left edge
cannot even be scrolled to), tables scroll inside their own box, the filter form folds
behind a button, and what people tap is big enough. The charts are checked by their
drawn geometry in a real Chromium, not by the page loading: the Arabic locale once
wrote "156,0" into SVG attributes, which a browser draws as nothing."""

from __future__ import annotations

import datetime as dt

import pytest

from incidents import services
from tests.browser.conftest import screenshot
from tests.factories import make_incident
from tests.incidents.pages_data import build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
LONG_TITLE = (
    "Barrel bombs dropped by helicopter on the crowded vegetable market and the "
    "neighbouring bakery queue in the old town, followed by a second strike on "
    "first responders: Supercalifragilisticexpialidocious-unbroken-word-"
    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
)

# What lies outside the screen and not inside a box that scrolls or clips it: content a
# reader cannot see (left of 0 on Arabic pages is unreachable, right of the screen makes
# the page scroll sideways).
OUTSIDE_THE_SCREEN = """() => {
  const width = window.innerWidth, out = [];
  const clipped = (el) => {
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (getComputedStyle(a).overflowX !== 'visible') return true;
    }
    return false;
  };
  for (const el of document.querySelectorAll('body *')) {
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1) continue;  // visually hidden text
    if (r.left < -1 || r.right > width + 1) {
      if (!clipped(el)) out.push(`${el.tagName.toLowerCase()}.${el.className} ${Math.round(r.left)}..${Math.round(r.right)}`);
    }
  }
  return out.slice(0, 10);
}"""


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def data():
    data = build(extra=4)
    long_one = make_incident(
        status="published",
        title=LONG_TITLE,
        title_ar="غارة بالبراميل المتفجرة على السوق المزدحم " * 4
        + "كلمةطويلةجدابلامسافاتكلمةطويلةجدابلامسافاتكلمةطويلةجدابلامسافات",
        summary=LONG_TITLE * 3,
        date_start=dt.date(2016, 8, 11),
        location=data.town,
        incident_type=data.hypotheses.incident_type,
        grading="fair",
        parts=services.IncidentParts(
            casualty_rows=[
                services.CasualtyRowData("civilians", "killed", 1200, 15000),
                services.CasualtyRowData("children", "killed", 300, 450),
            ],
            attributions=[
                services.AttributionData(data.syrian_air, confidence="likely")
            ],
        ),
    )
    data.incidents.append(long_one)
    return data


def public_paths(data) -> list[str]:
    return [
        "/{lang}/",
        "/{lang}/incidents/",
        "/{lang}/incidents/?q=" + "x" * 120,
        f"/{{lang}}/incidents/{data.incidents[-1].code}/",
        f"/{{lang}}/incidents/{data.hypotheses.code}/",
        "/{lang}/map/",
        "/{lang}/stats/",
        "/{lang}/stats/?group_by=bloc",
        "/{lang}/stats/?group_by=actor&group_by=year",
        "/{lang}/stats/?group_by=month&group_by=incident_type",
        f"/{{lang}}/actors/{data.syrian_air.slug}/",
        f"/{{lang}}/places/{data.town.slug}/",
        f"/{{lang}}/facilities/{data.public_facility_ref}/",
        f"/{{lang}}/facilities/{data.facility_ref}/",
        "/{lang}/methodology/",
        "/{lang}/changes/",
    ]


def _fits(page, url) -> None:
    page.goto(url)
    page.wait_for_load_state("load")
    scroll, inner = page.evaluate(
        "[document.documentElement.scrollWidth, window.innerWidth]"
    )
    assert scroll <= inner, (
        f"{url}: the page is {scroll} px wide on a {inner} px screen"
    )
    assert page.evaluate(OUTSIDE_THE_SCREEN) == [], f"{url}: content off the screen"


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_every_public_page_fits_a_phone(page, live_server, data, lang):
    page.set_viewport_size(PHONE)
    for path in public_paths(data):
        _fits(page, live_server.url + path.format(lang=lang))


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_bloc_statistics_fit_a_desktop_and_a_phone(page, live_server, data, lang):
    for viewport in (DESKTOP, PHONE):
        page.set_viewport_size(viewport)
        for path in (
            "/{lang}/stats/?group_by=bloc",
            "/{lang}/stats/?group_by=bloc&group_by=year",
        ):
            _fits(page, live_server.url + path.format(lang=lang))


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_tables_scroll_inside_their_own_box_on_a_phone(page, live_server, data, lang):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/{lang}/stats/?group_by=bloc")
    box = page.locator(".table-wrap").last
    sizes = box.evaluate(
        "b => [b.scrollWidth, b.clientWidth, getComputedStyle(b).overflowX]"
    )
    assert sizes[1] <= PHONE["width"]
    assert sizes[2] == "auto"
    # The table is wider than the screen, and the reader can scroll to all of it.
    assert sizes[0] > sizes[1]
    box.evaluate(
        "b => { b.scrollLeft = b.scrollWidth"
        " * (getComputedStyle(b).direction === 'rtl' ? -1 : 1); }"
    )
    last = box.locator("tbody tr").first.locator("td").last.bounding_box()
    if lang == "ar":  # the last column is the leftmost, and its far edge is on screen
        assert -1 <= last["x"] < PHONE["width"]
    else:
        assert 0 < last["x"] + last["width"] <= PHONE["width"] + 1


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_incident_list_is_a_column_of_cards_on_a_phone(
    page, live_server, data, lang
):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/{lang}/incidents/")
    rows = page.locator("table.incident-table tbody tr")
    assert rows.count() >= 5
    for i in range(rows.count()):
        box = rows.nth(i).bounding_box()
        assert box["x"] >= 0
        assert box["x"] + box["width"] <= PHONE["width"]
    # Every value is named on the card, in the page's language.
    killed = rows.first.locator("td[data-label]").nth(2)
    label = killed.evaluate("c => getComputedStyle(c, '::before').content")
    assert label.strip('"').startswith(
        "Civilians killed" if lang == "en" else "المدنيون القتلى"
    )
    # On a wide screen it is a table again.
    page.set_viewport_size(DESKTOP)
    assert rows.first.evaluate("r => getComputedStyle(r).display") == "table-row"


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_the_filters_fold_behind_a_button_on_a_phone(page, live_server, data, lang):
    for path in ("/{lang}/incidents/", "/{lang}/map/", "/{lang}/stats/"):
        page.set_viewport_size(PHONE)
        page.goto(live_server.url + path.format(lang=lang))
        toggle = page.locator("summary.filters-toggle")
        search = page.locator("#f-q")
        assert toggle.is_visible(), path
        assert not search.is_visible(), path  # folded: the results come first
        assert toggle.bounding_box()["height"] >= 43, path
        toggle.click()
        assert search.is_visible(), path
        search.fill("market")
        page.locator("form[role=search] button[type=submit]").first.click()
        page.wait_for_url("**q=market**")
        # On a wide screen the form is simply there, with no fold to open.
        page.set_viewport_size(DESKTOP)
        page.goto(live_server.url + path.format(lang=lang))
        assert page.locator("#f-q").is_visible(), path
        assert not page.locator("summary.filters-toggle").is_visible(), path


def test_a_filter_error_keeps_the_form_open_on_a_phone(page, live_server, data):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/ar/incidents/?date_from=not-a-date")
    invalid = page.locator(".filters [aria-invalid=true]").first
    assert invalid.is_visible()


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_what_people_tap_is_big_enough_on_a_phone(page, live_server, data, lang):
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/{lang}/incidents/")
    targets = page.locator(
        ".main-nav a, .lang-switch, .exports a, summary.filters-toggle"
    )
    assert targets.count() >= 8
    for i in range(targets.count()):
        box = targets.nth(i).bounding_box()
        assert box["height"] >= 43, targets.nth(i).inner_text()
        assert box["width"] >= 24, targets.nth(i).inner_text()


def test_phone_screenshots_in_both_languages(page, live_server, data):
    page.set_viewport_size(PHONE)
    for lang in ("en", "ar"):
        page.goto(f"{live_server.url}/{lang}/")
        screenshot(page, f"phone-home-{lang}")
        page.goto(f"{live_server.url}/{lang}/incidents/")
        assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
        screenshot(page, f"phone-incidents-{lang}")
    page.goto(f"{live_server.url}/ar/stats/?group_by=bloc")
    page.locator(".result-bar").evaluate("e => e.scrollIntoView()")
    screenshot(page, "phone-stats-ar")


# --- Charts, drawn in Arabic ---------------------------------------------------------

CHART_GEOMETRY = """() => [...document.querySelectorAll('svg.chart')].map(svg => {
  const box = svg.getBoundingClientRect();
  const rects = [...svg.querySelectorAll('rect')].map(r => {
    const b = r.getBBox();
    return {cls: r.getAttribute('class'), x: b.x, y: b.y, w: b.width, h: b.height};
  });
  const lines = [...svg.querySelectorAll('line')].map(l => {
    const b = l.getBBox();
    return {cls: l.getAttribute('class'), x: b.x, y: b.y, w: b.width, h: b.height};
  });
  const texts = [...svg.querySelectorAll('text')].map(t => t.textContent.trim()).filter(Boolean);
  const labels = [...svg.querySelectorAll('text')].map(t => {
    const b = t.getBBox();
    return {text: t.textContent.trim(), x: b.x, y: b.y, w: b.width, h: b.height,
            px: t.getBoundingClientRect().height};
  });
  const vb = svg.viewBox.baseVal;
  return {width: box.width, height: box.height, vb: [vb.width, vb.height], rects, lines, texts, labels,
          title: (svg.querySelector('title') || {}).textContent || ''};
})"""


def _assert_drawn(charts, url, kind):
    assert charts, f"{url}: no chart"
    for chart in charts:
        assert chart["width"] > 0, url
        assert chart["height"] > 0, url
        assert chart["vb"][0] > 0, url
        assert chart["vb"][1] > 0, url
        # Bars: the solid minimum (and the lighter maximum, when drawn) of each row.
        solid = [r for r in chart["rects"] if "bar" in (r["cls"] or "").split()]
        assert solid, url
        assert any(r["w"] > 0 and r["h"] > 0 for r in solid), (url, solid[:3])
        for r in chart["rects"]:
            assert r["w"] >= 0, (url, r)
            assert r["h"] >= 0, (url, r)
            assert 0 <= r["x"] <= chart["vb"][0], (url, r)
            assert 0 <= r["y"] <= chart["vb"][1], (url, r)
        assert chart["texts"], f"{url}: the chart has no labels"
        # No label is drawn over a bar (an rtl page once flipped every text-anchor).
        for label in chart["labels"]:
            for r in chart["rects"]:
                overlap_w = min(label["x"] + label["w"], r["x"] + r["w"]) - max(
                    label["x"], r["x"]
                )
                overlap_h = min(label["y"] + label["h"], r["y"] + r["h"]) - max(
                    label["y"], r["y"]
                )
                assert overlap_w <= 1 or overlap_h <= 1, (url, label, r)
        if kind == "columns":
            axis = [line for line in chart["lines"] if line["cls"] == "axis"]
            assert axis, url
            assert axis[0]["w"] > 0, url
            assert axis[0]["y"] > 0, (url, axis)  # not collapsed to the top edge
            grid = sorted(
                {line["y"] for line in chart["lines"] if line["cls"] == "grid"}
            )
            assert len(grid) >= 3, (url, grid)  # ticks at distinct heights
            assert any(
                t.replace(".", "").replace(",", "").isdigit() for t in chart["texts"]
            ), url


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_the_charts_draw_with_real_geometry(page, live_server, data, lang):
    for path, kind in (
        ("/{lang}/", "columns"),
        ("/{lang}/stats/", "columns"),
        ("/{lang}/stats/?group_by=year", "columns"),
        ("/{lang}/stats/?group_by=bloc", "bars"),
        ("/{lang}/stats/?group_by=actor", "bars"),
        (f"/{{lang}}/actors/{data.syrian_air.slug}/", "columns"),
    ):
        url = live_server.url + path.format(lang=lang)
        page.goto(url)
        _assert_drawn(page.evaluate(CHART_GEOMETRY), url, kind)
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/{lang}/stats/?group_by=bloc")
    # On a phone the chart keeps a readable size and scrolls inside its own box.
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    charts = page.evaluate(CHART_GEOMETRY)
    assert all(label["px"] >= 8 for label in charts[0]["labels"]), charts[0]["labels"]
    wrap = page.locator(".chart-wrap").first.bounding_box()
    assert wrap["x"] >= 0
    assert wrap["x"] + wrap["width"] <= PHONE["width"]
