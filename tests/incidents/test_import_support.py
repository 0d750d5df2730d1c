"""Helpers for the importer tests: small CSV files in each format's column layout."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

from incidents.importers.base import batch_create, run_batch

UCDP_191_COLUMNS = [
    "id",
    "year",
    "active_year",
    "type_of_violence",
    "conflict_new_id",
    "conflict_name",
    "dyad_new_id",
    "dyad_name",
    "side_a_new_id",
    "side_a",
    "side_b_new_id",
    "gwnob",
    "side_b",
    "number_of_sources",
    "source_article",
    "source_office",
    "source_date",
    "source_headline",
    "source_original",
    "where_prec",
    "where_coordinates",
    "adm_1",
    "adm_2",
    "latitude",
    "longitude",
    "geom_wkt",
    "priogrid_gid",
    "country",
    "country_id",
    "region",
    "event_clarity",
    "date_prec",
    "date_start",
    "date_end",
    "deaths_a",
    "deaths_b",
    "deaths_civilians",
    "deaths_unknown",
    "low",
    "best",
    "high",
]
UCDP_231_COLUMNS = [
    "id",
    "relid",
    "year",
    "active_year",
    "code_status",
    "type_of_violence",
    "conflict_dset_id",
    "conflict_new_id",
    "conflict_name",
    "dyad_dset_id",
    "dyad_new_id",
    "dyad_name",
    "side_a_dset_id",
    "side_a_new_id",
    "side_a",
    "side_b_dset_id",
    "side_b_new_id",
    "side_b",
    "number_of_sources",
    "source_article",
    "source_office",
    "source_date",
    "source_headline",
    "source_original",
    "where_prec",
    "where_coordinates",
    "where_description",
    "adm_1",
    "adm_2",
    "latitude",
    "longitude",
    "geom_wkt",
    "priogrid_gid",
    "country",
    "country_id",
    "region",
    "event_clarity",
    "date_prec",
    "date_start",
    "date_end",
    "deaths_a",
    "deaths_b",
    "deaths_civilians",
    "deaths_unknown",
    "best",
    "high",
    "low",
    "gwnoa",
    "gwnob",
]


def ucdp_row(**values) -> dict[str, str]:
    row = {
        "id": "1001",
        "year": "2016",
        "type_of_violence": "1",
        "conflict_name": "Syria: Government",
        "dyad_name": "Government of Syria - Syrian insurgents",
        "side_a": "Government of Syria",
        "side_b": "Syrian insurgents",
        "source_article": '"SOHR,2016-01-02,Shelling on the town"',
        "source_headline": "Shelling on the town",
        "where_prec": "1",
        "where_coordinates": "Teir Maaleh village",
        "adm_1": "Homs Governorate",
        "adm_2": "Ar Rastan district",
        "latitude": "34.802462",
        "longitude": "36.707602",
        "country": "Syria",
        "event_clarity": "1",
        "date_prec": "1",
        "date_start": "2016-01-02",
        "date_end": "2016-01-02",
        "deaths_a": "2",
        "deaths_b": "1",
        "deaths_civilians": "1",
        "deaths_unknown": "0",
        "low": "4",
        "best": "4",
        "high": "5",
    }
    row.update({k: str(v) for k, v in values.items()})
    return row


II_COLUMNS = [
    "Date",
    "Event Description",
    "Country",
    "Country ISO",
    "Admin 1",
    "Latitude",
    "Longitude",
    "Geo Precision",
    "Reported Perpetrator",
    "Reported Perpetrator Name",
    "Weapon Carried/Used",
    "Location ",
    "Number of Attacks on Health Facilities Reporting Destruction",
    "Number of Attacks on Health Facilities Reporting Damaged",
    "Forceful Entry into Health Facility",
    "Occupation of Health Facility",
    "Health Transportation Destroyed",
    "Health Transportation Damaged",
    "Health Transportation Stolen/Hijacked",
    "Looting/Theft/Robbery/Burglary of Health Supplies",
    "Access Denied or Obstructed",
    "Health Workers Killed",
    "Health Workers Injured",
    "Health Workers Kidnapped",
    "Health Workers Arrested",
    "Known Kidnapping or Arrest Outcome",
    "Health Workers Threatened",
    "Health Workers Assaulted",
    "Health Workers Sexually Assaulted",
    "Conflict-Related Violence",
    "Political-Related Violence",
    "COVID-19-Related Violence",
    "Ebola-Related Violence",
    "Vaccination-Related Violence",
    "SiND Event ID",
]
II_HXL = {
    "Date": "#date",
    "Country": "#country +name",
    "Admin 1": "#admin1",
    "Reported Perpetrator Name": "#group +perp +name",
}


def ii_row(**values) -> dict[str, str]:
    row = dict.fromkeys(II_COLUMNS[12:25], "0")
    row.update(
        {
            "Date": "2016-02-15",
            "Event Description": "A hospital was hit by an air strike.",
            "Country": "Syria",
            "Country ISO": "SYR",
            "Admin 1": "Idlib Governorate",
            "Latitude": "35.93",
            "Longitude": "36.63",
            "Geo Precision": "(2) 25 km Precision ",
            "Reported Perpetrator": "Armed Forces of Government/Self-Declared Government",
            "Reported Perpetrator Name": "Syrian Armed Forces",
            "Weapon Carried/Used": "Aerial Bomb: Plane",
            "Location ": "Health Building",
            "Access Denied or Obstructed": "FALSE",
            "Known Kidnapping or Arrest Outcome": "",
            "SiND Event ID": "50001",
        }
    )
    row.update({k: str(v) for k, v in values.items()})
    return row


ACLED_COLUMNS = [
    "event_id_cnty",
    "event_date",
    "year",
    "time_precision",
    "disorder_type",
    "event_type",
    "sub_event_type",
    "actor1",
    "assoc_actor_1",
    "inter1",
    "actor2",
    "assoc_actor_2",
    "inter2",
    "interaction",
    "civilian_targeting",
    "iso",
    "region",
    "country",
    "admin1",
    "admin2",
    "admin3",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "source",
    "source_scale",
    "notes",
    "fatalities",
    "tags",
    "timestamp",
]


def acled_row(**values) -> dict[str, str]:
    row = {
        "event_id_cnty": "SYR100001",
        "event_date": "2020-02-03",
        "year": "2020",
        "time_precision": "1",
        "event_type": "Explosions/Remote violence",
        "sub_event_type": "Air/drone strike",
        "actor1": "Military Forces of Russia (2000-)",
        "assoc_actor_1": "",
        "actor2": "Civilians (Syria)",
        "civilian_targeting": "Civilian targeting",
        "country": "Syria",
        "admin1": "Idleb",
        "admin2": "Ariha",
        "admin3": "Ariha",
        "location": "Ariha",
        "latitude": "35.8126",
        "longitude": "36.6098",
        "geo_precision": "1",
        "source": "SOHR",
        "notes": "On 3 February 2020, Russian warplanes struck Ariha, killing 5 civilians.",
        "fatalities": "5",
        "timestamp": "1581000000",
    }
    row.update({k: str(v) for k, v in values.items()})
    return row


def write_csv(path: Path, columns: list[str], rows: list[dict[str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({c: row.get(c, "") for c in columns})
    return path


def run(format: str, path: Path, **options):
    """Create and run a batch (as the command does) and return it."""
    options.setdefault("release", "r1" if format != "civtrack" else "")
    if options["release"]:
        options.setdefault("release_date", dt.date(2020, 1, 1))
    batch = batch_create(format=format, file_name=path.name, **options)
    run_batch(batch, path)
    batch.refresh_from_db()
    return batch


def rows_of(batch, action: str) -> list[dict]:
    return [entry for entry in batch.report if entry["action"] == action]
