"""Shared fixtures of the API tests: an empty cache per test, and `world`, a small set of
incidents covering every filter of API.md (with restricted "canary" values planted, which
no anonymous output may ever contain)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core.cache import cache

from incidents import services
from incidents.models import Facility, Incident, Location
from tests.factories import (
    ActorFactory,
    IncidentTypeFactory,
    SourceFactory,
    TargetTypeFactory,
    UserFactory,
    WeaponTypeFactory,
    approve_pending_protection_requests,
    make_incident,
)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters and cached list counts live in the cache: start each API test
    with an empty one (the test database is rolled back, the cache is not)."""
    cache.clear()
    yield
    cache.clear()


# Restricted values that must never reach an anonymous caller, in any format.
CANARIES = {
    "internal_notes": "CANARY-NOTES-7731",
    "draft_title": "CANARY-DRAFT-8812",
    "confidential_source": "CANARY-CONFSRC-1189",
    "confidential_url": "https://canary-conf.example.org/leak",
    "facility_name": "CANARY-FACILITY-5521",
    "facility_name_ar": "مستشفى-الكناري",
    "facility_lat": "36.123456",
    "facility_lon": "37.654321",
    "real_place": "canary-village-9931",
    "real_lat": "36.111119",
    "real_lon": "37.222229",
    "victim_name": "CANARY-VICTIM-4412",
    "consent_note": "CANARY-CONSENT-3317",
    "raw": "CANARY-RAW-6616",
    "username": "canary-researcher-2291",
}


@dataclass
class World:
    codes: dict[str, str] = field(default_factory=dict)
    objects: dict[str, Any] = field(default_factory=dict)

    def code(self, name: str) -> str:
        return self.codes[name]


def _place(slug, name, level, parent, pcode=None, lat=None, lon=None, name_ar=""):
    return Location.objects.create(
        slug=slug,
        name=name,
        name_ar=name_ar,
        level=level,
        parent=parent,
        pcode=pcode,
        latitude=lat,
        longitude=lon,
    )


