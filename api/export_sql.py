"""The export rows written by PostgreSQL (issue 8: ≥ 100,000 rows/s at a million).

Building each exported row in Python capped the exports at 8–13k rows/s (converting
values, building dicts, four or five related lists per batch), and so did asking
PostgreSQL for each row's related lists one incident at a time (a correlated subquery
per list costs 10–30 µs per row). Here one query per export writes every row's finished
text (a CSV line, a GeoJSON feature):

- `b`, the filtered incidents (Django's own query: filters, redaction rules and keyset
  field stay in api/filters.py), materialised once;
- one aggregate per related list over `b` joined to the list's table, which the planner
  runs as index lookups for a few incidents and as merge or hash joins over whole
  tables for a million (about 21 s for a million CSV lines here, against minutes);
- the lines, in the keyset's order.

The same queries, with each line's id, build the prebuilt lines of
api/export_snapshot.py; `snapshot_query()` reads those back.

The expressions are the formats' second definition, so tests hold them to the first
one: byte for byte `export_row()` of incidents/importers/civtrack_csv.py for the CSV
(tests/api/test_export_batches.py, tests/api/test_export_sql_fuzz.py), the JSON list's
items for GeoJSON properties.

How PostgreSQL's text is made Python's:
- text cells are made spreadsheet-safe first (incidents/spreadsheet.py: a leading `'`
  before `=`, `+`, `-`, `@`, tab, CR or `'`), as `export_row()` makes them;
- text that needs it is quoted as csv.writer quotes (QUOTE_MINIMAL: a comma, a quote, CR
  or LF), empty and NULL both as nothing;
- floats: PostgreSQL's shortest round-trip text, with `.0` added to whole numbers as
  Python's `str(float)` has it (both switch to exponents at the same places below
  1e15, e.g. `1e-05`; coordinates stay within ±180);
- timestamps in UTC as `isoformat()` (microseconds only when there are some), booleans
  as `true`/`false`, dates in ISO.
"""

from __future__ import annotations

from django.db.models import Model

from api.models import ExportLine
from api.pagination import Keyset
from incidents.importers.civtrack_csv import (
    CASUALTY_KEYS,
    CSV_COLUMNS,
    ROW_COLUMNS,
)
from incidents.models import (
    Actor,
    Attribution,
    CasualtyCount,
    Incident,
    IncidentTarget,
    IncidentWeapon,
    TargetType,
    WeaponType,
)
from incidents.spreadsheet import spreadsheet_escape_sql


def sql_string(value: str) -> str:
    """A SQL string literal (for the fixed texts the expressions hold: codes, roles)."""
    return "'" + value.replace("'", "''") + "'"


def csv_quote(expression: str) -> str:
    """`expression` (text) as csv.writer writes it: quoted when it holds a comma, a
    quote, CR or LF; NULL as nothing. (strpos: a third of a regular expression's
    cost, measured over a million summaries.)"""
    needs = " OR ".join(
        f"strpos({expression}, {char}) > 0"
        for char in ("','", "'\"'", "E'\\r'", "E'\\n'")
    )
    return (
        f"(CASE WHEN {needs} "
        f"THEN '\"' || replace({expression}, '\"', '\"\"') || '\"' "
        f"ELSE coalesce({expression}, '') END)"
    )


def float_text(expression: str) -> str:
    """A float column as Python's `str(float)` (`.0` after whole numbers; both write
    the shortest text that reads back the same, switching to exponents at the same
    places below 1e15, and coordinates stay within ±180); NULL as NULL."""
    return (
        f"(CASE WHEN {expression} = trunc({expression}) "
        f"THEN {expression}::text || '.0' ELSE {expression}::text END)"
    )


def iso_datetime(expression: str, utc_suffix: str = "+00:00") -> str:
    """A timestamptz as Python's `isoformat()` of the UTC datetime Django returns (or
    orjson's, with `utc_suffix` 'Z'): microseconds only when there are some; NULL as
    NULL."""
    utc = f"(({expression}) AT TIME ZONE 'UTC')"
    return (
        f"(replace(to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS.US'), '.000000', '') "
        f"|| '{utc_suffix}')"
    )


def _table(model: type[Model]) -> str:
    return f'"{model._meta.db_table}"'


def _column(name: str, alias: str = "i") -> str:
    return f'{alias}."{Incident._meta.get_field(name).column}"'


