"""The reference data the migrations load: vocabularies, the gazetteer, the role groups
and the starting actor table, checked against DOMAIN.md and the shipped datasets."""

import csv
import gzip
import re
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management import call_command

from incidents.models import (
    Actor,
    ActorName,
    ActorRelation,
    IncidentType,
    Location,
    LocationName,
    TargetType,
    WeaponType,
)
from incidents.text import normalize_name
from tests.factories import UserFactory

DATA = Path(settings.BASE_DIR) / "data"
UCDP_FILES = (
    "ucdp_ged_syria_652.1601.1911.csv.gz",
    "ucdp_ged231_sample_syria_uncertainUCDP.csv.gz",
)
II_FILE = "insecurity_insight_attacks_on_health_care_2016_2023_syria.csv.gz"

# DOMAIN.md "Reference vocabularies": code -> parent code.
INCIDENT_TYPES = {
    "airstrike": None,
    "airstrike-fixed-wing": "airstrike",
    "airstrike-helicopter": "airstrike",
    "drone-strike": "airstrike",
    "shelling": None,
    "chemical-attack": None,
    "ied-or-landmine": None,
    "suicide-or-vehicle-bomb": None,
    "ground-attack": None,
    "shooting": None,
    "field-execution": None,
    "abduction-or-disappearance": None,
    "arbitrary-detention": None,
    "torture-or-death-in-detention": None,
    "sexual-violence": None,
    "siege": None,
    "forced-displacement": None,
    "looting-or-destruction": None,
    "attack-on-aid-convoy": None,
    "militarization-of-civilian-object": None,
    "armed-clash": None,
    "violence-against-civilians": None,
    "other": None,
}
WEAPON_TYPES = {
    "explosive": None,
    **dict.fromkeys(
        [
            "barrel-bomb",
            "unguided-bomb",
            "guided-bomb",
            "cluster-munition",
            "thermobaric",
            "incendiary",
            "rocket",
            "missile",
            "artillery",
            "mortar",
            "ied",
            "vbied",
            "landmine",
            "uxo",
        ],
        "explosive",
    ),
    "white-phosphorus": "incendiary",
    "incendiary-submunitions": "incendiary",
    "chemical": None,
    "sarin": "chemical",
    "chlorine": "chemical",
    "unknown-agent": "chemical",
    "firearms": None,
    "small-arms": "firearms",
    "sniper": "firearms",
    "bladed": None,
    "arson": None,
    "unknown": None,
}
TARGET_TYPES = {
    "health-facility": None,
    "hospital": "health-facility",
    "clinic": "health-facility",
    "pharmacy": "health-facility",
    **dict.fromkeys(
        [
            "ambulance",
            "bakery",
            "market",
            "school",
            "university",
            "place-of-worship",
            "idp-camp",
            "aid-convoy",
            "un-premises",
            "civil-defence-centre",
            "water-facility",
            "power-facility",
            "residential",
            "road-or-bridge",
            "farmland",
            "cultural-heritage",
            "government-building",
            "military-object",
            "vehicle",
            "other",
            "unknown",
        ]
    ),
}

