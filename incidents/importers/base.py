"""What every importer shares (IMPORTS.md): reading the file, the batch's bookkeeping,
actor and place matching, "people's edits win", bulk writes and progress.

A format module only turns one CSV record into a `MappedRow` (or raises `RowRejected`);
`run_batch` does the rest, in one transaction:

1. read the file once as a stream (plain or gzip, in constant memory): its hash, encoding,
   CSV syntax and header, and count its records; then read it again, chunk by chunk:
2. for each chunk of rows: resolve actors and places (creating what is missing), build the
   incident's fields and parts, validate them with `services.validate_incident`, and
   decide: create, update (field by field, keeping researchers' edits), unchanged,
   skipped or rejected;
3. write the new incidents in bulk (same validation and derived values as
   `services.incident_create`, codes from the per-year counter, audit context with the
   batch) and the updates through `services.incident_update`;
4. with a rejected row (and no --skip-bad-rows) or --dry-run, roll everything back.

Progress goes to the ImportBatch through a second, autocommit connection.
"""

from __future__ import annotations

import codecs
import contextlib
import copy
import csv
import gzip
import hashlib
import io
import itertools
import logging
import tempfile
import time
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pghistory
import pgtrigger
from django.apps import apps
from django.db import connection, transaction
from django.utils import timezone, translation
from django.utils.text import slugify
from pghistory.models import Context as PghContext