def concat(expressions: list[str], sep: str = "") -> str:
    """The texts `expressions` (never NULL) joined by `sep` in one allocation: a chain of
    `||` copies the growing line once per cell (measured: most of a CSV line's cost).
    No SQL function takes more than 100 arguments, hence the nesting."""
    if len(expressions) > 90:
        return concat(
            [
                concat(expressions[i : i + 90], sep)
                for i in range(0, len(expressions), 90)
            ],
            sep,
        )
    if sep:
        return f"concat_ws({sql_string(sep)}, {', '.join(expressions)})"
    return f"concat({', '.join(expressions)})"


def _ids_cte(ids_sql: str) -> str:
    """`b`: the exported incidents' ids and keyset values (`ids_sql` selects both)."""
    return f"b AS MATERIALIZED (SELECT q.id, q.k FROM ({ids_sql}) q(id, k))"


def _order(keyset: Keyset) -> str:
    """The keyset's order (api/pagination.py `Keyset.order_by`) over `b`."""
    direction = "DESC" if keyset.descending else "ASC"
    # Nulls (not recorded, unknown max) last in both directions, as the API lists them.
    nulls = " NULLS LAST" if keyset.nullable else ""
    return f"b.k {direction}{nulls}, b.id {direction}"


def _query(
    ids_sql: str,
    keyset: Keyset,
    lists: list[str],
    line: str,
    joins: list[str],
    *,
    with_id: bool = False,
) -> str:
    """The lines in the keyset's order; `with_id`: (id, line) pairs
    (api/export_snapshot.py stores them)."""
    ctes = ",\n".join([_ids_cte(ids_sql), *lists])
    select = f"b.id, {line}" if with_id else line
    return (
        f"WITH {ctes}\nSELECT {select}\n"
        f"FROM b JOIN {_table(Incident)} i ON i.id = b.id\n"
        + "\n".join(joins)
        + f"\nORDER BY {_order(keyset)}"
    )


def snapshot_query(ordered_ids_sql: str, keyset: Keyset, *, with_prefixes: bool) -> str:
    """The stored lines (api/export_snapshot.py) of the incidents `ordered_ids_sql`
    selects (id, keyset field) in the keyset's order: one index lookup per row, in
    that order (no sort of the long lines, and the first rows come at once).
    Parameters: with `with_prefixes`, GeoJSON's API and page URL prefixes (the pieces
    are joined around them), then the generation, then `ordered_ids_sql`'s."""
    text = "concat(s.text, %s, s.text2, %s, s.text3)" if with_prefixes else "s.text"
    return (
        f"SELECT (SELECT {text} FROM {_table(ExportLine)} s "
        "WHERE s.generation = %s AND s.incident_id = b.id) "
        f"FROM ({ordered_ids_sql}) b(id, k) ORDER BY {_order(keyset)}"
    )


def _place_joins(place: str) -> list[str]:
    from incidents.models import IncidentType, Location

    return [
        f"LEFT JOIN {_table(Location)} l ON l.id = {_column(place + 'location')}",
        f"LEFT JOIN {_table(Location)} g ON g.id = {_column('governorate')}",
        f"JOIN {_table(IncidentType)} ty ON ty.id = {_column('incident_type')}",
    ]


def _list_cte(name: str, select: str, source: str, where: str = "") -> str:
    """A related list aggregated per exported incident: `name(id, …)`."""
    return (
        f"{name} AS (SELECT x.incident_id AS id, {select} "
        f"FROM b JOIN {source} ON x.incident_id = b.id {where} GROUP BY x.incident_id)"
    )


# Where stored GeoJSON features are cut for the request's URL prefixes (a control
# character: JSON text never holds one unescaped).
URL_MARKER = "\x01"
PERPETRATOR = sql_string(Attribution.Role.PERPETRATOR.value)


# ---------------------------------------------------------------------------------------
# CSV: one line per incident, `CSV_COLUMNS` in order, CRLF at the end
# ---------------------------------------------------------------------------------------

# Where a column's value comes from when it is not the incident column of its name.
_CSV_SOURCE = {
    "location": "l.slug",
    "governorate": "g.slug",
    "incident_type": "ty.code",
    "perpetrators": "p.slugs",
    "perpetrator_alternatives": "p.alternatives",
    "weapons": "w.codes",
    "targets": "t.codes",
    "latitude": "public_latitude",
    "longitude": "public_longitude",
    "geo_precision": "public_geo_precision",
}
_EMPTY_TAIL = "," * len(ROW_COLUMNS)


