"""Hostile input (issue 7): SQL injection and script payloads, Arabic and emoji, NUL bytes
and megabyte strings in every search box, filter, path and text field — and hostile
uploads. Nothing gives a 5xx; text is stored verbatim (where its length is allowed) and
always shown escaped; what cannot be stored (NUL bytes, over-long text, a refused file) is
a 400 or a form error naming the field and saying what is allowed."""

from __future__ import annotations

import io
import json
import re
import zipfile
from http import HTTPStatus
from urllib.parse import quote

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from api.filters import FILTER_PARAMS
from incidents import services
from incidents.models import Incident, Source
from tests.factories import (
    ActorFactory,
    IncidentTypeFactory,
    LocationFactory,
    api_token,
    approve_protection_requests,
    make_incident,
    researcher,
    reviewer,
)
from tests.incidents.test_admin import form_data

pytestmark = pytest.mark.django_db

SQL = "'; DROP TABLE incidents_incident;--"
SQL_OR = "1' OR '1'='1"
SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
ARABIC = "غارة جوية على سوق معرة النعمان"
EMOJI = "💣🔥 طفل 👶🏽"
TSQUERY = "a & | ! ( ) : * <-> \\ ' \""
LIKE = "%_\\%"
BIDI = "\u202eevil\u202c\u200f"
NUL = "abc\x00def"
HUGE = "x" * 1_000_000

# Payloads for search boxes and filters (a NUL byte and 1 MB included).
QUERY_PAYLOADS = {
    "sql": SQL,
    "sql_or": SQL_OR,
    "script": SCRIPT,
    "img": IMG,
    "arabic": ARABIC,
    "emoji": EMOJI,
    "tsquery": TSQUERY,
    "like": LIKE,
    "bidi": BIDI,
    "nul": NUL,
    "huge": HUGE,
}
# Payloads that are stored as they are.
TEXT_PAYLOADS = (SQL, SCRIPT, IMG, ARABIC, EMOJI, TSQUERY, BIDI)
ESCAPED_SCRIPT = "&lt;script&gt;alert(1)&lt;/script&gt;"
ESCAPED_IMG = "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;"


@pytest.fixture(autouse=True)
def _no_throttle(monkeypatch):
    cache.clear()
    for throttle in (AnonRateThrottle, UserRateThrottle):
        monkeypatch.setattr(
            throttle,
            "THROTTLE_RATES",
            {**throttle.THROTTLE_RATES, "anon": "100000/min", "user": "100000/min"},
        )


@pytest.fixture
def world(db):
    """Two published incidents to search and filter (and a table to drop)."""
    place = LocationFactory(slug="maarat-al-numan", name="Maarat al-Numan")
    actor = ActorFactory(slug="test-air-force")
    IncidentTypeFactory(code="airstrike")
    rows = [services.CasualtyRowData("civilians", "killed", 2, 4)]
    for title in ("Air strike on a market", "Shelling of a bakery"):
        make_incident(
            status="published",
            title=title,
            location=place,
            parts=services.IncidentParts(
                casualty_rows=rows,
                attributions=[services.AttributionData(actor=actor)],
            ),
        )
    return place


def _text(response) -> str:
    if response.streaming:
        return b"".join(response.streaming_content).decode()
    return response.content.decode()


def assert_safe_html(html: str) -> None:
    """No payload survives as markup: the script and the attribute break-out are
    escaped text."""
    assert SCRIPT not in html
    assert "<img src=x" not in html
    assert "onerror=alert(1)>" not in html


def staff_client(user=None) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user or researcher())}")
    return client


# ---------------------------------------------------------------------------------------
# Search boxes and filters: 400 or safe results, never a 5xx
# ---------------------------------------------------------------------------------------

SEARCH_URLS = [
    "/en/incidents/?q={}",
    "/ar/incidents/?q={}",
    "/en/stats/?group_by=year&q={}",
    "/en/map/?q={}",
    "/api/v1/incidents/?q={}",
    "/api/v1/incidents/?format=csv&q={}",
    "/api/v1/incidents/?format=geojson&q={}",
    "/api/v1/stats/summary/?group_by=year&q={}",
    "/api/v1/map/clusters/?zoom=6&q={}",
    "/api/v1/actors/?q={}",
    "/api/v1/locations/?q={}",
    "/api/v1/facilities/?q={}",
]


