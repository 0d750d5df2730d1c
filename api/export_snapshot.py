"""Prebuilt export text for the public's exports (issue 8: ≥ 100,000 rows/s).

Writing a million export rows costs PostgreSQL about 20 s, most of it gathering each
incident's related lists (api/export_sql.py); a nightly mirror asks for the same rows
again and again, while the public data changes rarely. So the public's CSV and
(English, all-fields) GeoJSON rows are also kept prebuilt, one row of text per
published incident (`ExportLine`), and an export whose snapshot is current only looks
its lines up in the keyset's order.

Exact, never stale: a snapshot records the fingerprint of the data it was built from
(`incidents.public_cache.public_data_version()`: the changes feed's last seq and the
last audit event of every domain table, so any write by any path moves it), taken in
the same REPEATABLE READ snapshot as its rows. An export uses it only when the
fingerprint is the same in its own REPEATABLE READ snapshot, in which it then also
selects the rows: the lines are exactly what the live query would write then (tests
compare both after every kind of change). Otherwise the export runs live and asks for
a rebuild in the background (once per fingerprint), when the data is large enough
for it to matter (`CIVTRACK_EXPORT_SNAPSHOT_MIN_ROWS`).

Staff exports (drafts, real places), other languages and field subsets are always
live.
"""

from __future__ import annotations

import functools
import hashlib
import time

from django.conf import settings
from django.core.cache import cache
from django.db import connection, transaction
from django.utils import timezone

from api import export_sql
from api.filters import DEFAULT_ORDERING, LIST_FIELDS, ORDERINGS
from api.models import ExportLine, ExportSnapshot
from incidents import selectors
from incidents.dbstats import tables_analyze
from incidents.models import Incident
from incidents.public_cache import public_data_version

KINDS = ("csv", "geojson")
# The exports' default order.
DEFAULT_KEYSET = ORDERINGS[DEFAULT_ORDERING]
# One build at a time, whatever the kind (generations are shared).
_BUILD_LOCK = 0x43495654  # "CIVT"


def begin_snapshot_transaction(cursor, *, outermost: bool) -> None:
    """First statements of an export's or a build's transaction: one REPEATABLE READ
    snapshot for the fingerprint and the rows (inside an outer transaction, a test's,
    the snapshot is already that one), and room for sorts in memory."""
    if outermost:
        cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
    cursor.execute("SET LOCAL work_mem = %s", [settings.CIVTRACK_EXPORT_WORK_MEM])
    # Every row is read: plan the server-side cursor for the whole result, not for its
    # first tenth (PostgreSQL's default for cursors favours index lookups row by row).
    cursor.execute("SET LOCAL cursor_tuple_fraction = 1.0")


@functools.cache
def _rows_query(kind: str) -> str:
    """(incident id, text) of every incident the public could export as `kind`, in
    the exports' default order (so that the lines of a default export lie in order
    on disk: its lookups read the table front to back). The same text for the life
    of the process (the build runs it, every export digests it)."""
    base = selectors.public_incidents()
    if kind == "geojson":
        base = base.filter(public_latitude__isnull=False, aggregate=False)
    keyset = DEFAULT_KEYSET
    ids = base.order_by().values_list("id", keyset.field)
    ids_sql, params = ids.query.sql_with_params()
    if kind == "csv":
        sql = export_sql.csv_query(ids_sql, keyset, with_id=True)
    else:
        sql, _ = export_sql.geojson_query(
            ids_sql,
            keyset,
            staff=False,
            lang="en",
            fields=set(LIST_FIELDS),
            url_markers=True,
            with_id=True,
        )
    with connection.cursor() as cursor:
        return cursor.mogrify(sql, params).decode()


def _format_digest(kind: str) -> str:
    """What this code writes for `kind`: a digest of the SQL that builds the lines, so
    that lines built by an older release (another column, another rule) are never
    served after an upgrade, even while the data stays the same."""
    return hashlib.sha256(_rows_query(kind).encode()).hexdigest()[:16]