from incidents import services
from incidents.copyload import copy_create
from incidents.dbstats import import_tables, tables_analyze
from incidents.models import (
    Actor,
    ActorName,
    Attribution,
    CasualtyCount,
    Citation,
    ExternalRef,
    ImportBatch,
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
from incidents.text import normalize_name

logger = logging.getLogger(__name__)
IMPORTER_USERNAME = services.SYSTEM_USERNAME
CHUNK_SIZE = 1000
MAX_REPORT_MESSAGE = 500
REVERTED_REASON = "import reverted"


class ImportFileError(Exception):
    """The file as a whole cannot be imported (wrong format, missing column, encoding)."""


class RowRejected(Exception):
    """One row cannot be imported: its column and the reason."""

    def __init__(self, column: str, reason: str):
        self.column = column
        self.reason = reason
        super().__init__(f"{column}: {reason}" if column else reason)


# ---------------------------------------------------------------------------------------
# What a format module returns for one row
# ---------------------------------------------------------------------------------------


@dataclass
class PlaceSpec:
    """Where a row happened, as the file says it (resolved by the Resolver)."""

    governorate: str = ""
    district: str = ""
    named: str = ""  # a community, neighbourhood or site name
    named_level: str = ""  # community | neighbourhood | site
    named_latitude: float | None = None
    named_longitude: float | None = None
    slug: str = ""  # CivTrack CSV: a Location slug
    country_only: bool = False


@dataclass
class MappedRow:
    line: int
    value: str  # the publisher's id (ExternalRef value)
    raw: dict[str, str]
    fields: dict[str, Any]  # title, summary, dates, precision, point, aggregate…
    incident_type: str  # IncidentType code
    place: PlaceSpec
    casualties: list[services.CasualtyRowData] = field(default_factory=list)
    # (actor name or slug, alternative) pairs
    perpetrators: list[tuple[str, int | None]] = field(default_factory=list)
    perpetrators_by_slug: bool = False
    confidence: str = "likely"
    weapons: list[str] = field(default_factory=list)  # WeaponType codes
    targets: list[tuple[str, str]] = field(default_factory=list)  # (code, damage)
    excerpt: str = ""
    supports: list[str] = field(default_factory=list)
    locator: str = ""
    url: str = ""
    grading: str | None = None
    warnings: list[str] = field(default_factory=list)


@dataclass
class Record:
    line: int
    row: dict[str, str]


# ---------------------------------------------------------------------------------------
# The audit trail for bulk writes
# ---------------------------------------------------------------------------------------


def audit_context(**metadata: Any) -> uuid.UUID:
    """A pghistory context row, as `pghistory.context(**metadata)` would record it."""
    context_id = uuid.uuid4()
    metadata = {k: v for k, v in metadata.items() if v is not None}
    PghContext.objects.create(id=context_id, metadata=metadata)
    return context_id


def write_events(model, ids: list[int], context_id: uuid.UUID, label: str) -> None:
    """The pghistory event rows the row triggers would have written for `ids`, in one
    INSERT … SELECT (the per-row trigger's context lookup opens a subtransaction per
    row, which makes large imports crawl)."""
    if not ids:
        return
    event = apps.get_model(model._meta.app_label, f"{model.__name__}Event")
    columns = [
        f.column for f in event._meta.concrete_fields if not f.column.startswith("pgh_")
    ]
    quoted = ", ".join(f'"{c}"' for c in columns)
    with connection.cursor() as cursor:
        cursor.execute(
            f'INSERT INTO "{event._meta.db_table}" ({quoted}, "pgh_context_id", '
            f'"pgh_created_at", "pgh_label", "pgh_obj_id") '
            f'SELECT {quoted}, %s, NOW(), %s, "id" FROM "{model._meta.db_table}" '
            f'WHERE "id" = ANY(%s)',
            [str(context_id), label, list(ids)],
        )


def quiet_triggers(*models, operation: str = "insert"):
    """Skip the pghistory trigger of `models` (write_events records the rows)."""
    return pgtrigger.ignore(
        *[f"{m._meta.app_label}.{m.__name__}:{operation}_{operation}" for m in models]
    )


# ---------------------------------------------------------------------------------------
# Reading files
# ---------------------------------------------------------------------------------------


READ_BLOCK = 1 << 20  # bytes read (and decoded) at a time
MAX_LINE = 8 << 20  # a physical line longer than this is not a CSV line
MAX_PENDING = 1 << 20  # text kept of a record being read, to name a truncated column


def read_bytes(source) -> bytes:
    """The file's bytes from a path, an uploaded file or a file object."""
    with open_source(source) as handle:
        return handle.read()


@contextlib.contextmanager
def open_source(source):
    """A seekable binary file for a path, an uploaded or stored file or a file object
    (a non-seekable one is spooled to a temporary file first)."""
    if isinstance(source, (str, bytes)) or hasattr(source, "__fspath__"):
        with open(source, "rb") as handle:
            yield handle
        return
    if hasattr(source, "open") and not hasattr(source, "read"):
        source = source.open("rb")
    seekable = getattr(source, "seekable", None)
    can_seek = hasattr(source, "seek") if seekable is None else bool(seekable())
    if can_seek:
        source.seek(0)
        yield source
        return
    with tempfile.TemporaryFile() as spool:
        chunks = (
            source.chunks()
            if hasattr(source, "chunks")
            else iter(lambda: source.read(READ_BLOCK), b"")
        )
        for chunk in chunks:
            spool.write(chunk)
        spool.seek(0)
        yield spool


def decompress(data: bytes) -> bytes:
    if data[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(data)
        except (OSError, EOFError) as error:
            raise ImportFileError(
                f"The file looks gzip-compressed but cannot be decompressed ({error}): "
                "is it truncated?"
            ) from error
    return data


class _HashingReader:
    """Reads a binary file, hashing every byte read through it."""

    def __init__(self, handle, hasher):
        self.handle = handle
        self.hasher = hasher

    def read(self, size: int = -1) -> bytes:
        data = self.handle.read(size)
        if self.hasher is not None:
            self.hasher.update(data)
        return data


class CsvFile:
    """A CSV file (plain or gzip) read as a stream, in constant memory whatever its size.

    `scan(importer)` reads it once: the byte hash, the encoding (UTF-8, with the line of
    the first bad byte), the CSV syntax (a record cut off mid-quote names its line and
    column), the header (checked by the importer) and the number of data records.
    Iterating gives the data records again, from the start of the file, each with the
    physical line it starts on (quoted fields may contain line breaks).
    """

    def __init__(self, source):
        self.source = source
        self.header: list[str] = []
        self.sha256 = ""
        self.count = 0
        self._importer = None

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[Record]:
        records = self._records(hasher=None)
        if self._importer is not None:
            return iter(self._importer.data_records(records))
        return records

    def scan(self, importer=None, *, format: str = "") -> CsvFile:
        hasher = hashlib.sha256()
        records = self._records(hasher=hasher, importer=importer, format=format)
        if importer is not None:
            records = importer.data_records(records)
        self.count = sum(1 for _ in records)
        self.sha256 = hasher.hexdigest()
        self._importer = importer
        return self

    # reading ---------------------------------------------------------------------------

    def _lines(self, handle, hasher, state: dict[str, Any]) -> Iterator[str]:
        """The file's text, one physical line at a time (line ends kept: "\\n", "\\r\\n"
        or "\\r", as open(newline="") reads them)."""
        handle.seek(0)
        magic = handle.read(2)
        handle.seek(0)
        raw = _HashingReader(handle, hasher)
        binary = gzip.GzipFile(fileobj=raw, mode="rb") if magic == b"\x1f\x8b" else raw
        decoder = codecs.getincrementaldecoder("utf-8")("strict")
        carry, newlines, offset, first = "", 0, 0, True
        while True:
            try:
                block = binary.read(READ_BLOCK)
            except (OSError, EOFError, zlib.error) as error:
                raise ImportFileError(
                    f"The file looks gzip-compressed but cannot be decompressed "
                    f"({error}): is it truncated?"
                ) from error
            final = not block
            try:
                text = decoder.decode(block, final=final)
            except UnicodeDecodeError as error:
                bad = max(error.start, 0)
                line = newlines + block[:bad].count(b"\n") + 1
                byte = (
                    error.object[error.start] if error.start < len(error.object) else 0
                )
                raise ImportFileError(
                    f"Line {line}: the file is not UTF-8 (byte 0x{byte:02x} at offset "
                    f"{offset + bad}); expected UTF-8 text: save it as UTF-8 CSV and try "
                    "again."
                ) from error
            offset += len(block)
            if first and text:
                text = text.removeprefix("\ufeff")
                first = False
            if "\x00" in text:
                line = newlines + text[: text.index("\x00")].count("\n") + 1
                raise ImportFileError(
                    f"Line {line}: the file contains NUL bytes: it is not a CSV text "
                    "file (expected UTF-8 comma-separated text)."
                )
            if not state["content"] and text.strip():
                state["content"] = True
            newlines += text.count("\n")
            lines = io.StringIO(carry + text, newline="").readlines()
            carry = ""
            if not final and lines and not lines[-1].endswith("\n"):
                # The last line's end (or the "\n" of a "\r\n") is still to come.
                carry = lines.pop()
                if len(carry) > MAX_LINE:
                    raise ImportFileError(
                        f"Line {newlines + 1} is longer than {MAX_LINE >> 20} MB: this is "
                        "not a CSV file the importers can read (expected one record per "
                        "line)."
                    )
            yield from lines
            if final:
                return

    def _records(
        self, *, hasher=None, importer=None, format: str = ""
    ) -> Iterator[Record]:
        state = {"content": False}
        pending: list[str] = []
        pending_size = 0

        def watched(lines: Iterator[str]) -> Iterator[str]:
            nonlocal pending_size
            for line in lines:
                if pending_size < MAX_PENDING:
                    pending.append(line)
                    pending_size += len(line)
                yield line

        with open_source(self.source) as handle:
            reader = csv.reader(
                watched(self._lines(handle, hasher, state)), strict=True
            )
            start = 1
            try:
                header = next(reader, None)
                blank = header is None or not any(h.strip() for h in header)
                if blank and (header is None or not self._any_content(reader, state)):
                    raise ImportFileError(
                        "The file is empty: expected a header row and records."
                    )
                self.header = header
                if importer is not None:
                    check_header_of(importer, header, format)
                pending.clear()
                pending_size = 0
                start = reader.line_num + 1
                for values in reader:
                    line = start
                    start = reader.line_num + 1
                    pending.clear()
                    pending_size = 0
                    record = _record(header, values, line)
                    if record is not None:
                        yield record
            except csv.Error as error:
                raise ImportFileError(
                    _csv_error_message(error, reader, start, header, "".join(pending))
                ) from error
            if hasher is not None:  # the rest of a gzip file's bytes, if any
                for rest in iter(lambda: handle.read(READ_BLOCK), b""):
                    hasher.update(rest)

    @staticmethod
    def _any_content(reader, state) -> bool:
        for _values in reader:
            if state["content"]:
                return True
        return state["content"]


def _record(header: list[str], values: list[str], line: int) -> Record | None:
    if not any(v.strip() for v in values):
        return None
    if len(values) > len(header):
        extra = values[len(header) :]
        if any(v.strip() for v in extra):
            return Record(
                line,
                {"__error__": f"{len(values)} fields, header has {len(header)}"},
            )
    row = {
        name: (values[i] if i < len(values) else None) for i, name in enumerate(header)
    }
    if len(values) < len(header):
        row["__error__"] = (
            f"{len(values)} fields, the header has {len(header)} "
            f"(missing from '{header[len(values)]}' on): is the file truncated?"
        )
    return Record(line, row)


def _csv_error_message(error, reader, start: int, header, text: str) -> str:
    """Where a CSV syntax error is: the record's first line and, when the file ends in
    the middle of a quoted value, that value's column."""
    column = ""
    if text and header:
        try:
            partial = next(csv.reader(io.StringIO(text, newline="")), [])
        except csv.Error:
            partial = []
        if partial and len(partial) <= len(header):
            column = header[len(partial) - 1]
    where = f"Line {start}, column '{column}'" if column else f"Line {start}"
    if "unexpected end of data" in str(error):
        return (
            f"{where}: the file ends inside a quoted value (expected a closing quote and "
            "the rest of the record): the file is truncated."
        )
    if "field larger than field limit" in str(error):
        return (
            f"{where}: a value runs on for more than {csv.field_size_limit()} characters "
            "(a quote that is never closed?); expected comma-separated values with every "
            "quote closed."
        )
    return (
        f"{where} (read up to line {reader.line_num}): the CSV cannot be read ({error}); "
        "expected comma-separated values with every quote closed: is the file truncated "
        "or not a CSV file?"
    )


def check_header_of(importer, header: list[str], format: str = "") -> None:
    """The importer's header check; a refused header says which format it looks like."""
    try:
        importer.check_header(header)
    except ImportFileError as error:
        hint = _format_hint(header, format or importer.format)
        if hint:
            raise ImportFileError(f"{error} {hint}") from error
        raise


def _format_hint(header: list[str], chosen: str) -> str:
    from incidents.importers import FORMATS, importer_for

    for other in FORMATS:
        if other == chosen:
            continue
        try:
            importer_for(other).check_header(list(header))
        except ImportFileError:
            continue
        return f"The header is that of a {importer_for(other).title} file: use --format {other}."
    return ""


def parse_csv(data: bytes) -> tuple[list[str], list[Record]]:
    """The header and every record of in-memory CSV bytes (see CsvFile)."""
    csv_file = CsvFile(io.BytesIO(data))
    records = list(csv_file._records())
    return csv_file.header, records


# ---------------------------------------------------------------------------------------
# Progress, through a second autocommit connection
# ---------------------------------------------------------------------------------------


class ProgressWriter:
    """Writes progress_done/progress_total/heartbeat_at of one batch through its own
    autocommit connection, so others see it while the batch's transaction runs."""

    def __init__(self, batch_id: int, total: int, *, out=None, interval: float = 0.5):
        from django.db.backends.postgresql.base import DatabaseWrapper

        self.batch_id = batch_id
        self.total = total
        self.out = out
        self.interval = interval
        self._last = 0.0
        self._last_line_pct = -1
        self._tty = bool(out is not None and hasattr(out, "isatty") and out.isatty())
        settings_dict = copy.deepcopy(connection.settings_dict)
        # A connection of its own under the same alias: a made-up alias breaks the
        # connection_created handlers that look the alias up (django.contrib.postgres).
        self._wrapper = DatabaseWrapper(settings_dict, alias=connection.alias)
        self.done = 0

    def update(self, done: int, *, force: bool = False) -> None:
        self.done = done
        now = time.monotonic()
        if not force and now - self._last < self.interval:
            return
        self._last = now
        try:
            with self._wrapper.cursor() as cursor:
                cursor.execute(
                    "UPDATE incidents_importbatch SET progress_done = %s, "
                    "progress_total = %s, heartbeat_at = %s WHERE id = %s",
                    [done, self.total, timezone.now(), self.batch_id],
                )
        except Exception:  # progress is best effort, never fatal
            logger.warning(
                "import #%s: progress not written", self.batch_id, exc_info=True
            )
        self._print(done)

    def _print(self, done: int) -> None:
        if self.out is None or not self.total:
            return
        pct = int(done * 100 / self.total)
        if self._tty:
            width = 30
            filled = int(width * done / self.total)
            self.out.write(
                f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} rows "
                f"({pct}%)"
            )
            if done >= self.total:
                self.out.write("\n")
            self.out.flush()
        elif pct // 10 != self._last_line_pct // 10 or done >= self.total:
            if done >= self.total and self._last_line_pct == 100:
                return
            self._last_line_pct = pct
            self.out.write(f"progress: {done}/{self.total} rows ({pct}%)\n")
            self.out.flush()

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._wrapper.close()


# ---------------------------------------------------------------------------------------
# Matching actors and places
# ---------------------------------------------------------------------------------------

# Governorates by OCHA pcode, with the spellings the shipped datasets use: the fallback
# when the gazetteer's LocationName rows do not know a spelling (they are then added).
GOVERNORATES = {
    "SY01": ("Damascus", ["damascus", "dimashq"]),
    "SY02": ("Aleppo", ["aleppo", "halab"]),
    "SY03": (
        "Rural Damascus",
        ["rif dimashq", "rural damascus", "damascus countryside", "reef dimashq"],
    ),
    "SY04": ("Homs", ["homs", "hims"]),
    "SY05": ("Hama", ["hama", "hamah", "hamma"]),
    "SY06": ("Lattakia", ["latakia", "lattakia", "ladhiqiyah", "latakiya"]),
    "SY07": ("Idleb", ["idlib", "idleb"]),
    "SY08": ("Al-Hasakeh", ["hasakah", "hasaka", "hasakeh", "hassakeh", "hasake"]),
    "SY09": (
        "Deir-ez-Zor",
        ["deir ez zor", "deir ezzor", "deir ez zour", "deir al zor", "dayr az zawr"],
    ),
    "SY10": ("Tartous", ["tartus", "tartous", "tartouss"]),
    "SY11": ("Ar-Raqqa", ["raqqah", "raqqa", "rakka"]),
    "SY12": ("Dar'a", ["daraa", "dara", "deraa", "darah"]),
    "SY13": ("As-Sweida", ["suwayda", "sweida", "suwaida", "sweida"]),
    "SY14": ("Quneitra", ["quneitra", "qunaitra", "qunaytirah", "kuneitra"]),
}
_ARTICLES = {"al", "ar", "as", "ad", "an", "at", "az", "el", "ash", "adh", "the"}
_LEVEL_SUFFIXES = {
    "governorate": "governorate",
    "province": "governorate",
    "district": "district",
    "subdistrict": "subdistrict",
    "nahiya": "subdistrict",
}


def loose_key(name: str) -> str:
    """A looser key than normalize_name: without leading articles and level words."""
    words = normalize_name(name).split()
    while words and words[-1] in _LEVEL_SUFFIXES:
        words = words[:-1]
    return " ".join(w for w in words if w not in _ARTICLES)


def _actor_loose_key(name: str) -> str:
    words = [
        w
        for w in normalize_name(name).split()
        if w not in _ARTICLES and w not in {"of", "and"}
    ]
    return " ".join(words)


def unique_slug(base: str, taken: set[str], *, suffix: str = "", max_length=120) -> str:
    base = (slugify(base) or "unnamed")[:max_length]
    candidates = [base]
    if suffix:
        candidates.append(f"{base}-{suffix}"[:max_length])
    for candidate in candidates:
        if candidate not in taken:
            taken.add(candidate)
            return candidate
    number = 2
    while True:
        candidate = f"{candidates[-1][: max_length - 6]}-{number}"
        if candidate not in taken:
            taken.add(candidate)
            return candidate
        number += 1


class Resolver:
    """Actors and places, loaded once per batch into dicts; what it creates is recorded
    in the audit trail under the batch."""

    def __init__(self, batch: ImportBatch, audit: Callable[..., Any]):
        self.batch = batch
        self.audit = audit
        self.created_actors: list[Actor] = []
        self.created_places: list[Location] = []
        self.added_names: list[str] = []
        self._place_context: uuid.UUID | None = None
        self._load_actors()
        self._load_places()

    # actors ---------------------------------------------------------------------------

    def _load_actors(self) -> None:
        self.actors: dict[int, Actor] = {a.pk: a for a in Actor.objects.all()}
        self.actor_by_slug = {a.slug: a for a in self.actors.values()}
        self.actor_by_norm: dict[str, Actor] = {}
        self.actor_by_loose: dict[str, set[int]] = {}
        self.actor_names: dict[int, list[str]] = {}
        names = ActorName.objects.order_by("name").values_list(
            "actor_id", "name", "normalized"
        )
        for actor_id, name, normalized in names:
            self.actor_names.setdefault(actor_id, []).append(name)
            self._index_actor_name(self.actors[actor_id], name, normalized)
        for actor in self.actors.values():
            self._index_actor_name(actor, actor.name, normalize_name(actor.name))

    def _index_actor_name(self, actor: Actor, name: str, normalized: str) -> None:
        current = self.actor_by_norm.get(normalized)
        # Prefer a live actor, then the oldest one.
        if current is None or (current.merged_into_id and not actor.merged_into_id):
            self.actor_by_norm[normalized] = actor
        self.actor_by_loose.setdefault(_actor_loose_key(name), set()).add(actor.pk)

    def survivor(self, actor: Actor) -> Actor:
        seen = set()
        while actor.merged_into_id and actor.pk not in seen:
            seen.add(actor.pk)
            actor = self.actors.get(actor.merged_into_id) or Actor.objects.get(
                pk=actor.merged_into_id
            )
        return actor

    def actor(self, name: str, messages: list[str], *, by_slug: bool = False) -> Actor:
        name = " ".join(name.split())
        if by_slug:
            found = self.actor_by_slug.get(name)
            if found is not None:
                return self.survivor(found)
        normalized = normalize_name(name)
        found = self.actor_by_norm.get(normalized)
        if found is not None:
            return self.survivor(found)
        loose = self.actor_by_loose.get(_actor_loose_key(name), set())
        live = {self.survivor(self.actors[pk]).pk for pk in loose}
        if len(live) == 1:
            actor = self.actors[live.pop()]
            with self.audit(reason=f"spelling added by import #{self.batch.pk}"):
                services.actor_name_add(actor=actor, name=name)
            self.actor_by_norm[normalized] = actor
            self.actor_names.setdefault(actor.pk, []).append(name)
            self.added_names.append(f"{name} → {actor.slug}")
            messages.append(f"new spelling '{name}' added to actor {actor.slug}")
            return actor
        actor = Actor(
            slug=unique_slug(name, set(self.actor_by_slug)),
            name=name[:300],
            kind=Actor.Kind.UNKNOWN,
            bloc="unidentified",
        )
        with self.audit(reason=f"unknown actor created by import #{self.batch.pk}"):
            services.actor_save(
                actor=actor, by=None, reason=f"created by import #{self.batch.pk}"
            )
        self.actors[actor.pk] = actor
        self.actor_by_slug[actor.slug] = actor
        self.actor_by_norm[normalized] = actor
        self.actor_names[actor.pk] = [actor.name]
        self.created_actors.append(actor)
        messages.append(
            f"unknown actor '{name}' created as {actor.slug} (kind unknown, bloc "
            "unidentified): merge it into the right actor"
        )
        return actor

    # places ---------------------------------------------------------------------------

    def _load_places(self) -> None:
        self.places: dict[int, Location] = {p.pk: p for p in Location.objects.all()}
        self.place_slugs = {p.slug for p in self.places.values()}
        self.place_names: dict[int, list[str]] = {}
        # (parent_id, loose key) -> place, for matching by name within the parent
        self.by_parent: dict[tuple[int | None, str], Location] = {}
        for place in self.places.values():
            self._index_place(place, place.name)
        for location_id, name in LocationName.objects.order_by("name").values_list(
            "location_id", "name"
        ):
            self.place_names.setdefault(location_id, []).append(name)
            place = self.places.get(location_id)
            if place is not None:
                self._index_place(place, name)
        self.country = next(
            (
                p
                for p in self.places.values()
                if p.level == "country" and p.pcode in ("SY", "SYR")
            ),
            None,
        ) or next(
            (p for p in self.places.values() if p.level == "country"),
            None,
        )
        self.by_pcode = {p.pcode: p for p in self.places.values() if p.pcode}

    def _index_place(self, place: Location, name: str) -> None:
        if place.merged_into_id:
            return
        for key in {normalize_name(name), loose_key(name)}:
            if key:
                self.by_parent.setdefault((place.parent_id, key), place)

    def _create_place(
        self,
        *,
        name: str,
        level: str,
        parent: Location | None,
        pcode: str | None = None,
        latitude: float | None = None,
        longitude: float | None = None,
    ) -> Location:
        place = Location(
            slug=unique_slug(
                name,
                self.place_slugs,
                suffix=parent.slug if parent is not None else "",
                max_length=160,
            ),
            name=name[:300],
            level=level,
            parent=parent,
            pcode=pcode,
            latitude=latitude if longitude is not None else None,
            longitude=longitude if latitude is not None else None,
        )
        if self._place_context is None:
            self._place_context = audit_context(
                user=self.batch.user_id,
                import_batch=self.batch.pk,
                reason=f"place added by import #{self.batch.pk}",
            )
        with quiet_triggers(Location):
            place.save()
        write_events(Location, [place.pk], self._place_context, "insert")
        self.places[place.pk] = place
        self._index_place(place, name)
        if pcode:
            self.by_pcode[pcode] = place
        self.created_places.append(place)
        return place

    def syria(self) -> Location:
        if self.country is None:
            self.country = self._create_place(
                name="Syria", level="country", parent=None, pcode="SY"
            )
        return self.country

    def governorate(self, text: str, messages: list[str]) -> Location | None:
        text = " ".join(text.split())
        if not text or normalize_name(text) in ("no information", "unknown", "syria"):
            return None
        country = self.syria()
        for key in (normalize_name(text), loose_key(text)):
            place = self.by_parent.get((country.pk, key))
            if place is not None and place.level == "governorate":
                return place
        key = loose_key(text)
        for pcode, (canonical, spellings) in GOVERNORATES.items():
            if key in spellings or key == loose_key(canonical):
                place = self.by_pcode.get(pcode)
                if place is None:
                    place = self._create_place(
                        name=canonical, level="governorate", parent=country, pcode=pcode
                    )
                with self.audit(reason=f"spelling added by import #{self.batch.pk}"):
                    services.location_name_add(location=place, name=text)
                self._index_place(place, text)
                self.place_names.setdefault(place.pk, []).append(text)
                return place
        return None

    def district(
        self, text: str, governorate: Location | None, messages: list[str]
    ) -> Location | None:
        text = " ".join(text.split())
        if not text:
            return None
        key = loose_key(text)
        if governorate is not None:
            for k in (normalize_name(text), key):
                place = self.by_parent.get((governorate.pk, k))
                if place is not None and place.level == "district":
                    return place
            name = _strip_suffix(text, ("district",))
            return self._create_place(name=name, level="district", parent=governorate)
        # A district without its governorate ("al-Bab District" in a governorate column).
        matches = {
            p.pk: p
            for (parent_id, k), p in self.by_parent.items()
            if k == key and p.level == "district"
        }
        if len(matches) == 1:
            return next(iter(matches.values()))
        pcode = KNOWN_DISTRICTS.get(key)
        if pcode:
            gov = self.by_pcode.get(pcode) or self.governorate(
                GOVERNORATES[pcode][0], messages
            )
            return self.district(text, gov, messages)
        messages.append(f"district '{text}' has no known governorate: placed in Syria")
        return None

    def named(self, spec: PlaceSpec, parent: Location) -> Location:
        for k in (normalize_name(spec.named), loose_key(spec.named)):
            place = self.by_parent.get((parent.pk, k))
            if place is not None and place.level in (
                "community",
                "neighbourhood",
                "site",
                "subdistrict",
            ):
                return place
        return self._create_place(
            name=spec.named,
            level=spec.named_level or "community",
            parent=parent,
            latitude=spec.named_latitude,
            longitude=spec.named_longitude,
        )

    def place(self, spec: PlaceSpec, messages: list[str]) -> Location:
        if spec.slug:
            for place in self.places.values():
                if place.slug == spec.slug:
                    return self.place_survivor(place)
            messages.append(
                f"place '{spec.slug}' is not in the gazetteer: placed in Syria"
            )
            return self.syria()
        if spec.country_only:
            return self.syria()
        governorate = district = None
        gov_text = spec.governorate
        if gov_text and normalize_name(gov_text).endswith("district"):
            district = self.district(gov_text, None, messages)
            governorate = district.parent if district is not None else None
        elif gov_text:
            governorate = self.governorate(gov_text, messages)
            if governorate is None and normalize_name(gov_text) not in (
                "no information",
                "unknown",
                "",
            ):
                messages.append(
                    f"governorate '{gov_text}' is not known: location set to Syria"
                )
        if spec.district and district is None:
            if governorate is None:
                district = self.district(spec.district, None, messages)
                governorate = district.parent if district is not None else None
            else:
                district = self.district(spec.district, governorate, messages)
        parent = district or governorate or self.syria()
        if spec.named:
            return self.named(spec, parent)
        return parent

    def place_survivor(self, place: Location) -> Location:
        seen = set()
        while place.merged_into_id and place.pk not in seen:
            seen.add(place.pk)
            place = self.places.get(place.merged_into_id) or Location.objects.get(
                pk=place.merged_into_id
            )
        return place

    def chain(self, place: Location | None) -> list[Location]:
        chain: list[Location] = []
        seen: set[int] = set()
        while place is not None and place.pk not in seen:
            chain.append(place)
            seen.add(place.pk)
            place = self.places.get(place.parent_id) if place.parent_id else None
        return chain

    def governorate_of(self, place: Location | None) -> Location | None:
        for item in self.chain(place):
            if item.level == "governorate":
                return item
        return None

    def search_names(self, place: Location | None, actors: Iterable[Actor]) -> str:
        """As services._search_names, from the preloaded names."""
        places = self.chain(place)
        actor_list = [a for a in actors if a is not None]
        names: list[str] = []
        for item in places:
            names += [item.name, item.name_ar]
        for actor in actor_list:
            names += [actor.name, actor.name_ar]
        names += sorted(n for item in places for n in self.place_names.get(item.pk, []))
        names += sorted(
            n for actor in actor_list for n in self.actor_names.get(actor.pk, [])
        )
        unique: list[str] = []
        for name in names:
            if name and name not in unique:
                unique.append(name)
        return " ".join(unique)


KNOWN_DISTRICTS = {"bab": "SY02"}


def _strip_suffix(text: str, suffixes: Iterable[str]) -> str:
    words = text.split()
    while len(words) > 1 and words[-1].lower() in suffixes:
        words = words[:-1]
    return " ".join(words)


# ---------------------------------------------------------------------------------------
# Comparable snapshots ("people's edits win")
# ---------------------------------------------------------------------------------------

SNAPSHOT_FIELDS = (
    "title",
    "summary",
    "date_start",
    "date_end",
    "date_precision",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "incident_type",
    "aggregate",
)
FIELD_LABELS = {
    "title": "title",
    "summary": "summary",
    "date_start": "start date",
    "date_end": "end date",
    "date_precision": "date precision",
    "location": "place",
    "latitude": "latitude",
    "longitude": "longitude",
    "geo_precision": "place precision",
    "incident_type": "incident type",
    "aggregate": "aggregate",
    "attributions": "perpetrators",
    "weapons": "weapons",
    "targets": "targets",
}


def label(key: str) -> str:
    if key.startswith("casualties:"):
        group, outcome = key.split(":", 1)[1].split("/")
        group_label = dict(CasualtyCount._meta.get_field("group").choices).get(
            group, group
        )
        return f"{group_label} {outcome}"
    return FIELD_LABELS.get(key, key)


def _jsonable(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, float):
        return round(value, 7)
    return value


def snapshot(
    fields: dict[str, Any],
    casualties: Iterable,
    attributions: Iterable,
    weapons: Iterable,
    targets: Iterable,
) -> dict[str, Any]:
    """Comparable, JSON-able values of what an import manages on an incident."""
    snap: dict[str, Any] = {
        name: _jsonable(fields.get(name)) for name in SNAPSHOT_FIELDS
    }
    for row in casualties:
        snap[f"casualties:{row.group}/{row.outcome}"] = [row.min, row.max, row.best]
    snap["attributions"] = sorted(
        [_pk(a.actor), a.alternative or 0, a.confidence]
        for a in attributions
        if a.role == Attribution.Role.PERPETRATOR
    )
    snap["weapons"] = sorted([_pk(w.weapon), w.certainty] for w in weapons)
    snap["targets"] = sorted([_pk(t.target_type), t.damage] for t in targets)
    return snap


def _pk(value: Any) -> Any:
    return value.pk if hasattr(value, "pk") else value


def incident_snapshot(incident: Incident) -> dict[str, Any]:
    fields = {
        name: getattr(incident, f"{name}_id", None)
        if name in ("location", "incident_type")
        else getattr(incident, name)
        for name in SNAPSHOT_FIELDS
    }
    return snapshot(
        fields,
        incident.casualties.all(),
        list(incident.attributions.all()),
        incident.weapons.all(),
        incident.targets.all(),
    )


# ---------------------------------------------------------------------------------------
# The system account, batches
# ---------------------------------------------------------------------------------------


def importer_user():
    """The system account batches are recorded under when no user is named: the one
    services.system_user() keeps (it imports with a reviewer's rights)."""
    return services.system_user()


def batch_create(
    *,
    format: str,
    file_name: str,
    user=None,
    file=None,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    publish: bool = False,
    release: str = "",
    release_date: date | None = None,
    instance: str = "",
    note: str = "",
) -> ImportBatch:
    """A queued batch (the admin page and the API then enqueue run_import_batch)."""
    valid = {choice for choice, _ in ImportBatch.Format.choices} - {"seed"}
    if format not in valid:
        raise ImportFileError(
            f"Unknown format '{format}': choose one of {', '.join(sorted(valid))}."
        )
    user = user or importer_user()
    if publish and not services.import_acts_as_reviewer(user):
        # --publish is a reviewer's choice on every path (admin, API, command line
        # with --user): the service refuses it too, this says so before any work.
        raise ImportFileError(
            f"Only reviewers and admins import with publish: {user.get_username()} "
            "is not a reviewer."
        )
    batch = ImportBatch(
        format=format,
        file_name=file_name[:300],
        user=user,
        dry_run=dry_run,
        skip_bad_rows=skip_bad_rows,
        publish=publish,
        release=release,
        release_date=release_date,
        instance=instance,
        note=note,
        status=ImportBatch.Status.QUEUED,
    )
    with pghistory.context(
        reason="import queued", user=batch.user.pk if batch.user else None
    ):
        if file is not None:
            batch.file.save(file_name, file, save=False)
        batch.save()
    return batch


def _importer_for(format: str):
    from incidents.importers import importer_for

    return importer_for(format)


def dataset_name(batch: ImportBatch) -> str:
    return f"{batch.get_format_display()} {batch.release}".strip()


# ---------------------------------------------------------------------------------------
# Running a batch
# ---------------------------------------------------------------------------------------


class _Rollback(Exception):
    pass


def run_batch(batch: ImportBatch, source=None, *, out=None) -> ImportBatch:
    """Run a queued batch on `source` (path, upload or file object; default: the batch's
    stored file). Never raises for bad input: the batch ends failed with the reason.

    The report, reasons and labels it stores are English, whatever language the calling
    thread has active (a web request in Arabic, a test client's last request)."""
    with translation.override("en"):
        return _run_batch(batch, source, out=out)


def _run_batch(batch: ImportBatch, source=None, *, out=None) -> ImportBatch:
    started = time.monotonic()
    progress: ProgressWriter | None = None
    try:
        importer = _importer_for(batch.format)
        # Read twice as a stream (checked and counted, then imported), never held whole.
        records = CsvFile(source if source is not None else batch.file)
        records.scan(importer, format=batch.format)
        sha256 = records.sha256
        if not batch.release and not (
            batch.format == "civtrack" and not batch.instance
        ):
            earlier = (
                ImportBatch.objects.filter(sha256=sha256, format=batch.format)
                .exclude(release="")
                .exclude(pk=batch.pk)
                .order_by("-pk")
                .first()
            )
            if earlier is not None:
                batch.release, batch.release_date = (
                    earlier.release,
                    earlier.release_date,
                )
            else:
                release, release_date = importer.release_from_file(records)
                if release:
                    batch.release, batch.release_date = release, release_date
        if batch.release and batch.release_date is None:
            raise ImportFileError(
                "Give the release date (--release-date YYYY-MM-DD) with the release."
            )
        if importer.needs_release(batch) and not batch.release:
            raise ImportFileError(
                "This file does not say which release it is: give --release NAME and "
                "--release-date YYYY-MM-DD."
            )
        if batch.publish and not services.import_acts_as_reviewer(batch.user):
            # Checked again here, whatever created the batch: _bulk_publish and the
            # updates of published incidents rely on it.
            raise ImportFileError("Only reviewers and admins import with publish.")
        batch.sha256 = sha256
        batch.status = ImportBatch.Status.RUNNING
        batch.started_at = timezone.now()
        batch.progress_total = len(records)
        batch.progress_done = 0
        batch.rows_read = len(records)
        if batch.publish:
            batch.four_eyes_waived = True
        with pghistory.context(reason="import started", user=batch.user_id):
            batch.save()
        progress = ProgressWriter(batch.pk, len(records), out=out)
        progress.update(0, force=True)
        engine = Engine(batch, importer, progress)
        try:
            with transaction.atomic():
                engine.run(records)
                engine.finish_counts()
                rollback = batch.dry_run or (
                    engine.counts["rejected"] and not batch.skip_bad_rows
                )
                progress.update(len(records), force=True)
                if rollback:
                    raise _Rollback
                engine.save_batch(status=ImportBatch.Status.SUCCEEDED)
        except _Rollback:
            if batch.dry_run:
                engine.save_batch(status=ImportBatch.Status.SUCCEEDED)
            else:
                engine.save_batch(
                    status=ImportBatch.Status.FAILED,
                    failure_reason=(
                        f"{engine.counts['rejected']} row(s) rejected: nothing was "
                        "written (use --skip-bad-rows to import the valid rows)."
                    ),
                )
        if (
            batch.status == ImportBatch.Status.SUCCEEDED
            and not batch.dry_run
            and (engine.counts["created"] or engine.counts["updated"])
        ):
            # A bulk write leaves the planner blind until it has statistics (issue 12
            # §9: a count took 7–27 s after `make run`); analyse what the batch filled.
            tables_analyze(tables=import_tables())
    except ImportFileError as error:
        _fail(batch, str(error))
    except Exception as error:
        _fail(batch, f"{type(error).__name__}: {error}")
        raise
    except KeyboardInterrupt:
        _fail(batch, "interrupted (Ctrl-C): nothing was written")
        raise
    finally:
        if progress is not None:
            progress.close()
        batch.elapsed = time.monotonic() - started  # type: ignore[attr-defined]
    return batch


def _fail(batch: ImportBatch, reason: str) -> None:
    batch.status = ImportBatch.Status.FAILED
    batch.failure_reason = reason
    batch.finished_at = timezone.now()
    if batch.started_at is None:
        batch.started_at = batch.finished_at
    if batch.pk is None:
        return
    with pghistory.context(reason="import failed", user=batch.user_id):
        batch.save()


def skip_reason(problem: str) -> str:
    """The short reason a report row carries ("needs a reviewer", "published")."""
    if problem.startswith(services.NEEDS_A_REVIEWER):
        return services.NEEDS_A_REVIEWER
    return "published"


@dataclass
class _Plan:
    mapped: MappedRow
    fields: dict[str, Any]
    parts: services.IncidentParts
    snap: dict[str, Any]
    entry: dict[str, Any]
    existing_ref: ExternalRef | None = None


class Engine:
    """One batch's work inside its transaction."""

    def __init__(self, batch: ImportBatch, importer, progress: ProgressWriter):
        self.batch = batch
        self.importer = importer
        self.progress = progress
        self.system = importer.system
        self.user_id = batch.user_id
        self.report: list[dict[str, Any]] = []
        self.counts: Counter[str] = Counter()
        self.warnings = 0
        self.seen: dict[str, int] = {}
        self.publish_reason = f"published from dataset {dataset_name(batch)}".strip()

    def audit(self, *, reason: str):
        return pghistory.context(
            user=self.user_id, import_batch=self.batch.pk, reason=reason
        )

    # setup ----------------------------------------------------------------------------

    def _setup(self) -> None:
        self.resolver = Resolver(self.batch, self.audit)
        self.types = {t.code: t for t in IncidentType.objects.all()}
        self.weapon_types = {w.code: w for w in WeaponType.objects.all()}
        self.target_types = {t.code: t for t in TargetType.objects.all()}
        self.source = self.importer.dataset_source(self.batch, self.audit)

    # main loop ------------------------------------------------------------------------

    def run(self, records: Iterable[Record]) -> None:
        self._setup()
        if hasattr(self.importer, "run_own") and not self.batch.instance:
            self.importer.run_own(self, records)
            return
        done = 0
        rows = iter(records)
        while True:
            chunk = list(itertools.islice(rows, CHUNK_SIZE))
            if not chunk:
                break
            self._run_chunk(chunk)
            done += len(chunk)
            del chunk  # the next chunk is read without this one still in memory
            self.progress.update(done)

    def _run_chunk(self, chunk: list[Record]) -> None:
        values = []
        mapped_rows: list[MappedRow | None] = []
        for record in chunk:
            mapped = self._map(record)
            mapped_rows.append(mapped)
            if mapped is not None:
                values.append(mapped.value)
        refs = {
            ref.value: ref
            for ref in ExternalRef.objects.filter(
                system=self.system, value__in=values
            ).select_related("incident")
        }
        by_value = {m.value: m for m in mapped_rows if m is not None}
        needs = {
            ref.incident_id
            for value, ref in refs.items()
            if not self._fast_unchanged(ref, by_value.get(value))
        }
        incidents = {}
        if needs:
            incidents = {
                i.pk: i
                for i in Incident.objects.filter(pk__in=needs).prefetch_related(
                    "casualties", "attributions", "weapons", "targets", "citations"
                )
            }
        creates: list[_Plan] = []
        for mapped in mapped_rows:
            if mapped is None:
                continue
            self._plan(mapped, refs.get(mapped.value), incidents, creates)
        if creates:
            self._bulk_create(creates)

    def _fast_unchanged(self, ref: ExternalRef, mapped: MappedRow | None) -> bool:
        return (
            mapped is not None
            and isinstance(ref.raw, dict)
            and ref.raw.get("row") == mapped.raw
            and ref.release == self.batch.release
            and not (
                ref.incident.status == Incident.Status.WITHDRAWN
                and ref.incident.withdrawn_reason == REVERTED_REASON
            )
        )

    def _entry(self, line, external_id, action, messages=None, **extra):
        entry = {
            "line": line,
            "external_id": external_id,
            "action": action,
            "messages": [m[:MAX_REPORT_MESSAGE] for m in (messages or [])],
        }
        entry.update(extra)
        self.report.append(entry)
        self.counts[action] += 1
        if action != "rejected" and entry["messages"]:
            self.warnings += 1
        return entry

    def _map(self, record: Record) -> MappedRow | None:
        error = record.row.get("__error__")
        if error:
            self._entry(
                record.line, "", "rejected", [f"line {record.line}: {error}"], column=""
            )
            return None
        try:
            mapped = self.importer.map_row(record.row, record.line, self.batch)
        except RowRejected as rejected:
            external_id = self.importer.external_id(record.row)
            self._entry(
                record.line,
                external_id,
                "rejected",
                [f"line {record.line}, column '{rejected.column}': {rejected.reason}"],
                column=rejected.column,
            )
            return None
        if mapped.value in self.seen:
            self._entry(
                record.line,
                mapped.value,
                "rejected",
                [
                    f"line {record.line}: id {mapped.value} appears twice in the file "
                    f"(first on line {self.seen[mapped.value]})"
                ],
                column=self.importer.id_column,
            )
            return None
        self.seen[mapped.value] = record.line
        return mapped

    # building one row's incident ------------------------------------------------------

    def _build(self, mapped: MappedRow, messages: list[str]):
        resolver = self.resolver
        incident_type = self.types.get(mapped.incident_type)
        if incident_type is None:
            raise RowRejected(
                self.importer.type_column,
                f"incident type '{mapped.incident_type}' is not in the vocabulary",
            )
        location = resolver.place(mapped.place, messages)
        fields = dict(mapped.fields)
        fields["incident_type"] = incident_type
        fields["location"] = location
        fields.setdefault("date_end", fields.get("date_start"))
        attributions: list[services.AttributionData] = []
        seen_actor: dict[int, int | None] = {}
        for name, alternative in mapped.perpetrators:
            actor = resolver.actor(name, messages, by_slug=mapped.perpetrators_by_slug)
            if actor.pk in seen_actor:
                if seen_actor[actor.pk] != alternative:
                    messages.append(
                        f"'{name}' ({actor.slug}) is named in two hypotheses: kept in "
                        f"hypothesis {seen_actor[actor.pk]} only"
                    )
                continue
            seen_actor[actor.pk] = alternative
            attributions.append(
                services.AttributionData(
                    actor=actor, confidence=mapped.confidence, alternative=alternative
                )
            )
        numbered = {a.alternative for a in attributions if a.alternative is not None}
        if len(numbered) == 1:
            messages.append(
                "only one hypothesis is left after matching actors: its perpetrators "
                "are recorded as certain"
            )
            for a in attributions:
                a.alternative = None
        weapons = []
        for code in dict.fromkeys(mapped.weapons):
            weapon = self.weapon_types.get(code)
            if weapon is None:
                messages.append(
                    f"weapon type '{code}' is not in the vocabulary: left out"
                )
                continue
            weapons.append(services.WeaponData(weapon=weapon))
        targets = []
        for code, damage in mapped.targets:
            target_type = self.target_types.get(code)
            if target_type is None:
                messages.append(
                    f"target type '{code}' is not in the vocabulary: left out"
                )
                continue
            targets.append(services.TargetData(target_type=target_type, damage=damage))
        parts = services.IncidentParts(
            casualty_rows=list(mapped.casualties),
            attributions=attributions,
            weapons=weapons,
            targets=targets,
        )
        try:
            services.validate_incident(fields, parts)
        except services.IncidentValidationError as error:
            problems = "; ".join(
                f"{key}: {' '.join(str(m) for m in value)}"
                for key, value in error.message_dict.items()
            )
            raise RowRejected("", problems) from error
        snap = snapshot(fields, parts.casualty_rows, attributions, weapons, targets)
        return fields, parts, snap

    def _citation(self, mapped: MappedRow) -> services.CitationData:
        return services.CitationData(
            source=self.source,
            supports=list(mapped.supports),
            excerpt=mapped.excerpt,
            locator=mapped.locator[:200],
        )

    def _ref_raw(self, mapped: MappedRow, snap: dict[str, Any]) -> dict[str, Any]:
        return {"line": mapped.line, "row": mapped.raw, "written": snap}

    def _plan(self, mapped: MappedRow, ref, incidents, creates) -> None:
        messages = list(mapped.warnings)
        line, value = mapped.line, mapped.value
        if ref is not None and self._fast_unchanged(ref, mapped):
            self._entry(line, value, "unchanged", messages, incident=ref.incident.code)
            return
        if (
            ref is not None
            and ref.release_date
            and self.batch.release_date
            and self.batch.release_date < ref.release_date
        ):
            self._entry(
                line,
                value,
                "skipped",
                [
                    *messages,
                    f"older release, skipped (stored: release {ref.release} of "
                    f"{ref.release_date})",
                ],
                incident=ref.incident.code,
            )
            return
        try:
            fields, parts, snap = self._build(mapped, messages)
        except RowRejected as rejected:
            where = f", column '{rejected.column}'" if rejected.column else ""
            self._entry(
                line,
                value,
                "rejected",
                [f"line {line}{where}: {rejected.reason}", *messages],
                column=rejected.column,
            )
            return
        incident = incidents.get(ref.incident_id) if ref is not None else None
        if incident is not None:
            while incident.status == Incident.Status.MERGED and incident.merged_into_id:
                incident = Incident.objects.prefetch_related(
                    "casualties", "attributions", "weapons", "targets", "citations"
                ).get(pk=incident.merged_into_id)
            if incident.status == Incident.Status.WITHDRAWN:
                if incident.withdrawn_reason != REVERTED_REASON:
                    self._entry(
                        line,
                        value,
                        "skipped",
                        [*messages, f"{incident.code} was withdrawn: row skipped"],
                        incident=incident.code,
                    )
                    return
                messages.append(
                    f"{incident.code} was withdrawn by reverting an import: a new "
                    "incident is created"
                )
                incident = None
            else:
                self._update(mapped, ref, incident, fields, parts, snap, messages)
                return
        fields["grading"] = mapped.grading or Incident.Grading.NOT_ASSESSED
        parts.citations = [self._citation(mapped)]
        parts.external_refs = []
        entry = self._entry(line, value, "created", messages)
        creates.append(_Plan(mapped, fields, parts, snap, entry, existing_ref=ref))

    # updates ----------------------------------------------------------------------------

    def _update(self, mapped, ref, incident, fields, parts, snap, messages) -> None:
        line, value = mapped.line, mapped.value
        written = ref.raw.get("written") if isinstance(ref.raw, dict) else None
        written = self._written_survivors(written or {})
        current = incident_snapshot(incident)
        changes: dict[str, dict[str, Any]] = {}
        keys = [k for k in snap if k != "attributions"] + ["attributions"]
        keys += [k for k in written if k.startswith("casualties:") and k not in snap]
        for key in dict.fromkeys(keys):
            new = snap.get(key)
            cur = current.get(key)
            if new == cur:
                continue
            if key not in written and cur is not None and key.startswith("casualties:"):
                messages.append(f"kept researcher's edit of {label(key)}")
                continue
            if not written or key not in written or cur == written.get(key):
                changes[key] = {"old": cur, "new": new}
            else:
                messages.append(f"kept researcher's edit of {label(key)}")
        ref_update = {
            "release": self.batch.release,
            "release_date": self.batch.release_date,
            "batch": self.batch,
            "raw": self._ref_raw(mapped, snap),
        }
        ref_before = {
            "release": ref.release,
            "release_date": ref.release_date.isoformat() if ref.release_date else None,
            "batch": ref.batch_id,
            "raw": ref.raw,
        }
        if not changes:
            if ref.raw != ref_update["raw"] or ref.release != self.batch.release:
                with self.audit(
                    reason=f"reference refreshed by import #{self.batch.pk}"
                ):
                    ExternalRef.objects.filter(pk=ref.pk).update(**ref_update)
            self._entry(line, value, "unchanged", messages, incident=incident.code)
            return
        problem = services.import_change_problem(batch=self.batch, incident=incident)
        if problem:
            # The service would refuse it too: the row is reported, the batch goes on.
            self._entry(
                line,
                value,
                "skipped",
                [
                    *messages,
                    f"line {line}: {problem} ("
                    + ", ".join(label(k) for k in changes)
                    + " would change)",
                ],
                incident=incident.code,
                reason=skip_reason(problem),
            )
            return
        new_fields = {k: fields[k] for k in SNAPSHOT_FIELDS if k in changes}
        new_parts = services.IncidentParts()
        if any(k.startswith("casualties:") for k in changes):
            rows = {
                (c.group, c.outcome): services.CasualtyRowData(
                    group=c.group,
                    outcome=c.outcome,
                    min=c.min,
                    max=c.max,
                    best=c.best,
                    note=c.note,
                )
                for c in incident.casualties.all()
            }
            wanted = {(c.group, c.outcome): c for c in parts.casualty_rows}
            for key in changes:
                if key.startswith("casualties:"):
                    group, outcome = key.split(":", 1)[1].split("/")
                    if (group, outcome) in wanted:
                        rows[(group, outcome)] = wanted[(group, outcome)]
                    else:
                        rows.pop((group, outcome), None)
            new_parts.casualty_rows = list(rows.values())
        if "attributions" in changes:
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
            new_parts.attributions = others + parts.attributions
        if "weapons" in changes:
            new_parts.weapons = parts.weapons
        if "targets" in changes:
            new_parts.targets = parts.targets
        citations = [
            services.CitationData(
                source=c.source,
                supports=c.supports,
                excerpt=c.excerpt,
                locator=c.locator,
            )
            for c in incident.citations.all()
        ]
        if not any(
            c.source.pk == self.source.pk and c.locator == mapped.locator[:200]
            for c in citations
        ):
            new_parts.citations = [*citations, self._citation(mapped)]
        try:
            with self.audit(reason=f"updated from dataset {dataset_name(self.batch)}"):
                services.incident_update(
                    incident=incident,
                    expected_version=incident.version,
                    fields=new_fields,
                    parts=new_parts,
                    by=None,
                    reason=f"updated from dataset {dataset_name(self.batch)}",
                    batch=self.batch,
                )
                ExternalRef.objects.filter(pk=ref.pk).update(
                    incident=incident, **ref_update
                )
        except services.IncidentValidationError as error:
            problems = "; ".join(
                f"{key}: {' '.join(str(m) for m in value)}"
                for key, value in error.message_dict.items()
            )
            self._entry(
                line,
                value,
                "rejected",
                [f"line {line}: {problems}", *messages],
                incident=incident.code,
            )
            return
        described = [
            f"{label(k)}: {self.describe(k, c['old'])} → {self.describe(k, c['new'])}"
            for k, c in changes.items()
        ]
        self._entry(
            line,
            value,
            "updated",
            described + messages,
            incident=incident.code,
            incident_id=incident.pk,
            changes=changes,
            ref_before=ref_before,
        )

    def _written_survivors(self, written: dict[str, Any]) -> dict[str, Any]:
        """What the last import wrote, with merged actors and places followed."""
        if not written:
            return written
        written = dict(written)
        attributions = []
        for actor_id, alternative, confidence in written.get("attributions", []):
            actor = self.resolver.actors.get(actor_id)
            if actor is not None:
                actor_id = self.resolver.survivor(actor).pk
            attributions.append([actor_id, alternative, confidence])
        written["attributions"] = sorted(attributions)
        place = self.resolver.places.get(written.get("location"))
        if place is not None:
            written["location"] = self.resolver.place_survivor(place).pk
        return written

    def describe(self, key: str, value: Any) -> str:
        if value is None:
            return "—"
        if key == "location":
            place = self.resolver.places.get(value)
            return place.name if place else str(value)
        if key == "incident_type":
            names = {t.pk: t.code for t in self.types.values()}
            return names.get(value, str(value))
        if key.startswith("casualties:"):
            low, high, best = value
            text = f"{low}" if low == high else f"{low}–{high}"
            return text if best is None or low == high else f"{text} (best {best})"
        if key == "attributions":
            parts = []
            for actor_id, alternative, _confidence in value:
                actor = self.resolver.actors.get(actor_id)
                name = actor.slug if actor else str(actor_id)
                parts.append(f"{name} [{alternative}]" if alternative else name)
            return ", ".join(parts) or "none"
        if key in ("weapons", "targets"):
            table = self.weapon_types if key == "weapons" else self.target_types
            names = {t.pk: t.code for t in table.values()}
            return ", ".join(f"{names.get(i, i)} ({d})" for i, d in value) or "none"
        text = str(value)
        return text if len(text) <= 80 else text[:77] + "…"

    # bulk creation --------------------------------------------------------------------

    def _reserve_codes(self, years: Counter[int]) -> dict[int, list[str]]:
        codes: dict[int, list[str]] = {}
        with connection.cursor() as cursor:
            for year, count in sorted(years.items()):
                cursor.execute(
                    """
                    INSERT INTO incidents_incidentcodecounter (year, last_number)
                    VALUES (%s, %s)
                    ON CONFLICT (year) DO UPDATE
                      SET last_number = incidents_incidentcodecounter.last_number
                                        + EXCLUDED.last_number
                    RETURNING last_number
                    """,
                    [year, count],
                )
                last = cursor.fetchone()[0]
                codes[year] = [
                    f"SY-{year:04d}-{n:05d}" for n in range(last - count + 1, last + 1)
                ]
        return codes

    def _bulk_create(self, plans: list[_Plan]) -> None:
        resolver = self.resolver
        years = Counter(plan.fields["date_start"].year for plan in plans)
        codes = self._reserve_codes(years)
        user_id = self.user_id
        incidents = []
        for plan in plans:
            fields = plan.fields
            derived = services.compute_totals(plan.parts.casualty_rows)
            derived["governorate"] = resolver.governorate_of(fields["location"])
            derived.update(services._public_place(fields, plan.parts.targets or []))
            derived["search_names"] = resolver.search_names(
                derived["public_location"], [a.actor for a in plan.parts.attributions]
            )
            incident = Incident(
                **fields,
                **derived,
                code=codes[fields["date_start"].year].pop(0),
                created_by_id=user_id,
                last_edited_by_id=user_id,
                import_batch=self.batch,
            )
            incidents.append(incident)
        reason = f"imported from dataset {dataset_name(self.batch)}"
        context_id = audit_context(
            user=user_id, import_batch=self.batch.pk, reason=reason
        )
        bulk_models = (
            Incident,
            CasualtyCount,
            Attribution,
            IncidentWeapon,
            IncidentTarget,
            Citation,
            ExternalRef,
        )
        with quiet_triggers(*bulk_models):
            copy_create(Incident, incidents)
            casualties, attributions, weapons, targets, citations, refs = (
                [],
                [],
                [],
                [],
                [],
                [],
            )
            moved_refs = []
            for plan, incident in zip(plans, incidents, strict=True):
                plan.entry["incident"] = incident.code
                parts = plan.parts
                casualties += [
                    CasualtyCount(incident=incident, **vars(r))
                    for r in parts.casualty_rows
                ]
                attributions += [
                    Attribution(incident=incident, **vars(a))
                    for a in parts.attributions
                ]
                weapons += [
                    IncidentWeapon(incident=incident, **vars(w)) for w in parts.weapons
                ]
                targets += [
                    IncidentTarget(incident=incident, **vars(t)) for t in parts.targets
                ]
                citations += [
                    Citation(incident=incident, **vars(c)) for c in parts.citations
                ]
                ref_values = {
                    "release": self.batch.release,
                    "release_date": self.batch.release_date,
                    "batch": self.batch,
                    "raw": self._ref_raw(plan.mapped, plan.snap),
                    "url": plan.mapped.url,
                }
                if plan.existing_ref is not None:
                    moved_refs.append((plan.existing_ref.pk, incident, ref_values))
                else:
                    refs.append(
                        ExternalRef(
                            incident=incident,
                            system=self.system,
                            value=plan.mapped.value,
                            **ref_values,
                        )
                    )
            for model, objects in (
                (CasualtyCount, casualties),
                (Attribution, attributions),
                (IncidentWeapon, weapons),
                (IncidentTarget, targets),
                (Citation, citations),
                (ExternalRef, refs),
            ):
                copy_create(model, objects)
        write_events(Incident, [i.pk for i in incidents], context_id, "insert")
        for model, objects in (
            (CasualtyCount, casualties),
            (Attribution, attributions),
            (IncidentWeapon, weapons),
            (IncidentTarget, targets),
            (Citation, citations),
            (ExternalRef, refs),
        ):
            write_events(model, [o.pk for o in objects], context_id, "insert")
        with self.audit(reason=reason):
            for pk, incident, values in moved_refs:
                ExternalRef.objects.filter(pk=pk).update(incident=incident, **values)
        if self.batch.publish:
            self._bulk_publish(incidents)

    def _bulk_publish(self, incidents: list[Incident]) -> None:
        """services.incident_publish(batch=…) for many drafts at once: same status
        change, same reason, same changes-feed rows."""
        ids = [i.pk for i in incidents]
        now = timezone.now()
        context_id = audit_context(
            user=self.user_id,
            import_batch=self.batch.pk,
            reason=self.publish_reason,
        )
        with quiet_triggers(Incident, operation="update"):
            Incident.objects.filter(pk__in=ids, status=Incident.Status.DRAFT).update(
                status=Incident.Status.PUBLISHED,
                reviewed_by_id=self.user_id,
                published_at=now,
                first_published_at=now,
            )
        write_events(Incident, ids, context_id, "update")
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s)", [services.CHANGES_FEED_LOCK]
            )
        versions = dict(
            Incident.objects.filter(pk__in=ids).values_list("pk", "version")
        )
        PublicChange.objects.bulk_create(
            [
                PublicChange(
                    incident_id=i.pk,
                    code=i.code,
                    action=PublicChange.Action.PUBLISHED,
                    version=versions[i.pk],
                )
                for i in incidents
            ],
            batch_size=1000,
        )

    # the end ----------------------------------------------------------------------------

    def finish_counts(self) -> None:
        resolver = self.resolver
        notes = []
        for actor in resolver.created_actors:
            notes.append(f"unknown actor created: {actor.name} ({actor.slug})")
        if resolver.created_places:
            notes.append(
                f"{len(resolver.created_places)} place(s) added to the gazetteer"
            )
        for text in resolver.added_names:
            notes.append(f"spelling added: {text}")
        if notes:
            self.report.insert(
                0,
                {"line": None, "external_id": "", "action": "note", "messages": notes},
            )

    def save_batch(self, *, status: str, failure_reason: str = "") -> None:
        batch = self.batch
        batch.status = status
        batch.failure_reason = failure_reason
        batch.finished_at = timezone.now()
        batch.rows_created = self.counts["created"]
        batch.rows_updated = self.counts["updated"]
        batch.rows_unchanged = self.counts["unchanged"]
        batch.rows_skipped = self.counts["skipped"]
        batch.rows_rejected = self.counts["rejected"]
        batch.rows_warnings = self.warnings
        batch.progress_done = batch.progress_total or 0
        batch.report = self.report
        with pghistory.context(
            reason=f"import {status}", user=self.user_id, import_batch=batch.pk
        ):
            batch.save()