@pytest.mark.parametrize("name", QUERY_PAYLOADS)
def test_the_search_boxes_take_any_input_safely(client, world, name):
    payload = QUERY_PAYLOADS[name]
    before = Incident.objects.count()

    answers = {
        url: client.get(url.format(quote(payload, safe=""))) for url in SEARCH_URLS
    }

    statuses = {url: a.status_code for url, a in answers.items()}
    assert set(statuses.values()) <= {200, 400}, statuses
    for url, answer in answers.items():
        if "text/html" in answer["Content-Type"]:
            assert_safe_html(_text(answer))
        if answer.status_code == 400 and url.startswith("/api/"):
            assert "q" in answer.json(), url  # the error names the parameter
    assert Incident.objects.count() == before  # nothing dropped
    if name in ("nul", "huge"):
        # Neither can be searched for: the error says why.
        assert statuses["/api/v1/incidents/?q={}"] == 400
        assert statuses["/en/incidents/?q={}"] == 400


def test_a_search_that_looks_like_sql_finds_nothing_and_drops_nothing(client, world):
    response = client.get("/api/v1/incidents/", {"q": SQL_OR})

    assert response.status_code == 200
    assert response.json()["count"] == 0
    assert Incident.objects.count() == 2


def test_a_search_shows_the_query_escaped(client, world):
    html = client.get("/en/incidents/", {"q": SCRIPT}).content.decode()

    assert_safe_html(html)
    assert ESCAPED_SCRIPT in html  # shown back in the search box, as text


def test_arabic_and_emoji_searches_work(client, world):
    Incident.objects.filter(title="Air strike on a market").update(
        title_ar="غارة جوية على سوق 💣"
    )

    arabic = client.get("/api/v1/incidents/", {"q": "غاره"}).json()
    emoji = client.get("/api/v1/incidents/", {"q": "💣"})

    assert arabic["count"] == 1  # ta marbuta normalised
    assert emoji.status_code == 200


# Every filter parameter (the one FilterSet), with every payload, through the API; the
# exports, statistics and map share the FilterSet: the hardest payloads there.
@pytest.mark.parametrize("param", FILTER_PARAMS)
def test_every_filter_parameter_takes_any_input_safely(client, world, param):
    problems = []
    for name, payload in QUERY_PAYLOADS.items():
        value = quote(payload, safe="")
        api = client.get(f"/api/v1/incidents/?{param}={value}")
        if api.status_code not in (200, 400):
            problems.append(("list", name, api.status_code))
        elif api.status_code == 400 and param not in api.json():
            problems.append(("the error does not name the parameter", name))
    for name in ("nul", "huge", "sql"):
        value = quote(QUERY_PAYLOADS[name], safe="")
        for url in (
            f"/api/v1/incidents/?format=csv&{param}={value}",
            f"/api/v1/incidents/?format=geojson&{param}={value}",
            f"/api/v1/stats/summary/?group_by=year&{param}={value}",
            f"/api/v1/map/clusters/?zoom=6&{param}={value}",
        ):
            status = client.get(url).status_code
            if status not in (200, 400):
                problems.append((url[:40], name, status))

    assert problems == []
    assert Incident.objects.count() == 2


# The pages' own parameters and the API's extra ones (paging, grouping, formats).
OTHER_PARAMS = {
    "/en/incidents/": ("cursor", "ordering", "lang", "format", "page_size", "utm_x"),
    "/en/stats/": ("group_by", "cursor", "format", "lang"),
    "/en/map/": ("zoom", "format", "lang"),
    "/api/v1/incidents/": ("cursor", "page_size", "format", "bom", "fields"),
    "/api/v1/stats/summary/?group_by=year&": ("measure", "format", "bom"),
    "/api/v1/stats/summary/?": ("group_by",),
    "/api/v1/stats/compare/?": ("bloc", "actor", "measure", "format"),
    "/api/v1/map/clusters/?": ("zoom",),
    "/api/v1/changes/": ("since", "cursor", "page_size"),
    "/api/v1/actors/": ("kind", "bloc", "parent", "cursor", "page_size", "lang"),
    "/api/v1/locations/": ("level", "parent", "pcode", "cursor", "lang"),
    "/api/v1/facilities/": ("target_type", "cursor", "lang"),
    "/api/v1/sources/": ("cursor", "page_size", "kind"),
    "/api/v1/vocabularies/": ("lang",),
    "/en/changes/feed/": ("since",),
}


