"""The streamed exports of the incident list (API.md "Formats"): `format=csv` and
`format=geojson`, the whole filtered set in keyset order.

PostgreSQL writes every row's finished text (api/export_sql.py: one query per export,
related lists included) or, for the public while the data is unchanged, looks up the
prebuilt lines (api/export_snapshot.py); Python only relays the bytes of a
server-side cursor, a batch of rows at a time, so memory stays flat whatever the size.
Rows/s at a million incidents: about 1,400 with model instances, 8–13k with rows built
in Python, 31–41k written by PostgreSQL, 118–154k prebuilt (docs/benchmarks.md).

- CSV: byte for byte what `export_row()` of incidents/importers/civtrack_csv.py (the
  format's reference definition, read back by the importer) gives.
- GeoJSON: each feature's properties are the JSON list's item of api/serializers.py
  (`build_incident_items`).
Tests hold every path to those references (tests/api/test_export_batches.py,
test_export_sql_fuzz.py, test_export_snapshot.py).
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg2.extensions
from django.db import connection, transaction
from django.db.models import QuerySet

from api import export_snapshot, export_sql
from api import serializers as s
from api.filters import LIST_FIELDS, FilterResult
from api.pagination import Keyset
from api.renderers import dumps
from incidents.public_cache import public_data_version

CSV_BATCH = 10000
GEOJSON_BATCH = 10000
# The URL prefixes in the order features hold them (LIST_FIELDS: url, page_url).
URL_ORDER = ("api_prefix", "page_prefix")


class Echo:
    """A file-like object for csv.writer that hands each line back."""

    def write(self, value: str) -> str:
        return value


@dataclass
class ExportPlan:
    """What one export runs: the query of its lines and its parameters."""

    sql: str
    params: Sequence[Any]


def stream_lines(
    plan: Callable[[], ExportPlan], *, sep: str = "", fetch: int = 5000
) -> Iterator[bytes]:
    """The one text column of `plan()`'s query, `fetch` rows at a time, joined by
    `sep`: a server-side cursor, so memory stays flat whatever the size. `plan` runs
    inside the export's transaction (one REPEATABLE READ snapshot: the choice between
    prebuilt and live lines and the lines themselves see the same data), which lasts
    as long as the download and is rolled back when the client goes away."""
    outermost = not connection.in_atomic_block
    with transaction.atomic():
        with connection.cursor() as cursor:
            export_snapshot.begin_snapshot_transaction(cursor, outermost=outermost)
        chosen = plan()
        joiner = sep.encode()
        with connection.chunked_cursor() as cursor:
            # The text as PostgreSQL's UTF-8 bytes: nothing to decode and encode again.
            psycopg2.extensions.register_type(psycopg2.extensions.BYTES, cursor.cursor)
            cursor.execute(chosen.sql, list(chosen.params))
            while rows := cursor.fetchmany(fetch):
                yield joiner.join([row[0] for row in rows])


def _ids(
    queryset: QuerySet, keyset: Keyset, *, ordered: bool = False
) -> tuple[str, tuple]:
    """The SQL (and parameters) of the exported incidents' ids and keyset values:
    unordered for the live query, which orders the lines itself; `ordered` for the
    lookups of prebuilt lines, which follow it."""
    order = keyset.order_by() if ordered else ()
    ids = queryset.order_by(*order).values_list("id", keyset.field)
    return ids.query.sql_with_params()


def _prebuilt(
    kind: str, queryset: QuerySet, keyset: Keyset, prefixes: Sequence[str] = ()
) -> ExportPlan | None:
    """The plan reading `kind`'s prebuilt lines (GeoJSON's joined around this
    request's URL `prefixes`) when they are of the data as it is now; else None, and
    a rebuild is asked for."""
    version = public_data_version()
    generation = export_snapshot.current_generation(kind, version)
    if generation is None:
        export_snapshot.request_rebuild(kind, version)
        return None
    ids_sql, params = _ids(queryset, keyset, ordered=True)
    return ExportPlan(
        export_sql.snapshot_query(ids_sql, keyset, with_prefixes=bool(prefixes)),
        # In the query's order: the prefixes, the generation, the ids' parameters.
        (*prefixes, generation, *params),
    )


def csv_stream(result: FilterResult, *, bom: bool) -> Iterator[bytes]:
    """The CSV export: the header (after a BOM with `bom`), then one chunk per batch.
    The public's lines come prebuilt when the data has not changed since they were
    built (api/export_snapshot.py); staff exports, with drafts, are always live."""
    from incidents.importers.civtrack_csv import CSV_COLUMNS

    writer = csv.writer(Echo())
    yield (("\ufeff" if bom else "") + writer.writerow(CSV_COLUMNS)).encode()
    ids_sql, params = _ids(result.queryset, result.keyset)

    def plan() -> ExportPlan:
        prebuilt = (
            None if result.staff else _prebuilt("csv", result.queryset, result.keyset)
        )
        return prebuilt or ExportPlan(
            export_sql.csv_query(ids_sql, result.keyset), params
        )

    yield from stream_lines(plan, fetch=CSV_BATCH)


def geojson_stream(result: FilterResult, ctx: s.IncidentContext) -> Iterator[bytes]:
    """The GeoJSON export: a FeatureCollection of the filtered incidents with a point
    (aggregate records left off), each feature's properties the list item. The
    public's English features with every field come prebuilt when the data has not
    changed since they were built; other exports are always live."""
    place = "" if result.staff else "public_"
    queryset = result.queryset.filter(
        **{f"{place}latitude__isnull": False}, aggregate=False
    )
    ids_sql, params = _ids(queryset, result.keyset)
    prefixes = {"api_prefix": ctx.api_prefix, "page_prefix": ctx.page_prefix}

    def plan() -> ExportPlan:
        if not result.staff and ctx.lang == "en" and ctx.fields == set(LIST_FIELDS):
            prebuilt = _prebuilt(
                "geojson",
                queryset,
                result.keyset,
                # As JSON writes them inside a string (the pieces hold the quotes).
                [dumps(prefixes[name]).decode()[1:-1] for name in URL_ORDER],
            )
            if prebuilt:
                return prebuilt
        sql, names = export_sql.geojson_query(
            ids_sql, result.keyset, staff=result.staff, lang=ctx.lang, fields=ctx.fields
        )
        return ExportPlan(sql, (*params, *(prefixes[name] for name in names)))

    yield b'{"type":"FeatureCollection","features":['
    first = True
    for data in stream_lines(plan, sep=",", fetch=GEOJSON_BATCH):
        yield data if first else b"," + data
        first = False
    yield b"]}"
