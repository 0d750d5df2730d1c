"""factory_boy factories. Incidents are built through the services (so codes, totals,
public place and search names are what production computes)."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import factory
from django.contrib.auth.models import Group, User

from incidents import services
from incidents.models import (
    Actor,
    Facility,
    Incident,
    IncidentType,
    Location,
    ProtectionRequest,
    Source,
    TargetType,
    WeaponType,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@example.org")
    is_staff = True
    password = factory.django.Password("a-long-test-password-1")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            group, _ = Group.objects.get_or_create(name=extracted)
            self.groups.add(group)


def researcher(**kwargs) -> User:
    return UserFactory(role="researcher", **kwargs)


def reviewer(**kwargs) -> User:
    return UserFactory(role="reviewer", **kwargs)


def admin_user(**kwargs) -> User:
    return UserFactory(role="admin", is_superuser=True, **kwargs)


class IncidentTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IncidentType
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"type-{n}")
    label = factory.LazyAttribute(lambda o: o.code.replace("-", " "))


class WeaponTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WeaponType
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"weapon-{n}")
    label = factory.LazyAttribute(lambda o: o.code.replace("-", " "))


class TargetTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TargetType
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"target-{n}")
    label = factory.LazyAttribute(lambda o: o.code.replace("-", " "))


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    slug = factory.Sequence(lambda n: f"place-{n}")
    name = factory.Sequence(lambda n: f"Place {n}")
    level = Location.Level.COMMUNITY
    parent = factory.LazyFunction(
        lambda: (
            Location.objects.filter(level="governorate").order_by("pcode").first()
            or Location.objects.get_or_create(
                slug="syria",
                defaults={"name": "Syria", "level": "country", "pcode": "SY"},
            )[0]
        )
    )
    latitude = 35.9
    longitude = 36.6


class ActorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Actor

    slug = factory.Sequence(lambda n: f"actor-{n}")
    name = factory.Sequence(lambda n: f"Actor {n}")
    kind = Actor.Kind.ARMED_GROUP
    bloc = "other"


class SourceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Source

    kind = Source.Kind.NEWS_REPORT
    title = factory.Sequence(lambda n: f"Report {n}")
    publisher = "Example News"
    url = factory.Sequence(lambda n: f"https://news.example.org/report-{n}")
    reliability = Source.Reliability.LIKELY_RELIABLE


class FacilityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Facility

    ref = factory.Sequence(lambda n: f"F-{n + 1:06d}")
    slug = factory.Sequence(lambda n: f"facility-{n}")
    name = factory.Sequence(lambda n: f"Hospital {n}")
    target_type = factory.LazyFunction(lambda: TargetTypeFactory(code="hospital"))
    location = factory.SubFactory(LocationFactory)


def make_incident(
    *,
    by: User | None = None,
    status: str = Incident.Status.DRAFT,
    parts: services.IncidentParts | None = None,
    **fields,
) -> Incident:
    """An incident created through the services, then moved to `status`."""
    defaults = {
        "title": "Air strike on a market",
        "date_start": dt.date(2016, 2, 15),
        "incident_type": IncidentTypeFactory(code="airstrike"),
        "geo_precision": "community",
    }
    defaults.update(fields)
    if "location" not in defaults:
        defaults["location"] = LocationFactory()
    if "latitude" not in defaults and defaults["location"] is not None:
        defaults["latitude"] = defaults["location"].latitude
        defaults["longitude"] = defaults["location"].longitude
    author = by or researcher()
    incident = services.incident_create(fields=defaults, parts=parts, by=author)
    if status == Incident.Status.DRAFT:
        return incident
    incident = services.incident_submit(incident=incident, by=author)
    if status == Incident.Status.IN_REVIEW:
        return incident
    incident = services.incident_publish(
        incident=incident, expected_version=incident.version, by=reviewer()
    )
    if status == Incident.Status.PUBLISHED:
        return incident
    if status == Incident.Status.WITHDRAWN:
        return services.incident_withdraw(
            incident=incident,
            withdrawn_reason="Duplicate of another record.",
            by=reviewer(),
        )
    raise ValueError(f"make_incident cannot make status {status}")


def api_token(user: User, **kwargs) -> str:
    """A knox API token for `user` (kwargs: expiry=timedelta, as AuthToken.create)."""
    from knox.models import AuthToken

    _instance, token = AuthToken.objects.create(user, **kwargs)
    return token


# ---------------------------------------------------------------------------------------
# Import helpers: the vocabulary codes and gazetteer the importers map onto (created
# here when the reference-data migrations have not loaded them).
# ---------------------------------------------------------------------------------------

IMPORT_INCIDENT_TYPES = (
    "armed-clash",
    "violence-against-civilians",
    "airstrike",
    "airstrike-fixed-wing",
    "drone-strike",
    "shelling",
    "suicide-or-vehicle-bomb",
    "ied-or-landmine",
    "shooting",
    "looting-or-destruction",
    "abduction-or-disappearance",
    "arbitrary-detention",
    "militarization-of-civilian-object",
    "other",
)
IMPORT_WEAPON_TYPES = (
    "explosive",
    "missile",
    "rocket",
    "artillery",
    "mortar",
    "cluster-munition",
    "vbied",
    "ied",
    "landmine",
    "small-arms",
    "bladed",
    "arson",
)
IMPORT_TARGET_TYPES = (
    "health-facility",
    "road-or-bridge",
    "idp-camp",
    "residential",
    "school",
    "government-building",
    "other",
    "unknown",
    "ambulance",
)
SYRIA_GOVERNORATES = {
    "SY01": "Damascus",
    "SY02": "Aleppo",
    "SY03": "Rural Damascus",
    "SY04": "Homs",
    "SY05": "Hama",
    "SY06": "Lattakia",
    "SY07": "Idleb",
    "SY08": "Al-Hasakeh",
    "SY09": "Deir-ez-Zor",
    "SY10": "Tartous",
    "SY11": "Ar-Raqqa",
    "SY12": "Dar'a",
    "SY13": "As-Sweida",
    "SY14": "Quneitra",
}


def import_reference_data() -> dict[str, Location]:
    """Vocabularies the importers use and Syria with its 14 governorates (by pcode)."""
    for code in IMPORT_INCIDENT_TYPES:
        IncidentTypeFactory(code=code)
    for code in IMPORT_WEAPON_TYPES:
        WeaponTypeFactory(code=code)
    for code in IMPORT_TARGET_TYPES:
        TargetTypeFactory(code=code)
    syria = (
        Location.objects.filter(level="country", pcode__in=["SY", "SYR"]).first()
        or Location.objects.get_or_create(
            slug="syria", defaults={"name": "Syria", "level": "country", "pcode": "SY"}
        )[0]
    )
    places = {"SY": syria}
    for pcode, name in SYRIA_GOVERNORATES.items():
        place = Location.objects.filter(pcode=pcode).first()
        if place is None:
            slug = name.lower().replace("'", "").replace(" ", "-")
            place = Location.objects.create(
                slug=slug, name=name, level="governorate", parent=syria, pcode=pcode
            )
        places[pcode] = place
    return places


def approve_protection_requests(saved):
    """Have a second person, a reviewer, approve every ProtectionRequest a service
    filed for `saved` (a new file or victim's name starts protected: DOMAIN.md
    "Lowering protection"), and return `saved` re-read. For tests that need a public
    file or name."""
    for asked in getattr(saved, "protection_requests", None) or []:
        services.protection_request_approve(
            request=asked,
            by=reviewer(),
            expected_version=services.protection_object_version(
                services.protection_object(asked)
            ),
        )
    saved.refresh_from_db()
    return saved


def approve_pending_protection_requests() -> None:
    """Have a reviewer approve every pending ProtectionRequest (for fixtures that
    build a world with consented names or public files in one go)."""
    pending = SimpleNamespace(
        protection_requests=list(
            ProtectionRequest.objects.filter(status=ProtectionRequest.Status.PENDING)
        ),
        refresh_from_db=lambda: None,
    )
    approve_protection_requests(pending)
