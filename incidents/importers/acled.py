"""ACLED's public export (`--format acled`). No ACLED data ships with CivTrack (its
licence forbids redistribution); the tests write a small file in ACLED's layout."""

from __future__ import annotations

import calendar
from datetime import UTC, date, datetime, timedelta

from incidents.importers.base import (
    BaseImporter,
    MappedRow,
    PlaceSpec,
    RowRejected,
    parse_date,
    parse_float,
    parse_int,
)
from incidents.models import IncidentType
from incidents.services import CasualtyRowData

DATE_PRECISION = {1: "day", 2: "week", 3: "month"}
# Days either side of ACLED's coded date for `time_precision` 2 ("the week is known": ACLED
# codes a day inside that week), so the window says a week, not a day.
WEEK_HALF = 3
GEO_PRECISION = {1: "community", 2: "district", 3: "governorate"}
DATE_FORMATS = ("%Y-%m-%d", "%d %B %Y", "%d-%B-%Y", "%d/%m/%Y")
VIOLENCE_AGAINST_CIVILIANS = "Violence against civilians"


def date_window(day: date, time_precision: int) -> tuple[date, date]:
    """The window ACLED's date stands for (DOMAIN.md: `date_start` = `date_end` only for
    a known day): the day itself at precision 1, the week around it at 2, its whole
    month at 3. A single day would state a certainty ACLED does not claim."""
    if time_precision == 2:
        return day - timedelta(days=WEEK_HALF), day + timedelta(days=WEEK_HALF)
    if time_precision == 3:
        last = calendar.monthrange(day.year, day.month)[1]
        return day.replace(day=1), day.replace(day=last)
    return day, day


def split_assoc(text: str) -> list[str]:
    return [p.strip() for p in (text or "").split(";") if p.strip()]


def is_civilians(name: str) -> bool:
    return name.lower().startswith("civilians")


class AcledImporter(BaseImporter):
    format = "acled"
    system = "acled"
    id_column = "event_id_cnty"
    type_column = "sub_event_type"
    title = "Armed Conflict Location & Event Data (ACLED)"
    publisher = "ACLED"
    licence = "ACLED terms of use (no redistribution)"
    url = "https://acleddata.com/"
    required_columns = (
        "event_id_cnty",
        "event_date",
        "time_precision",
        "event_type",
        "sub_event_type",
        "actor1",
        "assoc_actor_1",
        "actor2",
        "assoc_actor_2",
        "admin1",
        "admin2",
        "location",
        "latitude",
        "longitude",
        "geo_precision",
        "source",
        "notes",
        "fatalities",
        "timestamp",
    )

    def __init__(self):
        self._types: dict[str, str] | None = None

    def release_from_file(self, records):
        """The release is the file's latest `timestamp`."""
        stamps = []
        for record in records:
            text = (record.row.get("timestamp") or "").strip()
            if text.isdigit():
                stamps.append(int(text))
        if not stamps:
            return "", None
        latest = max(stamps)
        moment = datetime.fromtimestamp(latest, tz=UTC)
        return str(latest), moment.date()

    def sub_event_types(self) -> dict[str, str]:
        if self._types is None:
            self._types = {}
            for code, values in IncidentType.objects.exclude(
                acled_sub_event_type=""
            ).values_list("code", "acled_sub_event_type"):
                for value in values.split(";"):
                    if value.strip():
                        self._types.setdefault(value.strip().lower(), code)
        return self._types

    def map_row(self, row, line, batch) -> MappedRow:
        warnings: list[str] = []
        event_id = (row.get("event_id_cnty") or "").strip()
        if not event_id:
            raise RowRejected("event_id_cnty", "ACLED's event id is required")
        day = parse_date(row.get("event_date"), "event_date", formats=DATE_FORMATS)
        time_precision = parse_int(row.get("time_precision"), "time_precision")
        if time_precision not in DATE_PRECISION:
            raise RowRejected("time_precision", f"{time_precision} is not 1, 2 or 3")
        date_start, date_end = date_window(day, time_precision)
        geo = parse_int(row.get("geo_precision"), "geo_precision")
        if geo not in GEO_PRECISION:
            raise RowRejected("geo_precision", f"{geo} is not 1, 2 or 3")
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
        fatalities = parse_int(row.get("fatalities"), "fatalities")

        sub_event = (row.get("sub_event_type") or "").strip()
        event_type = (row.get("event_type") or "").strip()
        incident_type = self.sub_event_types().get(sub_event.lower())
        if incident_type is None:
            incident_type = "other"
            warnings.append(
                f"sub_event_type '{sub_event}' has no incident type: recorded as other"
            )

        actor1 = [
            (row.get("actor1") or "").strip(),
            *split_assoc(row.get("assoc_actor_1")),
        ]
        actor2 = [
            (row.get("actor2") or "").strip(),
            *split_assoc(row.get("assoc_actor_2")),
        ]
        actor1 = [a for a in actor1 if a and not is_civilians(a)]
        actor2 = [a for a in actor2 if a and not is_civilians(a)]
        targeting = (row.get("civilian_targeting") or "").strip()
        if targeting or event_type == VIOLENCE_AGAINST_CIVILIANS or not actor2:
            perpetrators = [(name, None) for name in actor1]
        else:
            perpetrators = [(name, 1) for name in actor1] + [
                (name, 2) for name in actor2
            ]

        location = (row.get("location") or "").strip()
        # At geo_precision 3 ACLED knows only the region and codes the coordinates of
        # its capital: admin2 is that capital's district, not the event's.
        place = PlaceSpec(
            governorate=(row.get("admin1") or "").strip(),
            district=(row.get("admin2") or "").strip() if geo < 3 else "",
        )
        if geo == 1 and location:
            place.named, place.named_level = location, "community"
            place.named_latitude, place.named_longitude = latitude, longitude
        notes = (row.get("notes") or "").strip()
        source = (row.get("source") or "").strip()
        title = f"{sub_event or event_type or 'Event'} in {location or place.governorate or 'Syria'}"
        return MappedRow(
            line=line,
            value=event_id,
            raw=dict(row),
            fields={
                "title": title[:500],
                "summary": notes,
                "date_start": date_start,
                "date_end": date_end,
                "date_precision": DATE_PRECISION[time_precision],
                "latitude": latitude,
                "longitude": longitude,
                "geo_precision": GEO_PRECISION[geo],
                "aggregate": False,
            },
            incident_type=incident_type,
            place=place,
            casualties=[
                CasualtyRowData(
                    group="all",
                    outcome="killed",
                    min=fatalities,
                    max=fatalities,
                    best=fatalities,
                )
            ],
            perpetrators=perpetrators,
            excerpt="\n".join(
                p for p in (notes, f"Source: {source}" if source else "") if p
            ),
            supports=["occurrence", "date", "location", "casualties", "attribution"],
            locator=f"event {event_id}",
            warnings=warnings,
        )
