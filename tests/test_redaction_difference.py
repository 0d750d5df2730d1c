"""The difference test (issue 12 §1; DOMAIN.md "Nothing may be inferred from what is
hidden").

Marking a facility sensitive may change only the facility's own outputs (its name,
operator, point and place; its own `site`, which hides with it) and what belongs to the
incidents that target it (their public place, point and precision, their history and
changes-feed entries, and the counts, facets and clusters that move with them from the
community to the district). A community, its children, its page, its breadcrumb and the
`location=` filter answer exactly as before, or an outsider could subtract the place list
from the places in the CSV and learn which community holds the hospital.

How "exactly the allowed differences" is made precise: every public URL (the redaction
canary's page and API templates, which its coverage test ties to the URL resolver, plus
every GET operation of the API schema, plus every place of the fixture world through
every output that names a place) is fetched twice, each time in a savepoint that is
rolled back:

* **expected**: the world with the facility *not* sensitive, into which the allowed
  differences are written by hand, without any redaction: the incidents that target the
  facility are edited to really lie at their district's centroid with precision
  `district`, and the facility's own site (if its place is a `site`) does not exist;
* **actual**: the same world with the facility marked sensitive through the service.

The two must be equal after normalising what must move (timestamps, CSRF tokens, CSP
nonces, feed sequence numbers), the facility's own name, operator, place and point
wherever the facility is shown, and the history and changes-feed entries of the incidents
that target it. So a count that moves from the community to the district must move by
exactly those incidents, and a place hidden, refused, or described differently shows up
as a difference; a site hidden with its facility must answer exactly as a slug that does
not exist.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from django.core.cache import cache
from django.db import transaction
from django.test import Client
from rest_framework.throttling import AnonRateThrottle

from incidents import services
from incidents.models import Facility, ImportBatch, Incident, Location
from tests.factories import (
    ActorFactory,
    IncidentTypeFactory,
    SourceFactory,
    TargetTypeFactory,
    WeaponTypeFactory,
    make_incident,
    researcher,
    reviewer,
)
from tests.test_redaction_canary import (
    API_URLS,
    LANGS,
    PAGE_URLS,
    Answer,
    fetch,
)

pytestmark = pytest.mark.django_db

# ---------------------------------------------------------------------------------------
# The fixture world
# ---------------------------------------------------------------------------------------

DISTRICT_POINT = (34.8561, 36.7302)


@dataclass
class World:
    places: dict[str, Location]
    facilities: dict[str, Facility]
    # facility key → the published incidents that target it
    targeting: dict[str, list[Incident]]
    values: dict[str, str]
    reviewer: Any = None


def _place(slug: str, name: str, name_ar: str, level: str, parent, lat, lon):
    return services.location_save(
        location=Location(
            slug=slug,
            name=name,
            name_ar=name_ar,
            level=level,
            parent=parent,
            latitude=lat,
            longitude=lon,
        )
    )


@pytest.fixture
def world(db) -> World:
    """A district with two communities; one community holds a neighbourhood, two sites
    and four facilities: for each of "no incident targets it" and "published incidents
    target it", one facility whose place is the community itself and one whose place is
    a site of its own. Plain incidents at the community, its neighbourhood and the other
    community stay where they are in every case."""
    cache.clear()
    syria = Location.objects.filter(level="country").first() or Location.objects.create(
        slug="syria",
        name="Syria",
        level="country",
        pcode="SY",
        latitude=35,
        longitude=38,
    )
    homs = Location.objects.filter(pcode="SY04").first() or Location.objects.create(
        slug="homs", name="Homs", level="governorate", parent=syria, pcode="SY04"
    )
    district = _place(
        "rastan-district",
        "Rastan District",
        "منطقة الرستن",
        "district",
        homs,
        *DISTRICT_POINT,
    )
    town = _place(
        "talbiseh", "Talbiseh", "تلبيسة", "community", district, 34.8402, 36.7301
    )
    quarter = _place(
        "talbiseh-east",
        "Talbiseh East",
        "تلبيسة الشرقية",
        "neighbourhood",
        town,
        34.8411,
        36.7355,
    )
    idle_site = _place(
        "talbiseh-clinic-compound",
        "Clinic Compound",
        "مجمع العيادة",
        "site",
        town,
        34.8397,
        36.7288,
    )
    hit_site = _place(
        "talbiseh-hospital-compound",
        "Hospital Compound",
        "مجمع المشفى",
        "site",
        town,
        34.8385,
        36.7322,
    )
    village = _place(
        "ghanto", "Ghanto", "غنطو", "community", district, 34.8207, 36.7702
    )
    services.location_name_add(location=town, name="Talbisa")
    services.location_name_add(location=hit_site, name="Hospital Yard")

    author, checker = researcher(), reviewer()
    airstrike = IncidentTypeFactory(code="airstrike", label="Air strike")
    shelling = IncidentTypeFactory(code="shelling", label="Shelling")
    WeaponTypeFactory(code="barrel-bomb", label="Barrel bomb")
    hospital = TargetTypeFactory(code="hospital", label="Hospital")
    market = TargetTypeFactory(code="market", label="Market")
    government = services.actor_save(
        actor=ActorFactory.build(
            slug="test-army", name="Test Army", bloc="syrian_government"
        )
    )
    commander = services.actor_save(
        actor=ActorFactory.build(
            slug="test-commander", name="Test Commander", kind="person"
        )
    )
    militia = services.actor_save(
        actor=ActorFactory.build(slug="test-militia", name="Test Militia", bloc="isis")
    )
    public_source = SourceFactory(title="Public news report", created_by=author)
    batch = ImportBatch.objects.create(
        file_name="world.csv", format="civtrack", user=author, status="succeeded"
    )

    def facility(slug, name, name_ar, place, lat, lon, operator=""):
        return services.facility_save(
            facility=Facility(
                slug=slug,
                name=name,
                name_ar=name_ar,
                operator=operator,
                target_type=hospital,
                location=place,
                latitude=lat,
                longitude=lon,
            ),
            by=author,
        )

    facilities = {
        "idle-community": facility(
            "talbiseh-pharmacy",
            "Talbiseh Pharmacy",
            "صيدلية تلبيسة",
            town,
            34.8404,
            36.7299,
        ),
        "idle-site": facility(
            "talbiseh-clinic",
            "Talbiseh Clinic",
            "عيادة تلبيسة",
            idle_site,
            34.8398,
            36.7289,
        ),
        "hit-community": facility(
            "talbiseh-national-hospital",
            "National Hospital",
            "المشفى الوطني",
            town,
            34.8409,
            36.7311,
            operator="Relief Org",
        ),
        "hit-site": facility(
            "talbiseh-field-hospital",
            "Field Hospital",
            "المشفى الميداني",
            hit_site,
            34.8386,
            36.7323,
        ),
    }
    P = services

    def published(title, day, place, lat, lon, **extra):
        return make_incident(
            status="published",
            by=author,
            title=title,
            date_start=day,
            location=place,
            latitude=lat,
            longitude=lon,
            **extra,
        )

    plain = published(
        "Shelling of the Talbiseh market",
        dt.date(2016, 5, 2),
        town,
        34.8402,
        36.7301,
        incident_type=shelling,
        geo_precision="community",
        parts=P.IncidentParts(
            casualty_rows=[P.CasualtyRowData("civilians", "killed", 3, 5)],
            attributions=[P.AttributionData(militia, confidence="likely")],
            targets=[P.TargetData(market)],
            citations=[P.CitationData(public_source, supports=["occurrence"])],
        ),
    )
    published(
        "Air strike on Talbiseh East",
        dt.date(2016, 7, 9),
        quarter,
        34.8412,
        36.7356,
        incident_type=airstrike,
        geo_precision="near",
        parts=P.IncidentParts(
            casualty_rows=[P.CasualtyRowData("civilians", "injured", 4, 9)],
            attributions=[P.AttributionData(government, confidence="confirmed")],
        ),
    )
    published(
        "Shelling of Ghanto",
        dt.date(2017, 1, 3),
        village,
        34.8207,
        36.7702,
        incident_type=shelling,
        parts=P.IncidentParts(
            casualty_rows=[P.CasualtyRowData("all", "killed", 1, 1)],
            attributions=[P.AttributionData(militia, confidence="possible")],
        ),
    )
    hit_community = published(
        "Air strike on the National Hospital",
        dt.date(2016, 6, 14),
        town,
        34.8408,
        36.7310,
        incident_type=airstrike,
        geo_precision="exact",
        grading="fair",
        parts=P.IncidentParts(
            casualty_rows=[
                P.CasualtyRowData("civilians", "killed", 5, 7),
                P.CasualtyRowData("medical_personnel", "killed", 2, 2),
            ],
            attributions=[P.AttributionData(government, confidence="likely")],
            targets=[
                P.TargetData(
                    hospital, facility=facilities["hit-community"], damage="destroyed"
                )
            ],
            citations=[P.CitationData(public_source, supports=["occurrence"])],
        ),
    )
    hit_community_again = published(
        "Second strike on the National Hospital",
        dt.date(2017, 2, 20),
        town,
        34.8409,
        36.7312,
        incident_type=shelling,
        geo_precision="near",
        parts=P.IncidentParts(
            casualty_rows=[P.CasualtyRowData("civilians", "injured", 6, 6)],
            attributions=[P.AttributionData(militia, confidence="confirmed")],
            targets=[
                P.TargetData(
                    hospital, facility=facilities["hit-community"], damage="damaged"
                )
            ],
        ),
    )
    hit_site_strike = published(
        "Barrel bombs on the Field Hospital",
        dt.date(2016, 9, 1),
        hit_site,
        34.8386,
        36.7324,
        incident_type=airstrike,
        geo_precision="exact",
        parts=P.IncidentParts(
            casualty_rows=[P.CasualtyRowData("civilians", "killed", 2, 4)],
            attributions=[P.AttributionData(government, confidence="confirmed")],
            targets=[
                P.TargetData(
                    hospital, facility=facilities["hit-site"], damage="damaged"
                )
            ],
        ),
    )
    withdrawn = make_incident(
        status="withdrawn",
        by=author,
        title="A duplicate",
        location=town,
        date_start=dt.date(2018, 4, 4),
        incident_type=airstrike,
    )
    merged = published(
        "Talbiseh market shelled",
        dt.date(2016, 5, 2),
        town,
        34.8402,
        36.7301,
        incident_type=shelling,
    )
    merged = services.incident_merge(incident=merged, into=plain, by=checker)

    places = {
        "district": district,
        "town": town,
        "quarter": quarter,
        "idle_site": idle_site,
        "hit_site": hit_site,
        "village": village,
    }
    values = {
        # the redaction canary's placeholders
        "main": hit_community.code,
        "village_strike": hit_site_strike.code,
        "plain": plain.code,
        "withdrawn": withdrawn.code,
        "merged": merged.code,
        "facility_ref": facilities["hit-community"].ref,
        "clinic_ref": facilities["hit-site"].ref,
        "public_source": str(public_source.pk),
        "photo_source": str(public_source.pk),
        "district": district.slug,
        "town": town.slug,
        "governorate": homs.slug,
        "government": government.slug,
        "commander": commander.slug,
        "militia": militia.slug,
        "batch": str(batch.pk),
        "zoom": "9",
        "bbox": "36,34,37.5,35.5",
    }
    return World(
        places=places,
        facilities=facilities,
        targeting={
            "idle-community": [],
            "idle-site": [],
            "hit-community": [hit_community, hit_community_again],
            "hit-site": [hit_site_strike],
        },
        values=values,
        reviewer=checker,
    )


# ---------------------------------------------------------------------------------------
# Every public URL
# ---------------------------------------------------------------------------------------

# Every output that names a place, for every place of the world ({slug}, {name}).
PLACE_URLS = [
    "/{lang}/places/{slug}/",
    "/en/incidents/?location={slug}",
    "/ar/stats/?group_by=year&location={slug}",
    "/api/v1/locations/{slug}/",
    "/api/v1/locations/?parent={slug}",
    "/api/v1/locations/?q={name}",
    "/api/v1/incidents/?location={slug}&format=csv",
    "/api/v1/incidents/?location={slug}&format=geojson",
    "/api/v1/incidents/?q={name}",
]
# What the gazetteer and the facilities answer as a whole.
WORLD_URLS = [
    *[f"/api/v1/locations/?level={level}&page_size=1000" for level in Location.Level],
    "/api/v1/locations/?page_size=1000&lang=ar",
    "/api/v1/facilities/?page_size=1000",
    *[f"/api/v1/map/clusters/?zoom={z}" for z in (13, 16)],
]
FACILITY_URLS = [
    "/{lang}/facilities/{ref}/",
    "/api/v1/facilities/{ref}/",
    "/api/v1/incidents/?facility={ref}",
]
# Query parameters that name a place (`parent` names one on the gazetteer only), and
# what an operation needs beside them.
PLACE_PARAMETERS = {"location": "/api/v1/", "parent": "/api/v1/locations/"}
COMPANIONS = {
    "/api/v1/map/clusters/": "zoom=12&",
    "/api/v1/stats/compare/": "bloc=syrian_government,isis&",
    "/api/v1/stats/summary/": "group_by=year&",
}


def schema_urls(world: World) -> list[str]:
    """Every GET operation of the API schema, its path parameters filled from the world,
    and every operation that takes a place parameter asked about every place."""
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    fill = {
        "/api/v1/actors/": world.values["government"],
        "/api/v1/locations/": world.places["town"].slug,
        "/api/v1/facilities/": world.values["facility_ref"],
        "/api/v1/incidents/": world.values["main"],
        "/api/v1/sources/": world.values["public_source"],
        "/api/v1/imports/": world.values["batch"],
    }
    urls = []
    for path, operations in schema["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        prefix = re.sub(r"{\w+}.*", "", path)
        url = re.sub(r"{\w+}", lambda _m, p=prefix: fill.get(p, "1"), path)
        urls.append(url)
        query = {
            p["name"] for p in operation.get("parameters", []) if p["in"] == "query"
        }
        for name, scope in PLACE_PARAMETERS.items():
            if name in query and url.startswith(scope):
                for place in world.places.values():
                    companions = COMPANIONS.get(url, "")
                    urls.append(f"{url}?{companions}{name}={place.slug}")
    return urls


def public_urls(world: World) -> list[str]:
    values = world.values
    # Every page in English; in Arabic, every page once (the filtered variants of a
    # list differ from the English ones only by their words).
    urls = [template.format(**values, lang="en") for template in PAGE_URLS]
    urls += list(
        {
            urlsplit(template).path: template.format(**values, lang="ar")
            for template in PAGE_URLS
            if "{lang}" in template
        }.values()
    )
    urls += [template.format(**values) for template in API_URLS]
    for place in world.places.values():
        for template in PLACE_URLS:
            for lang in LANGS if "{lang}" in template else ("",):
                urls.append(
                    template.format(lang=lang, slug=place.slug, name=quote(place.name))
                )
    urls += WORLD_URLS
    for facility in world.facilities.values():
        for template in FACILITY_URLS:
            for lang in LANGS if "{lang}" in template else ("",):
                urls.append(template.format(lang=lang, ref=facility.ref))
    urls += schema_urls(world)
    return list(dict.fromkeys(urls))


# ---------------------------------------------------------------------------------------
# Normalising what must move, and masking the allowed differences
# ---------------------------------------------------------------------------------------

_VOLATILE = [
    # timestamps (ISO, and the change log's "8 December 2026 00:31" inside <time>)
    (re.compile(r'(<time datetime="\d{4}-\d\d-\d\dT[^"]*">)[^<]*(</time>)'), r"\1…\2"),
    (
        re.compile(r"\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?"),
        "…",
    ),
    (re.compile(r"[A-Z][a-z]{2}, \d\d [A-Z][a-z]{2} \d{4} \d\d:\d\d:\d\d GMT"), "…"),
    # tokens and nonces
    (re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]+'), r"\1…"),
    (re.compile(r"(csrftoken=)[^;\s]+"), r"\1…"),
    (re.compile(r"""(nonce=["']?|'nonce-)[\w+/=-]+"""), r"\1…"),
    # the changes feed's sequence numbers (a rolled-back savepoint keeps its sequence)
    (re.compile(r"(since=|#change-|\"seq\": ?|\"next\": ?)\d+"), r"\1…"),
    (re.compile(r"(?<=cursor=)[\w\-.:%]+"), "…"),
]
# Headers that carry a moment or a per-response token (normalised above when compared)
_HEADERS_SKIPPED = {
    "date",
    "set-cookie",
    "etag",
    "last-modified",
    "x-request-id",
    "content-length",  # the bodies are compared
}


