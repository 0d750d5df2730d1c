"""Synthetic benchmark data: a million plausible incidents, loaded with PostgreSQL COPY.

`manage.py generate_synthetic --incidents N` calls `synthetic_generate()`;
`--delete` calls `synthetic_delete()`. What it writes, and why it is safe:

* Every incident has `synthetic = true` (the pages show a banner while any exists); every
  supporting row it had to invent (districts and communities, sources, and actors or
  vocabulary codes when the reference migrations have not provided any) has a slug, code
  or title starting with ``syn-``, so `--delete` can remove exactly what it made.
* Incidents are published (version 1, `published_at` set), with their parts
  (casualty counts, attributions, citations, weapons, targets) and one `published` row in
  the public changes feed each. The denormalised totals come from
  `services.compute_totals()` on the generated rows, the governorate and the public place
  are derived as the services derive them (synthetic data has no sensitive facility, so
  the public place is the real one), `search_names` holds the place's and the actors'
  names like `services._search_names()`.
* Codes continue each year's counter: the numbers are reserved from
  `incidents_incidentcodecounter` before the load (the same atomic upsert the services
  use), so a real incident created afterwards never gets a synthetic code, and
  `--delete` leaves the counters where they are (codes are never reused).
* **Synthetic data is not in the audit trail.** The whole load is one transaction in
  which the user triggers (django-pghistory's event triggers, pgtrigger's version bump)
  of the tables written are disabled with ``ALTER TABLE … DISABLE TRIGGER USER`` and
  re-enabled before commit. ALTER TABLE holds an ACCESS EXCLUSIVE lock until commit, so
  no other session ever writes while the triggers are off (it waits), and if the load
  fails, everything is rolled back, triggers included. The same holds for `--delete`.
* For speed, the secondary indexes, unique constraints and foreign keys of the tables
  loaded are dropped in that transaction and rebuilt after the COPY (pg_restore's
  method: one sorted index build, one validating join per foreign key, instead of
  millions of single-row checks); the rebuild re-validates every row, so a broken row
  still aborts the load. The generated `search_vector` column is computed by PostgreSQL
  as rows arrive (it cannot be deferred). ANALYZE runs at the end.

Use it on a development or benchmark database: the tables are locked while it runs.
"""

from __future__ import annotations

import datetime as dt
import io
import queue
import random
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from django.db import connection, transaction
from django.utils import timezone

from incidents import services
from incidents.dbstats import tables_analyze
from incidents.models import (
    Actor,
    ActorName,
    Attribution,
    CasualtyCount,
    Citation,
    Incident,
    IncidentTarget,
    IncidentType,
    IncidentWeapon,
    Location,
    LocationName,
    PublicChange,
    Source,
    TargetType,
    WeaponType,
)

SYN = "syn-"
# Syria's bounding box (lon 35.7–42.4, lat 32.3–37.3).
LON_MIN, LON_MAX, LAT_MIN, LAT_MAX = 35.7, 42.4, 32.3, 37.3

# The tables a load writes, in COPY order (parents first).
LOADED_TABLES = (
    "incidents_incident",
    "incidents_casualtycount",
    "incidents_attribution",
    "incidents_citation",
    "incidents_incidentweapon",
    "incidents_incidenttarget",
    "incidents_publicchange",
)
REFERENCE_TABLES = (
    "incidents_location",
    "incidents_actor",
    "incidents_source",
    "incidents_incidenttype",
    "incidents_weapontype",
    "incidents_targettype",
)

# The 14 governorates (OCHA pcodes), with an approximate centre, spread (degrees) and a
# weight for how many events happened there (Aleppo, Idleb, Rural Damascus, Homs,
# Hama, Deir ez-Zor and Daraa saw most of the war).
GOVERNORATES = (
    ("SY01", "Damascus", "دمشق", 33.51, 36.29, 0.06, 4),
    ("SY02", "Aleppo", "حلب", 36.25, 37.35, 0.55, 20),
    ("SY03", "Rural Damascus", "ريف دمشق", 33.55, 36.55, 0.35, 15),
    ("SY04", "Homs", "حمص", 34.65, 37.6, 0.7, 9),
    ("SY05", "Hama", "حماة", 35.2, 36.85, 0.35, 9),
    ("SY06", "Lattakia", "اللاذقية", 35.6, 35.95, 0.2, 3),
    ("SY07", "Idleb", "إدلب", 35.8, 36.6, 0.3, 17),
    ("SY08", "Al-Hasakeh", "الحسكة", 36.6, 40.8, 0.5, 4),
    ("SY09", "Deir-ez-Zor", "دير الزور", 35.15, 40.3, 0.5, 8),
    ("SY10", "Tartous", "طرطوس", 34.9, 36.05, 0.15, 1),
    ("SY11", "Ar-Raqqa", "الرقة", 35.95, 38.9, 0.45, 6),
    ("SY12", "Dar'a", "درعا", 32.75, 36.15, 0.2, 8),
    ("SY13", "As-Sweida", "السويداء", 32.7, 36.6, 0.2, 1.5),
    ("SY14", "Quneitra", "القنيطرة", 33.1, 35.85, 0.1, 1.5),
)

# Events per year: the war's rhythm (escalation 2012, peak 2013–2017, then decline).
YEAR_WEIGHTS = {
    2011: 2,
    2012: 9,
    2013: 15,
    2014: 15,
    2015: 15,
    2016: 16,
    2017: 12,
    2018: 8,
    2019: 5,
    2020: 3,
    2021: 2,
    2022: 1.5,
    2023: 1.5,
    2024: 1,
}

PLACE_PREFIXES = (
    ("Kafr", "كفر"),
    ("Tall", "تل"),
    ("Deir", "دير"),
    ("Ain", "عين"),
    ("Beit", "بيت"),
    ("Khirbet", "خربة"),
    ("Maarat", "معرة"),
    ("Jisr", "جسر"),
    ("Qasr", "قصر"),
    ("Umm", "أم"),
    ("Abu", "أبو"),
    ("Hayy", "حي"),
    ("Mazraat", "مزرعة"),
)
PLACE_ROOTS = (
    ("Nabl", "نبل"),
    ("Salma", "سلمى"),
    ("al-Zaytun", "الزيتون"),
    ("al-Hamra", "الحمراء"),
    ("al-Jadida", "الجديدة"),
    ("al-Tahta", "التحتا"),
    ("al-Fawqa", "الفوقا"),
    ("al-Sharqi", "الشرقي"),
    ("al-Gharbi", "الغربي"),
    ("al-Kabir", "الكبير"),
    ("al-Saghir", "الصغير"),
    ("al-Nahr", "النهر"),
    ("al-Rumman", "الرمان"),
    ("al-Tuffah", "التفاح"),
    ("al-Bayda", "البيضاء"),
    ("al-Khadra", "الخضراء"),
    ("al-Jabal", "الجبل"),
    ("al-Wadi", "الوادي"),
    ("al-Sahl", "السهل"),
    ("al-Qamar", "القمر"),
    ("al-Nour", "النور"),
    ("al-Ward", "الورد"),
    ("al-Jawz", "الجوز"),
    ("al-Tin", "التين"),
    ("al-Shams", "الشمس"),
    ("al-Nasr", "النصر"),
    ("Haddad", "حداد"),
    ("Yusuf", "يوسف"),
    ("Ibrahim", "إبراهيم"),
    ("Hasan", "حسن"),
    ("Ali", "علي"),
    ("Saad", "سعد"),
)

