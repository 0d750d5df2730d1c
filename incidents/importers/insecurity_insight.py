"""Insecurity Insight, attacks on health care (`--format insecurity-insight`).

The mapping is IMPORTS.md's table; the methodology page shows the same table.
"""

from __future__ import annotations

import re

from incidents.importers.base import (
    BaseImporter,
    MappedRow,
    PlaceSpec,
    RowRejected,
    parse_date,
    parse_float,
    parse_int,
)
from incidents.services import CasualtyRowData

SITE_TARGETS = {
    "Health Building": "health-facility",
    "Road": "road-or-bridge",
    "IDP/Refugee Camp": "idp-camp",
    "Home": "residential",
    "School": "school",
    "Compound/Office Building": "government-building",
    "Administration": "government-building",
    "Public Building": "government-building",
    "Police Station": "government-building",
    "Project Site": "other",
    "Warehouse": "other",
    "Communication": "other",
    "Airstrip": "other",
    "Checkpoint": "other",
    "Open Space": "other",
    "Other": "other",
    "No Information": "unknown",
}
WEAPONS = {
    "Aerial Bomb: Plane": "explosive",
    "Aerial Bomb: Drone": "explosive",
    "Aerial Bomb: No Information on Platform Type": "explosive",
    "Aerial Bomb: Missile": "missile",
    "Missile": "missile",
    "Rocket": "rocket",
    "Shelling": "artillery",
    "Artillery": "artillery",
    "Mortar": "mortar",
    "Cluster Bomb": "cluster-munition",
    "VBIED": "vbied",
    "SVIED": "vbied",
    "Unspecified IED": "ied",
    "RCIED": "ied",
    "Mine": "landmine",
    "Firearms": "small-arms",
    "Hand Grenade": "explosive",
    "Unspecified Explosive": "explosive",
    "RPG": "explosive",
    "Knife": "bladed",
    "Arson": "arson",
}
NO_WEAPON_PREFIXES = (
    "No Information",
    "Not Applicable",
    "Unarmed Perpetrator",
    "Fist and Foot",
    "Stones",
    "Sticks and Gravel",  # the rest of "Stones, Sticks and Gravel"
)
# Incident type (IMPORTS.md, corrected 2026-12-07): an explosive weapon outranks every
# event column, so a convoy bombed from the air stays an airstrike even when lootings are
# also recorded; the event columns outrank the remaining weapons. Step (1):
EXPLOSIVE_INCIDENT_TYPES = {
    "Aerial Bomb: Plane": "airstrike-fixed-wing",
    "Aerial Bomb: No Information on Platform Type": "airstrike",
    "Aerial Bomb: Drone": "drone-strike",
    "Aerial Bomb: Missile": "shelling",
    "Missile": "shelling",
    "Rocket": "shelling",
    "Shelling": "shelling",
    "Artillery": "shelling",
    "Mortar": "shelling",
    "RPG": "shelling",
    "Cluster Bomb": "airstrike",
    "VBIED": "suicide-or-vehicle-bomb",
    "SVIED": "suicide-or-vehicle-bomb",
    "Unspecified IED": "ied-or-landmine",
    "RCIED": "ied-or-landmine",
    "Mine": "ied-or-landmine",
}
# Step (3), after the event columns: firearms, grenades, arson. Any other weapon
# ("Unspecified Explosive", "Knife") gives no type of its own: step (4), `other`.
OTHER_WEAPON_INCIDENT_TYPES = {
    "Firearms": "shooting",
    "Hand Grenade": "shooting",
    "Arson": "looting-or-destruction",
}
WEAPON_INCIDENT_TYPES = {**EXPLOSIVE_INCIDENT_TYPES, **OTHER_WEAPON_INCIDENT_TYPES}
GEO_PRECISION = {
    "2": "subdistrict",
    "3": "district",
    "4": "governorate",
    "5": "governorate",
    "6": "country",
}
HEALTH_WORKERS = (
    ("Health Workers Killed", "killed"),
    ("Health Workers Injured", "injured"),
    ("Health Workers Kidnapped", "abducted"),
    ("Health Workers Arrested", "detained"),
)
FACILITY_DESTROYED = "Number of Attacks on Health Facilities Reporting Destruction"
FACILITY_DAMAGED = "Number of Attacks on Health Facilities Reporting Damaged"
TRANSPORT_DESTROYED = "Health Transportation Destroyed"
TRANSPORT_DAMAGED = "Health Transportation Damaged"
TRANSPORT_STOLEN = "Health Transportation Stolen/Hijacked"
LOOTING = "Looting/Theft/Robbery/Burglary of Health Supplies"
FORCEFUL_ENTRY = "Forceful Entry into Health Facility"
OCCUPATION = "Occupation of Health Facility"
PERPETRATOR = "Reported Perpetrator Name"
SITE = "Location "