def _normalised(text: str) -> str:
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return text


@dataclass
class Allowed:
    """What marking `facilities` sensitive may change: their own outputs, and the
    history and feed entries of the incidents (`codes`) that target them."""

    facilities: list[Facility]
    codes: set[str]

    def mask_text(self, text: str) -> str:
        for facility in self.facilities:
            ref = re.escape(facility.ref)
            # Wherever a page shows the facility, its label is its own business.
            text = re.sub(
                rf'(<a href="[^"]*/facilities/{ref}/">)[^<]*(</a>)',
                r"\1‹facility›\2",
                text,
            )
            for name in (facility.name, facility.name_ar, facility.operator):
                if name:
                    text = text.replace(name, "‹facility›")
        return text

    def mask_json(self, value: Any, *, feed: bool) -> Any:
        if isinstance(value, list):
            items = [self.mask_json(item, feed=feed) for item in value]
            return [item for item in items if item is not _DROPPED]
        if not isinstance(value, dict):
            return value
        code = value.get("code")
        if feed and isinstance(code, str) and code in self.codes:
            return _DROPPED  # a changes-feed entry of an incident that targets it
        out = {key: self.mask_json(item, feed=feed) for key, item in value.items()}
        if any(out.get("ref") == f.ref for f in self.facilities):
            for key in FACILITY_OWN_KEYS:
                out.pop(key, None)
        return out

    def mask_entries(self, text: str) -> str:
        """Changes-page rows and Atom entries of the incidents that target it."""
        for code in self.codes:
            text = re.sub(
                rf"<entry>(?:(?!</entry>).)*{code}(?:(?!</entry>).)*</entry>",
                "",
                text,
                flags=re.S,
            )
            text = re.sub(
                rf"<(li|tr)>(?:(?!</\1>).)*/{code}/(?:(?!</\1>).)*</\1>",
                "",
                text,
                flags=re.S,
            )
        return text

    def is_own_page(self, url: str) -> bool:
        return any(
            re.search(rf"/facilities/{re.escape(f.ref)}/", url) for f in self.facilities
        )


