"""Numbers in markup are never localised (issue 12 §8).

The Arabic locale writes decimals with a comma ("156,0"): inside an SVG attribute, an
inline style or a data-* coordinate that is not a number any more, and every chart on
/ar/ was drawn broken. Only the text a person reads is localised. These tests render
every public page in both languages and read every attribute a browser, a stylesheet or
a script parses as a number, as an outsider's parser would."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from http import HTTPStatus

import pytest
from django.utils import translation
from django.utils.formats import number_format

from incidents.stats import GROUP_KEYS
from incidents.templatetags.civtrack import range_words
from incidents.views import bar_chart, column_chart
from tests.incidents.pages_data import build
from tests.incidents.test_pages import page_urls

pytestmark = pytest.mark.django_db

# Attributes a renderer parses as numbers (whitespace-separated lists for viewBox).
NUMERIC_ATTRS = {
    "x", "y", "x1", "x2", "y1", "y2", "cx", "cy", "r", "rx", "ry", "dx", "dy",
    "width", "height", "viewbox", "stroke-width", "font-size", "colspan", "rowspan",
    "min", "max", "step", "data-lat", "data-lon", "data-zoom", "data-count",
    "data-clusters", "data-precision-m", "tabindex",
}  # fmt: skip
PLAIN = re.compile(r"^-?[0-9]+(\.[0-9]+)?$")  # ASCII: a regex \d also matches ٣
ARABIC_DIGITS = re.compile(r"[\u0660-\u0669\u06f0-\u06f9]")
# A value that looks like a number (digits, maybe with separators) in any attribute.
NUMBER_LIKE = re.compile(
    r"^-?[\d\u0660-\u0669\u06f0-\u06f9][\d\u0660-\u0669\u06f0-\u06f9.,\s]*%?$"
)
# Digits joined by a comma or an Arabic separator inside CSS: a localised decimal.
LOCALISED_IN_CSS = re.compile(r"\d[,\u066b\u066c]\d")
# Attributes that carry text a person reads: localised on purpose.
TEXT_ATTRS = {"title", "aria-label", "alt", "placeholder", "content", "value"}


class _Elements(HTMLParser):
    """Every element of a page as (tag, attributes, inside an <svg>)."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str], bool]] = []
        self._svg_depth = 0

    def handle_starttag(self, tag, attrs):
        if tag == "svg":
            self._svg_depth += 1
        self.elements.append((tag, {k: v or "" for k, v in attrs}, self._svg_depth > 0))

    def handle_startendtag(self, tag, attrs):
        inside = self._svg_depth > 0 or tag == "svg"
        self.elements.append((tag, {k: v or "" for k, v in attrs}, inside))

    def handle_endtag(self, tag):
        if tag == "svg" and self._svg_depth:
            self._svg_depth -= 1


def _elements(html: str) -> list[tuple[str, dict[str, str], bool]]:
    parser = _Elements()
    parser.feed(html)
    return parser.elements


def markup_number_problems(html: str) -> list[str]:
    """What a browser would fail to parse as a number: every problem, with its tag."""
    problems = []
    for tag, attrs, _in_svg in _elements(html):
        for name, value in attrs.items():
            where = f"<{tag} {name}={value!r}>"
            if name == "style":
                if LOCALISED_IN_CSS.search(value) or ARABIC_DIGITS.search(value):
                    problems.append(where)
                continue
            if name in TEXT_ATTRS or name.startswith("data-label"):
                continue
            if name in NUMERIC_ATTRS or NUMBER_LIKE.match(value.strip()):
                tokens = value.replace("%", "").split()
                if not tokens or not all(PLAIN.match(t) for t in tokens):
                    problems.append(where)
    return problems


def svg_shapes(html: str, tag: str) -> list[dict[str, str]]:
    return [a for t, a, in_svg in _elements(html) if in_svg and t == tag]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def data():
    return build(extra=3)


def every_public_url(data) -> list[str]:
    urls = page_urls(data)
    urls += [f"/{{lang}}/stats/?group_by={key}" for key in GROUP_KEYS]
    urls += [
        f"/{{lang}}/actors/{data.isis.slug}/",
        f"/{{lang}}/places/{data.district.slug}/",
    ]
    return urls


@pytest.mark.parametrize("lang", ["ar", "en"])
def test_no_number_in_markup_is_localised_on_any_public_page(client, data, lang):
    for url in every_public_url(data):
        url = url.format(lang=lang)
        response = client.get(url)
        assert response.status_code == HTTPStatus.OK, url
        html = response.content.decode()
        assert markup_number_problems(html) == [], url


@pytest.mark.parametrize(
    "url",
    [
        "/ar/",
        "/ar/stats/",
        "/ar/stats/?group_by=bloc",
        "/ar/stats/?group_by=actor",
        "/ar/actors/{actor}/",
    ],
)
def test_the_arabic_charts_have_drawable_geometry(client, data, url):
    html = client.get(url.format(actor=data.syrian_air.slug)).content.decode()
    rects = svg_shapes(html, "rect")
    assert rects, f"{url}: no chart drawn"
    for attrs in rects:
        for key in ("x", "y", "width", "height"):
            assert PLAIN.match(attrs[key]), (url, attrs)
    # At least one bar is visible: both of its sides are positive numbers.
    assert any(float(a["width"]) > 0 and float(a["height"]) > 0 for a in rects), url
    svg = re.search(r"<svg[^>]*viewBox=\"([^\"]+)\"", html)
    assert svg, url
    assert all(PLAIN.match(t) for t in svg.group(1).split()), url


def test_the_problem_finder_catches_what_the_arabic_locale_did():
    """The checker itself sees the defect that broke the charts (and a localised
    style, Arabic-Indic digits and a decimal comma in a coordinate)."""
    broken = (
        '<svg viewBox="0 0 760 180"><line x1="44" y1="156,0"/>'
        '<rect x="1.5" y="2" width="٣" height="4"/></svg>'
        '<span style="width: 12,5%"></span><div data-lat="35,64"></div>'
    )
    assert len(markup_number_problems(broken)) == 4
    fine = (
        '<svg viewBox="0 0 760 180"><line x1="44" y1="156.0"/></svg>'
        '<span style="width: 12.5%"></span><div data-lat="35.64" title="1,5"></div>'
    )
    assert markup_number_problems(fine) == []


def test_the_chart_labels_a_person_reads_are_in_the_page_language():
    """Axis ticks are text: grouped the page's way, while the geometry stays plain."""
    rows = [{"year": 2016, "min": 12000, "max": 15000, "max_url": "/x"}]
    with translation.override("ar"):
        chart = column_chart(rows, "year")
        bars = bar_chart([{"label": "A", "min": 1, "max": 2, "max_url": "/y"}])
        assert chart["ticks"][-1]["value"] == number_format(20000, force_grouping=True)
        assert all(PLAIN.match(str(b["x"])) for b in chart["bars"])
        assert bars["bars"][0]["value"] == range_words(1, 2)
    with translation.override("en"):
        assert column_chart(rows, "year")["ticks"][-1]["value"] == "20,000"