def split_weapons(text: str) -> tuple[list[str], list[str]]:
    """(mapped weapon names in order, unmapped names)."""
    known, unknown = [], []
    for part in (text or "").split(","):
        part = part.strip()
        if not part or part.startswith(NO_WEAPON_PREFIXES):
            continue
        if part in WEAPONS:
            known.append(part)
        else:
            unknown.append(part)
    return known, unknown


def parse_perpetrators(text: str) -> list[tuple[str, int | None]]:
    """'A or B' → hypotheses A 1, B 2 (in 'X or Y Forces' the noun belongs to both);
    'A, B' → joint, unnumbered; 'No Information' → nobody."""
    text = " ".join((text or "").split())
    if not text or text.lower() == "no information":
        return []
    alternatives = [a.strip() for a in re.split(r"\s+or\s+", text) if a.strip()]
    if len(alternatives) > 1:
        last_words = alternatives[-1].split()
        if len(last_words) > 1:
            noun = last_words[-1]
            alternatives = [
                f"{a} {noun}" if len(a.split()) == 1 else a for a in alternatives[:-1]
            ] + [alternatives[-1]]
        result = []
        for number, alternative in enumerate(alternatives, start=1):
            result += [
                (name.strip(), number)
                for name in alternative.split(",")
                if name.strip()
            ]
        return result
    return [(name.strip(), None) for name in text.split(",") if name.strip()]


def incident_type_of(
    *,
    weapon_names: list[str],
    workers: dict[str, int | None],
    counts: dict[str, int | None],
) -> str:
    """IMPORTS.md's precedence: (1) the first explosive weapon listed; (2) the event
    columns (kidnapped, arrested, occupation or forceful entry, looting); (3) the first
    of the remaining weapons; (4) `other`. An explosive weapon comes first because it is
    what harmed people: the lootings recorded beside an air strike do not make it a
    looting (the UN convoy, 19 September 2016)."""
    for name in weapon_names:
        if name in EXPLOSIVE_INCIDENT_TYPES:
            return EXPLOSIVE_INCIDENT_TYPES[name]
    if (workers.get("abducted") or 0) > 0:
        return "abduction-or-disappearance"
    if (workers.get("detained") or 0) > 0:
        return "arbitrary-detention"
    if (counts.get(OCCUPATION) or 0) > 0 or (counts.get(FORCEFUL_ENTRY) or 0) > 0:
        return "militarization-of-civilian-object"
    if (counts.get(LOOTING) or 0) > 0:
        return "looting-or-destruction"
    for name in weapon_names:
        if name in OTHER_WEAPON_INCIDENT_TYPES:
            return OTHER_WEAPON_INCIDENT_TYPES[name]
    return "other"