_DROPPED = object()
# The facility's own public values (FacilityViewSet, the targets' facility summary).
FACILITY_OWN_KEYS = (
    "name",
    "name_ar",
    "operator",
    "location",
    "latitude",
    "longitude",
    "sensitive",
)


def comparable(url: str, answer: Answer, allowed: Allowed) -> str:
    """The answer as text to compare: normalised, with the allowed differences masked."""
    headers = "\n".join(
        line
        for line in answer.headers.splitlines()
        if line.split(":", 1)[0].lower() not in _HEADERS_SKIPPED
    )
    body = answer.text
    feed = "/changes/" in url  # the changes feed (API, page and Atom)
    if any(f"/{code}/history/" in url for code in allowed.codes):
        body = "‹their public history›"  # passed through today's rules
    elif "json" in answer.content_type and body.lstrip().startswith(("{", "[")):
        masked = allowed.mask_json(json.loads(body), feed=feed)
        body = json.dumps(masked, indent=1, sort_keys=True)
    else:
        if any(f"/incidents/{code}/" in url for code in allowed.codes):
            body = re.sub(
                r'<ol class="history">.*?</ol>', "‹their history›", body, flags=re.S
            )
        if feed:
            body = allowed.mask_entries(body)
    if allowed.is_own_page(url) and "text/html" in answer.content_type:
        # The facility's own page: its heading (name, place, operator) is its own.
        body = re.sub(
            r'(<main[^>]*>).*?(<ul class="figures">)',
            r"\1‹facility›\2",
            body,
            flags=re.S,
        )
        body = re.sub(r"<title>.*?</title>", "", body, flags=re.S)
    body = allowed.mask_text(body)
    return _normalised(f"{answer.status}\n{headers}\n\n{body}")


