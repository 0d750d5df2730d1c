"""Template helpers for the public pages: ranges, precision in words, bilingual names,
links to the filtered incident list. None of them queries the database: views hand the
templates everything already fetched (STYLE.md)."""

from __future__ import annotations

import datetime as dt
from urllib.parse import urlencode

from django import template
from django.http import QueryDict
from django.urls import reverse
from django.utils.formats import date_format, number_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext, ngettext, pgettext

from incidents.public_files import public_file_available

register = template.Library()


def is_arabic() -> bool:
    return (get_language() or "en").startswith("ar")


# ---------------------------------------------------------------------------------------
# Names and labels in the reader's language
# ---------------------------------------------------------------------------------------


@register.filter
def loc(obj, field: str = ""):
    """The Arabic twin of a name, label, title or summary on Arabic pages, when the
    database has one; the English value otherwise. `{{ actor|loc }}`,
    `{{ incident|loc:"title" }}`, `{{ row|loc:"name" }}` (dicts too)."""
    if obj is None:
        return ""
    if not field:
        field = "label" if _has(obj, "label") else "name"
    english = _get(obj, field)
    if is_arabic():
        arabic = _get(obj, f"{field}_ar")
        if arabic:
            return arabic
    return english if english is not None else ""


def _has(obj, name: str) -> bool:
    return name in obj if isinstance(obj, dict) else hasattr(obj, name)


def _get(obj, name: str):
    if isinstance(obj, dict):
        return obj.get(name)
    return getattr(obj, name, None)


@register.filter
def other_lang(obj, field: str = "name"):
    """The name in the language the page is *not* in (for "Name / الاسم" headers)."""
    return _get(obj, field) if is_arabic() else _get(obj, f"{field}_ar")


# ---------------------------------------------------------------------------------------
# Numbers and ranges
# ---------------------------------------------------------------------------------------


def _num(value) -> str:
    return number_format(value, force_grouping=True)


def range_words(low, high) -> str:
    """A count's range as a reader understands it, in the page's language: "9–11",
    "4", "none (0)" (a source's claim of zero), "at least 3" (an unknown maximum), or
    "not recorded" (DOMAIN.md "Not recorded is not zero": a null minimum). A floor of 0
    says nothing ("at least 0"), so it also reads "not recorded"; a maximum below the
    minimum is never written."""
    if low is None or (low == 0 and high is None):
        return gettext("not recorded")
    if high is None or high < low:
        return gettext("at least %(n)s") % {"n": _num(low)}
    if high == 0:
        return gettext("none (0)")
    if low == high:
        return _num(low)
    # Isolated left-to-right, so that "9–11" does not read "11–9" on Arabic pages.
    return f"\u2066{_num(low)}–{_num(high)}\u2069"


@register.simple_tag
def range_text(low, high):
    return range_words(low, high)


@register.filter
def rng(value):
    """A {"min", "max"} dict (an incident's casualties, statistics rows) as a range."""
    if value is None:
        return gettext("not recorded")
    if isinstance(value, dict):
        return range_words(value.get("min"), value.get("max"))
    return range_words(value[0], value[1])


def _gap_texts(value: dict, incidents: int | None) -> list[tuple[str, str]]:
    """The parts of a range sum that say what it lacks, as (kind, text):
    ("max_unknown", "no upper figure for 10 of 6,520 incidents") and
    ("not_recorded", "not recorded in 12")."""
    parts = []
    max_unknown = value.get("incidents_max_unknown") or 0
    not_recorded = value.get("incidents_not_recorded") or 0
    if max_unknown:
        if incidents:
            text = gettext("no upper figure for %(n)s of %(total)s incidents") % {
                "n": _num(max_unknown),
                "total": _num(incidents),
            }
        else:
            text = gettext("no upper figure for %(n)s incidents") % {
                "n": _num(max_unknown)
            }
        parts.append(("max_unknown", text))
    if not_recorded:
        text = gettext("not recorded in %(n)s") % {"n": _num(not_recorded)}
        parts.append(("not_recorded", text))
    return parts


def range_head(value: dict | None) -> str:
    """The figure of a range sum: "1,849–2,000", "at least 1,849", or "not recorded"
    when no incident records the measure (never 0)."""
    if not value or value.get("min") is None:
        return gettext("not recorded")
    return range_words(value["min"], value.get("max"))