class InsecurityInsightImporter(BaseImporter):
    format = "insecurity-insight"
    system = "insecurity_insight"
    id_column = "SiND Event ID"
    type_column = "Weapon Carried/Used"
    title = "Insecurity Insight, Attacks on Health Care Incident Data"
    publisher = "Insecurity Insight"
    licence = "CC BY-SA 4.0"
    url = "https://data.humdata.org/organization/insecurity-insight"
    required_columns = (
        "Date",
        "Event Description",
        "Admin 1",
        "Latitude",
        "Longitude",
        "Geo Precision",
        "Reported Perpetrator",
        PERPETRATOR,
        "Weapon Carried/Used",
        SITE,
        FACILITY_DESTROYED,
        FACILITY_DAMAGED,
        TRANSPORT_DESTROYED,
        TRANSPORT_DAMAGED,
        TRANSPORT_STOLEN,
        LOOTING,
        FORCEFUL_ENTRY,
        OCCUPATION,
        "Health Workers Killed",
        "Health Workers Injured",
        "Health Workers Kidnapped",
        "Health Workers Arrested",
        "SiND Event ID",
    )

    def data_records(self, records):
        # Line 2 is an HXL hashtag row (#date, #country +name, …).
        return (
            r for r in records if not (r.row.get("Date") or "").strip().startswith("#")
        )

    def check_header(self, header):
        if "Location" in header and SITE not in header:
            header = [SITE if h == "Location" else h for h in header]
        super().check_header(header)

    def map_row(self, row, line, batch) -> MappedRow:
        if SITE not in row and "Location" in row:
            row = {(SITE if k == "Location" else k): v for k, v in row.items()}
        warnings: list[str] = []
        event_id = (row.get("SiND Event ID") or "").strip()
        if not event_id:
            raise RowRejected("SiND Event ID", "the event id is required")
        day = parse_date(row.get("Date"), "Date")
        latitude = parse_float(row.get("Latitude"), "Latitude")
        longitude = parse_float(row.get("Longitude"), "Longitude")
        if (latitude is None) != (longitude is None):
            raise RowRejected(
                "Latitude", "give both latitude and longitude, or neither"
            )
        if latitude is not None and not -90 <= latitude <= 90:
            raise RowRejected("Latitude", f"{latitude} is outside −90..90")
        if longitude is not None and not -180 <= longitude <= 180:
            raise RowRejected("Longitude", f"{longitude} is outside −180..180")
        precision_text = (row.get("Geo Precision") or "").strip()
        match = re.match(r"\((\d)\)", precision_text)
        if match and match.group(1) in GEO_PRECISION:
            geo_precision = GEO_PRECISION[match.group(1)]
        elif not precision_text:
            geo_precision = "governorate"
            warnings.append("no Geo Precision: recorded as governorate")
        else:
            raise RowRejected(
                "Geo Precision",
                f"'{precision_text}' is not one of (2) 25 km, (3) District, "
                "(4) Province, (5) Linear, (6) Country",
            )
        admin1 = (row.get("Admin 1") or "").strip()
        place = PlaceSpec(governorate=admin1)
        if not admin1 or admin1.lower() == "no information":
            place = PlaceSpec(country_only=True)

        counts = {
            column: parse_int(row.get(column), column, allow_empty=True)
            for column in (
                FACILITY_DESTROYED,
                FACILITY_DAMAGED,
                TRANSPORT_DESTROYED,
                TRANSPORT_DAMAGED,
                TRANSPORT_STOLEN,
                LOOTING,
                FORCEFUL_ENTRY,
                OCCUPATION,
            )
        }
        casualties = []
        workers = {}
        for column, outcome in HEALTH_WORKERS:
            value = parse_int(row.get(column), column, allow_empty=True)
            workers[outcome] = value
            if value is not None:  # an empty cell is no row, a 0 is a real zero
                casualties.append(
                    CasualtyRowData(
                        group="medical_personnel",
                        outcome=outcome,
                        min=value,
                        max=value,
                        best=value,
                    )
                )

        weapon_text = row.get("Weapon Carried/Used") or ""
        weapon_names, unmapped = split_weapons(weapon_text)
        for name in unmapped:
            warnings.append(f"weapon '{name}' has no mapping: left out")
        weapons = [WEAPONS[name] for name in weapon_names]

        incident_type = incident_type_of(
            weapon_names=weapon_names, workers=workers, counts=counts
        )

        site = " ".join((row.get(SITE) or "").split())
        if site and site not in SITE_TARGETS:
            warnings.append(f"site type '{site}' has no mapping: recorded as other")
        site_target = SITE_TARGETS.get(site, "other" if site else "unknown")
        if (counts[FACILITY_DESTROYED] or 0) > 0:
            facility_damage = "destroyed"
        elif (counts[FACILITY_DAMAGED] or 0) > 0:
            facility_damage = "damaged"
        else:
            facility_damage = "unknown"
        targets: list[tuple[str, str]] = []
        if site_target == "health-facility":
            targets.append(("health-facility", facility_damage))
        else:
            targets.append((site_target, "unknown"))
            if facility_damage != "unknown":
                targets.append(("health-facility", facility_damage))
        transport = (
            "destroyed"
            if (counts[TRANSPORT_DESTROYED] or 0) > 0
            else "damaged"
            if (counts[TRANSPORT_DAMAGED] or 0) > 0
            else "unknown"
            if (counts[TRANSPORT_STOLEN] or 0) > 0
            else None
        )
        if transport is not None:
            targets.append(("ambulance", transport))

        description = (row.get("Event Description") or "").strip()
        type_label = incident_type.replace("-", " ")
        where = admin1 if place.governorate else "Syria"
        title = f"Attack on health care ({type_label}), {where}, {day.isoformat()}"
        return MappedRow(
            line=line,
            value=event_id,
            raw=dict(row),
            fields={
                "title": title[:500],
                "summary": description,
                "date_start": day,
                "date_end": day,
                "date_precision": "day",
                "latitude": latitude,
                "longitude": longitude,
                "geo_precision": geo_precision,
                "aggregate": False,
            },
            incident_type=incident_type,
            place=place,
            casualties=casualties,
            perpetrators=parse_perpetrators(row.get(PERPETRATOR) or ""),
            confidence="likely",
            weapons=weapons,
            targets=targets,
            excerpt=description,
            supports=[
                "occurrence",
                "date",
                "location",
                "casualties",
                "attribution",
                "weapon",
                "target",
            ],
            locator=f"SiND event {event_id}",
            warnings=warnings,
        )