# ---------------------------------------------------------------------------------------
# The two worlds
# ---------------------------------------------------------------------------------------


class _Rollback(Exception):
    pass


@contextlib.contextmanager
def rolled_back():
    """Changes made inside are undone afterwards (a savepoint inside the test's own
    transaction); the public caches are emptied on the way in and out."""
    cache.clear()
    try:
        with transaction.atomic():
            yield
            raise _Rollback
    except _Rollback:
        pass
    finally:
        cache.clear()


def fetch_all(client: Client, urls: list[str]) -> dict[str, Answer]:
    cache.clear()
    return {url: fetch(client, url) for url in urls}


def write_expected_world(world: World, keys: list[str]) -> None:
    """The allowed differences written by hand, with the facilities left not sensitive:
    the incidents that target them really lie at their district's centroid (precision
    district), and a facility's own site does not exist."""
    district = world.places["district"]
    for key in keys:
        for incident in world.targeting[key]:
            incident = Incident.objects.get(pk=incident.pk)
            services.incident_update(
                incident=incident,
                expected_version=incident.version,
                fields={
                    "location": district,
                    "latitude": district.latitude,
                    "longitude": district.longitude,
                    "geo_precision": "district",
                },
                by=world.reviewer,
                reason="moved to the district by the difference test",
            )
        facility = Facility.objects.get(pk=world.facilities[key].pk)
        site = facility.location
        if site.level == Location.Level.SITE:
            Facility.objects.filter(pk=facility.pk).update(location=site.parent)
            site.names.all().delete()
            site.delete()