def _csv_cell(column: str) -> str:
    source = _CSV_SOURCE.get(column, column)
    if "." in source:  # codes and lists of codes, joined: text
        return csv_quote(spreadsheet_escape_sql(source))
    model_field = Incident._meta.get_field(source)
    value = _column(source)
    internal = model_field.get_internal_type()
    if internal == "BooleanField":
        return f"(CASE WHEN {value} THEN 'true' ELSE 'false' END)"
    if internal == "DateTimeField":
        return f"coalesce({iso_datetime(value)}, '')"
    if internal == "FloatField":
        return f"coalesce({float_text(value)}, '')"
    if internal in ("CharField", "TextField"):
        return csv_quote(spreadsheet_escape_sql(value))
    return f"coalesce({value}::text, '')"  # numbers and dates: their text is Python's


def _casualty_cte() -> str:
    """`k(id, tail)`: the `row_<group>_<outcome>_min/max/best` cells of the incidents
    with casualty rows, a leading comma included. Each row fills its key's three cells
    after the empty cells of the keys it skips (`lag` gives the previous key present:
    each key at most once per incident, a unique constraint); keys outside the format
    are left out, as `export_row()` leaves them."""
    keys = ", ".join(
        f"({sql_string(group)}, {sql_string(outcome)}, {index})"
        for index, (group, outcome) in enumerate(CASUALTY_KEYS)
    )
    last = len(CASUALTY_KEYS) - 1
    return (
        "k AS (SELECT c.id, string_agg(repeat(',,,', c.slot - c.previous - 1) || ',' "
        "|| c.min || ',' || c.max || ',' || coalesce(c.best::text, ''), '' "
        f"ORDER BY c.slot) || repeat(',,,', {last} - max(c.slot)) AS tail "
        "FROM (SELECT x.incident_id AS id, s.slot, x.min, x.max, x.best, "
        "lag(s.slot, 1, -1) OVER (PARTITION BY x.incident_id ORDER BY s.slot) "
        f"AS previous FROM b JOIN {_table(CasualtyCount)} x ON x.incident_id = b.id "
        f"JOIN (VALUES {keys}) s(grp, outcome, slot) "
        'ON s.grp = x."group" AND s.outcome = x.outcome) c GROUP BY c.id)'
    )


def csv_query(ids_sql: str, keyset: Keyset, *, with_id: bool = False) -> str:
    """The CSV lines (CRLF-terminated) of the incidents `ids_sql` selects (id, keyset
    field), in the keyset's order. Public values only: the CSV has no staff columns."""
    if CSV_COLUMNS[-len(ROW_COLUMNS) :] != ROW_COLUMNS:
        raise RuntimeError("CSV_COLUMNS: the casualty rows must come last")
    order = "ORDER BY COALESCE(x.alternative, 0), x.id"
    lists = [
        _list_cte(
            "p",
            f"string_agg(ac.slug, ';' {order}) AS slugs, "
            f"string_agg(COALESCE(x.alternative::text, ''), ';' {order}) AS alternatives",
            f"{_table(Attribution)} x JOIN {_table(Actor)} ac ON ac.id = x.actor_id",
            f"WHERE x.role = {PERPETRATOR}",
        ),
        _list_cte(
            "w",
            "string_agg(v.code, ';' ORDER BY x.id) AS codes",
            f"{_table(IncidentWeapon)} x JOIN {_table(WeaponType)} v ON v.id = x.weapon_id",
        ),
        _list_cte(
            "t",
            "string_agg(v.code, ';' ORDER BY x.id) AS codes",
            f"{_table(IncidentTarget)} x "
            f"JOIN {_table(TargetType)} v ON v.id = x.target_type_id",
        ),
        _casualty_cte(),
    ]
    cells = [_csv_cell(c) for c in CSV_COLUMNS if c not in ROW_COLUMNS]
    # Every cell is text, never NULL, so `||` keeps them all.
    line = concat(
        [concat(cells, ","), f"coalesce(k.tail, '{_EMPTY_TAIL}')", "E'\\r\\n'"]
    )
    joins = [
        *_place_joins("public_"),
        *(f"LEFT JOIN {name} ON {name}.id = b.id" for name in ("p", "w", "t", "k")),
    ]
    return _query(ids_sql, keyset, lists, line, joins, with_id=with_id)