def range_sum_words(value: dict | None, incidents: int | None = None) -> str:
    """A range sum as a reader understands it (DOMAIN.md "Statistics"): "at least
    1,849 — no upper figure for 10 of 6,520 incidents; not recorded in 12". The maximum
    is only ever written when every incident has one, so no page shows a "maximum"
    below the minimum; a measure no incident records is "not recorded", never 0."""
    head = range_head(value)
    if not value or value.get("min") is None:
        return head
    gaps = [text for _kind, text in _gap_texts(value, incidents)]
    return f"{head} — {'; '.join(gaps)}" if gaps else head


@register.filter
def rhead(value):
    """`{{ row.killed|rhead }}`: see range_head."""
    return range_head(value)


@register.filter
def rsum(value, incidents=None):
    """`{{ row.killed|rsum:row.incidents }}`: see range_sum_words."""
    return range_sum_words(value, incidents)


def _link(url: str, text: str):
    if url:
        return format_html('<a href="{}">{}</a>', url, text)
    return format_html("{}", text)


def range_links(base_url: str, measure: str, **links: str) -> dict[str, str]:
    """The lists behind the parts of a range sum, for range_sum_links: `links` (`min`,
    `max`) and, from `base_url` (the group's list), `not_recorded`
    (`<measure>_recorded=false`) and `recorded` (`<measure>_recorded=true`: the list in
    which the incidents without an upper figure are counted)."""
    separator = "&" if "?" in base_url else "?"
    return {
        **links,
        "not_recorded": f"{base_url}{separator}{measure}_recorded=false",
        "recorded": f"{base_url}{separator}{measure}_recorded=true",
    }


@register.simple_tag
def range_gap_links(value, incidents=None, links=None):
    """What a range sum lacks ("no upper figure for 10 of 6,520 incidents; not recorded
    in 12"), each part a link: "not recorded in N" to `links["not_recorded"]` (the list
    with `<measure>_recorded=false`), "no upper figure…" to `links["recorded"]`; empty
    when it lacks nothing."""
    if not value or value.get("min") is None:
        return ""
    links = links or {}
    targets = {"not_recorded": "not_recorded", "max_unknown": "recorded"}
    return format_html_join(
        "; ",
        "{}",
        (
            (_link(links.get(targets[kind], ""), text),)
            for kind, text in _gap_texts(value, incidents)
        ),
    )


@register.simple_tag
def range_head_links(value, links=None):
    """range_head with its figures linked: the minimum to `links["min"]`, the maximum
    to `links["max"]`, "not recorded" to `links["not_recorded"]`."""
    links = links or {}
    if not value or value.get("min") is None:
        return _link(links.get("not_recorded", ""), gettext("not recorded"))
    low, high = value["min"], value.get("max")
    low_html = _link(links.get("min", ""), _num(low))
    if high is None:
        return format_html(gettext("at least %(n)s") % {"n": "{}"}, low_html)
    if high == low:
        return low_html
    high_html = _link(links.get("max", ""), _num(high))
    return format_html("\u2066{}–{}\u2069", low_html, high_html)


@register.simple_tag
def range_sum_links(value, incidents=None, links=None):
    """range_sum_words with every figure a link to the list behind it (see
    range_head_links and range_gap_links; `links` from range_links)."""
    head = range_head_links(value, links)
    gaps = range_gap_links(value, incidents, links)
    if not gaps:
        return head
    return format_html('{} <span class="range-notes">— {}</span>', head, gaps)


@register.filter
def num(value):
    if value is None:
        return "–"
    return _num(value)


# ---------------------------------------------------------------------------------------
# Precision in words
# ---------------------------------------------------------------------------------------


def _day(d: dt.date) -> str:
    return date_format(d, "j F Y")


def date_window_words(start: dt.date, end: dt.date, precision: str) -> str:
    """ "15 February 2016", "some day between 3 and 9 February 2016", "some day in
    February 2016", "some day in 2016"."""
    if start is None:
        return ""
    end = end or start
    if precision == "day" or start == end:
        return _day(start)
    if (
        precision == "year"
        and start.month == 1
        and start.day == 1
        and end.year == start.year
    ):
        return gettext("some day in %(year)s") % {"year": start.year}
    if (
        precision == "month"
        and start.day == 1
        and (start.year, start.month) == (end.year, end.month)
    ):
        return gettext("some day in %(month)s") % {"month": date_format(start, "F Y")}
    if (start.year, start.month) == (end.year, end.month):
        return gettext("some day between %(start)s and %(end)s") % {
            "start": date_format(start, "j"),
            "end": _day(end),
        }
    if start.year == end.year:
        return gettext("some day between %(start)s and %(end)s") % {
            "start": date_format(start, "j F"),
            "end": _day(end),
        }
    return gettext("some day between %(start)s and %(end)s") % {
        "start": _day(start),
        "end": _day(end),
    }


