"""The methodology fragment that explains each import mapping (issue 4, item 7), shown on
the methodology page in English and Arabic, its weapon table taken from the importer."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from incidents.importers.insecurity_insight import WEAPON_INCIDENT_TYPES, WEAPONS

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english_afterwards():
    """A request to /ar/ leaves Arabic active in this thread: later tests expect English."""
    yield
    translation.activate("en")


def test_the_methodology_page_includes_the_import_mappings(client):
    page = html_lib.unescape(client.get("/en/methodology/").content.decode())

    assert 'id="imports"' in page
    # UCDP: types of violence and hypotheses, precision codes.
    assert "3, one-sided violence" in page
    assert "side A and side B are competing hypotheses" in page
    assert "date_prec 1–5" in page
    assert "where_prec 1–7" in page
    # Insecurity Insight: perpetrator text and weapon mapping.
    assert (
        "“Syrian or Russian Forces” reads “Syrian Forces” or “Russian Forces”" in page
    )
    assert "“Unidentified Armed Actor”: the actor “Unidentified”" in page
    # ACLED: its precision codes and why none of its data ships.
    assert "time_precision 1, 2, 3" in page
    assert "ACLED's terms of use do not allow its data to be redistributed" in page


def test_the_weapon_table_is_the_importers_own_mapping():
    with translation.override("en"):
        fragment = html_lib.unescape(
            render_to_string("incidents/_import_mappings.html")
        )

    table = fragment.split("the weapon recorded and the incident type it gives", 1)[1]
    table = table.split("</table>", 1)[0]
    cells = {}
    for row in re.findall(r"<tr>(.*?)</tr>", table, re.S):
        values = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        if not values:
            continue  # the header row
        texts, *rest = values
        for text in texts.split(", "):
            cells[text] = tuple(rest)
    for text, weapon in WEAPONS.items():
        assert cells[text] == (weapon, WEAPON_INCIDENT_TYPES.get(text, "other")), text
    assert "Fist and Foot…" in fragment


def test_the_fragment_is_translated_into_arabic(client):
    page = html_lib.unescape(client.get("/ar/methodology/").content.decode())

    assert "نص السلاح لدى Insecurity Insight" in page
    assert "لماذا لا تُرفق بيانات ACLED مع CivTrack" in page
    assert "Why no ACLED data ships" not in page