# Starting actors when the reference migration has not created any (blocs as DOMAIN.md).
FALLBACK_ACTORS = (
    (
        "government-forces",
        "Syrian government forces",
        "القوات الحكومية السورية",
        "state_force",
        "syrian_government",
    ),
    (
        "air-force",
        "Syrian Arab Air Force",
        "القوات الجوية العربية السورية",
        "state_force",
        "syrian_government",
    ),
    (
        "pro-government-militia",
        "Pro-government militia",
        "ميليشيا موالية للحكومة",
        "militia",
        "syrian_government",
    ),
    (
        "russian-forces",
        "Russian Aerospace Forces",
        "القوات الجوية الفضائية الروسية",
        "foreign_state_force",
        "russia",
    ),
    (
        "iranian-militia",
        "Iran-backed militia",
        "ميليشيا مدعومة من إيران",
        "militia",
        "iran_and_affiliated",
    ),
    ("isis", "Islamic State", "تنظيم الدولة الإسلامية", "armed_group", "isis"),
    ("hts", "Hay'at Tahrir al-Sham", "هيئة تحرير الشام", "armed_group", "hts"),
    (
        "armed-opposition",
        "Armed opposition factions",
        "فصائل المعارضة المسلحة",
        "armed_group",
        "armed_opposition",
    ),
    ("sdf", "Syrian Democratic Forces", "قوات سوريا الديمقراطية", "armed_group", "sdf"),
    (
        "coalition",
        "US-led coalition",
        "التحالف بقيادة الولايات المتحدة",
        "foreign_state_force",
        "us_led_coalition",
    ),
    (
        "turkish-forces",
        "Turkish Armed Forces",
        "القوات المسلحة التركية",
        "foreign_state_force",
        "turkey",
    ),
    (
        "unidentified",
        "Unidentified perpetrator",
        "جهة غير معروفة",
        "unknown",
        "unidentified",
    ),
)
# How often each bloc is named as perpetrator (skewed, as documented totals are).
BLOC_WEIGHTS = {
    "syrian_government": 45,
    "russia": 17,
    "isis": 8,
    "armed_opposition": 7,
    "hts": 5,
    "iran_and_affiliated": 4,
    "sdf": 3,
    "us_led_coalition": 3,
    "turkey": 3,
    "unidentified": 4,
    "other": 1,
}

# Vocabulary codes (DOMAIN.md) with how often they occur; codes missing from the
# database are skipped, and when none exists a few `syn-` codes are created.
TYPE_WEIGHTS = {
    "airstrike": 10,
    "airstrike-fixed-wing": 14,
    "airstrike-helicopter": 8,
    "drone-strike": 3,
    "shelling": 25,
    "ground-attack": 6,
    "shooting": 8,
    "ied-or-landmine": 5,
    "suicide-or-vehicle-bomb": 3,
    "field-execution": 2,
    "abduction-or-disappearance": 3,
    "arbitrary-detention": 3,
    "torture-or-death-in-detention": 2,
    "chemical-attack": 0.4,
    "siege": 0.5,
    "looting-or-destruction": 1,
    "attack-on-aid-convoy": 0.3,
    "armed-clash": 4,
    "violence-against-civilians": 2,
    "other": 1,
}
WEAPONS_BY_TYPE_PREFIX = {
    "airstrike": (
        "barrel-bomb",
        "unguided-bomb",
        "guided-bomb",
        "cluster-munition",
        "missile",
        "thermobaric",
    ),
    "drone-strike": ("guided-bomb", "missile"),
    "shelling": ("artillery", "mortar", "rocket", "missile", "cluster-munition"),
    "chemical-attack": ("chlorine", "sarin", "unknown-agent"),
    "ied-or-landmine": ("ied", "landmine", "uxo"),
    "suicide-or-vehicle-bomb": ("vbied", "ied"),
    "shooting": ("small-arms", "sniper"),
    "field-execution": ("small-arms",),
    "ground-attack": ("small-arms", "mortar", "artillery"),
}
TARGET_WEIGHTS = {
    "residential": 40,
    "market": 8,
    "road-or-bridge": 6,
    "vehicle": 6,
    "farmland": 4,
    "school": 4,
    "hospital": 3,
    "clinic": 1.5,
    "bakery": 2,
    "place-of-worship": 2.5,
    "idp-camp": 1.5,
    "civil-defence-centre": 1,
    "water-facility": 1,
    "power-facility": 1,
    "government-building": 1,
    "military-object": 2,
    "unknown": 4,
}
GRADING_WEIGHTS = {
    "confirmed": 20,
    "fair": 35,
    "weak": 20,
    "contested": 8,
    "discounted": 2,
    "not_assessed": 15,
}
PUBLISHERS = (
    ("Syrian Network for Human Rights", "ngo_report", "ar"),
    ("Syrian Observatory for Human Rights", "ngo_report", "ar"),
    ("Violations Documentation Center", "ngo_report", "ar"),
    ("Airwars", "ngo_report", "en"),
    ("Amnesty International", "ngo_report", "en"),
    ("Human Rights Watch", "ngo_report", "en"),
    ("OHCHR", "un_report", "en"),
    ("UN Commission of Inquiry on Syria", "un_report", "en"),
    ("AFP", "news_report", "en"),
    ("Reuters", "news_report", "en"),
    ("Enab Baladi", "news_report", "ar"),
    ("Syrian Civil Defence", "social_media_post", "ar"),
    ("Local coordination committee", "video", "ar"),
    ("Ministry of Defence", "belligerent_statement", "ar"),
)
CLAIMS = (
    "occurrence",
    "date",
    "location",
    "casualties",
    "attribution",
    "weapon",
    "target",
)


# ---------------------------------------------------------------------------------------
# COPY text format
# ---------------------------------------------------------------------------------------

NULL = "\\N"
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def copy_text(value: Any) -> str:
    """A value in PostgreSQL's COPY text format."""
    if value is None:
        return NULL
    if value is True:
        return "t"
    if value is False:
        return "f"
    if isinstance(value, str):
        return value.translate(_COPY_ESCAPES)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, list):
        return "{" + ",".join(value) + "}"
    return str(value)


def _table_columns(model, produced: list[str]) -> tuple[list[str], str]:
    """COPY column list: the columns the generator produces, then every other concrete
    column (another engineer may add one) with its default. Returns (columns, the text
    appended to each line for the extra columns)."""
    columns = list(produced)
    tail = ""
    for model_field in model._meta.concrete_fields:
        column = model_field.column
        if column in produced or getattr(model_field, "generated", False):
            continue
        if model_field.primary_key:
            continue
        if model_field.null and not model_field.has_default():
            continue
        if getattr(model_field, "auto_now", False) or getattr(
            model_field, "auto_now_add", False
        ):
            default = timezone.now()
        else:
            default = model_field.get_default()
        if default is None and not model_field.null:
            continue  # let the database default (if any) apply
        columns.append(column)
        tail += "\t" + copy_text(model_field.get_db_prep_value(default, connection))
    return columns, tail


# ---------------------------------------------------------------------------------------
# Reference data
# ---------------------------------------------------------------------------------------


class Place(NamedTuple):
    id: int
    level: str
    name: str
    name_ar: str
    latitude: float | None
    longitude: float | None
    governorate: Place | None
    names: tuple[str, ...]  # names of it and its parents (services._search_names order)
    aliases: tuple[str, ...]  # their LocationName spellings


class ActorInfo(NamedTuple):
    id: int
    name: str
    bloc: str
    names: tuple[str, ...]  # name, name_ar
    aliases: tuple[str, ...]


class Vocab(NamedTuple):
    id: int
    code: str
    label: str
    label_ar: str


@dataclass
class Reference:
    country: Place | None
    governorates: list[Place]
    gov_weights: list[float]
    districts_by_gov: dict[int, list[Place]]
    communities_by_gov: dict[int, list[Place]]
    actors: list[ActorInfo]
    actor_cum: list[float]
    types: list[Vocab]
    type_cum: list[float]
    weapons: dict[str, Vocab]
    targets: list[Vocab]
    target_cum: list[float]
    source_ids: list[int]
    source_cum: list[float]
    created: Counter = field(default_factory=Counter)


def _cumulative(weights: list[float]) -> list[float]:
    total, out = 0.0, []
    for weight in weights:
        total += weight
        out.append(total)
    return out


def _slug(text: str) -> str:
    from django.utils.text import slugify

    return slugify(text) or "x"


def _clamp(value: float, low: float, high: float) -> float:
    return min(max(value, low), high)