def mark_sensitive(world: World, keys: list[str]) -> None:
    """Through the service (raising protection is anyone's and immediate)."""
    for key in keys:
        facility = Facility.objects.get(pk=world.facilities[key].pk)
        facility.sensitive = True
        services.facility_save(facility=facility, by=world.reviewer)


def differences(world: World, keys: list[str], client: Client) -> dict[str, str]:
    """Every public URL, answered in the expected world and in the actual one, compared
    after normalising; url → the start of the diff, for each that differs."""
    urls = public_urls(world)
    allowed = Allowed(
        facilities=[world.facilities[key] for key in keys],
        codes={incident.code for key in keys for incident in world.targeting[key]},
    )
    with rolled_back():
        write_expected_world(world, keys)
        expected = fetch_all(client, urls)
    with rolled_back():
        mark_sensitive(world, keys)
        actual = fetch_all(client, urls)
    found = {}
    for url in urls:
        want = comparable(url, expected[url], allowed)
        got = comparable(url, actual[url], allowed)
        if want != got:
            diff = difflib.unified_diff(
                want.splitlines(),
                got.splitlines(),
                "expected",
                "actual",
                n=1,
                lineterm="",
            )
            found[url] = "\n".join(list(diff)[2:14])
    assert found == {}, "\n\n".join(f"{url}\n{diff}" for url, diff in found.items())
    # The answers were real ones (not a wall of errors).
    assert [url for url, answer in actual.items() if answer.status >= 500] == []
    assert sum(answer.status == 200 for answer in actual.values()) > 200
    return found


