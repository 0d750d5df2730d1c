"""The streamed exports of the incident list (API.md "Formats"): `format=csv` and
`format=geojson`, the whole filtered set in keyset order.

Both walk the filtered queryset in keyset batches (`iterate_lines`: one indexed query
per batch, no transaction or server-side cursor held between batches, so memory stays
flat whatever the size). PostgreSQL writes each row's finished text in that same query
(api/export_sql.py), related lists included, so Python only joins and relays it: about
1,400 rows/s with model instances, 8–13k with rows built in Python from tuples, and
what docs/benchmarks.md says now (issue 8).

- CSV: byte for byte what `export_row()` of incidents/importers/civtrack_csv.py (the
  format's reference definition, read back by the importer) gives.
- GeoJSON: each feature's properties are the JSON list's item of api/serializers.py
  (`build_incident_items`).
Tests hold both to those references (tests/api/test_export_batches.py).
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from typing import Any

from django.db import connection, transaction
from django.db.models import QuerySet

from api import export_sql
from api import serializers as s
from api.filters import FilterResult
from api.pagination import Keyset

CSV_BATCH = 5000
GEOJSON_BATCH = 5000
# work_mem for the export's query (per sort or hash): a million rows sort in memory.
EXPORT_WORK_MEM = "64MB"


class Echo:
    """A file-like object for csv.writer that hands each line back."""

    def write(self, value: str) -> str:
        return value


def stream_lines(
    sql: str, params: Sequence[Any], *, sep: str = "", fetch: int = 5000
) -> Iterator[str]:
    """The one text column of `sql` (api/export_sql.py), `fetch` rows at a time, joined
    by `sep`: a server-side cursor, so memory stays flat whatever the size. Its
    transaction lasts as long as the download (a read-only snapshot: the export is one
    consistent state of the data) and is rolled back when the client goes away."""
    with transaction.atomic():
        with connection.cursor() as cursor:
            # Sorts and hashes of a large export in memory rather than in temp files.
            cursor.execute("SET LOCAL work_mem = %s", [EXPORT_WORK_MEM])
        with connection.chunked_cursor() as cursor:
            cursor.execute(sql, list(params))
            while rows := cursor.fetchmany(fetch):
                yield sep.join([row[0] for row in rows])


def _ids(queryset: QuerySet, keyset: Keyset) -> tuple[str, tuple]:
    """The SQL (and parameters) of the exported incidents' ids and keyset values,
    unordered: the export query orders the lines itself."""
    return queryset.order_by().values_list("id", keyset.field).query.sql_with_params()


def csv_stream(result: FilterResult, *, bom: bool) -> Iterator[bytes]:
    """The CSV export: the header (after a BOM with `bom`), then one chunk per batch."""
    from incidents.importers.civtrack_csv import CSV_COLUMNS

    writer = csv.writer(Echo())
    yield (("\ufeff" if bom else "") + writer.writerow(CSV_COLUMNS)).encode()
    ids_sql, params = _ids(result.queryset, result.keyset)
    sql = export_sql.csv_query(ids_sql, result.keyset)
    for text in stream_lines(sql, params, fetch=CSV_BATCH):
        yield text.encode()


def geojson_stream(result: FilterResult, ctx: s.IncidentContext) -> Iterator[bytes]:
    """The GeoJSON export: a FeatureCollection of the filtered incidents with a point
    (aggregate records left off), each feature's properties the list item."""
    place = "" if result.staff else "public_"
    queryset = result.queryset.filter(
        **{f"{place}latitude__isnull": False}, aggregate=False
    )
    ids_sql, params = _ids(queryset, result.keyset)
    sql, names = export_sql.geojson_query(
        ids_sql, result.keyset, staff=result.staff, lang=ctx.lang, fields=ctx.fields
    )
    prefixes = {"api_prefix": ctx.api_prefix, "page_prefix": ctx.page_prefix}
    params = (*params, *(prefixes[name] for name in names))
    yield b'{"type":"FeatureCollection","features":['
    first = True
    for text in stream_lines(sql, params, sep=",", fetch=GEOJSON_BATCH):
        yield text.encode() if first else b"," + text.encode()
        first = False
    yield b"]}"
