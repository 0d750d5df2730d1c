"""Issue 12 §7 on the map: markers scale by incident count and say the civilians-killed
range as a reader understands it ("at least 2", "not recorded"), never a sum of part of
the ceilings (the old `max_known`, which could read as a maximum below the minimum)."""

from __future__ import annotations

import pytest

from incidents.services import CasualtyRowData, IncidentParts
from tests.factories import LocationFactory, make_incident

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _tooltip_of(page, selector: str) -> str:
    page.locator(selector).first.hover(force=True)
    page.wait_for_selector(".leaflet-tooltip", timeout=5000)
    return page.locator(".leaflet-tooltip").last.inner_text()


@pytest.mark.parametrize(
    ("lang", "floor_text", "not_recorded_text"),
    [("en", "at least 2", "not recorded"), ("ar", "على الأقل", "غير مسجّل")],
)
def test_marker_labels_give_the_range_in_words(
    page, live_server, lang, floor_text, not_recorded_text
):
    far_apart = [
        LocationFactory(latitude=33.5, longitude=36.3),
        LocationFactory(latitude=36.2, longitude=40.9),
    ]
    floor = make_incident(
        status="published",
        title="Floor only",
        location=far_apart[0],
        parts=IncidentParts(
            casualty_rows=[CasualtyRowData("children", "killed", 2, 2)]
        ),
    )
    silent = make_incident(
        status="published",
        title="Everyone only",
        location=far_apart[1],
        parts=IncidentParts(casualty_rows=[CasualtyRowData("all", "killed", 5, 6)]),
    )

    page.goto(f"{live_server.url}/{lang}/map/")
    page.wait_for_selector("#cluster-map[data-loaded=true]", timeout=10000)

    floor_label = _tooltip_of(page, f'path.cluster-marker[data-code="{floor.code}"]')
    assert floor_text in floor_label
    page.mouse.move(0, 0)
    silent_label = _tooltip_of(page, f'path.cluster-marker[data-code="{silent.code}"]')
    assert not_recorded_text in silent_label
    assert "0" not in silent_label.replace(silent.code, "")  # never "0" for silence
    # Markers are sized by the count (one incident each: the same size).
    radii = page.eval_on_selector_all(
        "path.cluster-marker", "els => els.map(e => e.getBBox().width)"
    )
    assert len(radii) == 2
    assert abs(radii[0] - radii[1]) < 0.5