GOVERNORATES = {
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

# Which governorate each spelling in the shipped files means (read by a person, so that
# a spelling resolving to the wrong governorate fails too).
SPELLINGS = {
    "Damascus Governorate": "SY01",
    "Damascus governorate": "SY01",
    "Aleppo Governorate": "SY02",
    "Aleppo governorate": "SY02",
    "Rif Dimashq Governorate": "SY03",
    "Rif Dimashq governorate": "SY03",
    "Homs Governorate": "SY04",
    "Homs governorate": "SY04",
    "Hama Governorate": "SY05",
    "Hamah Governorate": "SY05",
    "Hamah governorate": "SY05",
    "Latakia Governorate": "SY06",
    "Latakia governorate": "SY06",
    "Idlib Governorate": "SY07",
    "Idlib governorate": "SY07",
    "Al Hasakah Governorate": "SY08",
    "Al Hasakah governorate": "SY08",
    "Al-Hasaka Governorate": "SY08",
    "Deir ez Zor Governorate": "SY09",
    "Deir ez Zor governorate": "SY09",
    "Deir Ezzor Governorate": "SY09",
    "Deir ez-Zor Governorate": "SY09",
    "Tartus Governorate": "SY10",
    "Ar Raqqah Governorate": "SY11",
    "Ar Raqqah governorate": "SY11",
    "Ar-Raqqah Governorate": "SY11",
    "Al-Raqqah Governorate": "SY11",
    "Daraa Governorate": "SY12",
    "Daraa governorate": "SY12",
    "As Suwayda Governorate": "SY13",
    "As-Suwayda Governorate": "SY13",
    "Quneitra Governorate": "SY14",
    "Quneitra governorate": "SY14",
    "Al-Qunaitra Governorate": "SY14",
}


# ---------------------------------------------------------------------------------------
# The shipped files
# ---------------------------------------------------------------------------------------


def _csv_rows(name):
    with gzip.open(DATA / name, "rt", encoding="utf-8", newline="") as handle:
        yield from csv.DictReader(handle)


def _ii_rows():
    # Line 2 is an HXL row ("#date", "#group +perp +name", ...), not an event.
    return (row for row in _csv_rows(II_FILE) if not row["Date"].startswith("#"))


def split_ii_perpetrators(value: str) -> list[str]:
    """ "A, B" is joint, "A or B" alternatives; in "X or Y Forces" the noun is shared."""
    names = []
    for part in value.split(","):
        alternatives = [p.strip() for p in part.split(" or ") if p.strip()]
        last_words = alternatives[-1].split() if alternatives else []
        for alternative in alternatives:
            if len(alternative.split()) == 1 and len(last_words) > 1:
                alternative = f"{alternative} {last_words[-1]}"
            names.append(alternative)
    return names


@cache
def shipped_governorate_spellings() -> frozenset[str]:
    spellings = {row["adm_1"] for name in UCDP_FILES for row in _csv_rows(name)}
    spellings |= {row["Admin 1"] for row in _ii_rows()}
    return frozenset(
        s
        for s in spellings
        if s.strip()
        and normalize_name(s) != "no information"
        and not normalize_name(s).endswith("district")
    )


@cache
def shipped_perpetrator_names() -> frozenset[str]:
    names = set()
    for file_name in UCDP_FILES:
        for row in _csv_rows(file_name):
            for side in (row["side_a"], row["side_b"]):
                names.update(side.split(", "))
    for row in _ii_rows():
        names.update(split_ii_perpetrators(row["Reported Perpetrator Name"]))
    not_actors = {"civilians", "no information", ""}
    return frozenset(n for n in names if normalize_name(n) not in not_actors)


def actors_named(name: str) -> set[str]:
    return set(
        ActorName.objects.filter(normalized=normalize_name(name)).values_list(
            "actor__slug", flat=True
        )
    )


# ---------------------------------------------------------------------------------------
# Vocabularies
# ---------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (IncidentType, INCIDENT_TYPES),
        (WeaponType, WEAPON_TYPES),
        (TargetType, TARGET_TYPES),
    ],
)
def test_it_loads_every_vocabulary_code_with_its_parent(model, expected):
    rows = model.objects.select_related("parent")

    loaded = {row.code: (row.parent.code if row.parent else None) for row in rows}

    assert loaded == expected


@pytest.mark.django_db
@pytest.mark.parametrize("model", [IncidentType, WeaponType, TargetType])
def test_it_gives_every_vocabulary_row_both_languages(model):
    rows = model.objects.all()

    incomplete = [
        row.code
        for row in rows
        if not (row.label and row.label_ar and row.definition and row.definition_ar)
        or not re.search(r"[\u0600-\u06ff]", row.label_ar + row.definition_ar)
        or not row.active
    ]

    assert rows.exists()
    assert incomplete == []


@pytest.mark.django_db
def test_it_maps_only_the_imported_types_to_ucdp():
    mapped = dict(
        IncidentType.objects.filter(ucdp_type_of_violence__isnull=False).values_list(
            "code", "ucdp_type_of_violence"
        )
    )

    assert mapped == {"armed-clash": 1, "violence-against-civilians": 3}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sub_event_type", "code"),
    [
        ("Air/drone strike", "airstrike"),
        ("Shelling/artillery/missile attack", "shelling"),
        ("Chemical weapon", "chemical-attack"),
        ("Remote explosive/landmine/IED", "ied-or-landmine"),
        ("Suicide bomb", "suicide-or-vehicle-bomb"),
        ("Armed clash", "armed-clash"),
        ("Government regains territory", "armed-clash"),
        ("Non-state actor overtakes territory", "armed-clash"),
        ("Attack", "violence-against-civilians"),
        ("Abduction/forced disappearance", "abduction-or-disappearance"),
        ("Sexual violence", "sexual-violence"),
        ("Looting/property destruction", "looting-or-destruction"),
    ],
)
def test_it_maps_an_acled_sub_event_type_to_one_incident_type(sub_event_type, code):
    owners = [
        t.code
        for t in IncidentType.objects.exclude(acled_sub_event_type="")
        if sub_event_type in t.acled_sub_event_type.split(";")
    ]

    assert owners == [code]