@pytest.mark.parametrize("name", QUERY_PAYLOADS)
def test_every_other_parameter_takes_any_input_safely(client, world, name):
    value = quote(QUERY_PAYLOADS[name], safe="")
    problems = []
    for base, params in OTHER_PARAMS.items():
        for param in params:
            joiner = "" if base.endswith(("?", "&")) else "?"
            response = client.get(f"{base}{joiner}{param}={value}")
            if response.status_code not in (200, 400):
                problems.append((base, param, response.status_code))
            elif "text/html" in response["Content-Type"]:
                assert_safe_html(_text(response))

    assert problems == []


@pytest.mark.parametrize("name", [n for n in QUERY_PAYLOADS if n != "huge"])
def test_the_filter_forms_take_every_parameter_at_once_safely(client, world, name):
    """Every filter set to the payload at once: each is echoed back in the form (as
    escaped text) and named in the errors."""
    value = quote(QUERY_PAYLOADS[name], safe="")
    query = "&".join(f"{param}={value}" for param in FILTER_PARAMS)

    pages = {
        url: client.get(f"{url}?{query}")
        for url in ("/en/incidents/", "/ar/incidents/", "/en/stats/", "/en/map/")
    }

    for url, page in pages.items():
        assert page.status_code in (200, 400), url
        assert_safe_html(page.content.decode())
    if name == "script":
        assert ESCAPED_SCRIPT in pages["/en/incidents/"].content.decode()


PATH_URLS = [
    "/en/incidents/{}/",
    "/ar/incidents/{}/",
    "/en/actors/{}/",
    "/en/places/{}/",
    "/en/facilities/{}/",
    "/api/v1/incidents/{}/",
    "/api/v1/incidents/{}/history/",
    "/api/v1/actors/{}/",
    "/api/v1/locations/{}/",
    "/api/v1/facilities/{}/",
    "/api/v1/sources/{}/",
    "/api/v1/imports/{}/",
]


@pytest.mark.parametrize("name", [n for n in QUERY_PAYLOADS if n != "huge"])
def test_any_path_segment_is_a_404_never_a_5xx(client, world, name):
    segment = quote(QUERY_PAYLOADS[name], safe="")

    statuses = {url: client.get(url.format(segment)).status_code for url in PATH_URLS}

    assert set(statuses.values()) <= {301, 400, 401, 404}, statuses


def test_a_megabyte_path_is_a_404(client, world):
    statuses = {
        url: client.get(url.format("x" * 100_000)).status_code for url in PATH_URLS
    }

    assert set(statuses.values()) <= {401, 404}, statuses


# ---------------------------------------------------------------------------------------
# Text entered through the API: stored verbatim, shown escaped
# ---------------------------------------------------------------------------------------


def _payload(**overrides) -> dict:
    body = {
        "title": "Air strike",
        "date_start": "2016-02-15",
        "incident_type": "airstrike",
        "location": "maarat-al-numan",
        "geo_precision": "community",
    }
    body.update(overrides)
    return body


HOSTILE_FIELDS = {
    "title": SCRIPT + " " + IMG,
    "title_ar": ARABIC + " " + EMOJI,
    "summary": SQL + "\n" + SCRIPT + "\n" + IMG + "\n" + TSQUERY,
    "summary_ar": ARABIC + " " + SCRIPT + " " + BIDI,
    "internal_notes": SQL,
}