def summary(batch: ImportBatch) -> str:
    return (
        f"created {batch.rows_created}, updated {batch.rows_updated}, unchanged "
        f"{batch.rows_unchanged}, skipped {batch.rows_skipped}, rejected "
        f"{batch.rows_rejected}, warnings {batch.rows_warnings}"
    )


def parse_int(value: str | None, column: str, *, allow_empty=False) -> int | None:
    text = (value or "").strip()
    if not text:
        if allow_empty:
            return None
        raise RowRejected(column, "a whole number is required, the cell is empty")
    try:
        number = int(text)
    except ValueError:
        try:
            as_float = float(text)
        except ValueError:
            raise RowRejected(column, f"'{text}' is not a whole number") from None
        if not as_float.is_integer():
            raise RowRejected(column, f"'{text}' is not a whole number") from None
        number = int(as_float)
    if number < 0:
        raise RowRejected(column, f"{number} is negative: expected 0 or more")
    return number


def parse_float(value: str | None, column: str) -> float | None:
    text = (value or "").strip()
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise RowRejected(column, f"'{text}' is not a number") from None


def parse_date(value: str | None, column: str, *, formats=("%Y-%m-%d",)) -> date:
    text = (value or "").strip()
    if not text:
        raise RowRejected(column, "a date is required (YYYY-MM-DD), the cell is empty")
    candidate = text
    if len(text) > 10 and text[10] in " T" and text[:4].isdigit():
        candidate = text[:10]
    for fmt in formats:
        try:
            return datetime.strptime(candidate, fmt).date()  # noqa: DTZ007 (a date)
        except ValueError:
            continue
    raise RowRejected(column, f"'{text}' is not a valid date (expected YYYY-MM-DD)")