# ---------------------------------------------------------------------------------------
# Gazetteer
# ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_loads_syria_with_its_14_governorates():
    syria = Location.objects.get(slug="syria")

    governorates = Location.objects.filter(level="governorate")

    assert (syria.level, syria.pcode, syria.name_ar, syria.parent) == (
        "country",
        "SY",
        "سوريا",
        None,
    )
    assert {g.pcode: g.name for g in governorates} == GOVERNORATES
    assert {g.parent_id for g in governorates} == {syria.pk}


@pytest.mark.django_db
def test_it_gives_each_governorate_an_arabic_name_and_a_point_in_syria():
    governorates = Location.objects.filter(level="governorate")

    bad = [
        g.pcode
        for g in governorates
        if not re.search(r"[\u0600-\u06ff]", g.name_ar)
        or not (32.3 <= g.latitude <= 37.4 and 35.7 <= g.longitude <= 42.4)
    ]

    assert len(governorates) == 14
    assert bad == []


@pytest.mark.django_db
def test_it_knows_every_governorate_spelling_in_the_shipped_files():
    spellings = shipped_governorate_spellings()

    resolved = {
        spelling: set(
            LocationName.objects.filter(
                normalized=normalize_name(spelling), location__level="governorate"
            ).values_list("location__pcode", flat=True)
        )
        for spelling in spellings
    }

    assert set(spellings) == set(SPELLINGS)  # a new spelling needs a row above
    assert resolved == {s: {SPELLINGS[s]} for s in spellings}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("spelling", "pcode"),
    [
        ("Idleb", "SY07"),
        ("إدلب", "SY07"),
        ("Rural Damascus", "SY03"),
        ("Damascus countryside", "SY03"),
        ("Dayr Az Zawr", "SY09"),
        ("Raqqa", "SY11"),
        ("Hasakah", "SY08"),
        ("Dar'a", "SY12"),
        ("Deraa", "SY12"),
        ("Sweida", "SY13"),
        ("Lattakia Governorate", "SY06"),
        ("Tartus", "SY10"),
        ("Hims", "SY04"),
    ],
)
def test_it_knows_common_spellings_of_a_governorate(spelling, pcode):
    found = LocationName.objects.filter(normalized=normalize_name(spelling))

    assert {n.location.pcode for n in found} == {pcode}


@pytest.mark.django_db
def test_it_gives_no_place_name_to_two_places():
    owners = defaultdict(set)
    for location_id, normalized in LocationName.objects.values_list(
        "location_id", "normalized"
    ):
        owners[normalized].add(location_id)

    shared = {name for name, ids in owners.items() if len(ids) > 1}

    assert owners
    assert shared == set()