@pytest.fixture
def anonymous(monkeypatch) -> Client:
    # Hundreds of API calls: lift the anonymous throttle for them.
    monkeypatch.setattr(
        AnonRateThrottle,
        "THROTTLE_RATES",
        {**AnonRateThrottle.THROTTLE_RATES, "anon": "100000/min"},
    )
    return Client()


def _report(found: dict[str, str]) -> str:
    return "\n\n".join(f"{url}\n{diff}" for url, diff in found.items())


# ---------------------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------------------


def test_a_facility_no_incident_targets_changes_nothing_but_itself(world, anonymous):
    """Case 1: no incident targets the facilities (one whose place is the community, one
    with a site of its own). Nothing but their own outputs may change, and their own
    site answers as a slug that does not exist; the community, its neighbourhood, its
    page, breadcrumb, children and `location=` answer exactly as before."""
    found = differences(world, ["idle-community", "idle-site"], anonymous)

    assert found == {}, _report(found)


def test_a_facility_published_incidents_target_changes_exactly_the_allowed(
    world, anonymous
):
    """Case 2: published incidents target the facilities. Exactly those incidents'
    public place, point and precision (and every count, facet, cluster and export that
    moves with them from the community to the district), their history and feed
    entries, and the facilities' own outputs may change; nothing else."""
    found = differences(world, ["hit-community", "hit-site"], anonymous)

    assert found == {}, _report(found)


