"""The map shows a title as text, never as markup (issue 12 §4): Leaflet sets a string
tooltip as HTML, so a title holding `<img … onerror=…><b>bold</b>` became elements in
the reader's page. (The browser tests bypass the CSP, so a handler that became an
element would also run here: the test sees it.)"""

from __future__ import annotations

import pytest

from tests.factories import LocationFactory, make_incident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TITLE = '<img src=x onerror="window.__civtrackPwned=1"><b>bold</b> strike'


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_a_title_with_markup_shows_as_text_in_the_map_tooltip(page, live_server, lang):
    place = LocationFactory(latitude=36.0, longitude=37.0)
    incident = make_incident(
        status="published",
        title=TITLE,
        title_ar=TITLE,
        location=place,
        latitude=36.0,
        longitude=37.0,
    )

    page.goto(f"{live_server.url}/{lang}/map/")
    page.wait_for_selector("#cluster-map[data-loaded=true]", timeout=10000)
    marker = page.locator(f"path.cluster-marker[data-code='{incident.code}']")
    if not marker.count():  # a cluster of one without its code: any marker
        marker = page.locator("path.cluster-marker")
    marker.first.hover()
    tooltip = page.locator(".leaflet-tooltip").last
    tooltip.wait_for(state="visible", timeout=5000)

    assert "<img src=x" in tooltip.inner_text()
    assert "<b>bold</b>" in tooltip.inner_text()
    assert tooltip.locator("img").count() == 0
    assert tooltip.locator("b").count() == 0
    assert page.locator("#cluster-map img[src=x]").count() == 0
    assert page.evaluate("window.__civtrackPwned") is None