@register.simple_tag
def date_window(incident):
    return date_window_words(
        incident.date_start, incident.date_end, incident.date_precision
    )


@register.filter
def short_window(incident):
    """Compact form for tables: 2016-02-15, or 2016-02-03 – 2016-02-09."""
    if incident.date_start == incident.date_end:
        return incident.date_start.isoformat()
    return f"{incident.date_start.isoformat()} – {incident.date_end.isoformat()}"


def place_words(place_name: str, precision: str) -> str:
    """The public place with its precision: "within 2 km of Maarat al-Numan"."""
    if not place_name:
        return gettext("somewhere in Syria")
    phrases = {
        "exact": gettext("at %(place)s (within 100 m)"),
        "near": gettext("within 2 km of %(place)s"),
        "community": gettext("in or near %(place)s"),
        "subdistrict": gettext("somewhere in %(place)s (subdistrict)"),
        "district": gettext("somewhere in %(place)s (district)"),
        "governorate": gettext("somewhere in %(place)s governorate"),
        "country": gettext("somewhere in %(place)s"),
    }
    return phrases.get(precision, "%(place)s") % {"place": place_name}


@register.simple_tag
def place_in_words(incident):
    return place_words(loc(incident.public_location), incident.public_geo_precision)


@register.filter
def filesize(value):
    if value is None:
        return ""
    size = float(value)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return ""


@register.filter
def public_file_url(source) -> str:
    """The URL of a source's published file (re-encoded without metadata,
    incidents/public_files.py), or "" when the public may not fetch it."""
    if source is None or not public_file_available(source):
        return ""
    return reverse("api:source-file", kwargs={"pk": source.pk})


# ---------------------------------------------------------------------------------------
# Attribution sentences
# ---------------------------------------------------------------------------------------


@register.simple_tag
def hypotheses(groups):
    """Perpetrator hypotheses as HTML: joint actors within a hypothesis "A and B",
    competing hypotheses "A *or* B". `groups` is a list of lists of dicts with `url`
    and `name` (views.perpetrator_groups)."""
    and_word = pgettext("joint perpetrators", "and")
    or_word = pgettext("competing hypotheses", "or")
    rendered = []
    for group in groups:
        names = format_html_join(
            format_html(" {} ", and_word),
            '<a href="{}">{}</a>',
            ((actor["url"], actor["name"]) for actor in group),
        )
        rendered.append(names)
    return mark_safe(format_html(" <em>{}</em> ", or_word).join(rendered))  # noqa: S308


@register.simple_tag
def confidential_note(count):
    if not count:
        return ""
    return ngettext(
        "+%(n)s confidential source", "+%(n)s confidential sources", count
    ) % {"n": _num(count)}


# ---------------------------------------------------------------------------------------
# Links to the filtered list
# ---------------------------------------------------------------------------------------


@register.simple_tag(takes_context=True)
def list_url(context, base="", **params):
    """The incident list for `base` (a query string or QueryDict) plus `params`; a
    value of None or "" removes a parameter. Every number on a page links through it."""
    query = _merged(base, params)
    url = reverse("incidents:list")
    return f"{url}?{query}" if query else url


@register.simple_tag
def with_params(base="", **params):
    """`base` (a query string) with `params` replaced: `?{% with_params q ordering="code" %}`."""
    return _merged(base, params)


def _merged(base, params) -> str:
    if isinstance(base, QueryDict):
        query = base.copy()
    else:
        query = QueryDict(str(base or ""), mutable=True)
    for key, value in params.items():
        if value is None or value == "":
            query.pop(key, None)
        else:
            query[key] = str(value)
    query.pop("cursor", None)
    return query.urlencode(safe=",:")


@register.simple_tag
def query_string(**params):
    return urlencode({k: v for k, v in params.items() if v not in (None, "")})


@register.filter
def get_item(mapping, key):
    """`{{ errors|get_item:name }}`: a dict value by a computed key (empty list if none)."""
    if not mapping:
        return []
    return mapping.get(key, [])
