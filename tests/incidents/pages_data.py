"""A small public dataset for the page tests, built through the services: a gazetteer,
actors with a hierarchy and a commander, incidents with ranges and competing hypotheses,
a sensitive facility, and canary strings in every restricted field (none of which may
ever appear on a public page)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from incidents import services
from incidents.models import Actor, ActorRelation, Incident, Location, Source
from tests.factories import (
    FacilityFactory,
    IncidentTypeFactory,
    LocationFactory,
    SourceFactory,
    TargetTypeFactory,
    WeaponTypeFactory,
    make_incident,
    reviewer,
)

CANARIES = {
    "internal_notes": "CANARY-INTERNAL-NOTE-7731",
    "confidential_title": "CANARY-CONFIDENTIAL-WITNESS-4410",
    "confidential_publisher": "CANARY-CONFIDENTIAL-PUBLISHER-1189",
    "sensitive_facility": "CANARY-SECRET-CLINIC-5521",
    "sensitive_site": "CANARY-CLINIC-STREET-6602",
    "victim_name": "CANARY-VICTIM-NAME-9902",
    "consent_note": "CANARY-CONSENT-3313",
}


@dataclass
class PageData:
    syria: Location
    idleb: Location
    district: Location
    town: Location
    russia: Actor
    russian_air: Actor
    syrian_air: Actor
    isis: Actor
    commander: Actor
    incidents: list[Incident] = field(default_factory=list)
    hypotheses: Incident | None = None
    sensitive: Incident | None = None
    withdrawn: Incident | None = None
    merged_code: str = ""
    draft: Incident | None = None
    facility_ref: str = ""
    public_facility_ref: str = ""


def _actor(slug: str, **fields) -> Actor:
    # The starting actor table (migration 0006) may already hold the real actor.
    actor, _ = Actor.objects.update_or_create(slug=slug, defaults=fields)
    return actor


def _place(slug: str, **fields) -> Location:
    place, _ = Location.objects.update_or_create(slug=slug, defaults=fields)
    return place


def build(extra: int = 0) -> PageData:
    syria, _ = Location.objects.get_or_create(
        slug="syria",
        defaults={
            "name": "Syria",
            "name_ar": "سوريا",
            "level": "country",
            "pcode": "SY",
        },
    )
    idleb = Location.objects.filter(pcode="SY07").first() or LocationFactory(
        slug="idleb",
        name="Idleb",
        name_ar="إدلب",
        level="governorate",
        parent=syria,
        pcode="SY07",
        latitude=35.9,
        longitude=36.6,
    )
    district = _place(
        "maarat-district",
        name="Maarat al-Numan District",
        name_ar="منطقة معرة النعمان",
        level="district",
        parent=idleb,
        latitude=35.65,
        longitude=36.7,
    )
    town = _place(
        "maarat-al-numan",
        name="Maarat al-Numan",
        name_ar="معرة النعمان",
        level="community",
        parent=district,
        latitude=35.64,
        longitude=36.67,
    )
    site = _place(
        "test-clinic-street",
        name=CANARIES["sensitive_site"],
        level="site",
        parent=town,
        latitude=35.641,
        longitude=36.671,
    )
    russia = _actor(
        "russian-armed-forces",
        name="Russian Armed Forces",
        name_ar="القوات المسلحة الروسية",
        bloc="russia",
        kind="foreign_state_force",
        country="RU",
    )
    russian_air = _actor(
        "russian-aerospace-forces",
        name="Russian Aerospace Forces",
        name_ar="القوات الجوية الفضائية الروسية",
        bloc="russia",
        parent=russia,
        kind="foreign_state_force",
    )
    syrian_air = _actor(
        "syrian-arab-air-force",
        name="Syrian Arab Air Force",
        name_ar="القوات الجوية العربية السورية",
        bloc="syrian_government",
        kind="state_force",
    )
    isis = _actor(
        "islamic-state",
        name="Islamic State",
        name_ar="تنظيم الدولة الإسلامية",
        bloc="isis",
    )
    commander = _actor(
        "a-commander",
        name="Commander Example",
        kind="person",
        bloc="syrian_government",
    )
    relation_source = SourceFactory(
        title="Report naming the commander", publisher="Monitor"
    )
    relation = ActorRelation.objects.create(
        from_actor=syrian_air,
        to_actor=commander,
        kind="commanded_by",
        start_date=dt.date(2015, 1, 1),
        end_date=dt.date(2017, 6, 30),
        confidence="likely",
    )
    relation.citations.add(relation_source)

    airstrike = IncidentTypeFactory(
        code="airstrike", label="Air strike", label_ar="غارة جوية"
    )
    barrel = WeaponTypeFactory(
        code="barrel-bomb", label="Barrel bomb", label_ar="برميل متفجر"
    )
    hospital = TargetTypeFactory(code="hospital", label="Hospital", label_ar="مستشفى")
    market = TargetTypeFactory(code="market", label="Market", label_ar="سوق")
    public_facility = FacilityFactory(
        name="Central Hospital",
        name_ar="المستشفى المركزي",
        location=town,
        target_type=hospital,
    )
    secret = FacilityFactory(
        name=CANARIES["sensitive_facility"],
        location=site,
        target_type=hospital,
        sensitive=True,
        latitude=35.641,
        longitude=36.671,
    )

    public_source = SourceFactory(
        title="Witnesses describe strike",
        publisher="Example News",
        archive_url="https://archive.example.org/x",
    )
    graphic_source = SourceFactory(
        title="Video of the aftermath",
        kind=Source.Kind.VIDEO,
        graphic=True,
        publisher="Activist channel",
    )
    confidential = SourceFactory(
        title=CANARIES["confidential_title"],
        publisher=CANARIES["confidential_publisher"],
        kind=Source.Kind.WITNESS_TESTIMONY,
        confidential=True,
    )
    P = services
    data = PageData(
        syria, idleb, district, town, russia, russian_air, syrian_air, isis, commander
    )
    data.facility_ref = secret.ref
    data.public_facility_ref = public_facility.ref

    data.hypotheses = make_incident(
        status="published",
        title="Air strike on Maarat al-Numan market",
        title_ar="غارة جوية على سوق معرة النعمان",
        summary="An air strike hit the market.",
        internal_notes=CANARIES["internal_notes"],
        date_start=dt.date(2016, 2, 3),
        date_end=dt.date(2016, 2, 9),
        date_precision="week",
        location=town,
        latitude=35.64,
        longitude=36.67,
        geo_precision="near",
        incident_type=airstrike,
        grading="fair",
        parts=P.IncidentParts(
            casualty_rows=[
                P.CasualtyRowData("civilians", "killed", 9, 11, best=10),
                P.CasualtyRowData("children", "killed", 4, 4),
                P.CasualtyRowData("civilians", "injured", 20, 30),
            ],
            attributions=[
                P.AttributionData(
                    russian_air, confidence="likely", alternative=1, position="denied"
                ),
                P.AttributionData(syrian_air, confidence="likely", alternative=2),
            ],
            weapons=[P.WeaponData(barrel, certainty="suspected")],
            targets=[
                P.TargetData(market, damage="damaged"),
                P.TargetData(hospital, facility=public_facility, damage="destroyed"),
            ],
            citations=[
                P.CitationData(public_source, supports=["occurrence", "casualties"]),
                P.CitationData(graphic_source, supports=["occurrence"]),
                P.CitationData(confidential, supports=["attribution"]),
            ],
            victims=[
                P.VictimData(
                    "killed",
                    name=CANARIES["victim_name"],
                    age=12,
                    age_group="child",
                    civilian_status="civilian",
                ),
            ],
        ),
    )
    data.sensitive = make_incident(
        status="published",
        title="Strike on a clinic",
        date_start=dt.date(2019, 5, 1),
        location=site,
        latitude=35.641,
        longitude=36.671,
        geo_precision="exact",
        incident_type=airstrike,
        grading="confirmed",
        parts=P.IncidentParts(
            casualty_rows=[P.CasualtyRowData("medical_personnel", "killed", 2, 2)],
            attributions=[P.AttributionData(syrian_air, confidence="confirmed")],
            targets=[P.TargetData(hospital, facility=secret, damage="destroyed")],
        ),
    )
    data.incidents = [data.hypotheses, data.sensitive]
    for n in range(1 + extra):
        data.incidents.append(
            make_incident(
                status="published",
                title=f"Shelling of a village {n}",
                date_start=dt.date(2017, 3, 1 + n),
                location=town,
                incident_type=airstrike,
                grading="weak",
                parts=P.IncidentParts(
                    casualty_rows=[
                        P.CasualtyRowData("children", "killed", 1, 1)
                    ],  # max unknown
                    attributions=[P.AttributionData(isis, confidence="likely")],
                ),
            )
        )
    data.withdrawn = make_incident(
        status="withdrawn", title="Withdrawn record", location=town
    )
    loser = make_incident(status="published", title="Duplicate record", location=town)
    services.incident_merge(incident=loser, into=data.hypotheses, by=reviewer())
    data.merged_code = loser.code
    data.draft = make_incident(title="Unpublished draft", location=town)
    return data