def _get(client: Client, url: str) -> Any:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.json() if "json" in response["Content-Type"] else response


def test_a_sensitive_facilitys_own_site_answers_as_an_unknown_slug(world, anonymous):
    """The one exception: the facility's own `site` is the facility and hides with it,
    everywhere a slug is taken, exactly as a slug that never existed (and so does a
    place merged into it: its redirect would name the site)."""
    site = world.places["hit_site"]
    old_yard = _place(
        "old-yard", "Old Yard", "", "site", world.places["town"], 34.8385, 36.7321
    )
    services.location_merge(location=old_yard, into=site, by=world.reviewer)
    templates = [
        "/en/places/{slug}/",
        "/ar/places/{slug}/",
        "/api/v1/locations/{slug}/",
        "/api/v1/locations/?parent={slug}",
        "/api/v1/locations/?q={slug}",
        "/api/v1/incidents/?location={slug}",
        "/api/v1/incidents/?location={slug}&format=csv",
        "/en/incidents/?location={slug}",
        "/ar/stats/?group_by=year&location={slug}",
        "/api/v1/stats/summary/?group_by=year&location={slug}",
        "/api/v1/map/clusters/?zoom=12&location={slug}",
    ]
    unknown = "no-such-place-anywhere"
    # An incident placed at the site that does not target the facility (a site shared
    # against the advice of DOMAIN.md): its public place would name the site.
    nearby = make_incident(
        status="published",
        title="Shelling near the compound",
        location=site,
        latitude=34.8384,
        longitude=36.7325,
        geo_precision="exact",
    )
    # While the facility is not sensitive, its site is an ordinary place.
    assert anonymous.get(f"/api/v1/locations/{site.slug}/").status_code == 200
    assert anonymous.get(f"/en/places/{old_yard.slug}/").status_code == 301

    mark_sensitive(world, ["hit-site"])
    cache.clear()

    shown = _get(anonymous, f"/api/v1/incidents/{nearby.code}/")
    assert shown["location"]["slug"] == world.values["district"]
    assert (shown["latitude"], shown["longitude"]) == DISTRICT_POINT
    for url in (f"/api/v1/incidents/{nearby.code}/", f"/en/incidents/{nearby.code}/"):
        text = anonymous.get(url).content.decode()
        assert site.slug not in text
        assert site.name not in text
        assert "34.838" not in text  # the site's, the facility's and its own point

    problems = []
    for secret in (site.slug, old_yard.slug):
        for template in templates:
            hidden = fetch(anonymous, template.format(slug=secret))
            control = fetch(anonymous, template.format(slug=unknown))
            if hidden.status != control.status or _normalised(
                hidden.text.replace(secret, unknown)
            ) != _normalised(control.text):
                problems.append((template, secret, hidden.status, control.status))
    assert problems == []
    listed = _get(anonymous, "/api/v1/locations/?level=site&page_size=1000")
    assert [r["slug"] for r in listed["results"]] == [world.places["idle_site"].slug]


