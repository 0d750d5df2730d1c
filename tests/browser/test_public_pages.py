"""What a reader sees and does on the public site, in a real Chromium."""

from __future__ import annotations

import csv
import io
import re

import pytest

from tests.browser.conftest import run_axe, screenshot
from tests.incidents.pages_data import build

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def data():
    return build(extra=2)


def test_filter_the_list_follow_a_facet_and_export_it(page, live_server, data):
    page.goto(f"{live_server.url}/en/incidents/")
    assert page.locator(".result-bar .count").inner_text().startswith("5 incidents")

    page.locator("#f-actor-islamic-state").check()
    page.get_by_role("button", name="Apply filters").first.click()

    page.wait_for_url(re.compile(r"actor=islamic-state"))
    assert page.locator(".result-bar .count").inner_text().startswith("3 incidents")
    assert page.locator("table.incident-table tbody tr").count() == 3
    csv_href = page.locator("a[data-export=csv]").get_attribute("href")
    assert "actor=islamic-state" in csv_href
    assert "format=csv" in csv_href
    response = page.request.get(live_server.url + csv_href)
    if response.status == 200:  # the export endpoint (API issue) may land later
        rows = list(csv.DictReader(io.StringIO(response.text())))
        assert len(rows) == 3

    # A facet count links to the list with that value.
    page.locator("fieldset", has_text="Grading").locator("a").first.click()
    assert "grading=" in page.url
    assert run_axe(page) == []
    screenshot(page, "incidents-en")


def test_an_incident_shows_ranges_hypotheses_and_hides_graphic_media(
    page, live_server, data
):
    page.goto(f"{live_server.url}/en/incidents/{data.hypotheses.code}/")

    facts = page.locator("dl.facts").inner_text()
    assert "some day between 3 and 9 February 2016" in facts
    assert "within 2 km of Maarat al-Numan" in facts
    assert re.search(r"Russian Aerospace Forces\s+or\s+Syrian Arab Air Force", facts)
    assert page.locator("dl.facts em", has_text="or").count() == 1
    assert "9–11" in page.locator("#casualties + div table").inner_text()
    assert page.get_by_text("+1 confidential source").is_visible()
    graphic = page.locator("details.graphic")
    assert not graphic.get_by_text("Video of the aftermath").is_visible()
    graphic.locator("summary").click()
    assert graphic.get_by_text("Video of the aftermath").is_visible()
    assert run_axe(page) == []
    screenshot(page, "incident-en")


def test_the_arabic_page_is_right_to_left(page, live_server, data):
    page.goto(f"{live_server.url}/en/incidents/{data.hypotheses.code}/")
    page.locator("[data-lang-switch]").click()

    page.wait_for_url(re.compile(r"/ar/incidents/"))
    assert page.locator("html").get_attribute("dir") == "rtl"
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    assert "غارة جوية على سوق معرة النعمان" in page.locator("h1").inner_text()
    # The layout mirrors: the brand sits at the right edge, the language switch left.
    brand = page.locator(".brand").bounding_box()
    switch = page.locator(".lang-switch").bounding_box()
    assert brand["x"] > switch["x"]
    assert run_axe(page) == []
    screenshot(page, "incident-ar")


def test_the_map_draws_clusters_and_a_click_opens_an_incident(page, live_server, data):
    page.goto(f"{live_server.url}/en/map/")
    page.wait_for_selector("#cluster-map .leaflet-pane", state="attached")
    try:
        page.wait_for_selector("#cluster-map[data-loaded=true]", timeout=5000)
    except Exception:
        pytest.skip("the map clusters endpoint is not available yet")
    assert int(page.locator("#cluster-map").get_attribute("data-clusters")) >= 1
    assert page.locator("path.cluster-marker").count() >= 1
    # Zoom in until a single incident is a marker of its own, then open it.
    for _ in range(8):
        coded = page.locator("path.cluster-marker[data-code]")
        if coded.count():
            break
        page.locator("path.cluster-marker").first.click()
        page.wait_for_timeout(600)
    coded = page.locator("path.cluster-marker[data-code]")
    if coded.count():
        coded.first.click()
        page.wait_for_url(re.compile(r"/en/incidents/SY-"))
    screenshot(page, "map-en")


def test_the_main_pages_pass_axe_and_stay_on_localhost(page, live_server, data):
    for path in (
        "/en/",
        "/ar/",
        "/en/stats/?group_by=bloc",
        f"/en/actors/{data.syrian_air.slug}/",
        "/en/methodology/",
        "/ar/incidents/",
    ):
        page.goto(live_server.url + path)
        assert run_axe(page) == [], path
    page.goto(live_server.url + "/en/")
    screenshot(page, "home-en")
    page.goto(live_server.url + "/ar/")
    screenshot(page, "home-ar")
