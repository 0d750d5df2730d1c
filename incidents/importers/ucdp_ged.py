"""UCDP Georeferenced Event Dataset (`--format ucdp-ged`), 19.1 and 23.1 column sets.

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

DATE_PRECISION = {1: "day", 2: "days", 3: "week", 4: "month", 5: "year"}
GEO_PRECISION = {
    1: "community",
    2: "subdistrict",
    3: "district",
    4: "governorate",
    5: "governorate",
    6: "country",
    7: "country",
}
# The last word of `where_coordinates` says what kind of place it names.
COMMUNITY_WORDS = {"town", "village", "city"}
NEIGHBOURHOOD_WORDS = {"suburb", "quarter", "neighbourhood", "neighborhood"}
SITE_WORDS = {"camp", "airport", "airbase", "base"}
CLASH_TYPES = {1, 2}
ONE_SIDED = 3


def split_side(text: str) -> list[str]:
    """'A, B, C' is several groups fighting together."""
    return [part.strip() for part in (text or "").split(",") if part.strip()]


def named_place(text: str) -> tuple[str, str]:
    """(name, level) of a where_coordinates value, or ('', '') for an area.

    A trailing parenthesis is UCDP's other name for the place ("Al-Rai town (Choban
    Bey)", "Tiyas Military Airbase (T4)"): the kind is read before it, and a community
    is named without it; a site keeps its whole text, the way people name it."""
    full = " ".join((text or "").split())
    words = re.sub(r"\s*\([^()]*\)$", "", full).split()
    if len(words) < 2:
        return "", ""
    last = words[-1].lower()
    if last in COMMUNITY_WORDS:
        return " ".join(words[:-1]), "community"
    if last in NEIGHBOURHOOD_WORDS:
        return " ".join(words[:-1]), "neighbourhood"
    if last in SITE_WORDS:
        return full, "site"
    return "", ""


class UcdpGedImporter(BaseImporter):
    format = "ucdp-ged"
    system = "ucdp_ged"
    id_column = "id"
    type_column = "type_of_violence"
    title = "UCDP Georeferenced Event Dataset (GED)"
    publisher = "Uppsala Conflict Data Program (UCDP)"
    licence = "CC BY 4.0"
    url = "https://ucdp.uu.se/downloads/"
    required_columns = (
        "id",
        "type_of_violence",
        "side_a",
        "side_b",
        "where_prec",
        "where_coordinates",
        "adm_1",
        "adm_2",
        "latitude",
        "longitude",
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
    )

    def map_row(self, row, line, batch) -> MappedRow:
        warnings: list[str] = []
        event_id = (row.get("id") or "").strip()
        if not event_id:
            raise RowRejected("id", "UCDP's event id is required")
        violence = parse_int(row.get("type_of_violence"), "type_of_violence")
        if violence not in (1, 2, 3):
            raise RowRejected(
                "type_of_violence", f"{violence} is not 1, 2 or 3 (UCDP's codes)"
            )
        date_start = parse_date(row.get("date_start"), "date_start")
        date_end = parse_date(row.get("date_end"), "date_end")
        if date_end < date_start:
            raise RowRejected(
                "date_end", f"{date_end} is before date_start {date_start}"
            )
        date_prec = parse_int(row.get("date_prec"), "date_prec")
        if date_prec not in DATE_PRECISION:
            raise RowRejected("date_prec", f"{date_prec} is not one of 1–5")
        where_prec = parse_int(row.get("where_prec"), "where_prec")
        if where_prec not in GEO_PRECISION:
            raise RowRejected("where_prec", f"{where_prec} is not one of 1–7")
        latitude = parse_float(row.get("latitude"), "latitude")
        longitude = parse_float(row.get("longitude"), "longitude")
        if (latitude is None) != (longitude is None):
            raise RowRejected(
                "latitude", "give both latitude and longitude, or neither"
            )
        if latitude is not None and not -90 <= latitude <= 90:
            raise RowRejected("latitude", f"{latitude} is outside −90..90")
        if longitude is not None and not -180 <= longitude <= 180:
            raise RowRejected("longitude", f"{longitude} is outside −180..180")
        clarity = parse_int(row.get("event_clarity"), "event_clarity", allow_empty=True)

        low = parse_int(row.get("low"), "low")
        best = parse_int(row.get("best"), "best")
        high = parse_int(row.get("high"), "high")
        least, greatest = min(low, best, high), max(low, best, high)
        if not low <= best <= high:
            problems = []
            if low > best:
                problems.append(f"low {low} above best {best}")
            if best > high:
                problems.append(f"best {best} above high {high}")
            if low > high and not problems:
                problems.append(f"low {low} above high {high}")
            warnings.append(
                f"{' and '.join(problems)}: range {least}–{greatest}, best {best}"
            )
        casualties = [
            CasualtyRowData(
                group="all", outcome="killed", min=least, max=greatest, best=best
            )
        ]
        civilians = parse_int(row.get("deaths_civilians"), "deaths_civilians")
        side_a_deaths = parse_int(row.get("deaths_a"), "deaths_a")
        side_b_deaths = parse_int(row.get("deaths_b"), "deaths_b")
        unknown = parse_int(row.get("deaths_unknown"), "deaths_unknown")
        for group, value in (
            ("civilians", civilians),
            ("combatants", side_a_deaths + side_b_deaths),
            ("unknown_status", unknown),
        ):
            casualties.append(
                CasualtyRowData(
                    group=group, outcome="killed", min=value, max=value, best=value
                )
            )
        status_sum = civilians + side_a_deaths + side_b_deaths + unknown
        if status_sum > greatest:
            raise RowRejected(
                "deaths_civilians",
                f"deaths by status add up to {status_sum}, more than the highest "
                f"estimate {greatest}",
            )

        side_a = (row.get("side_a") or "").strip()
        side_b = (row.get("side_b") or "").strip()
        perpetrators: list[tuple[str, int | None]] = []
        if violence in CLASH_TYPES:
            incident_type = "armed-clash"
            perpetrators += [(name, 1) for name in split_side(side_a)]
            perpetrators += [(name, 2) for name in split_side(side_b)]
            kind = f"Clash between {side_a or 'unknown'} and {side_b or 'unknown'}"
        else:
            incident_type = "violence-against-civilians"
            perpetrators += [(name, None) for name in split_side(side_a)]
            kind = f"Violence against civilians by {side_a or 'an unknown actor'}"

        where = (row.get("where_coordinates") or "").strip()
        place = PlaceSpec(
            governorate=(row.get("adm_1") or "").strip(),
            district=(row.get("adm_2") or "").strip(),
        )
        if where_prec in (1, 2):
            name, level = named_place(where)
            if name:
                place.named, place.named_level = name, level
                if where_prec == 1:
                    place.named_latitude, place.named_longitude = latitude, longitude
        elif where_prec == 3 and not place.district and where:
            place.district = where
        elif where_prec == 4 and not place.governorate and where:
            place.governorate = where

        headline = (row.get("source_headline") or "").strip()
        article = (row.get("source_article") or "").strip()
        excerpt = "\n".join(part for part in (headline, article) if part)
        title = f"{kind}, {where or place.governorate or 'Syria'}"
        summary = (
            f"UCDP GED event {event_id}"
            + (
                f" ({row.get('conflict_name', '').strip()}"
                if row.get("conflict_name")
                else ""
            )
            + (
                f"; {row.get('dyad_name', '').strip()})"
                if row.get("dyad_name")
                else (")" if row.get("conflict_name") else "")
            )
            + f". Deaths: best estimate {best}, low {low}, high {high}."
        )
        return MappedRow(
            line=line,
            value=event_id,
            raw=dict(row),
            fields={
                "title": title[:500],
                "summary": summary,
                "date_start": date_start,
                "date_end": date_end,
                "date_precision": DATE_PRECISION[date_prec],
                "latitude": latitude,
                "longitude": longitude,
                "geo_precision": GEO_PRECISION[where_prec],
                "aggregate": clarity == 2,
            },
            incident_type=incident_type,
            place=place,
            casualties=casualties,
            perpetrators=perpetrators,
            confidence="likely",
            excerpt=excerpt,
            supports=["occurrence", "date", "location", "casualties", "attribution"],
            locator=f"event {event_id}",
            warnings=warnings,
        )