class BaseImporter:
    """A format: its columns, its external id, how a row maps."""

    format = ""
    system = ""
    id_column = ""
    type_column = ""
    required_columns: tuple[str, ...] = ()
    publisher = ""
    licence = ""
    url = ""
    title = ""

    def check_header(self, header: list[str]) -> None:
        missing = [c for c in self.required_columns if c not in header]
        if missing:
            raise ImportFileError(
                f"Line 1: the header lacks the column(s) {', '.join(repr(m) for m in missing)} "
                f"that a {self.title} file has: is this the right --format?"
            )

    def data_records(self, records: Iterable[Record]) -> Iterable[Record]:
        """The records that are data (a lazy filter: files are read as streams)."""
        return records

    def needs_release(self, batch: ImportBatch) -> bool:
        return True

    def release_from_file(self, records: Iterable[Record]) -> tuple[str, date | None]:
        return "", None

    def external_id(self, row: dict[str, str]) -> str:
        return (row.get(self.id_column) or "").strip()

    def map_row(self, row: dict[str, str], line: int, batch: ImportBatch) -> MappedRow:
        raise NotImplementedError

    def dataset_source(self, batch: ImportBatch, audit) -> Source:
        """One Source (kind dataset) per release."""
        existing = (
            Source.objects.filter(
                kind=Source.Kind.DATASET,
                publisher=self.publisher,
                release=batch.release,
            )
            .order_by("pk")
            .first()
        )
        if existing is not None:
            return existing
        url = f"{self.url}#release-{slugify(batch.release) or 'unknown'}"
        duplicate = Source.objects.filter(url=url).first()
        if duplicate is not None:
            return duplicate
        with audit(reason=f"dataset source added by import #{batch.pk}"):
            return services.source_create(
                by=None,
                kind=Source.Kind.DATASET,
                title=f"{self.title}, release {batch.release}"[:500],
                publisher=self.publisher,
                url=url,
                release=batch.release,
                published_on=batch.release_date,
                licence=self.licence,
                reliability=Source.Reliability.LIKELY_RELIABLE,
                reason=f"dataset source added by import #{batch.pk}",
            )


def print_report(batch: ImportBatch, out, *, limit: int = 200) -> None:
    """The per-row report, for the command line."""
    shown = 0
    for entry in batch.report:
        if entry["action"] in ("unchanged",) and not entry.get("messages"):
            continue
        if (
            entry["action"] == "created"
            and not entry.get("messages")
            and not batch.dry_run
        ):
            continue
        if shown >= limit:
            out.write(f"… {len(batch.report) - shown} more rows in the batch report\n")
            break
        where = f"line {entry['line']}" if entry.get("line") else "batch"
        ident = f" {entry['external_id']}" if entry.get("external_id") else ""
        out.write(f"{where}{ident}: {entry['action']}\n")
        for message in entry.get("messages", []):
            out.write(f"    {message}\n")
        shown += 1


__all__ = [
    "BaseImporter",
    "ImportFileError",
    "MappedRow",
    "PlaceSpec",
    "RowRejected",
    "batch_create",
    "importer_user",
    "run_batch",
    "summary",
]