def snapshot_version(kind: str, data_version: str) -> str:
    """The version a `kind` snapshot must carry to be used with data at
    `data_version` (`public_data_version()`) by this code."""
    return f"{_format_digest(kind)}/{data_version}"


def build(kind: str, *, force: bool = False) -> ExportSnapshot | None:
    """Write a new generation of `kind`'s lines from the current data and make it
    current; None when another build holds the lock (it will be as fresh). A current
    snapshot (same data, same format) is kept unless `force`: several workers may
    ask for the same rebuild."""
    if kind not in KINDS:
        raise ValueError(f"unknown export kind {kind!r}; one of {', '.join(KINDS)}")
    began = time.monotonic()
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        with connection.cursor() as cursor:
            begin_snapshot_transaction(cursor, outermost=outermost)
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [_BUILD_LOCK])
            if not cursor.fetchone()[0]:
                return None
            version = snapshot_version(kind, public_data_version())
            current = ExportSnapshot.objects.filter(kind=kind).first()
            if current is not None and current.data_version == version and not force:
                return current
            cursor.execute(
                f"SELECT coalesce(max(generation), 0) + 1 FROM {ExportSnapshot._meta.db_table}"
            )
            generation = cursor.fetchone()[0]
            columns, values = "text", "q.line"
            if kind == "geojson":  # the pieces around the two URL prefixes
                marker = export_sql.sql_string(export_sql.URL_MARKER)
                columns = "text, text2, text3"
                values = ", ".join(
                    f"split_part(q.line, {marker}, {n})" for n in (1, 2, 3)
                )
            cursor.execute(
                f"INSERT INTO {ExportLine._meta.db_table} "
                f"(generation, incident_id, {columns}) "
                # Rows go in in the query's order: locality only, not correctness.
                f"SELECT %s, q.id, {values} FROM ({_rows_query(kind)}) q(id, line)",
                [generation],
            )
            rows = cursor.rowcount
        previous = current
        snapshot, _ = ExportSnapshot.objects.update_or_create(
            kind=kind,
            defaults={
                "generation": generation,
                "data_version": version,
                "built_at": timezone.now(),
                "rows": rows,
                "seconds": round(time.monotonic() - began, 1),
            },
        )
        if previous is not None:
            # Exports reading the previous generation keep their snapshot of it.
            ExportLine.objects.filter(generation=previous.generation).delete()
    if outermost:
        # Now rather than in the first export: the new rows' hint bits (the first scan
        # after a bulk insert writes them: measured 125k against 162k CSV rows/s at a
        # million), the previous generation's space, fresh statistics.
        tables_analyze(tables=[ExportLine._meta.db_table], vacuum=True)
    return snapshot


def current_generation(kind: str, version: str) -> int | None:
    """The generation of `kind` built by this code from data at `version` (the
    fingerprint in the caller's snapshot), or None."""
    return (
        ExportSnapshot.objects.filter(
            kind=kind, data_version=snapshot_version(kind, version)
        )
        .values_list("generation", flat=True)
        .first()
    )


def request_rebuild(kind: str, version: str) -> None:
    """Ask the background worker for a fresh `kind` snapshot, once per data version,
    when the public data is large enough for a snapshot to pay (the table's row
    estimate: no count)."""
    minimum = settings.CIVTRACK_EXPORT_SNAPSHOT_MIN_ROWS
    if minimum < 0:
        return
    if minimum > 0:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples FROM pg_class WHERE oid = %s::regclass",
                [Incident._meta.db_table],
            )
            row = cursor.fetchone()
        if row is None or row[0] < minimum:
            return
    if cache.add(f"civtrack:export-rebuild:{kind}:{version}", True, 3600):
        from api.tasks import build_export_snapshot

        transaction.on_commit(lambda: build_export_snapshot.enqueue(kind))


def clear() -> None:
    """Drop every snapshot (tests, and `build_export_snapshots --clear`)."""
    ExportLine.objects.all().delete()
    ExportSnapshot.objects.all().delete()