# ---------------------------------------------------------------------------------------
# GeoJSON: one Feature per incident, its properties the JSON list's item
# (api/serializers.py `build_incident_items`), compact as orjson writes it
# ---------------------------------------------------------------------------------------


def json_value(expression: str) -> str:
    """Any SQL value as JSON text (strings escaped by PostgreSQL), NULL as `null`."""
    return f"coalesce(to_json({expression})::text, 'null')"


def json_float(expression: str) -> str:
    return f"coalesce({float_text(expression)}, 'null')"


def json_bool(expression: str) -> str:
    return (
        f"(CASE WHEN {expression} THEN 'true' WHEN NOT {expression} THEN 'false' "
        "ELSE 'null' END)"
    )


def json_object(pairs: list[tuple[str, str]]) -> str:
    """`{"key":value,…}` from (key, JSON text expression) pairs, in order."""
    if not pairs:
        return "'{}'"
    parts = []
    for index, (key, value) in enumerate(pairs):
        opening = "{" if index == 0 else ","
        parts.append(sql_string(f'{opening}"{key}":'))
        parts.append(value)
    return concat([*parts, "'}'"])


def json_list(element: str, order: str) -> str:
    """The aggregate `[…]` of `element` (JSON text) over a list's rows."""
    return f"'[' || string_agg({element}, ',' ORDER BY {order}) || ']' AS json"


def localised(alias: str, lang: str) -> str:
    """`ctx.name(name, name_ar)`: the Arabic name when asked for and not empty."""
    if lang == "ar":
        return (
            f"(CASE WHEN {alias}.name_ar <> '' THEN {alias}.name_ar "
            f"ELSE {alias}.name END)"
        )
    return f"{alias}.name"