@pytest.fixture
def world(db) -> World:
    """Incidents (published unless said):

    - A: fixed-wing air strike on a (public) hospital in Maarat al-Numan, Idleb,
      2016-02-15, cluster munition, civilians killed 9–11 and children 4, by the Tiger
      Forces (a subunit of the Test government forces), ucdp_ged:1001, public source.
    - B: shelling of a market in Aleppo city, 2017-05-01..03 (days), children killed 2
      (so civilians killed 2..unknown), "Russia (1) or the Syrian government (2)",
      insecurity_insight:77, a confidential source; medical personnel row of 0.
    - C: an aggregate, country-level year of deaths (2018, no point, no casualties),
      ISIS confirmed.
    - D: a discounted incident in Idleb, 2019-03-01.
    - E: a draft.
    - F: an attack on a SENSITIVE hospital in a village of Aleppo (public place: its
      district), 2019-06-01, civilians killed 1, Russia associated; the canaries.
    """
    w = World()
    syria = Location.objects.filter(level="country").first() or _place(
        "syria", "Syria", "country", None, pcode="SY", lat=35.0, lon=38.0
    )
    idleb = Location.objects.filter(pcode="SY07").first() or _place(
        "idleb", "Idleb", "governorate", syria, pcode="SY07", lat=35.8, lon=36.6
    )
    aleppo = Location.objects.filter(pcode="SY02").first() or _place(
        "aleppo", "Aleppo", "governorate", syria, pcode="SY02", lat=36.2, lon=37.1
    )
    maarat_district = _place(
        "maarat-district",
        "Maarat al-Numan District",
        "district",
        idleb,
        lat=35.6,
        lon=36.7,
    )
    maarat = _place(
        "maarat-al-numan",
        "Maarat al-Numan",
        "community",
        maarat_district,
        lat=35.64,
        lon=36.67,
        name_ar="معرة النعمان",
    )
    services.location_name_add(
        location=maarat, name="Ma'arrat an-Nu'man", language="en"
    )
    aleppo_district = _place(
        "jebel-saman", "Jebel Saman", "district", aleppo, lat=36.25, lon=37.05
    )
    aleppo_city = _place(
        "aleppo-city", "Aleppo city", "community", aleppo_district, lat=36.2, lon=37.15
    )
    village = _place(
        CANARIES["real_place"],
        "Canary Village",
        "community",
        aleppo_district,
        lat=36.3,
        lon=37.3,
    )
    w.objects.update(
        syria=syria,
        idleb=idleb,
        aleppo=aleppo,
        maarat=maarat,
        maarat_district=maarat_district,
        aleppo_district=aleppo_district,
        aleppo_city=aleppo_city,
        village=village,
    )

    airstrike = IncidentTypeFactory(code="airstrike")
    fixed_wing = IncidentTypeFactory(code="airstrike-fixed-wing", parent=airstrike)
    shelling = IncidentTypeFactory(code="shelling")
    explosive = WeaponTypeFactory(code="explosive")
    cluster = WeaponTypeFactory(code="cluster-munition", parent=explosive)
    artillery = WeaponTypeFactory(code="artillery", parent=explosive)
    health = TargetTypeFactory(code="health-facility")
    hospital = TargetTypeFactory(code="hospital", parent=health)
    market = TargetTypeFactory(code="market")
    TargetTypeFactory(code="ambulance")

    government = services.actor_save(
        actor=ActorFactory.build(
            slug="test-government",
            name="Test government forces",
            name_ar="القوات الحكومية السورية",
            bloc="syrian_government",
        )
    )
    tigers = services.actor_save(
        actor=ActorFactory.build(
            slug="panther-brigade",
            name="Panther Brigade",
            name_ar="لواء الفهد",
            parent=government,
            bloc="syrian_government",
        )
    )
    russia = services.actor_save(
        actor=ActorFactory.build(
            slug="test-air-force",
            name="Test Air Force",
            bloc="russia",
        )
    )
    isis = services.actor_save(
        actor=ActorFactory.build(
            slug="test-isis", name="Test Islamic State", bloc="isis"
        )
    )
    w.objects.update(government=government, tigers=tigers, russia=russia, isis=isis)

    public_source = SourceFactory(title="Public report on Maarat")
    confidential = SourceFactory(
        title=CANARIES["confidential_source"],
        url=CANARIES["confidential_url"],
        kind="witness_testimony",
        confidential=True,
    )
    w.objects.update(public_source=public_source, confidential=confidential)

    public_hospital = services.facility_save(
        facility=Facility(
            slug="maarat-hospital",
            name="Maarat National Hospital",
            target_type=hospital,
            location=maarat,
            latitude=35.641,
            longitude=36.671,
        )
    )
    sensitive_hospital = services.facility_save(
        facility=Facility(
            slug="canary-hospital",
            name=CANARIES["facility_name"],
            name_ar=CANARIES["facility_name_ar"],
            target_type=hospital,
            location=village,
            latitude=float(CANARIES["facility_lat"]),
            longitude=float(CANARIES["facility_lon"]),
            sensitive=True,
        )
    )
    unused_facility = services.facility_save(
        facility=Facility(
            slug="unused-bakery",
            name="Unused bakery",
            target_type=market,
            location=aleppo_city,
        )
    )
    w.objects.update(
        public_hospital=public_hospital,
        sensitive_hospital=sensitive_hospital,
        unused_facility=unused_facility,
    )

    author = UserFactory(role="researcher", username=CANARIES["username"])
    P = services.IncidentParts
    a = make_incident(
        status=Incident.Status.PUBLISHED,
        by=author,
        title="Air strike on Maarat hospital",
        title_ar="غارة جوية على مستشفى معرة النعمان",
        summary="Jets bombed the national hospital.",
        date_start=dt.date(2016, 2, 15),
        incident_type=fixed_wing,
        location=maarat,
        latitude=35.64,
        longitude=36.67,
        geo_precision="exact",
        grading="fair",
        parts=P(
            casualty_rows=[
                services.CasualtyRowData("civilians", "killed", 9, 11),
                services.CasualtyRowData("children", "killed", 4, 4),
            ],
            attributions=[services.AttributionData(actor=tigers, confidence="likely")],
            weapons=[services.WeaponData(weapon=cluster)],
            targets=[
                services.TargetData(
                    target_type=hospital, facility=public_hospital, damage="destroyed"
                )
            ],
            citations=[
                services.CitationData(
                    source=public_source,
                    supports=["occurrence"],
                    excerpt="Jets hit it.",
                )
            ],
            external_refs=[services.ExternalRefData("ucdp_ged", "1001")],
        ),
    )
    b = make_incident(
        status=Incident.Status.PUBLISHED,
        title="Shelling of a market in Aleppo",
        date_start=dt.date(2017, 5, 1),
        date_end=dt.date(2017, 5, 3),
        date_precision="days",
        incident_type=shelling,
        location=aleppo_city,
        grading="weak",
        parts=P(
            casualty_rows=[
                services.CasualtyRowData("children", "killed", 2, 2),
                services.CasualtyRowData("medical_personnel", "injured", 0, 0),
            ],
            attributions=[
                services.AttributionData(actor=russia, alternative=1),
                services.AttributionData(actor=government, alternative=2),
            ],
            weapons=[services.WeaponData(weapon=artillery)],
            targets=[services.TargetData(target_type=market)],
            citations=[services.CitationData(source=confidential)],
            external_refs=[services.ExternalRefData("insecurity_insight", "77")],
        ),
    )
    c = make_incident(
        status=Incident.Status.PUBLISHED,
        title="Deaths in 2018 (aggregate)",
        date_start=dt.date(2018, 1, 1),
        date_end=dt.date(2018, 12, 31),
        date_precision="year",
        incident_type=shelling,
        location=syria,
        latitude=None,
        longitude=None,
        geo_precision="country",
        aggregate=True,
        parts=P(
            attributions=[services.AttributionData(actor=isis, confidence="confirmed")],
        ),
    )
    d = make_incident(
        status=Incident.Status.PUBLISHED,
        title="Discounted report",
        date_start=dt.date(2019, 3, 1),
        location=maarat,
        grading="discounted",
    )
    e = make_incident(
        status=Incident.Status.DRAFT,
        title=CANARIES["draft_title"],
        date_start=dt.date(2016, 2, 15),
        location=maarat,
    )
    f = make_incident(
        status=Incident.Status.PUBLISHED,
        by=author,
        title="Attack on a hospital near Aleppo",
        internal_notes=CANARIES["internal_notes"],
        date_start=dt.date(2019, 6, 1),
        incident_type=fixed_wing,
        location=village,
        latitude=float(CANARIES["real_lat"]),
        longitude=float(CANARIES["real_lon"]),
        geo_precision="exact",
        grading="confirmed",
        parts=P(
            casualty_rows=[services.CasualtyRowData("civilians", "killed", 1, 1)],
            attributions=[
                services.AttributionData(actor=russia, role="associated"),
            ],
            targets=[
                services.TargetData(
                    target_type=hospital, facility=sensitive_hospital, damage="damaged"
                )
            ],
            citations=[
                services.CitationData(source=public_source, supports=["casualties"]),
                services.CitationData(source=confidential, supports=["attribution"]),
            ],
            external_refs=[
                services.ExternalRefData("other", "F-1", raw={"note": CANARIES["raw"]})
            ],
            victims=[
                services.VictimData(
                    outcome="killed",
                    name=CANARIES["victim_name"],
                    age=40,
                    age_group="adult",
                ),
                services.VictimData(
                    outcome="killed", name="Child Victim", age=9, age_group="child"
                ),
                services.VictimData(
                    outcome="injured",
                    name="Named With Consent",
                    age=30,
                    age_group="adult",
                    publish_name=True,
                    consent_note=CANARIES["consent_note"],
                ),
            ],
        ),
    )
    # The consented name starts protected (DOMAIN.md, "Lowering protection"): a
    # second person, a reviewer, approves it.
    approve_pending_protection_requests()
    f.refresh_from_db()
    for name, incident in zip("ABCDEF", (a, b, c, d, e, f), strict=True):
        w.codes[name] = incident.code
        w.objects[name] = incident
    return w
