"""Issue 12 §10 (first paragraph): what a newcomer hit on a first run.

- every example value a filter hint gives (pages, API docs, README) is accepted (200);
- `/api/` and `/api/v1/` index the API's resources instead of a 404;
- a favicon (linked, and at /favicon.ico) and a robots.txt;
- the detail page does not send the reader "above" for a log that is not there;
- no operation in the API docs shows a code comment as its description.
"""

from __future__ import annotations

import re
from http import HTTPStatus
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.cache import cache
from rest_framework.throttling import AnonRateThrottle

from api.filters import PARAMETER_DOCS
from api.views_stats import STATS_PARAMETERS
from incidents.views import FORM_GROUPS
from tests.factories import make_incident

pytestmark = pytest.mark.django_db

README = Path(settings.BASE_DIR) / "README.md"
STOPWORDS = {"or", "the", "a", "an", "and"}


def _examples(text: str) -> list[str]:
    """The values a hint offers after "e.g." (up to ";" or ")"), without prose."""
    values = []
    for match in re.finditer(r"e\.g\.\s*([^;)]*)", str(text)):
        for token in re.findall(r"[A-Za-z0-9_:\-]+", match.group(1)):
            if token.lower() in STOPWORDS or re.fullmatch(r"[A-Z][a-z]+", token):
                continue  # prose around the value ("the Tiger Forces")
            values.append(token)
    return values


def _hinted() -> list[tuple[str, str]]:
    pairs = []
    for _group, fields in FORM_GROUPS:
        for field in fields:
            pairs += [(field["name"], v) for v in _examples(field.get("help", ""))]
    for name, _kind, text in PARAMETER_DOCS:
        pairs += [(name, v) for v in _examples(text)]
    return sorted(set(pairs))


HINTED = _hinted()


def test_the_hints_give_examples_to_check():
    names = {name for name, _ in HINTED}
    assert {"actor", "location", "external_ref", "geo_precision_max"} <= names
    assert ("actor", "tiger-forces") not in HINTED


@pytest.mark.parametrize(("name", "value"), HINTED)
def test_every_example_value_in_a_hint_is_accepted(client, name, value):
    """The reference data (actors, gazetteer) are the demo's: they come with the
    migrations, so a slug or pcode given as an example must exist there."""
    api = client.get("/api/v1/incidents/", {name: value})
    page = client.get("/en/incidents/", {name: value})

    assert api.status_code == HTTPStatus.OK, api.content
    assert page.status_code == HTTPStatus.OK
    assert b'aria-invalid="true"' not in page.content


STATS_HINTED = sorted(
    {
        (parameter.name, value)
        for parameter in STATS_PARAMETERS
        for value in _examples(parameter.description or "")
    }
)


@pytest.mark.parametrize(("name", "value"), STATS_HINTED)
def test_every_example_value_in_a_statistics_hint_is_accepted(client, name, value):
    response = client.get("/api/v1/stats/summary/", {"group_by": "year", name: value})

    assert response.status_code == HTTPStatus.OK, response.content


def _readme_urls() -> list[str]:
    text = README.read_text(encoding="utf-8")
    urls = re.findall(r"http://127\.0\.0\.1:8000(/api/v1/[^\s'\"]*\?[^\s'\"]*)", text)
    urls += [
        "/api/v1" + rest
        for rest in re.findall(r"\{base\}(/[^\s'\"]*\?[^\s'\"]*)", text)
    ]
    return sorted(set(urls))


@pytest.mark.parametrize("url", _readme_urls())
def test_every_query_the_readme_shows_is_accepted(client, url):
    response = client.get(url)

    assert response.status_code == HTTPStatus.OK, response.content[:300]


# ---------------------------------------------------------------------------------------
# /api/ and /api/v1/
# ---------------------------------------------------------------------------------------


def test_the_api_root_lists_its_versions_and_docs(client):
    response = client.get("/api/")

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    assert body["v1"].endswith("/api/v1/")
    assert body["schema"].endswith("/api/schema/")
    assert body["docs"].endswith("/api/docs/")


def test_the_v1_index_lists_every_resource_and_each_answers(client):
    response = client.get("/api/v1/")

    assert response.status_code == HTTPStatus.OK
    body = response.json()
    for name in (
        "incidents",
        "actors",
        "locations",
        "facilities",
        "sources",
        "vocabularies",
        "stats-summary",
        "stats-compare",
        "map-clusters",
        "changes",
        "imports",
        "schema",
        "docs",
    ):
        assert name in body, name
    public = {"imports": HTTPStatus.UNAUTHORIZED}
    for name, url in body.items():
        if name in (
            "stats-summary",
            "stats-compare",
            "map-clusters",
            "protection-requests",
        ):
            continue  # need parameters or a login; listed all the same
        accept = "text/html" if name == "docs" else "application/json"
        answer = client.get(url, HTTP_ACCEPT=accept)
        assert answer.status_code == public.get(name, HTTPStatus.OK), (name, url)