def test_hostile_text_through_the_api_is_stored_verbatim_and_shown_escaped(
    client, world
):
    author = researcher()
    body = _payload(
        **HOSTILE_FIELDS,
        casualty_rows=[
            {"group": "civilians", "outcome": "killed", "min": 1, "max": 2, "note": IMG}
        ],
        citations=[
            {
                "source": {"kind": "news_report", "title": SCRIPT, "publisher": IMG},
                "supports": ["occurrence"],
                "excerpt": SCRIPT + EMOJI,
            }
        ],
    )

    response = staff_client(author).post("/api/v1/incidents/", body, format="json")

    assert response.status_code == HTTPStatus.CREATED, response.json()
    incident = Incident.objects.get(code=response.json()["code"])
    for name, value in HOSTILE_FIELDS.items():
        assert getattr(incident, name) == value, name
    citation = incident.citations.select_related("source").get()
    assert (citation.source.title, citation.source.publisher) == (SCRIPT, IMG)
    assert citation.excerpt == SCRIPT + EMOJI

    incident = services.incident_submit(incident=incident, by=author)
    services.incident_publish(
        incident=incident, expected_version=incident.version, by=reviewer()
    )
    for url in (
        f"/en/incidents/{incident.code}/",
        f"/ar/incidents/{incident.code}/",
        "/en/incidents/",
        "/ar/",
        "/en/changes/",
        f"/en/places/{world.slug}/",
        "/en/map/",
    ):
        html = client.get(url).content.decode()
        assert_safe_html(html)
    detail = client.get(f"/en/incidents/{incident.code}/").content.decode()
    assert ESCAPED_SCRIPT in detail
    assert ESCAPED_IMG in detail
    assert ARABIC in detail
    assert EMOJI in detail
    feed = client.get("/en/changes/feed/").content.decode()
    assert SCRIPT not in feed  # XML-escaped in the Atom feed
    # JSON carries the text as data (never rendered as HTML by the API).
    api = client.get(f"/api/v1/incidents/{incident.code}/")
    assert api.json()["title"] == HOSTILE_FIELDS["title"]
    assert api["Content-Type"].startswith("application/json")
    assert api["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    ("field", "nested"),
    [
        ("title", None),
        ("title_ar", None),
        ("summary", None),
        ("summary_ar", None),
        ("internal_notes", None),
        ("note", "casualty_rows"),
        ("excerpt", "citations"),
        ("name", "victims"),
        ("value", "external_refs"),
    ],
)
def test_a_nul_byte_is_a_400_naming_the_field(world, field, nested):
    rows = {
        "casualty_rows": {
            "group": "civilians",
            "outcome": "killed",
            "min": 1,
            "max": 2,
        },
        "citations": {"source": {"kind": "news_report", "title": "A report"}},
        "victims": {"outcome": "killed"},
        "external_refs": {"system": "other", "value": "X"},
    }
    if nested:
        body = _payload(**{nested: [{**rows[nested], field: NUL}]})
    else:
        body = _payload(**{field: NUL})

    response = staff_client().post("/api/v1/incidents/", body, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    errors = response.json()
    message = errors[nested][0][field] if nested else errors[field]
    assert "null" in " ".join(message).lower() or "nul" in " ".join(message).lower()
    assert Incident.objects.count() == 2


def test_a_nul_byte_in_a_patch_and_a_workflow_reason_is_a_400(world):
    user = reviewer()
    incident = make_incident(status="in_review", location=world)
    client = staff_client(user)

    patch = client.patch(
        f"/api/v1/incidents/{incident.code}/",
        {"summary": NUL},
        format="json",
        HTTP_IF_MATCH=f'"{incident.version}"',
    )
    send_back = client.post(
        f"/api/v1/incidents/{incident.code}/send-back/", {"reason": NUL}, format="json"
    )

    assert patch.status_code == HTTPStatus.BAD_REQUEST
    assert "summary" in patch.json()
    assert send_back.status_code == HTTPStatus.BAD_REQUEST
    assert "reason" in send_back.json()


def test_a_nul_byte_in_a_new_source_is_a_400_naming_the_field(world):
    response = staff_client().post(
        "/api/v1/sources/", {"kind": "photo", "title": NUL}, format="json"
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "title" in response.json()
    assert Source.objects.count() == 0


def test_long_text_is_stored_up_to_its_limit_and_refused_beyond_it(world):
    client = staff_client()
    long_summary = ("نص " + EMOJI) * 10_000  # 100 000 characters at most
    long_summary = long_summary[:100_000]

    stored = client.post(
        "/api/v1/incidents/", _payload(summary=long_summary), format="json"
    )
    too_long = client.post("/api/v1/incidents/", _payload(summary=HUGE), format="json")
    long_title = client.post("/api/v1/incidents/", _payload(title=HUGE), format="json")

    assert stored.status_code == HTTPStatus.CREATED
    assert Incident.objects.get(code=stored.json()["code"]).summary == long_summary
    assert too_long.status_code == HTTPStatus.BAD_REQUEST
    assert "100000" in " ".join(too_long.json()["summary"])
    assert long_title.status_code == HTTPStatus.BAD_REQUEST
    assert "500" in " ".join(long_title.json()["title"])


# ---------------------------------------------------------------------------------------
# Text entered through the admin: stored verbatim, shown escaped
# ---------------------------------------------------------------------------------------


@pytest.fixture
def admin_client(client, world):
    client.force_login(reviewer())
    return client


def _add_data(client, **fields) -> dict:
    data = form_data(client.get(reverse("admin:incidents_incident_add")))
    data.update(
        title="Air strike",
        date_start="2016-02-15",
        date_end="2016-02-15",
        date_precision="day",
        time_of_day="unknown",
        location=str(LocationFactory().pk),
        geo_precision="community",
        incident_type=str(IncidentTypeFactory(code="airstrike").pk),
        grading="fair",
    )
    data.update(fields)
    return data


def test_hostile_text_through_the_admin_is_stored_verbatim_and_shown_escaped(
    admin_client,
):
    fields = dict(HOSTILE_FIELDS)
    data = _add_data(admin_client, **fields)

    response = admin_client.post(reverse("admin:incidents_incident_add"), data)

    assert response.status_code == HTTPStatus.FOUND, (
        response.context and response.context["adminform"].form.errors
    )
    incident = Incident.objects.get(title=fields["title"])
    for name, value in fields.items():
        assert getattr(incident, name) == value.replace("\r\n", "\n"), name
    changelist = admin_client.get(reverse("admin:incidents_incident_changelist"))
    change = admin_client.get(
        reverse("admin:incidents_incident_change", args=[incident.pk])
    )
    history = admin_client.get(
        reverse("admin:incidents_incident_history", args=[incident.pk])
    )
    for page in (changelist, change, history):
        assert page.status_code == HTTPStatus.OK
        assert_safe_html(page.content.decode())
    assert ESCAPED_SCRIPT in changelist.content.decode()


@pytest.mark.parametrize("field", ["title", "title_ar", "summary", "summary_ar"])
def test_a_nul_byte_in_the_admin_is_a_form_error_on_the_field(admin_client, field):
    data = _add_data(admin_client, **{field: NUL})

    response = admin_client.post(reverse("admin:incidents_incident_add"), data)

    assert response.status_code == HTTPStatus.OK
    errors = response.context["adminform"].form.errors
    assert field in errors
    assert "null" in " ".join(errors[field]).lower()
    assert Incident.objects.count() == 2


def test_an_over_long_title_in_the_admin_is_a_form_error(admin_client):
    data = _add_data(admin_client, title="x" * 501)

    response = admin_client.post(reverse("admin:incidents_incident_add"), data)

    assert response.status_code == HTTPStatus.OK
    assert "500" in " ".join(response.context["adminform"].form.errors["title"])


def _source_data(client, **fields) -> dict:
    data = form_data(client.get(reverse("admin:incidents_source_add")))
    data.update(kind="photo", title="Photo", reliability="unsure")
    data.update(fields)
    return data


def test_a_hostile_source_title_in_the_admin_is_stored_and_escaped(admin_client):
    response = admin_client.post(
        reverse("admin:incidents_source_add"),
        _source_data(admin_client, title=SCRIPT, publisher=IMG, author=ARABIC),
    )

    assert response.status_code == HTTPStatus.FOUND
    source = Source.objects.get()
    assert (source.title, source.publisher, source.author) == (SCRIPT, IMG, ARABIC)
    page = admin_client.get(reverse("admin:incidents_source_changelist"))
    assert_safe_html(page.content.decode())
    assert ESCAPED_SCRIPT in page.content.decode()


def test_a_nul_byte_in_a_source_title_in_the_admin_is_a_form_error(admin_client):
    response = admin_client.post(
        reverse("admin:incidents_source_add"), _source_data(admin_client, title=NUL)
    )

    assert response.status_code == HTTPStatus.OK
    assert "title" in response.context["adminform"].form.errors
    assert Source.objects.count() == 0


# ---------------------------------------------------------------------------------------
# Uploads: oversize, wrong type, archives and bombs, SVG with a script
# ---------------------------------------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PDF = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<<>>\nendobj\n"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00" * 64
MP3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00" * 16
TEXT = "Witness statement: الشاهد قال ...\n".encode()
CSV = b"date,place,killed\n2016-02-15,Maarat,9\n"
SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg">'
    b"<script>alert(document.cookie)</script></svg>"
)
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 64
ELF = b"\x7fELF\x02\x01\x01" + b"\x00" * 64
GZIP = b"\x1f\x8b\x08\x00" + b"\x00" * 64


def _zip(members: dict[str, bytes]) -> bytes:
    """The same bytes on every run (a fixed date, not now): pytest-xdist's workers
    collect the parameters separately and must see identical ones."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, content)
    return buffer.getvalue()


DOCX = _zip(
    {
        "[Content_Types].xml": b'<?xml version="1.0"?><Types/>',
        "word/document.xml": b"<w:document/>",
    }
)
ODT = _zip(
    {
        "mimetype": b"application/vnd.oasis.opendocument.text",
        "content.xml": b"<office:document-content/>",
    }
)
PLAIN_ZIP = _zip({"photo.jpg": JPEG, "notes.txt": TEXT})


def _bomb(megabytes: int, office: bool) -> bytes:
    members = {"word/document.xml": b"\x00" * (megabytes * 1024 * 1024)}
    if office:
        members["[Content_Types].xml"] = b"<Types/>"
    return _zip(members)


ACCEPTED = [
    ("crater.png", PNG, "image/png", "image/png"),
    ("crater.jpg", JPEG, "image/jpeg", "image/jpeg"),
    # the content decides, not the name or the type the client claims
    ("report.txt", PDF, "text/plain", "application/pdf"),
    ("photo.html", PNG, "text/html", "image/png"),
    ("clip.mp4", MP4, "video/mp4", "video/mp4"),
    ("audio.mp3", MP3, "audio/mpeg", "audio/mpeg"),
    ("statement.txt", TEXT, "text/plain", "text/plain"),
    ("casualties.csv", CSV, "text/csv", "text/csv"),
    (
        "report.docx",
        DOCX,
        "application/octet-stream",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ),
    ("report.odt", ODT, "application/zip", "application/vnd.oasis.opendocument.text"),
]
REFUSED = [
    ("svg", "map.svg", SVG, "image/svg+xml", "not accepted"),
    ("svg disguised", "map.png", SVG, "image/png", "not accepted"),
    ("html", "page.html", HTML, "text/html", "not accepted"),
    ("html as text", "page.txt", HTML, "text/plain", "not accepted"),
    ("windows program", "photo.jpg", EXE, "image/jpeg", "not accepted"),
    ("linux program", "clip.mp4", ELF, "video/mp4", "not accepted"),
    ("gzip", "data.csv.gz", GZIP, "application/gzip", "not accepted"),
    ("zip archive", "photos.zip", PLAIN_ZIP, "application/zip", "Archives"),
    ("zip bomb", "bomb.zip", _bomb(20, office=False), "application/zip", "expands"),
    (
        "office bomb",
        "bomb.docx",
        _bomb(20, office=True),
        "application/octet-stream",
        "expands",
    ),
]


@pytest.mark.parametrize(
    ("name", "content", "claimed", "stored"),
    ACCEPTED,
    ids=[name for name, *_rest in ACCEPTED],
)
def test_allowed_files_are_stored_with_their_sniffed_type(
    world, name, content, claimed, stored
):
    response = staff_client().post(
        "/api/v1/sources/",
        {
            "kind": "photo",
            "title": name,
            "file": SimpleUploadedFile(name, content, content_type=claimed),
        },
        format="multipart",
    )

    assert response.status_code == HTTPStatus.CREATED, response.json()
    assert response.json()["mime"] == stored
    assert Source.objects.get().mime == stored


@pytest.mark.parametrize(
    ("case", "name", "content", "claimed", "message"),
    REFUSED,
    ids=[r[0] for r in REFUSED],
)
def test_hostile_files_are_refused_through_the_api(
    world, case, name, content, claimed, message
):
    response = staff_client().post(
        "/api/v1/sources/",
        {
            "kind": "photo",
            "title": case,
            "file": SimpleUploadedFile(name, content, content_type=claimed),
        },
        format="multipart",
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert message in " ".join(response.json()["file"])
    assert Source.objects.count() == 0


@pytest.mark.parametrize(
    ("case", "name", "content", "claimed", "message"),
    [r for r in REFUSED if r[0] in ("svg disguised", "windows program", "zip bomb")],
    ids=["svg disguised", "windows program", "zip bomb"],
)
def test_hostile_files_are_refused_through_the_admin(
    admin_client, case, name, content, claimed, message
):
    upload = SimpleUploadedFile(name, content, content_type=claimed)

    response = admin_client.post(
        reverse("admin:incidents_source_add"),
        _source_data(admin_client, title=case, file=upload),
    )

    assert response.status_code == HTTPStatus.OK
    errors = response.context["adminform"].form.errors["file"]
    assert message in " ".join(errors)
    assert Source.objects.count() == 0


def test_an_oversize_file_is_refused_with_the_limit(world, settings):
    settings.CIVTRACK_MAX_UPLOAD_MB = 1
    big = PDF + b"0" * (1024 * 1024)

    response = staff_client().post(
        "/api/v1/sources/",
        {
            "kind": "ngo_report",
            "title": "Big",
            "file": SimpleUploadedFile("big.pdf", big, content_type="application/pdf"),
        },
        format="multipart",
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "at most 1 MB" in " ".join(response.json()["file"])
    assert Source.objects.count() == 0


def test_an_oversize_request_is_refused_before_it_is_read(world, settings):
    settings.CIVTRACK_MAX_UPLOAD_MB = 1
    huge = PDF + b"0" * (3 * 1024 * 1024)

    response = staff_client().post(
        "/api/v1/sources/",
        {
            "kind": "ngo_report",
            "title": "Huge",
            "file": SimpleUploadedFile("h.pdf", huge),
        },
        format="multipart",
    )

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert "at most 1 MB" in response.json()["detail"]


def test_an_oversize_file_is_refused_in_the_admin(admin_client, settings):
    settings.CIVTRACK_MAX_UPLOAD_MB = 1
    upload = SimpleUploadedFile("big.png", PNG + b"0" * (1024 * 1024))

    response = admin_client.post(
        reverse("admin:incidents_source_add"),
        _source_data(admin_client, file=upload),
    )

    assert response.status_code == HTTPStatus.OK
    assert "at most 1 MB" in " ".join(response.context["adminform"].form.errors["file"])


def test_uploaded_files_are_never_served_by_the_application(client, world):
    """Stored files (even a public one) are not served from /media/ by the app: the
    public sees their hash, size and type; nothing uploaded runs in a reader's
    browser (a public image is served re-encoded by its own view: test_security_fixes)."""
    source = services.source_create(
        by=reviewer(),
        kind="photo",
        title="Photo",
        file=SimpleUploadedFile("p.png", PNG),
        file_public=True,
    )
    approve_protection_requests(source)  # a second reviewer approved it

    response = client.get("/" + source.file.name)
    media = client.get(source.file.url)

    assert response.status_code in (302, 404)
    assert media.status_code in (302, 404)
    if media.status_code == 302:
        assert client.get(media["Location"]).status_code == 404
    assert re.fullmatch(r"sources/[0-9a-f]{2}/[0-9a-f]{64}", source.file.name)


# ---------------------------------------------------------------------------------------
# JSON bodies: API.md's limits (2 MiB → 413, 32 levels → 400), each named; never a 5xx
# (issue 12 §5: `[`×1000 and a 21 MB body ended in the catch-all 500)
# ---------------------------------------------------------------------------------------


def _json_writes(user) -> list[tuple[str, str]]:
    """(method, path) of the API's JSON writes `user` may make: create, edit (a draft
    of theirs) and the workflow."""
    code = make_incident(by=user).code
    return [
        ("post", "/api/v1/incidents/"),
        ("patch", f"/api/v1/incidents/{code}/"),
        ("post", f"/api/v1/incidents/{code}/submit/"),
    ]


def _send(client, method: str, path: str, body: bytes, **extra):
    extra.setdefault("HTTP_IF_MATCH", '"1"')  # the drafts' version (edits need it)
    return getattr(client, method)(
        path, data=body, content_type="application/json", **extra
    )


@pytest.mark.parametrize(
    "body",
    [
        b"[" * 1000,
        b"[" * 100_000 + b"]" * 100_000,
        b'{"a":' * 1000 + b"1" + b"}" * 1000,
        b'{"title": ' + b"[" * 33 + b"]" * 33 + b"}",
        b'{"casualty_rows": [' + b'{"a":' * 40 + b"1" + b"}" * 40 + b"]}",
    ],
    ids=["arrays-1000", "arrays-100000", "objects-1000", "33-levels", "nested-rows"],
)
def test_json_nested_too_deep_is_a_400_naming_the_limit(world, body):
    user = researcher()
    client = staff_client(user)

    for method, path in _json_writes(user):
        response = _send(client, method, path, body)

        assert response.status_code == HTTPStatus.BAD_REQUEST, (method, path)
        assert "32 levels" in response.json()["detail"], (method, path)


def test_json_nested_32_levels_is_read(world):
    """The limit is 32: a body at exactly that depth is parsed and answered by the
    serializer (here: a field error), not refused as too deep."""
    body = b'{"title": ' + b"[" * 31 + b"]" * 31 + b"}"

    response = _send(staff_client(), "post", "/api/v1/incidents/", body)

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "title" in response.json()
    assert "levels" not in str(response.json())


@pytest.mark.parametrize("size", [2 * 1024 * 1024 + 1, 21 * 1024 * 1024])
def test_a_json_body_over_2_mib_is_a_413_naming_the_limit(world, size):
    body = b'{"title": "' + b"x" * size + b'"}'
    user = researcher()
    client = staff_client(user)

    for method, path in _json_writes(user):
        response = _send(client, method, path, body)

        assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
        assert "2097152 bytes (2 MiB)" in response.json()["detail"]
    assert Incident.objects.count() == 3


def test_the_json_limit_is_a_setting(world, settings):
    settings.CIVTRACK_MAX_JSON_BYTES = 100
    body = json.dumps(_payload(summary="x" * 200)).encode()

    response = _send(staff_client(), "post", "/api/v1/incidents/", body)

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert "at most 100 bytes" in response.json()["detail"]


def test_a_body_longer_than_its_content_length_is_never_read_past_it(world):
    """A client declaring a small Content-Length and streaming more: only the declared
    bytes are read (a truncated JSON document: 400), nothing beyond."""
    body = b'{"title": "' + b"x" * (3 * 1024 * 1024) + b'"}'

    response = _send(
        staff_client(), "post", "/api/v1/incidents/", body, CONTENT_LENGTH="12"
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "JSON parse error" in response.json()["detail"]


def test_a_body_declaring_more_than_the_limit_is_refused_unread(world):
    response = _send(
        staff_client(),
        "post",
        "/api/v1/incidents/",
        b"{}",
        CONTENT_LENGTH=str(50 * 1024 * 1024),
    )

    assert response.status_code == HTTPStatus.REQUEST_ENTITY_TOO_LARGE
    assert "2 MiB" in response.json()["detail"]


@pytest.mark.parametrize("length", ["", "abc", "-5"])
def test_a_chunked_body_without_a_usable_length_is_a_4xx(world, length):
    """Chunked transfer (no Content-Length) or a nonsense length: the body is taken as
    empty (the serializer names the missing fields) or unreadable, never a 5xx."""
    response = _send(
        staff_client(),
        "post",
        "/api/v1/incidents/",
        b"[" * 1000,
        CONTENT_LENGTH=length,
        HTTP_TRANSFER_ENCODING="chunked",
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "title" in response.json() or "JSON parse error" in str(response.json())


def test_json_that_is_not_utf8_is_a_400(world):
    response = _send(staff_client(), "post", "/api/v1/incidents/", b'{"title": "\xff"}')

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "JSON parse error" in response.json()["detail"]


def test_nested_json_inside_multipart_fields_is_text_never_a_5xx(world):
    deep = "[" * 100_000

    response = staff_client().post(
        "/api/v1/sources/",
        {"kind": "ngo_report", "title": deep[:500], "author": deep},
        format="multipart",
    )

    assert response.status_code < 500
    assert response.status_code in (HTTPStatus.CREATED, HTTPStatus.BAD_REQUEST)


def test_too_many_form_fields_is_a_400_not_a_500(world):
    fields = {f"f{i}": "x" for i in range(2000)}

    response = staff_client().post(
        "/api/v1/sources/", {"kind": "ngo_report", "title": "T", **fields}
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "Too many" in response.json()["detail"]


def test_every_api_view_parses_json_with_the_limits():
    """No endpoint escapes the limits: every DRF view under /api/ that reads JSON
    reads it with api/parsers.py's parser."""
    from django.urls import get_resolver
    from rest_framework.parsers import JSONParser
    from rest_framework.test import APIRequestFactory

    from api.parsers import LimitedJSONParser

    def views(patterns, prefix=""):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                yield from views(pattern.url_patterns, prefix + str(pattern.pattern))
            else:
                yield prefix + str(pattern.pattern), pattern.callback

    factory = APIRequestFactory()
    checked = 0
    for route, callback in views(get_resolver().url_patterns):
        cls = getattr(callback, "cls", None)
        if cls is None:
            continue
        for method in ("post", "put", "patch", "delete"):
            # The views choose their parsers by method and action (api/views_write.py).
            view = cls()
            view.request = getattr(factory, method)("/api/")
            view.action_map = getattr(callback, "actions", None) or {}
            view.kwargs, view.args, view.format_kwarg = {}, (), None
            for parser in view.get_parsers():
                if isinstance(parser, JSONParser):
                    assert isinstance(parser, LimitedJSONParser), (route, method)
                    checked += 1
    assert checked > 5
