"""CivTrack's own CSV (`--format civtrack`): the export's columns, one row per incident,
and the importer that reads it back (spreadsheet round trip, or another instance's
export with --instance).

`CSV_COLUMNS` and `export_row()` are the format's reference definition: this importer
reads them back, and the API's CSV export (written by PostgreSQL, api/export_sql.py) is
tested to give exactly the bytes `export_row()` gives.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied

from incidents import services
from incidents.importers.base import (
    BaseImporter,
    ImportFileError,
    MappedRow,
    PlaceSpec,
    RowRejected,
    label,
    parse_date,
    parse_float,
    parse_int,
    skip_reason,
)
from incidents.models import (
    Actor,
    Attribution,
    CasualtyGroup,
    CasualtyOutcome,
    Incident,
    IncidentType,
    Location,
)
from incidents.spreadsheet import spreadsheet_escape, spreadsheet_unescape

CASUALTY_KEYS = [(g.value, o.value) for g in CasualtyGroup for o in CasualtyOutcome]
ROW_COLUMNS = [
    f"row_{group}_{outcome}_{part}"
    for group, outcome in CASUALTY_KEYS
    for part in ("min", "max", "best")
]
TOTAL_COLUMNS = [
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
]
# Narrative, dates, place and point (the PUBLIC place: the redaction layer's values),
# type and grading: read back by the importer.
EDITABLE_COLUMNS = [
    "title",
    "title_ar",
    "summary",
    "summary_ar",
    "date_start",
    "date_end",
    "date_precision",
    "time_of_day",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "incident_type",
    "aggregate",
    "grading",
]
CSV_COLUMNS = [
    "code",
    "status",
    *EDITABLE_COLUMNS[:9],
    "governorate",
    *EDITABLE_COLUMNS[9:],
    "synthetic",
    *TOTAL_COLUMNS,
    "perpetrators",
    "perpetrator_alternatives",
    "weapons",
    "targets",
    "published_at",
    "updated_at",
    "version",
    *ROW_COLUMNS,
]
READ_ONLY_COLUMNS = [
    c
    for c in CSV_COLUMNS
    if c not in EDITABLE_COLUMNS
    and c not in ROW_COLUMNS
    and c not in ("code", "version", "perpetrators", "perpetrator_alternatives")
]
# The text columns (the others are numbers, booleans, dates and timestamps): the cells
# written spreadsheet-safe (incidents/spreadsheet.py), as api/export_sql.py decides by
# each column's type; tests/api/test_export_sql_fuzz.py holds the two lists equal.
TEXT_COLUMNS = [
    "code",
    "status",
    "title",
    "title_ar",
    "summary",
    "summary_ar",
    "date_precision",
    "time_of_day",
    "location",
    "governorate",
    "geo_precision",
    "incident_type",
    "grading",
    "perpetrators",
    "perpetrator_alternatives",
    "weapons",
    "targets",
]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def export_row(incident: Incident) -> dict[str, str]:
    """One incident as a CSV row (public values only). Expects `public_location`,
    `governorate`, `incident_type` selected and `casualties`, `attributions__actor`,
    `weapons__weapon`, `targets__target_type` prefetched for constant queries."""
    row: dict[str, str] = {
        "code": incident.code,
        "status": incident.status,
        "title": incident.title,
        "title_ar": incident.title_ar,
        "summary": incident.summary,
        "summary_ar": incident.summary_ar,
        "date_start": _text(incident.date_start),
        "date_end": _text(incident.date_end),
        "date_precision": incident.date_precision,
        "time_of_day": incident.time_of_day,
        "location": incident.public_location.slug if incident.public_location else "",
        "governorate": incident.governorate.slug if incident.governorate else "",
        "latitude": _text(incident.public_latitude),
        "longitude": _text(incident.public_longitude),
        "geo_precision": incident.public_geo_precision,
        "incident_type": incident.incident_type.code,
        "aggregate": _text(incident.aggregate),
        "grading": incident.grading,
        "synthetic": _text(incident.synthetic),
        "published_at": incident.published_at.isoformat()
        if incident.published_at
        else "",
        "updated_at": incident.updated_at.isoformat() if incident.updated_at else "",
        "version": str(incident.version),
    }
    for name in TOTAL_COLUMNS:
        row[name] = _text(getattr(incident, name))
    perpetrators = sorted(
        (
            a
            for a in incident.attributions.all()
            if a.role == Attribution.Role.PERPETRATOR
        ),
        key=lambda a: (a.alternative or 0, a.pk or 0),
    )
    row["perpetrators"] = ";".join(a.actor.slug for a in perpetrators)
    row["perpetrator_alternatives"] = ";".join(
        _text(a.alternative) for a in perpetrators
    )
    row["weapons"] = ";".join(w.weapon.code for w in incident.weapons.all())
    row["targets"] = ";".join(t.target_type.code for t in incident.targets.all())
    for name in ROW_COLUMNS:
        row[name] = ""
    for count in incident.casualties.all():
        prefix = f"row_{count.group}_{count.outcome}"
        row[f"{prefix}_min"] = str(count.min)
        row[f"{prefix}_max"] = str(count.max)
        row[f"{prefix}_best"] = _text(count.best)
    for name in TEXT_COLUMNS:
        row[name] = spreadsheet_escape(row[name])
    return row


def read_cells(row: dict[str, str]) -> dict[str, str]:
    """A row of the file as the values it stands for: the spreadsheet-safe prefix
    `export_row()` adds is removed (incidents/spreadsheet.py), whatever the column,
    since a spreadsheet may have turned a number into text and only the exact
    escape is undone."""
    return {
        key: spreadsheet_unescape(value) if isinstance(value, str) else value
        for key, value in row.items()
    }


def _bool(value: str, column: str) -> bool:
    text = (value or "").strip().lower()
    if text in ("true", "1", "yes", "t"):
        return True
    if text in ("false", "0", "no", "f", ""):
        return False
    raise RowRejected(column, f"'{value}' is not true or false")


def _choice(value: str, column: str, model_field: str) -> str:
    text = (value or "").strip()
    allowed = {v for v, _ in Incident._meta.get_field(model_field).choices}
    if text not in allowed:
        raise RowRejected(
            column, f"'{text}' is not one of: {', '.join(sorted(allowed))}"
        )
    return text


def parse_casualties(row: dict[str, str]) -> list[services.CasualtyRowData]:
    rows = []
    for group, outcome in CASUALTY_KEYS:
        prefix = f"row_{group}_{outcome}"
        cells = [
            (row.get(f"{prefix}_{p}") or "").strip() for p in ("min", "max", "best")
        ]
        if not any(cells):
            continue  # an empty triple is no row
        low = parse_int(cells[0], f"{prefix}_min")
        high = parse_int(cells[1], f"{prefix}_max")
        best = parse_int(cells[2], f"{prefix}_best", allow_empty=True)
        rows.append(
            services.CasualtyRowData(
                group=group, outcome=outcome, min=low, max=high, best=best
            )
        )
    return rows


def parse_perpetrators(row: dict[str, str]) -> list[tuple[str, int | None]]:
    slugs = [s.strip() for s in (row.get("perpetrators") or "").split(";")]
    slugs = [s for s in slugs if s]
    alternatives_text = (row.get("perpetrator_alternatives") or "").strip()
    alternatives = alternatives_text.split(";") if alternatives_text else []
    if alternatives and len(alternatives) != len(slugs):
        raise RowRejected(
            "perpetrator_alternatives",
            f"{len(alternatives)} value(s) for {len(slugs)} perpetrator(s): give one "
            "(a number or nothing) per perpetrator",
        )
    result = []
    for index, slug in enumerate(slugs):
        text = alternatives[index].strip() if alternatives else ""
        alternative = parse_int(text, "perpetrator_alternatives", allow_empty=True)
        result.append((slug, alternative or None))
    return result


class CivtrackImporter(BaseImporter):
    format = "civtrack"
    system = "civtrack"
    id_column = "code"
    type_column = "incident_type"
    title = "CivTrack CSV export"
    publisher = "CivTrack"
    licence = ""
    url = "https://civtrack.invalid/"
    required_columns = ("code", "version", *EDITABLE_COLUMNS[:8], "incident_type")

    def needs_release(self, batch) -> bool:
        return bool(batch.instance)

    def dataset_source(self, batch, audit):
        if not batch.instance:
            return None
        self.publisher = f"CivTrack instance {batch.instance}"
        self.url = f"https://civtrack.invalid/{batch.instance}/"
        return super().dataset_source(batch, audit)

    def external_id(self, row):
        return (row.get("code") or "").strip()

    # Another instance's export: external references civtrack:<NAME>/<code> ----------

    def map_row(self, row, line, batch) -> MappedRow:
        row = read_cells(row)
        code = (row.get("code") or "").strip()
        if not code:
            raise RowRejected("code", "the incident code is required")
        if not batch.instance:
            raise ImportFileError("internal: map_row is for --instance files only")
        fields = self._fields(row)
        lat, lon = fields.get("latitude"), fields.get("longitude")
        return MappedRow(
            line=line,
            value=f"{batch.instance}/{code}",
            raw=dict(row),
            fields=fields,
            incident_type=(row.get("incident_type") or "").strip(),
            place=PlaceSpec(slug=(row.get("location") or "").strip())
            if (row.get("location") or "").strip()
            else PlaceSpec(country_only=True),
            casualties=parse_casualties(row),
            perpetrators=parse_perpetrators(row),
            perpetrators_by_slug=True,
            excerpt=f"{code}: {fields.get('title', '')}",
            supports=["occurrence"],
            locator=code,
            warnings=[] if (lat is None) == (lon is None) else ["point incomplete"],
        )

    def _fields(
        self, row: dict[str, str], only: set[str] | None = None
    ) -> dict[str, Any]:
        fields: dict[str, Any] = {}

        def want(name):
            return only is None or name in only

        for name in ("title", "title_ar", "summary", "summary_ar"):
            if want(name) and name in row:
                fields[name] = row.get(name) or ""
        if want("title") and not (fields.get("title") or "").strip():
            raise RowRejected("title", "a title is required")
        if want("date_start"):
            fields["date_start"] = parse_date(row.get("date_start"), "date_start")
        if want("date_end"):
            fields["date_end"] = (
                parse_date(row.get("date_end"), "date_end")
                if (row.get("date_end") or "").strip()
                else fields.get("date_start")
            )
        for name, model_field in (
            ("date_precision", "date_precision"),
            ("time_of_day", "time_of_day"),
            ("geo_precision", "geo_precision"),
            ("grading", "grading"),
        ):
            if want(name) and (row.get(name) or "").strip():
                fields[name] = _choice(row.get(name), name, model_field)
        if want("latitude") or want("longitude"):
            fields["latitude"] = parse_float(row.get("latitude"), "latitude")
            fields["longitude"] = parse_float(row.get("longitude"), "longitude")
        if want("aggregate"):
            fields["aggregate"] = _bool(row.get("aggregate"), "aggregate")
        return fields

    # This instance's own export: matched by code --------------------------------------

    def run_own(self, engine, records) -> None:
        """Apply the edits of a re-imported export (only the columns that differ from
        what the export of the same version would say)."""
        codes = [(read_cells(r.row).get("code") or "").strip() for r in records]
        incidents = {
            i.code: i
            for i in Incident.objects.filter(code__in=[c for c in codes if c])
            .select_related(
                "public_location", "governorate", "incident_type", "location"
            )
            .prefetch_related(
                "casualties",
                "attributions__actor",
                "weapons__weapon",
                "targets__target_type",
            )
        }
        by = engine.batch.user if services.is_staff_member(engine.batch.user) else None
        for index, record in enumerate(records):
            self._own_row(engine, record, incidents, by)
            if index % 200 == 0:
                engine.progress.update(index)

    def _own_row(self, engine, record, incidents, by) -> None:
        row, line = read_cells(record.row), record.line
        code = (row.get("code") or "").strip()
        if row.get("__error__"):
            engine._entry(line, code, "rejected", [f"line {line}: {row['__error__']}"])
            return
        incident = incidents.get(code)
        if incident is None:
            engine._entry(
                line,
                code,
                "rejected",
                [
                    f"line {line}, column 'code': no incident {code!r} in this database "
                    "(a file from another instance needs --instance NAME)"
                ],
                column="code",
            )
            return
        try:
            version = parse_int(row.get("version"), "version")
        except RowRejected as rejected:
            engine._entry(
                line,
                code,
                "rejected",
                [f"line {line}, column 'version': {rejected.reason}"],
                column="version",
            )
            return
        if version != incident.version:
            engine._entry(
                line,
                code,
                "rejected",
                [
                    f"line {line}, column 'version': the file has version {version}, the "
                    f"database version {incident.version}: someone changed the incident "
                    "meanwhile; export it again and redo the edit"
                ],
                column="version",
            )
            return
        current = read_cells(export_row(incident))
        messages = []
        for column in READ_ONLY_COLUMNS:
            if column in row and (row.get(column) or "") != current[column]:
                messages.append(
                    f"column '{column}' is derived or read-only: change ignored"
                )
        edited = {
            c for c in EDITABLE_COLUMNS if c in row and (row.get(c) or "") != current[c]
        }
        try:
            fields = self._fields(row, only=edited) if edited else {}
            if "location" in edited:
                slug = (row.get("location") or "").strip()
                fields["location"] = (
                    Location.objects.filter(slug=slug).first() if slug else None
                )
                if slug and fields["location"] is None:
                    raise RowRejected("location", f"no place with slug '{slug}'")
            if "incident_type" in edited:
                type_code = (row.get("incident_type") or "").strip()
                fields["incident_type"] = IncidentType.objects.filter(
                    code=type_code
                ).first()
                if fields["incident_type"] is None:
                    raise RowRejected(
                        "incident_type", f"'{type_code}' is not an incident type code"
                    )
            parts = services.IncidentParts()
            changes: list[str] = []
            casualty_edits = [
                c for c in ROW_COLUMNS if c in row and (row.get(c) or "") != current[c]
            ]
            if casualty_edits:
                parts.casualty_rows = parse_casualties({**current, **row})
                for c in sorted({c.rsplit("_", 1)[0] for c in casualty_edits}):
                    _, rest = c.split("_", 1)
                    changes.append(
                        f"{rest.replace('_', ' ')}: "
                        f"{self._triple(current, c)} → {self._triple(row, c)}"
                    )
            perpetrators_edited = (row.get("perpetrators") or "") != current[
                "perpetrators"
            ] or (row.get("perpetrator_alternatives") or "") != current[
                "perpetrator_alternatives"
            ]
            if perpetrators_edited and "perpetrators" in row:
                others = [
                    services.AttributionData(
                        actor=a.actor,
                        role=a.role,
                        confidence=a.confidence,
                        alternative=a.alternative,
                        position=a.position,
                        conceded_killed=a.conceded_killed,
                        note=a.note,
                    )
                    for a in incident.attributions.all()
                    if a.role != Attribution.Role.PERPETRATOR
                ]
                previous = {
                    a.actor.slug: a
                    for a in incident.attributions.all()
                    if a.role == Attribution.Role.PERPETRATOR
                }
                new = []
                for slug, alternative in parse_perpetrators(row):
                    actor = Actor.objects.filter(slug=slug).first()
                    if actor is None:
                        raise RowRejected(
                            "perpetrators", f"no actor with slug '{slug}'"
                        )
                    old = previous.get(slug)
                    new.append(
                        services.AttributionData(
                            actor=actor,
                            confidence=old.confidence if old else "likely",
                            alternative=alternative,
                            position=old.position if old else "no_statement",
                            conceded_killed=old.conceded_killed if old else None,
                            note=old.note if old else "",
                        )
                    )
                parts.attributions = others + new
                changes.append(
                    f"perpetrators: {current['perpetrators'] or '—'} "
                    f"[{current['perpetrator_alternatives']}] → "
                    f"{row.get('perpetrators') or '—'} [{row.get('perpetrator_alternatives') or ''}]"
                )
        except RowRejected as rejected:
            engine._entry(
                line,
                code,
                "rejected",
                [f"line {line}, column '{rejected.column}': {rejected.reason}"],
                column=rejected.column,
            )
            return
        for name in sorted(edited):
            changes.insert(
                0, f"{label(name)}: {current[name] or '—'} → {row.get(name) or '—'}"
            )
        if not fields and parts == services.IncidentParts():
            engine._entry(line, code, "unchanged", messages, incident=code)
            return
        problem = services.import_change_problem(batch=engine.batch, incident=incident)
        if problem:
            # A researcher's file may not change what is in review or published: the
            # row is reported and left untouched, the rest of the batch goes on.
            engine._entry(
                line,
                code,
                "skipped",
                changes + messages + [f"line {line}: {problem}"],
                incident=code,
                reason=skip_reason(problem),
            )
            return
        try:
            with engine.audit(reason=f"edited through CSV import #{engine.batch.pk}"):
                services.incident_update(
                    incident=incident,
                    expected_version=version,
                    fields=fields,
                    parts=parts,
                    by=by,
                    reason=f"edited through CSV import #{engine.batch.pk}",
                    batch=engine.batch,
                )
        except services.StaleVersionError as error:
            engine._entry(
                line, code, "rejected", [f"line {line}: {error}"], column="version"
            )
            return
        except services.IncidentValidationError as error:
            problems = "; ".join(
                f"{k}: {' '.join(str(m) for m in v)}"
                for k, v in error.message_dict.items()
            )
            engine._entry(line, code, "rejected", [f"line {line}: {problems}"])
            return
        except PermissionDenied as error:
            engine._entry(line, code, "rejected", [f"line {line}: {error}"])
            return
        engine._entry(line, code, "updated", changes + messages, incident=code)

    @staticmethod
    def _triple(row, prefix) -> str:
        cells = [
            (row.get(f"{prefix}_{p}") or "").strip() for p in ("min", "max", "best")
        ]
        if not any(cells):
            return "none"
        return f"{cells[0]}–{cells[1]}" + (f" (best {cells[2]})" if cells[2] else "")