# ---------------------------------------------------------------------------------------
# Actors
# ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_knows_every_perpetrator_name_in_the_shipped_files():
    names = shipped_perpetrator_names()

    unknown = sorted(n for n in names if len(actors_named(n)) != 1)

    assert len(names) > 100
    assert unknown == []


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("Syrian or Russian Forces", ["Syrian Forces", "Russian Forces"]),
        (
            "Armed Forces of the Russian Federation, Syrian Armed Forces",
            ["Armed Forces of the Russian Federation", "Syrian Armed Forces"],
        ),
        ("Unidentified Armed Actor", ["Unidentified Armed Actor"]),
    ],
)
def test_it_splits_insecurity_insight_perpetrators_as_the_importer_does(value, names):
    assert split_ii_perpetrators(value) == names


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "slug"),
    [
        ("Government of Syria", "syrian-arab-armed-forces"),
        ("Syrian Forces", "syrian-arab-armed-forces"),
        ("Syrian government forces", "syrian-arab-armed-forces"),
        ("Tiger Forces", "25th-special-mission-forces-division"),
        ("قوات النمر", "25th-special-mission-forces-division"),
        ("Russian Forces", "russian-armed-forces"),
        ("Government of Russia", "russian-armed-forces"),
        ("Government of Iran", "iranian-armed-forces"),
        ("ISIS", "islamic-state"),
        ("Daesh", "islamic-state"),
        ("Tahrir al-Sham", "hayat-tahrir-al-sham"),
        ("al Nusra-Front Al Queda in Syria", "jabhat-al-nusra"),
        ("Jaish al-Islam", "jaysh-al-islam"),
        ("PKK", "kurdistan-workers-party"),
        ("Turkish Police Force", "turkish-national-police"),
        ("International Coalition Forces in Syria", "us-led-coalition"),
        ("US Military", "united-states-armed-forces"),
        ("Unidentified Armed Actor", "unidentified"),
        ("Army of Ahl al-Sunni wal Jamaa ", "army-of-ahl-al-sunna-wal-jamaa"),
    ],
)
def test_it_matches_a_known_name_to_the_right_actor(name, slug):
    assert actors_named(name) == {slug}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("slug", "kind", "bloc"),
    [
        ("unidentified", "unknown", "unidentified"),
        ("militia-unidentified", "other", "unidentified"),
        ("family", "other", "other"),
        ("criminal", "other", "other"),
        ("local-population", "other", "other"),
        ("health-worker", "other", "other"),
        ("employee", "other", "other"),
        ("refugees-idps", "other", "other"),
        ("demonstrators", "other", "other"),
        ("hezbollah", "armed_group", "iran_and_affiliated"),
        ("fatemiyoun-division", "militia", "iran_and_affiliated"),
        ("jabhat-fateh-al-sham", "armed_group", "hts"),
        ("syrian-democratic-forces", "armed_group", "sdf"),
        ("turkish-armed-forces", "foreign_state_force", "turkey"),
        ("israel-defense-forces", "foreign_state_force", "other"),
    ],
)
def test_it_gives_an_actor_its_kind_and_bloc(slug, kind, bloc):
    actor = Actor.objects.get(slug=slug)

    assert (actor.kind, actor.bloc) == (kind, bloc)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("slug", "ancestors"),
    [
        (
            "25th-special-mission-forces-division",
            ["syrian-arab-army", "syrian-arab-armed-forces"],
        ),
        ("syrian-arab-air-force", ["syrian-arab-armed-forces"]),
        ("russian-aerospace-forces", ["russian-armed-forces"]),
        ("peoples-protection-units", ["syrian-democratic-forces"]),
    ],
)
def test_it_places_a_unit_under_its_organisation(slug, ancestors):
    actor = Actor.objects.get(slug=slug)

    chain = []
    while actor.parent_id:
        actor = actor.parent
        chain.append(actor.slug)

    assert chain == ancestors


@pytest.mark.django_db
def test_it_gives_a_child_actor_its_parents_bloc():
    children = Actor.objects.filter(parent__isnull=False).select_related("parent")

    mismatched = [c.slug for c in children if c.bloc != c.parent.bloc]

    assert children.count() >= 5
    assert mismatched == []


@pytest.mark.django_db
def test_it_gives_no_actor_name_to_two_actors():
    owners = defaultdict(set)
    for actor_id, normalized in ActorName.objects.values_list("actor_id", "normalized"):
        owners[normalized].add(actor_id)

    shared = {name for name, ids in owners.items() if len(ids) > 1}

    assert owners
    assert shared == set()


@pytest.mark.django_db
def test_it_gives_every_actor_a_clean_slug_and_its_own_name():
    actors = Actor.objects.prefetch_related("names")

    bad = [
        a.slug
        for a in actors
        if not re.fullmatch(r"[a-z0-9]+(?:-[a-z0-9]+)*", a.slug)
        or normalize_name(a.name) not in {n.normalized for n in a.names.all()}
        or any(n.language not in ("en", "ar") for n in a.names.all())
    ]

    assert actors.count() > 100
    assert bad == []


@pytest.mark.django_db
def test_it_records_hts_as_the_successor_of_jabhat_al_nusra():
    chain = []
    slug = "hayat-tahrir-al-sham"
    while relation := ActorRelation.objects.filter(
        from_actor__slug=slug, kind="successor_of"
    ).first():
        slug = relation.to_actor.slug
        chain.append(slug)

    assert chain == ["jabhat-fateh-al-sham", "jabhat-al-nusra"]