def geojson_query(
    ids_sql: str,
    keyset: Keyset,
    *,
    staff: bool,
    lang: str,
    fields: set[str],
    url_markers: bool = False,
    with_id: bool = False,
) -> tuple[str, list[str]]:
    """The GeoJSON features of the incidents `ids_sql` selects (id, keyset field), in
    the keyset's order, and the names of the parameters the features take after
    `ids_sql`'s own, in order (the URL prefixes `api_prefix`, `page_prefix`)."""
    from api.filters import LIST_FIELDS, TOTALS
    from incidents.models import Citation, ExternalRef, Facility, Source

    place = "" if staff else "public_"
    names: list[str] = []
    lists: list[str] = []
    joins = _place_joins(place)

    def related(name: str, select: str, source: str, where: str = "") -> str:
        lists.append(_list_cte(name, select, source, where))
        joins.append(f"LEFT JOIN {name} ON {name}.id = b.id")
        return f"coalesce({name}.json, '[]')"

    def url(prefix: str) -> str:
        if url_markers:
            # The prefix depends on the request's host: stored lines hold a marker
            # instead (a control character, which JSON text never holds unescaped).
            return f"'\"' || {sql_string(URL_MARKER)} || substr(to_json({_column('code')} || '/')::text, 2)"
        names.append(prefix)
        return f"to_json(%s::text || {_column('code')} || '/')::text"

    def name_of(alias: str) -> str:
        return json_value(localised(alias, lang))

    governorate = (
        "(CASE WHEN g.id IS NULL THEN 'null' ELSE "
        + json_object(
            [
                ("slug", json_value("g.slug")),
                ("name", name_of("g")),
                ("pcode", json_value("g.pcode")),
            ]
        )
        + " END)"
    )
    location = (
        "(CASE WHEN l.id IS NULL THEN 'null' ELSE "
        + json_object(
            [
                ("slug", json_value("l.slug")),
                ("name", name_of("l")),
                ("pcode", json_value("l.pcode")),
                ("governorate", governorate),
            ]
        )
        + " END)"
    )
    # A sensitive facility's name is for staff only (DOMAIN.md "What the public sees").
    facility_name = (
        localised("f", lang)
        if staff
        else f"(CASE WHEN f.sensitive THEN NULL ELSE {localised('f', lang)} END)"
    )
    builders = {
        "code": lambda: json_value(_column("code")),
        "url": lambda: url("api_prefix"),
        "page_url": lambda: url("page_prefix"),
        "title": lambda: json_value(_column("title")),
        "title_ar": lambda: json_value(_column("title_ar")),
        "summary": lambda: json_value(_column("summary")),
        "date_start": lambda: json_value(_column("date_start")),
        "date_end": lambda: json_value(_column("date_end")),
        "date_precision": lambda: json_value(_column("date_precision")),
        "location": lambda: location,
        "latitude": lambda: json_float(_column(place + "latitude")),
        "longitude": lambda: json_float(_column(place + "longitude")),
        "geo_precision": lambda: json_value(_column(place + "geo_precision")),
        "incident_type": lambda: json_value("ty.code"),
        "weapons": lambda: related(
            "w",
            json_list(
                json_object(
                    [
                        ("weapon", json_value("v.code")),
                        ("certainty", json_value("x.certainty")),
                    ]
                ),
                "x.id",
            ),
            f"{_table(IncidentWeapon)} x JOIN {_table(WeaponType)} v "
            "ON v.id = x.weapon_id",
        ),
        "targets": lambda: related(
            "t",
            json_list(
                json_object(
                    [
                        ("target_type", json_value("v.code")),
                        (
                            "facility",
                            "(CASE WHEN f.id IS NULL THEN 'null' ELSE "
                            + json_object(
                                [
                                    ("ref", json_value("f.ref")),
                                    ("name", json_value(facility_name)),
                                ]
                            )
                            + " END)",
                        ),
                        ("damage", json_value("x.damage")),
                    ]
                ),
                "x.id",
            ),
            f"{_table(IncidentTarget)} x JOIN {_table(TargetType)} v "
            f"ON v.id = x.target_type_id LEFT JOIN {_table(Facility)} f "
            "ON f.id = x.facility_id",
        ),
        "casualties_known": lambda: json_bool(_column("casualties_known")),
        "casualties": lambda: json_object(
            [
                (
                    total,
                    json_object(
                        [
                            ("min", json_value(_column(f"{total}_min"))),
                            ("max", json_value(_column(f"{total}_max"))),
                        ]
                    ),
                )
                for total in TOTALS
            ]
        ),
        "perpetrators": lambda: related(
            "p",
            json_list(
                json_object(
                    [
                        ("actor", json_value("ac.slug")),
                        ("name", name_of("ac")),
                        ("confidence", json_value("x.confidence")),
                        ("alternative", json_value("x.alternative")),
                        ("position", json_value("x.position")),
                    ]
                ),
                "x.alternative, x.id",  # ascending: NULLs last, as the list has them
            ),
            f"{_table(Attribution)} x JOIN {_table(Actor)} ac ON ac.id = x.actor_id",
            f"WHERE x.role = {PERPETRATOR}",
        ),
        "aggregate": lambda: json_bool(_column("aggregate")),
        "grading": lambda: json_value(_column("grading")),
        "status": lambda: json_value(_column("status")),
        "external_refs": lambda: related(
            "r",
            json_list(
                json_object(
                    [
                        ("system", json_value("x.system")),
                        ("value", json_value("x.value")),
                    ]
                ),
                "x.system, x.value",
            ),
            f"{_table(ExternalRef)} x",
        ),
        "sources_count": lambda: sources("public"),
        "confidential_sources_count": lambda: sources("confidential"),
        "updated_at": lambda: (
            f"coalesce('\"' || {iso_datetime(_column('updated_at'), 'Z')} || '\"', 'null')"
        ),
        "version": lambda: json_value(_column("version")),
    }

    def sources(which: str) -> str:
        if not any(cte.startswith("n AS") for cte in lists):
            lists.append(
                _list_cte(
                    "n",
                    "count(DISTINCT x.source_id) FILTER (WHERE NOT s.confidential) "
                    "AS public, count(DISTINCT x.source_id) FILTER "
                    "(WHERE s.confidential) AS confidential",
                    f"{_table(Citation)} x JOIN {_table(Source)} s ON s.id = x.source_id",
                )
            )
            joins.append("LEFT JOIN n ON n.id = b.id")
        return f"coalesce(n.{which}, 0)::text"

    if set(builders) != set(LIST_FIELDS):
        raise RuntimeError("geojson_query: a list field has no SQL")
    properties = json_object(
        [(name, builders[name]()) for name in LIST_FIELDS if name in fields]
    )
    feature = concat(
        [
            """'{"type":"Feature","id":'""",
            json_value(_column("code")),
            """',"geometry":{"type":"Point","coordinates":['""",
            json_float(_column(place + "longitude")),
            "','",
            json_float(_column(place + "latitude")),
            """']},"properties":'""",
            properties,
            "'}'",
        ]
    )
    return _query(ids_sql, keyset, lists, feature, joins, with_id=with_id), names