def test_the_index_refuses_unknown_parameters(client):
    response = client.get("/api/v1/", {"nope": "1"})

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "nope" in response.json()


def test_the_index_is_throttled_like_the_rest(client, monkeypatch):
    cache.clear()
    monkeypatch.setattr(AnonRateThrottle, "get_rate", lambda self: "2/min")

    answers = [client.get("/api/v1/").status_code for _ in range(3)]

    assert answers == [HTTPStatus.OK, HTTPStatus.OK, HTTPStatus.TOO_MANY_REQUESTS]
    cache.clear()


# ---------------------------------------------------------------------------------------
# favicon and robots.txt
# ---------------------------------------------------------------------------------------


def test_pages_link_the_favicon_and_favicon_ico_answers_it(client):
    page = client.get("/en/").content.decode()
    icon = client.get("/favicon.ico")

    link = re.search(r'<link rel="icon" href="([^"]+)" type="image/svg\+xml">', page)
    assert link is not None
    assert link.group(1).startswith("/static/img/favicon")
    assert icon.status_code == HTTPStatus.OK
    assert icon["Content-Type"] == "image/svg+xml"
    with open(finders.find("img/favicon.svg"), "rb") as handle:
        assert icon.content == handle.read()


class _Robots:
    """RFC 9309 matching for rules without wildcards: the longest matching path wins,
    Allow on a tie (urllib.robotparser drops a rule's trailing "?", unlike crawlers)."""

    def __init__(self, text: str):
        self.rules = [
            (kind.strip().lower() == "allow", path.strip())
            for kind, _, path in (line.partition(":") for line in text.splitlines())
            if kind.strip().lower() in ("allow", "disallow") and path.strip()
        ]

    def can_fetch(self, _agent: str, url: str) -> bool:
        matches = [(len(p), allow) for allow, p in self.rules if url.startswith(p)]
        return max(matches, default=(0, True))[1]


def test_robots_txt_lets_crawlers_find_pages_but_not_the_admin_or_the_api(client):
    response = client.get("/robots.txt")

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("text/plain")
    assert response.content.decode().startswith("User-agent: *\n")
    robots = _Robots(response.content.decode())
    for allowed in (
        "/en/",
        "/ar/",
        "/en/incidents/",
        "/en/incidents/SY-2016-00001/",
        "/ar/actors/islamic-state/",
        "/en/methodology/",
    ):
        assert robots.can_fetch("*", allowed), allowed
    for refused in (
        "/admin/",
        "/admin/login/",
        "/api/v1/incidents/?format=csv",
        "/api/v1/incidents/",
        "/en/incidents/?actor=islamic-state",
        "/ar/stats/?group_by=year",
    ):
        assert not robots.can_fetch("*", refused), refused


# ---------------------------------------------------------------------------------------
# The detail page's wording, in both languages
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "stale"), [("en", "change log above"), ("ar", "سجل التغييرات أعلاه")]
)
def test_the_cite_box_links_the_change_log_instead_of_saying_above(client, lang, stale):
    incident = make_incident(status="published")

    html = client.get(f"/{lang}/incidents/{incident.code}/").content.decode()

    assert stale not in html
    cite = html[html.index('id="cite"') :]
    assert '<a href="#history">' in cite
    assert 'id="history"' in html


# ---------------------------------------------------------------------------------------
# No code comment as an operation's description
# ---------------------------------------------------------------------------------------

CODE_COMMENT = re.compile(
    r"^\s*#"  # a comment line
    r"|\b(?:api|incidents|civtrack|tests|scripts)/[\w/]+\.py\b"  # a module's path
    r"|\b\w+(?:Mixin|ViewSet|View|Serializer)\b"  # a class name
    r"|\b(?:TODO|FIXME|XXX|noqa)\b"
    r"|\bIssue\s+\d+"
    r"|\b[A-Z]+\.md\b"  # the project's own spec files, not shipped to API users
    r"|readthedocs",
    re.MULTILINE,
)


def test_no_operation_in_the_api_docs_shows_a_code_comment(client):
    schema = client.get("/api/schema/", {"format": "json"}).json()

    leaks = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            texts = [operation.get("description", "")]
            texts += [p.get("description", "") for p in operation.get("parameters", [])]
            leaks += [
                (method, path, text[:80]) for text in texts if CODE_COMMENT.search(text)
            ]
            assert operation.get("summary"), (method, path)
    assert leaks == []