# ---------------------------------------------------------------------------------------
# Role groups
# ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_lets_a_researcher_edit_incidents_actors_and_places():
    user = UserFactory(role="researcher")

    wanted = [
        "incidents.add_incident",
        "incidents.change_incident",
        "incidents.add_casualtycount",
        "incidents.change_attribution",
        "incidents.add_citation",
        "incidents.add_victim",
        "incidents.change_actor",
        "incidents.add_actorname",
        "incidents.add_actorrelation",
        "incidents.change_location",
        "incidents.add_facility",
        "incidents.change_source",
        "incidents.add_importbatch",
        "incidents.view_importbatch",
        "incidents.view_incidenttype",
    ]

    assert [p for p in wanted if not user.has_perm(p)] == []


@pytest.mark.django_db
def test_it_keeps_vocabularies_users_and_deletion_from_a_researcher():
    user = UserFactory(role="researcher")

    refused = [
        "incidents.change_incidenttype",
        "incidents.add_weapontype",
        "incidents.delete_targettype",
        "incidents.delete_incident",
        "incidents.delete_actor",
        "incidents.delete_location",
        "incidents.delete_source",
        "incidents.change_importbatch",
        "incidents.change_incidentevent",
        "auth.change_user",
        "knox.add_authtoken",
    ]

    assert [p for p in refused if user.has_perm(p)] == []


@pytest.mark.django_db
def test_it_gives_a_reviewer_what_a_researcher_has():
    researcher = Group.objects.get(name="researcher")
    reviewer = Group.objects.get(name="reviewer")

    def codenames(group):
        return set(group.permissions.values_list("codename", flat=True))

    assert codenames(researcher)
    assert codenames(reviewer) >= codenames(researcher)
    assert "change_incidenttype" not in codenames(reviewer)


@pytest.mark.django_db
def test_it_lets_an_admin_edit_vocabularies_users_and_tokens():
    user = UserFactory(role="admin")  # not a superuser: the group's permissions only

    wanted = [
        "incidents.change_incidenttype",
        "incidents.add_weapontype",
        "incidents.delete_targettype",
        "incidents.change_incident",
        "incidents.delete_actor",
        "incidents.view_incidentevent",
        "auth.add_user",
        "auth.change_group",
        "knox.add_authtoken",
        "knox.delete_authtoken",
    ]

    assert not user.is_superuser
    assert [p for p in wanted if not user.has_perm(p)] == []


@pytest.mark.django_db
def test_it_keeps_the_audit_trail_read_only_for_an_admin():
    user = UserFactory(role="admin")

    refused = [
        "incidents.change_incidentevent",
        "incidents.delete_actorevent",
        "incidents.change_incidentcodecounter",
        "incidents.delete_publicchange",
    ]

    assert [p for p in refused if user.has_perm(p)] == []


# ---------------------------------------------------------------------------------------
# Reversibility
# ---------------------------------------------------------------------------------------


def _reference_counts() -> dict[str, int]:
    return {
        "incident types": IncidentType.objects.count(),
        "weapon types": WeaponType.objects.count(),
        "target types": TargetType.objects.count(),
        "places": Location.objects.count(),
        "place names": LocationName.objects.count(),
        "groups": Group.objects.filter(
            name__in=["researcher", "reviewer", "admin"]
        ).count(),
        "actors": Actor.objects.count(),
        "actor names": ActorName.objects.count(),
        "actor relations": ActorRelation.objects.count(),
    }


@pytest.mark.django_db(transaction=True)
def test_it_reverses_the_reference_data_migrations_and_applies_them_again():
    try:
        call_command("migrate", "incidents", "0002", verbosity=0)
        emptied = _reference_counts()
    finally:
        call_command("migrate", "incidents", verbosity=0)

    restored = _reference_counts()

    assert set(emptied.values()) == {0}
    assert restored["incident types"] == len(INCIDENT_TYPES)
    assert restored["weapon types"] == len(WEAPON_TYPES)
    assert restored["target types"] == len(TARGET_TYPES)
    assert restored["places"] == 15
    assert restored["groups"] == 3
    assert restored["actors"] > 100
    assert min(restored.values()) > 0