def test_the_community_of_a_sensitive_facility_answers_as_before(world, anonymous):
    """Case 2, read as an outsider would: the community of a facility that published
    incidents target stays in the gazetteer with its children, its page and breadcrumb,
    and `location=<community>` answers 200 with the incidents that do not target it;
    the ones that do are at the district."""
    town, quarter = world.places["town"], world.places["quarter"]
    mark_sensitive(world, ["hit-community", "hit-site"])
    cache.clear()

    slugs = {
        r["slug"]
        for r in _get(anonymous, "/api/v1/locations/?page_size=1000")["results"]
    }
    assert {town.slug, quarter.slug, world.places["idle_site"].slug} <= slugs
    assert world.places["hit_site"].slug not in slugs
    child = _get(anonymous, f"/api/v1/locations/{quarter.slug}/")
    assert child["parent"]["slug"] == town.slug
    assert [a["slug"] for a in child["ancestors"]][:2] == [
        town.slug,
        world.places["district"].slug,
    ]
    children = _get(anonymous, f"/api/v1/locations/{town.slug}/")["children"]
    assert {c["slug"] for c in children} == {
        quarter.slug,
        world.places["idle_site"].slug,
    }
    found = _get(anonymous, f"/api/v1/incidents/?location={town.slug}")
    assert {r["title"] for r in found["results"]} == {
        "Shelling of the Talbiseh market",
        "Air strike on Talbiseh East",
    }
    for lang in LANGS:
        page = _get(anonymous, f"/{lang}/places/{quarter.slug}/").content.decode()
        assert f'href="/{lang}/places/{town.slug}/"' in page
    hit = {world.values["main"], world.values["village_strike"]}
    district = _get(
        anonymous, f"/api/v1/incidents/?location={world.values['district']}"
    )
    for row in district["results"]:
        if row["code"] in hit:
            assert row["location"]["slug"] == world.values["district"]
            assert row["geo_precision"] == "district"
            assert (row["latitude"], row["longitude"]) == DISTRICT_POINT
    assert hit <= {row["code"] for row in district["results"]}


def test_hiding_a_site_costs_no_query(world, anonymous):
    """The gazetteer, a place page and the `location=` filter answer in as many queries
    with four sensitive facilities (two of them on sites) as with none: the hidden set
    is one subquery, whatever it holds."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    town = world.places["town"].slug
    urls = [
        "/api/v1/locations/?page_size=1000",
        f"/api/v1/locations/{town}/",
        f"/api/v1/locations/?parent={town}",
        f"/en/places/{town}/",
        f"/api/v1/incidents/?location={town}",
    ]

    def counts() -> list[int]:
        found = []
        for url in urls:
            cache.clear()
            with CaptureQueriesContext(connection) as queries:
                assert anonymous.get(url).status_code == 200, url
            found.append(len(queries))
        return found

    before = counts()
    mark_sensitive(world, list(world.facilities))

    assert counts() == before