def _location_search(
    chain: list[Location], aliases: dict[int, list[str]]
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    names: list[str] = []
    for place in chain:
        names += [place.name, place.name_ar]
    extra = sorted(name for place in chain for name in aliases.get(place.pk, []))
    return tuple(n for n in names if n), tuple(n for n in extra if n)


def _ensure_places(rng: random.Random, communities: int, reference_counts: Counter):
    """Governorates (from the migration, or `syn-` stand-ins), then districts and
    communities under them (reusing the `syn-` ones an earlier run created)."""
    country = (
        Location.objects.filter(level="country", merged_into=None)
        .order_by("id")
        .first()
    )
    by_pcode = {
        loc.pcode: loc
        for loc in Location.objects.filter(
            level="governorate", pcode__in=[g[0] for g in GOVERNORATES]
        )
    }
    governorates: list[Location] = []
    for pcode, name, name_ar, lat, lon, _spread, _weight in GOVERNORATES:
        loc = by_pcode.get(pcode)
        if loc is None:
            # No reference migration yet: a stand-in, without the pcode (so the real row
            # can still be created later), removed again by --delete.
            if country is None:
                country, _ = Location.objects.get_or_create(
                    slug=f"{SYN}syria",
                    defaults={
                        "name": "Syria",
                        "name_ar": "سوريا",
                        "level": "country",
                        "latitude": 35.0,
                        "longitude": 38.5,
                    },
                )
            loc, made = Location.objects.get_or_create(
                slug=f"{SYN}{_slug(name)}",
                defaults={
                    "name": name,
                    "name_ar": name_ar,
                    "level": "governorate",
                    "parent": country,
                    "latitude": lat,
                    "longitude": lon,
                },
            )
            reference_counts["governorates"] += made
        governorates.append(loc)

    existing = list(
        Location.objects.filter(
            slug__startswith=SYN, level__in=["district", "community"]
        ).order_by("id")
    )
    districts = [p for p in existing if p.level == "district"]
    comms = [p for p in existing if p.level == "community"]
    gov_ids = {g.pk for g in governorates}
    wanted_districts = max(len(GOVERNORATES), min(120, communities // 25))
    new: list[Location] = []
    serial = len(existing)

    def name_pair():
        prefix, prefix_ar = rng.choice(PLACE_PREFIXES)
        root, root_ar = rng.choice(PLACE_ROOTS)
        if not prefix:
            return root, root_ar
        return f"{prefix} {root}", f"{prefix_ar} {root_ar}"

    gov_weights = [g[6] for g in GOVERNORATES]
    if len([d for d in districts if d.parent_id in gov_ids]) < wanted_districts:
        for index, gov in enumerate(governorates):
            spread = GOVERNORATES[index][5]
            have = sum(1 for d in districts if d.parent_id == gov.pk)
            want = max(
                1, round(wanted_districts * gov_weights[index] / sum(gov_weights))
            )
            for _ in range(want - have):
                serial += 1
                name, name_ar = name_pair()
                lat = _clamp(
                    rng.gauss(gov.latitude or GOVERNORATES[index][3], spread * 0.6),
                    LAT_MIN,
                    LAT_MAX,
                )
                lon = _clamp(
                    rng.gauss(gov.longitude or GOVERNORATES[index][4], spread * 0.6),
                    LON_MIN,
                    LON_MAX,
                )
                new.append(
                    Location(
                        slug=f"{SYN}{_slug(name)}-d{serial}",
                        name=name,
                        name_ar=name_ar,
                        level="district",
                        parent=gov,
                        latitude=round(lat, 5),
                        longitude=round(lon, 5),
                    )
                )
        Location.objects.bulk_create(new)
        reference_counts["districts"] += len(new)
        districts += new
    districts = [d for d in districts if d.parent_id in gov_ids]
    by_gov: dict[int, list[Location]] = {}
    for district in districts:
        by_gov.setdefault(district.parent_id, []).append(district)

    new = []
    if len(comms) < communities:
        district_weights = [
            gov_weights[[g.pk for g in governorates].index(d.parent_id)]
            / len(by_gov[d.parent_id])
            for d in districts
        ]
        cum = _cumulative(district_weights)
        for _ in range(communities - len(comms)):
            serial += 1
            district = rng.choices(districts, cum_weights=cum)[0]
            name, name_ar = name_pair()
            lat = _clamp(rng.gauss(district.latitude, 0.12), LAT_MIN, LAT_MAX)
            lon = _clamp(rng.gauss(district.longitude, 0.12), LON_MIN, LON_MAX)
            new.append(
                Location(
                    slug=f"{SYN}{_slug(name)}-{serial}",
                    name=name,
                    name_ar=name_ar,
                    level="community",
                    parent=district,
                    latitude=round(lat, 5),
                    longitude=round(lon, 5),
                )
            )
        Location.objects.bulk_create(new, batch_size=2000)
        reference_counts["communities"] += len(new)
        comms += new

    # Search names exactly as services._search_names() sees them (aliases of the
    # governorates come from the reference migration's LocationName rows).
    aliases: dict[int, list[str]] = {}
    for location_id, name in LocationName.objects.values_list("location_id", "name"):
        aliases.setdefault(location_id, []).append(name)

    def place(loc: Location, chain: list[Location], gov: Place | None) -> Place:
        return Place(
            loc.pk,
            loc.level,
            loc.name,
            loc.name_ar,
            loc.latitude,
            loc.longitude,
            gov,
            *_location_search(chain, aliases),
        )

    country_chain = [country] if country is not None else []
    country_place = place(country, country_chain, None) if country is not None else None
    gov_places = []
    gov_chains = {}
    for index, gov in enumerate(governorates):
        chain = services.location_ancestors(gov)
        gov_chains[gov.pk] = chain
        p = place(gov, chain, None)
        p = p._replace(
            governorate=None,
            latitude=gov.latitude
            if gov.latitude is not None
            else GOVERNORATES[index][3],
            longitude=gov.longitude
            if gov.longitude is not None
            else GOVERNORATES[index][4],
        )
        gov_places.append(p)
    gov_place = {p.id: p for p in gov_places}
    district_places: dict[int, Place] = {}
    districts_by_gov: dict[int, list[Place]] = {}
    for district in districts:
        chain = [district, *gov_chains[district.parent_id]]
        gp = gov_place[district.parent_id]
        p = place(district, chain, gp)
        district_places[district.pk] = p
        districts_by_gov.setdefault(gp.id, []).append(p)
    communities_by_gov: dict[int, list[Place]] = {}
    district_by_id = {d.pk: d for d in districts}
    for community in comms:
        district = district_by_id.get(community.parent_id)
        if district is None:
            continue
        chain = [community, district, *gov_chains[district.parent_id]]
        gp = gov_place[district.parent_id]
        communities_by_gov.setdefault(gp.id, []).append(place(community, chain, gp))
    # Governorate places know themselves as their governorate.
    gov_places = [p._replace(governorate=p) for p in gov_places]
    for gov_id, plist in districts_by_gov.items():
        gp = next(g for g in gov_places if g.id == gov_id)
        districts_by_gov[gov_id] = [d._replace(governorate=gp) for d in plist]
    for gov_id, plist in communities_by_gov.items():
        gp = next(g for g in gov_places if g.id == gov_id)
        communities_by_gov[gov_id] = [c._replace(governorate=gp) for c in plist]
    return country_place, gov_places, gov_weights, districts_by_gov, communities_by_gov


def _ensure_actors(reference_counts: Counter) -> tuple[list[ActorInfo], list[float]]:
    actors = list(
        Actor.objects.filter(merged_into=None)
        .exclude(slug__startswith=SYN)
        .order_by("id")
    )
    if not actors:
        actors = list(
            Actor.objects.filter(slug__startswith=SYN, merged_into=None).order_by("id")
        )
    if not actors:
        made = [
            Actor(slug=f"{SYN}{slug}", name=name, name_ar=name_ar, kind=kind, bloc=bloc)
            for slug, name, name_ar, kind, bloc in FALLBACK_ACTORS
        ]
        Actor.objects.bulk_create(made)
        reference_counts["actors"] += len(made)
        actors = list(Actor.objects.filter(slug__startswith=SYN).order_by("id"))
    aliases: dict[int, list[str]] = {}
    for actor_id, name in ActorName.objects.filter(actor__in=actors).values_list(
        "actor_id", "name"
    ):
        aliases.setdefault(actor_id, []).append(name)
    by_bloc: dict[str, list[Actor]] = {}
    for actor in actors:
        by_bloc.setdefault(actor.bloc, []).append(actor)
    infos, weights = [], []
    for bloc, members in by_bloc.items():
        bloc_weight = BLOC_WEIGHTS.get(bloc, 1)
        # Within a bloc, a Zipf-like skew: the first actors are named far more often.
        harmonic = [1 / (rank + 1) for rank in range(len(members))]
        total = sum(harmonic)
        for actor, share in zip(members, harmonic, strict=True):
            infos.append(
                ActorInfo(
                    actor.pk,
                    actor.name,
                    bloc,
                    tuple(n for n in (actor.name, actor.name_ar) if n),
                    tuple(aliases.get(actor.pk, ())),
                )
            )
            weights.append(bloc_weight * share / total)
    return infos, _cumulative(weights)


def _ensure_vocab(
    model,
    weights: dict[str, float],
    fallback: dict[str, str],
    reference_counts: Counter,
):
    rows = {v.code: v for v in model.objects.filter(active=True)}
    if not rows:
        made = [
            model(code=f"{SYN}{code}", label=label, label_ar=label_ar)
            for code, (label, label_ar) in fallback.items()
        ]
        model.objects.bulk_create(made)
        reference_counts[model._meta.model_name] += len(made)
        rows = {v.code: v for v in model.objects.filter(code__startswith=SYN)}
    vocab = [Vocab(v.pk, v.code, v.label, v.label_ar or v.label) for v in rows.values()]
    vocab.sort(key=lambda v: v.code)
    w = [weights.get(v.code.removeprefix(SYN), 0.3) for v in vocab]
    return vocab, _cumulative(w)


def _ensure_sources(rng: random.Random, wanted: int, reference_counts: Counter):
    ids = list(
        Source.objects.filter(title__startswith=SYN)
        .order_by("id")
        .values_list("id", flat=True)
    )
    missing = wanted - len(ids)
    if missing > 0:
        start = Source.objects.filter(title__startswith=SYN).count()
        now = timezone.now()
        buffer = io.StringIO()
        for n in range(start + 1, start + missing + 1):
            publisher, kind, language = rng.choice(PUBLISHERS)
            year = rng.choices(list(YEAR_WEIGHTS), weights=list(YEAR_WEIGHTS.values()))[
                0
            ]
            published = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))
            title = f"{SYN}{n:07d} {publisher}: report of {published.isoformat()}"
            reliability = rng.choice(
                (
                    "highly_reliable",
                    "likely_reliable",
                    "likely_reliable",
                    "unsure",
                    "unknown",
                )
            )
            buffer.write(
                "\t".join(
                    (
                        kind,
                        copy_text(title),
                        copy_text(publisher),
                        f"https://synthetic.invalid/{SYN}source-{n}",
                        published.isoformat(),
                        language,
                        reliability,
                        copy_text(now),
                        copy_text(now),
                    )
                )
                + _SOURCE_TAIL[0]
                + "\n"
            )
        buffer.seek(0)
        with connection.cursor() as cursor:
            cursor.copy_expert(
                f"COPY incidents_source ({', '.join(_SOURCE_COLUMNS[0])}) FROM STDIN",
                buffer,
            )
        reference_counts["sources"] += missing
        ids = list(
            Source.objects.filter(title__startswith=SYN)
            .order_by("id")
            .values_list("id", flat=True)
        )
    ids = ids[:wanted] if len(ids) > wanted else ids
    # Sources are reused with a skew: a few reports cover many incidents.
    return ids, _cumulative([1 / (rank + 1) ** 0.7 for rank in range(len(ids))])


_SOURCE_COLUMNS: list[list[str]] = []
_SOURCE_TAIL: list[str] = []


def _prepare_source_columns() -> None:
    if not _SOURCE_COLUMNS:
        produced = [
            "kind",
            "title",
            "publisher",
            "url",
            "published_on",
            "language",
            "reliability",
            "created_at",
            "updated_at",
        ]
        columns, tail = _table_columns(Source, produced)
        _SOURCE_COLUMNS.append(columns)
        _SOURCE_TAIL.append(tail)


def build_reference(rng: random.Random, incidents: int) -> Reference:
    counts: Counter = Counter()
    _prepare_source_columns()
    communities = max(60, min(4000, incidents // 50))
    country, govs, gov_weights, districts, comms = _ensure_places(
        rng, communities, counts
    )
    actors, actor_cum = _ensure_actors(counts)
    types, type_cum = _ensure_vocab(
        IncidentType,
        TYPE_WEIGHTS,
        {
            "airstrike": ("Airstrike", "غارة جوية"),
            "shelling": ("Shelling", "قصف مدفعي"),
            "shooting": ("Shooting", "إطلاق نار"),
            "ied-or-landmine": ("IED or landmine", "عبوة ناسفة أو لغم"),
        },
        counts,
    )
    weapons, _ = _ensure_vocab(
        WeaponType,
        {},
        {
            "barrel-bomb": ("Barrel bomb", "برميل متفجر"),
            "artillery": ("Artillery", "مدفعية"),
            "small-arms": ("Small arms", "أسلحة خفيفة"),
        },
        counts,
    )
    targets, target_cum = _ensure_vocab(
        TargetType,
        TARGET_WEIGHTS,
        {
            "residential": ("Residential building", "مبنى سكني"),
            "market": ("Market", "سوق"),
            "hospital": ("Hospital", "مشفى"),
        },
        counts,
    )
    source_ids, source_cum = _ensure_sources(rng, max(20, incidents // 15), counts)
    return Reference(
        country=country,
        governorates=govs,
        gov_weights=_cumulative(gov_weights),
        districts_by_gov=districts,
        communities_by_gov=comms,
        actors=actors,
        actor_cum=actor_cum,
        types=types,
        type_cum=type_cum,
        weapons={w.code.removeprefix(SYN): w for w in weapons},
        targets=targets,
        target_cum=target_cum,
        source_ids=source_ids,
        source_cum=source_cum,
        created=counts,
    )


# ---------------------------------------------------------------------------------------
# Rows
# ---------------------------------------------------------------------------------------


class Row(NamedTuple):
    """A casualty row as compute_totals() reads it."""

    group: str
    outcome: str
    min: int
    max: int
    best: int | None


INCIDENT_COLUMNS = [
    "id",
    "code",
    "title",
    "title_ar",
    "summary",
    "summary_ar",
    "internal_notes",
    "date_start",
    "date_end",
    "date_precision",
    "time_of_day",
    "latitude",
    "longitude",
    "geo_precision",
    "public_latitude",
    "public_longitude",
    "public_geo_precision",
    "synthetic",
    "aggregate",
    "grading",
    "status",
    "withdrawn_reason",
    "first_published_at",
    "published_at",
    "created_at",
    "updated_at",
    "version",
    "casualties_known",
    "civilians_killed_min",
    "civilians_killed_max",
    "civilians_injured_min",
    "civilians_injured_max",
    "children_killed_min",
    "children_killed_max",
    "medical_personnel_killed_min",
    "medical_personnel_killed_max",
    "total_killed_min",
    "total_killed_max",
    "total_injured_min",
    "total_injured_max",
    "search_names",
    "incident_type_id",
    "governorate_id",
    "location_id",
    "public_location_id",
]
TOTAL_KEYS = INCIDENT_COLUMNS[27:40]
PART_COLUMNS = {
    "incidents_casualtycount": (
        CasualtyCount,
        ["incident_id", "group", "outcome", "min", "max", "best", "note"],
    ),
    "incidents_attribution": (
        Attribution,
        [
            "incident_id",
            "actor_id",
            "role",
            "confidence",
            "alternative",
            "position",
            "note",
        ],
    ),
    "incidents_citation": (
        Citation,
        ["incident_id", "source_id", "supports", "excerpt", "locator"],
    ),
    "incidents_incidentweapon": (
        IncidentWeapon,
        ["incident_id", "weapon_id", "certainty"],
    ),
    "incidents_incidenttarget": (
        IncidentTarget,
        ["incident_id", "target_type_id", "damage"],
    ),
    "incidents_publicchange": (
        PublicChange,
        ["at", "incident_id", "code", "action", "version", "public_reason"],
    ),
}


def _range_around(rng: random.Random, best: int) -> tuple[int, int]:
    low = best - rng.randint(0, best // 4) if best > 3 else best
    high = best + (rng.randint(0, best // 3 + 1) if rng.random() < 0.6 else 0)
    return low, high


def _long_tail(rng: random.Random, scale: float) -> int:
    """Deaths per incident: mostly a handful, sometimes hundreds (a Pareto tail)."""
    value = int(scale * (rng.paretovariate(1.15) - 1))
    return min(value, 1500)


def casualty_rows(rng: random.Random, aggregate: bool) -> list[Row]:
    """One incident's CasualtyCount rows, valid under services' rules."""
    r = rng.random()
    if r < 0.08 and not aggregate:
        return []  # the sources say nothing about casualties
    scale = 40 if aggregate else 2.2
    killed = _long_tail(rng, scale)
    rows: list[Row] = []
    if r < 0.14:
        # A source that gives only a total ("at least 20 people were killed").
        low, high = _range_around(rng, killed)
        return [Row("all", "killed", low, high, killed if rng.random() < 0.5 else None)]
    if r < 0.20 and killed:
        # Only a subgroup is counted: the civilians fallback ("at least N") applies.
        low, high = _range_around(rng, max(1, killed // 2))
        return [Row("children", "killed", low, high, None)]
    low, high = _range_around(rng, killed)
    best = killed if rng.random() < 0.7 else None
    rows.append(Row("civilians", "killed", low, high, best))
    if rng.random() < 0.6:
        injured = int(killed * rng.uniform(0.5, 3.0)) + rng.randint(0, 3)
        i_low, i_high = _range_around(rng, injured)
        rows.append(Row("civilians", "injured", i_low, i_high, None))
    if high > 0 and rng.random() < 0.3:
        c_high = rng.randint(0, high)
        c_low = rng.randint(0, c_high)
        rows.append(Row("children", "killed", c_low, c_high, None))
    if high > 0 and rng.random() < 0.04:
        m_high = min(high, rng.randint(1, 4))
        rows.append(
            Row("medical_personnel", "killed", rng.randint(0, m_high), m_high, None)
        )
    if rng.random() < 0.08:
        k = _long_tail(rng, 3)
        k_low, k_high = _range_around(rng, k)
        rows.append(Row("combatants", "killed", k_low, k_high, None))
    return rows


@dataclass
class Chunk:
    start: int
    count: int
    buffers: dict[str, str]
    links: int


class Generator:
    """Turns a seeded random stream into COPY text, one chunk of incidents at a time."""

    def __init__(
        self, ref: Reference, seed: int, codes: dict[int, int], now: dt.datetime
    ):
        self.ref = ref
        self.rng = random.Random(seed)  # noqa: S311 - reproducible fake data
        self.next_number = dict(codes)  # year -> next code number to hand out
        self.now = now
        self.now_text = copy_text(now)
        self.years = list(YEAR_WEIGHTS)
        self.year_cum = _cumulative(list(YEAR_WEIGHTS.values()))
        self.grades = list(GRADING_WEIGHTS)
        self.grade_cum = _cumulative(list(GRADING_WEIGHTS.values()))
        self.tails = {
            table: _table_columns(model, cols)[1]
            for table, (model, cols) in PART_COLUMNS.items()
        }
        self.incident_tail = _table_columns(Incident, INCIDENT_COLUMNS)[1]

    def years_for(self, n: int) -> list[int]:
        return self.rng.choices(self.years, cum_weights=self.year_cum, k=n)

    def place(self):
        rng, ref = self.rng, self.ref
        gov = rng.choices(ref.governorates, cum_weights=ref.gov_weights)[0]
        r = rng.random()
        if r < 0.05 and ref.country is not None:
            return ref.country, "country", None, None
        if r < 0.14:
            return gov, "governorate", gov.latitude, gov.longitude
        if r < 0.25 and ref.districts_by_gov.get(gov.id):
            d = rng.choice(ref.districts_by_gov[gov.id])
            return d, "district", d.latitude, d.longitude
        comms = ref.communities_by_gov.get(gov.id)
        if not comms:
            return gov, "governorate", gov.latitude, gov.longitude
        c = rng.choice(comms)
        p = rng.random()
        if p < 0.25:
            return (
                c,
                "exact",
                round(c.latitude + rng.uniform(-0.01, 0.01), 5),
                round(c.longitude + rng.uniform(-0.01, 0.01), 5),
            )
        if p < 0.5:
            return (
                c,
                "near",
                round(c.latitude + rng.uniform(-0.02, 0.02), 5),
                round(c.longitude + rng.uniform(-0.02, 0.02), 5),
            )
        return c, "community", c.latitude, c.longitude

    def attributions(self) -> list[tuple[ActorInfo, str, str, int | None, str]]:
        rng, ref = self.rng, self.ref
        r = rng.random()
        if r < 0.07:
            return []
        picks: list[ActorInfo] = []

        def pick() -> ActorInfo | None:
            for _ in range(6):
                actor = rng.choices(ref.actors, cum_weights=ref.actor_cum)[0]
                if actor not in picks:
                    picks.append(actor)
                    return actor
            return None

        rows = []
        positions = (
            "no_statement",
            "no_statement",
            "no_statement",
            "denied",
            "unknown",
            "acknowledged",
            "claimed",
        )
        if r < 0.22 and len(ref.actors) >= 2:
            # Competing hypotheses: 2 or 3 numbered alternatives, never confirmed.
            for number in range(1, (3 if rng.random() < 0.2 else 2) + 1):
                for _ in range(2 if rng.random() < 0.15 else 1):
                    actor = pick()
                    if actor is not None:
                        confidence = rng.choice(
                            ("likely", "possible", "possible", "contested")
                        )
                        rows.append(
                            (
                                actor,
                                "perpetrator",
                                confidence,
                                number,
                                rng.choice(positions),
                            )
                        )
            if len({row[3] for row in rows}) < 2:
                rows = [(a, role, conf, None, pos) for a, role, conf, _n, pos in rows]
        else:
            for _ in range(2 if rng.random() < 0.22 else 1):
                actor = pick()
                if actor is not None:
                    confidence = rng.choices(
                        ("confirmed", "likely", "possible", "contested"),
                        cum_weights=(25, 75, 95, 100),
                    )[0]
                    rows.append(
                        (actor, "perpetrator", confidence, None, rng.choice(positions))
                    )
        if rng.random() < 0.05:
            actor = pick()
            if actor is not None:
                role = rng.choice(("associated", "target"))
                rows.append((actor, role, "likely", None, "no_statement"))
        return rows

    def chunk(self, start_id: int, years: list[int]) -> Chunk:
        rng, ref = self.rng, self.ref
        inc, cas, att, cit, wea, tar, chg = [], [], [], [], [], [], []
        links = 0
        tails = self.tails
        now = self.now_text
        for offset, year in enumerate(years):
            incident_id = start_id + offset
            number = self.next_number[year]
            self.next_number[year] = number + 1
            code = f"SY-{year:04d}-{number:05d}"
            day = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))
            pr = rng.random()
            if pr < 0.8:
                precision, end = "day", day
            elif pr < 0.88:
                precision, end = "days", day + dt.timedelta(days=rng.randint(1, 5))
            elif pr < 0.93:
                precision, end = "week", day + dt.timedelta(days=6)
            elif pr < 0.98:
                precision, end = "month", day + dt.timedelta(days=29)
            else:
                precision, end = "year", dt.date(year, 12, 31)
                day = dt.date(year, 1, 1)
            place, geo_precision, lat, lon = self.place()
            aggregate = (
                geo_precision in ("country", "governorate") and rng.random() < 0.04
            )
            itype = rng.choices(ref.types, cum_weights=ref.type_cum)[0]
            rows = casualty_rows(rng, aggregate)
            totals = services.compute_totals(rows)
            attributions = self.attributions()
            grading = rng.choices(self.grades, cum_weights=self.grade_cum)[0]
            published = dt.datetime(
                day.year, day.month, day.day, 12, tzinfo=dt.UTC
            ) + dt.timedelta(days=rng.randint(1, 400), seconds=rng.randrange(86400))
            if published > self.now:
                published = self.now
            published_text = published.isoformat()

            # Text (English and Arabic).
            gov = place.governorate
            where = (
                place.name
                if gov is None or gov is place
                else f"{place.name}, {gov.name}"
            )
            where_ar = (
                place.name_ar
                if gov is None or gov is place
                else f"{place.name_ar}، {gov.name_ar}"
            )
            title = f"{itype.label} in {where}"
            title_ar = f"{itype.label_ar} في {where_ar}"
            killed = totals["civilians_killed_min"]
            perpetrators = [a for a in attributions if a[1] == "perpetrator"]
            if not rows:
                toll, toll_ar = "Casualties were not reported.", "لم يُبلّغ عن الضحايا."
            elif killed is None:
                # Not recorded is not zero: no civilian count, so no claim about them.
                toll, toll_ar = (
                    "Civilian deaths were not recorded.",
                    "لم يُسجَّل عدد القتلى المدنيين.",
                )
            elif totals["civilians_killed_max"] == 0:
                toll, toll_ar = (
                    "No civilian deaths were reported.",
                    "لم يُبلّغ عن قتلى مدنيين.",
                )
            else:
                high = totals["civilians_killed_max"]
                span = (
                    f"{killed}"
                    if high == killed
                    else (
                        f"at least {killed}" if high is None else f"{killed} to {high}"
                    )
                )
                span_ar = (
                    f"{killed}"
                    if high == killed
                    else (
                        f"{killed} على الأقل"
                        if high is None
                        else f"بين {killed} و{high}"
                    )
                )
                toll = f"Sources report {span} civilians killed."
                toll_ar = f"تفيد المصادر بمقتل {span_ar} مدنيين."
            if perpetrators:
                joined = (
                    " or ".join(a[0].name for a in perpetrators)
                    if perpetrators[0][3]
                    else " and ".join(a[0].name for a in perpetrators)
                )
                by = f" Attributed to {joined}."
                by_ar = (
                    " نُسب الهجوم إلى "
                    + " و".join(a[0].names[-1] for a in perpetrators)
                    + "."
                )
            else:
                by, by_ar = " The perpetrator is unknown.", " الجهة المنفذة غير معروفة."
            summary = (
                f"{itype.label} reported in {where} on {day.isoformat()}. {toll}{by}"
            )
            summary_ar = f"{itype.label_ar} في {where_ar} بتاريخ {day.isoformat()}. {toll_ar}{by_ar}"

            # Search names as services._search_names(): places, actors, then aliases.
            names = list(place.names) if place else []
            for a in attributions:
                names += a[0].names
            if place:
                names += place.aliases
            names += sorted({alias for a in attributions for alias in a[0].aliases})
            search_names = " ".join(dict.fromkeys(names))

            t = totals
            inc.append(
                "\t".join(
                    (
                        str(incident_id),
                        code,
                        copy_text(title),
                        copy_text(title_ar),
                        copy_text(summary),
                        copy_text(summary_ar),
                        "",
                        day.isoformat(),
                        end.isoformat(),
                        precision,
                        "unknown",
                        NULL if lat is None else repr(lat),
                        NULL if lon is None else repr(lon),
                        geo_precision,
                        NULL if lat is None else repr(lat),
                        NULL if lon is None else repr(lon),
                        geo_precision,
                        "t",
                        "t" if aggregate else "f",
                        grading,
                        "published",
                        "",
                        published_text,
                        published_text,
                        published_text,
                        published_text,
                        "1",
                        "t" if t["casualties_known"] else "f",
                        *(NULL if t[k] is None else str(t[k]) for k in TOTAL_KEYS[1:]),
                        copy_text(search_names),
                        str(itype.id),
                        NULL if gov is None else str(gov.id),
                        NULL if place is None else str(place.id),
                        NULL if place is None else str(place.id),
                    )
                )
                + self.incident_tail
            )
            for row in rows:
                cas.append(
                    f"{incident_id}\t{row.group}\t{row.outcome}\t{row.min}\t{row.max}\t"
                    f"{NULL if row.best is None else row.best}\t{tails['incidents_casualtycount']}"
                )
            for actor, role, confidence, alternative, position in attributions:
                att.append(
                    f"{incident_id}\t{actor.id}\t{role}\t{confidence}\t"
                    f"{NULL if alternative is None else alternative}\t{position}\t{tails['incidents_attribution']}"
                )
            c = rng.random()
            n_citations = (
                1
                if c < 0.5
                else 2
                if c < 0.85
                else 3
                if c < 0.95
                else rng.randint(4, 5)
            )
            seen = set()
            for _ in range(n_citations):
                source = rng.choices(ref.source_ids, cum_weights=ref.source_cum)[0]
                if source in seen:
                    continue
                seen.add(source)
                supports = (
                    ["occurrence"]
                    if rng.random() < 0.4
                    else rng.sample(CLAIMS, rng.randint(1, 3))
                )
                cit.append(
                    f"{incident_id}\t{source}\t{{{','.join(supports)}}}\t\t{tails['incidents_citation']}"
                )
            links += len(attributions) + len(seen)
            if rng.random() < 0.7:
                prefix = next(
                    (
                        p
                        for p in WEAPONS_BY_TYPE_PREFIX
                        if itype.code.removeprefix(SYN).startswith(p)
                    ),
                    None,
                )
                options = [
                    ref.weapons[c]
                    for c in WEAPONS_BY_TYPE_PREFIX.get(prefix, ())
                    if c in ref.weapons
                ]
                if not options:
                    options = list(ref.weapons.values())
                if options:
                    weapon = rng.choice(options)
                    certainty = rng.choice(
                        ("reported", "reported", "suspected", "confirmed")
                    )
                    wea.append(
                        f"{incident_id}\t{weapon.id}\t{certainty}{tails['incidents_incidentweapon']}"
                    )
            if rng.random() < 0.6 and ref.targets:
                target = rng.choices(ref.targets, cum_weights=ref.target_cum)[0]
                damage = rng.choice(
                    ("destroyed", "damaged", "damaged", "vicinity", "unknown")
                )
                tar.append(
                    f"{incident_id}\t{target.id}\t{damage}{tails['incidents_incidenttarget']}"
                )
            chg.append(
                f"{now}\t{incident_id}\t{code}\tpublished\t1\t{tails['incidents_publicchange']}"
            )
        return Chunk(
            start=start_id,
            count=len(years),
            links=links,
            buffers={
                "incidents_incident": _joined(inc),
                "incidents_casualtycount": _joined(cas),
                "incidents_attribution": _joined(att),
                "incidents_citation": _joined(cit),
                "incidents_incidentweapon": _joined(wea),
                "incidents_incidenttarget": _joined(tar),
                "incidents_publicchange": _joined(chg),
            },
        )


def _joined(lines: list[str]) -> str:
    return "\n".join(lines) + "\n" if lines else ""


# ---------------------------------------------------------------------------------------
# Dropping and rebuilding indexes and constraints
# ---------------------------------------------------------------------------------------


@dataclass
class SavedSchema:
    indexes: list[str] = field(default_factory=list)  # CREATE INDEX statements
    constraints: list[tuple[str, str, str]] = field(
        default_factory=list
    )  # table, name, def


def _drop_secondary(cursor, tables: tuple[str, ...]) -> SavedSchema:
    """Drop every index and constraint that a COPY maintains row by row (all but primary
    keys and CHECK constraints); return what is needed to build them again."""
    saved = SavedSchema()
    for table in tables:
        cursor.execute(
            """
            SELECT conname, pg_get_constraintdef(oid), contype
            FROM pg_constraint
            WHERE conrelid = %s::regclass AND contype IN ('u', 'f', 'x')
            ORDER BY contype DESC, conname
            """,
            [table],
        )
        for name, definition, _kind in cursor.fetchall():
            saved.constraints.append((table, name, definition))
            cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
        cursor.execute(
            """
            SELECT c.relname, pg_get_indexdef(i.indexrelid)
            FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid
            WHERE i.indrelid = %s::regclass AND NOT i.indisprimary
              AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid
                                                          AND k.conrelid = i.indrelid)
            ORDER BY c.relname
            """,
            [table],
        )
        for name, definition in cursor.fetchall():
            saved.indexes.append(definition)
            cursor.execute(f'DROP INDEX "{name}"')
    return saved


def _rebuild(
    cursor, saved: SavedSchema, tick: Callable[[str], None]
) -> dict[str, float]:
    """Build the dropped indexes and constraints again; return seconds per item.

    Unique constraints first (their indexes), then plain indexes, then foreign keys
    (each validated against the whole table in one pass)."""
    unique = [c for c in saved.constraints if not c[2].startswith("FOREIGN KEY")]
    foreign = [c for c in saved.constraints if c[2].startswith("FOREIGN KEY")]
    steps = [
        *[(n, f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}') for t, n, d in unique],
        *[(d.split()[2], d) for d in saved.indexes],
        *[(n, f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}') for t, n, d in foreign],
    ]
    seconds: dict[str, float] = {}
    for name, statement in steps:
        tick(name)
        began = time.monotonic()
        cursor.execute(statement)
        seconds[name] = time.monotonic() - began
    return seconds


# ---------------------------------------------------------------------------------------
# Progress
# ---------------------------------------------------------------------------------------


class Progress:
    """A one-line progress bar on a terminal; occasional plain lines otherwise."""

    def __init__(self, total: int, stream=None, enabled: bool = True):
        self.total = total
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.tty = enabled and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.started = time.monotonic()
        self.last_line = 0.0

    def update(self, done: int, note: str = "") -> None:
        if not self.enabled:
            return
        elapsed = time.monotonic() - self.started
        rate = done / elapsed if elapsed > 0 else 0.0
        left = (self.total - done) / rate if rate else 0
        width = 30
        filled = int(width * done / self.total) if self.total else width
        bar = "#" * filled + "-" * (width - filled)
        text = (
            f"[{bar}] {done:>9,}/{self.total:,} incidents  {rate:>7,.0f}/s  "
            f"ETA {int(left) // 60}:{int(left) % 60:02d} {note}"
        )
        if self.tty:
            self.stream.write("\r" + text[:150].ljust(150))
            self.stream.flush()
        elif time.monotonic() - self.last_line > 10 or done == self.total:
            self.stream.write(text + "\n")
            self.stream.flush()
            self.last_line = time.monotonic()

    def status(self, text: str) -> None:
        """A transient note (terminal only)."""
        if self.tty:
            self.stream.write("\r" + text[:150].ljust(150))
            self.stream.flush()

    def line(self, text: str) -> None:
        if not self.enabled:
            return
        if self.tty:
            self.stream.write("\r" + " " * 150 + "\r")
        self.stream.write(text + "\n")
        self.stream.flush()


# ---------------------------------------------------------------------------------------
# The load
# ---------------------------------------------------------------------------------------


@dataclass
class GenerateResult:
    incidents: int
    links: int
    rows: dict[str, int]
    timings: dict[str, float]
    copy_seconds: dict[str, float]
    rebuild_seconds: dict[str, float]
    reference: dict[str, int]
    first_id: int

    @property
    def seconds(self) -> float:
        return sum(self.timings.values())


def _reserve_codes(cursor, per_year: Counter) -> dict[int, int]:
    """Reserve a block of numbers in each year's counter (the services' upsert), so
    codes stay unique however many incidents are created meanwhile."""
    first: dict[int, int] = {}
    for year, count in sorted(per_year.items()):
        cursor.execute(
            """
            INSERT INTO incidents_incidentcodecounter (year, last_number) VALUES (%s, %s)
            ON CONFLICT (year) DO UPDATE
              SET last_number = incidents_incidentcodecounter.last_number + EXCLUDED.last_number
            RETURNING last_number
            """,
            [year, count],
        )
        first[year] = cursor.fetchone()[0] - count + 1
    return first


def _reserve_ids(cursor, count: int) -> int:
    """Reserve `count` consecutive incident ids. The table is locked (ACCESS EXCLUSIVE)
    by then, so no other session can draw from the sequence in between."""
    cursor.execute("SELECT pg_get_serial_sequence('incidents_incident', 'id')")
    sequence = cursor.fetchone()[0]
    cursor.execute(
        f"SELECT GREATEST((SELECT COALESCE(max(id), 0) FROM incidents_incident),"
        f" (SELECT CASE WHEN is_called THEN last_value ELSE last_value - 1 END FROM {sequence}))"
    )
    last = cursor.fetchone()[0]
    cursor.execute("SELECT setval(%s, %s, true)", [sequence, last + count])
    return last + 1


def synthetic_generate(
    *,
    incidents: int,
    seed: int = 1,
    batch_size: int = 20_000,
    rebuild_indexes: bool = True,
    progress: Progress | None = None,
    analyze: bool = True,
) -> GenerateResult:
    """Generate and load `incidents` synthetic published incidents (see module doc)."""
    progress = progress or Progress(incidents, enabled=False)
    timings: dict[str, float] = {}
    rows: Counter = Counter()
    copy_seconds: Counter = Counter()
    links = 0
    rng = random.Random(seed)  # noqa: S311 - reproducible fake data
    now = timezone.now()
    mark = time.monotonic()
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Lock and silence the audit triggers first (ALTER TABLE: ACCESS EXCLUSIVE
            # until commit), so nothing written below reaches the audit trail.
            for table in REFERENCE_TABLES + LOADED_TABLES:
                cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            cursor.execute("SET LOCAL maintenance_work_mem = '256MB'")
            cursor.execute("SET LOCAL synchronous_commit = off")
        ref = build_reference(rng, incidents)
        generator = Generator(ref, seed, {}, now)
        years = generator.years_for(incidents)
        with connection.cursor() as cursor:
            generator.next_number = _reserve_codes(cursor, Counter(years))
            first_id = _reserve_ids(cursor, incidents)
        timings["reference data"] = time.monotonic() - mark
        progress.line(
            f"Reference data ready in {timings['reference data']:.1f}s "
            f"({len(ref.actors)} actors, {len(ref.source_ids):,} sources, "
            f"{sum(len(v) for v in ref.communities_by_gov.values()):,} communities)."
        )

        mark = time.monotonic()
        with connection.cursor() as cursor:
            # Check the reference rows' deferred foreign keys now: ALTER TABLE refuses
            # to run on a table with pending trigger events.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            saved = _drop_secondary(cursor, LOADED_TABLES) if rebuild_indexes else None
        timings["drop indexes"] = time.monotonic() - mark

        # A producer thread builds the next chunk's text while PostgreSQL ingests the
        # previous one (psycopg2 releases the GIL while it waits on the server).
        chunks: queue.Queue = queue.Queue(maxsize=2)
        failure: list[BaseException] = []

        def produce() -> None:
            try:
                for start in range(0, incidents, batch_size):
                    part = years[start : start + batch_size]
                    chunks.put(generator.chunk(first_id + start, part))
            except BaseException as error:  # handed to the main thread
                failure.append(error)
            finally:
                chunks.put(None)

        mark = time.monotonic()
        producer = threading.Thread(
            target=produce, name="synthetic-producer", daemon=True
        )
        producer.start()
        done = 0
        progress.update(0, "loading")
        columns = {
            "incidents_incident": _table_columns(Incident, INCIDENT_COLUMNS)[0],
            **{
                t: _table_columns(model, cols)[0]
                for t, (model, cols) in PART_COLUMNS.items()
            },
        }
        raw = connection.cursor().cursor
        try:
            while True:
                chunk = chunks.get()
                if chunk is None:
                    break
                for table in LOADED_TABLES:
                    text = chunk.buffers[table]
                    if not text:
                        continue
                    rows[table] += text.count("\n")
                    began = time.monotonic()
                    cols = ", ".join(f'"{c}"' for c in columns[table])
                    raw.copy_expert(
                        f"COPY {table} ({cols}) FROM STDIN",
                        io.BytesIO(text.encode()),
                        size=1 << 20,
                    )
                    copy_seconds[table] += time.monotonic() - began
                done += chunk.count
                links += chunk.links
                progress.update(done, "loading")
        finally:
            producer.join()
        if failure:
            raise failure[0]
        timings["copy"] = time.monotonic() - mark
        progress.line(f"Loaded {done:,} incidents in {timings['copy']:.1f}s.")

        mark = time.monotonic()
        rebuild_seconds: dict[str, float] = {}
        if saved is not None:
            total = len(saved.indexes) + len(saved.constraints)
            built = [0]

            def tick(name: str) -> None:
                built[0] += 1
                progress.status(
                    f"Rebuilding indexes and constraints {built[0]}/{total}: {name}"
                )

            with connection.cursor() as cursor:
                rebuild_seconds = _rebuild(cursor, saved, tick)
        timings["rebuild indexes"] = time.monotonic() - mark
        progress.line(
            f"Indexes and constraints rebuilt in {timings['rebuild indexes']:.1f}s."
        )

        with connection.cursor() as cursor:
            for table in REFERENCE_TABLES + LOADED_TABLES:
                cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        mark = time.monotonic()
    timings["commit"] = time.monotonic() - mark
    if analyze:
        mark = time.monotonic()
        # VACUUM as well where it can run (not inside a transaction): it sets the
        # visibility map, without which the covering indexes of migration 0008 cannot
        # answer index-only (issue 8); autovacuum would get there later.
        tables_analyze(tables=REFERENCE_TABLES + LOADED_TABLES, vacuum=True)
        timings["analyze"] = time.monotonic() - mark
    return GenerateResult(
        incidents=incidents,
        links=links,
        rows=dict(rows),
        timings=timings,
        copy_seconds=dict(copy_seconds),
        rebuild_seconds=rebuild_seconds,
        reference=dict(ref.created),
        first_id=first_id,
    )


def synthetic_delete(*, progress: Progress | None = None) -> dict[str, int]:
    """Remove every synthetic incident with its parts and feed rows, then the `syn-`
    places, actors, sources and codes no real row uses. Not recorded in the audit trail
    (triggers disabled inside the transaction, as for the load); codes stay used."""
    progress = progress or Progress(0, enabled=False)
    deleted: dict[str, int] = {}
    child_tables = (
        "incidents_publicchange",
        "incidents_casualtycount",
        "incidents_attribution",
        "incidents_citation",
        "incidents_incidentweapon",
        "incidents_incidenttarget",
        "incidents_externalref",
        "incidents_victim",
        "incidents_writeconflict",
    )
    with transaction.atomic(), connection.cursor() as cursor:
        for table in ("incidents_incident", *child_tables, *REFERENCE_TABLES):
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        cursor.execute(
            "CREATE TEMPORARY TABLE syn_ids ON COMMIT DROP AS SELECT id FROM incidents_incident WHERE synthetic"
        )
        cursor.execute("CREATE UNIQUE INDEX ON syn_ids (id)")
        cursor.execute("ANALYZE syn_ids")
        for table in child_tables:
            cursor.execute(
                f"DELETE FROM {table} t USING syn_ids s WHERE t.incident_id = s.id"
            )
            deleted[table] = cursor.rowcount
            progress.line(f"  {table}: {cursor.rowcount:,} rows deleted")
        cursor.execute("DELETE FROM incidents_incident WHERE synthetic")
        deleted["incidents_incident"] = cursor.rowcount
        progress.line(f"  incidents_incident: {cursor.rowcount:,} rows deleted")
        unused_source = """
            DELETE FROM incidents_source s WHERE s.title LIKE 'syn-%%'
              AND NOT EXISTS (SELECT 1 FROM incidents_citation c WHERE c.source_id = s.id)
              AND NOT EXISTS (SELECT 1 FROM incidents_actorrelation_citations r WHERE r.source_id = s.id)
        """
        cursor.execute(unused_source)
        deleted["incidents_source"] = cursor.rowcount
        cursor.execute(
            """
            DELETE FROM incidents_actor a WHERE a.slug LIKE 'syn-%%'
              AND NOT EXISTS (SELECT 1 FROM incidents_attribution t WHERE t.actor_id = a.id)
              AND NOT EXISTS (SELECT 1 FROM incidents_actorname n WHERE n.actor_id = a.id)
              AND NOT EXISTS (SELECT 1 FROM incidents_actor c WHERE c.parent_id = a.id OR c.merged_into_id = a.id)
              AND NOT EXISTS (SELECT 1 FROM incidents_actorrelation r WHERE r.from_actor_id = a.id OR r.to_actor_id = a.id)
            """
        )
        deleted["incidents_actor"] = cursor.rowcount
        # Places: communities, then districts, then governorates and the country
        # stand-ins, each level only when nothing real points at it.
        deleted["incidents_location"] = 0
        for level in ("community", "district", "governorate", "country"):
            cursor.execute(
                """
                DELETE FROM incidents_location l WHERE l.slug LIKE 'syn-%%' AND l.level = %s
                  AND NOT EXISTS (SELECT 1 FROM incidents_location c WHERE c.parent_id = l.id OR c.merged_into_id = l.id)
                  AND NOT EXISTS (SELECT 1 FROM incidents_incident i WHERE i.location_id = l.id
                                  OR i.public_location_id = l.id OR i.governorate_id = l.id)
                  AND NOT EXISTS (SELECT 1 FROM incidents_facility f WHERE f.location_id = l.id)
                  AND NOT EXISTS (SELECT 1 FROM incidents_locationname n WHERE n.location_id = l.id)
                """,
                [level],
            )
            deleted["incidents_location"] += cursor.rowcount
        for table, column in (
            ("incidents_incidenttype", "incident_type_id"),
            ("incidents_weapontype", "weapon_id"),
            ("incidents_targettype", "target_type_id"),
        ):
            usage = {
                "incident_type_id": "incidents_incident",
                "weapon_id": "incidents_incidentweapon",
                "target_type_id": "incidents_incidenttarget",
            }[column]
            extra = (
                " AND NOT EXISTS (SELECT 1 FROM incidents_facility f WHERE f.target_type_id = v.id)"
                if column == "target_type_id"
                else ""
            )
            cursor.execute(
                f"""
                DELETE FROM {table} v WHERE v.code LIKE 'syn-%%'
                  AND NOT EXISTS (SELECT 1 FROM {usage} u WHERE u.{column} = v.id)
                  AND NOT EXISTS (SELECT 1 FROM {table} c WHERE c.parent_id = v.id){extra}
                """
            )
            deleted[table] = cursor.rowcount
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        for table in ("incidents_incident", *child_tables, *REFERENCE_TABLES):
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    # A bulk delete leaves statistics as wrong as a bulk load does (issue 12 §9).
    tables_analyze(tables=("incidents_incident", *child_tables, *REFERENCE_TABLES))
    return deleted


def synthetic_exists() -> bool:
    return Incident.objects.filter(synthetic=True).exists()
