"""`bulk_create` through PostgreSQL COPY, for imports (issue 8: the UCDP Syria file in
under 30 s). Building one multi-row INSERT per 500 objects costs Django more time than
PostgreSQL needs to store the rows; COPY takes the rows as text.

`copy_create(model, objects)` does what `Model.objects.bulk_create(objects)` does for
the models the importers write (and says so when it cannot): field defaults as the
instances hold them, `auto_now_add` through the field's own `pre_save`, values in COPY's
CSV format (JSON dumped, arrays as array literals, NULL unquoted, text always quoted so
an empty string stays one), primary keys from the table's own sequence (set on the objects, as bulk_create does),
generated columns left to the database. Database triggers fire as for an INSERT;
inside `pgtrigger.ignore(…)` the transaction-local ignore setting that pgtrigger
injects into each statement is set by the statement that reserves the keys, so ignored
triggers stay quiet for the COPY too (tested in tests/incidents/test_copyload.py).
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from operator import attrgetter
from typing import Any

from django.contrib.postgres.fields import ArrayField
from django.db import connection, connections
from django.db.models import NOT_PROVIDED, DateField, FileField, JSONField, Model


class _Null(int):
    """Written by csv.writer unquoted and empty, which COPY's CSV format reads as NULL;
    every other value of QUOTE_NONNUMERIC is quoted, so an empty string stays one."""

    def __str__(self) -> str:
        return ""


NULL = _Null()


def _array_item(value: Any) -> str:
    if value is None:
        return "NULL"
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def _converter(field, db) -> Callable[[Model], Any]:
    """obj -> the value to write for `field` (None for NULL)."""
    if isinstance(field, JSONField):

        def json_value(obj, attname=field.attname, encoder=field.encoder):
            value = getattr(obj, attname)
            return None if value is None else json.dumps(value, cls=encoder)

        return json_value
    if isinstance(field, ArrayField):

        def array_value(obj, attname=field.attname):
            value = getattr(obj, attname)
            if value is None:
                return None
            return "{" + ",".join(_array_item(item) for item in value) + "}"

        return array_value
    special = isinstance(field, FileField) or (
        isinstance(field, DateField) and (field.auto_now or field.auto_now_add)
    )
    if special:
        return lambda obj: field.get_db_prep_save(field.pre_save(obj, True), db)
    # Plain values (text, numbers, booleans, dates, aware datetimes, foreign keys'
    # ids) are written as Python prints them, which PostgreSQL reads back exactly.
    return attrgetter(field.attname)


def copy_create(model: type[Model], objects: list[Model]) -> list[Model]:
    """Insert `objects` (unsaved instances of `model`) with one COPY; returns them with
    their primary keys set."""
    if not objects:
        return objects
    meta = model._meta
    db = connections[connection.alias]
    fields = [
        f
        for f in meta.concrete_fields
        if not getattr(f, "generated", False) and not f.primary_key
    ]
    for field in fields:
        if field.db_default is not NOT_PROVIDED:
            raise TypeError(f"{field} has a database default: use bulk_create")
    converters = [_converter(f, db) for f in fields]
    pk_column = meta.pk.column
    with connection.cursor() as cursor:
        # Reserves the keys (and, inside pgtrigger.ignore, sets its ignore variable
        # for the rest of the transaction: see the module docstring).
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) "
            "FROM generate_series(1, %s)",
            [meta.db_table, pk_column, len(objects)],
        )
        keys = [row[0] for row in cursor.fetchall()]
        buffer = io.StringIO()
        writer = csv.writer(buffer, quoting=csv.QUOTE_NONNUMERIC, lineterminator="\n")
        for obj, key in zip(objects, keys, strict=True):
            if obj.pk is not None:
                raise ValueError(f"{obj!r} already has a primary key")
            obj.pk = key
            row = [key]
            for convert in converters:
                value = convert(obj)
                row.append(NULL if value is None else value)
            writer.writerow(row)
        buffer.seek(0)
        columns = ", ".join(f'"{c}"' for c in [pk_column, *(f.column for f in fields)])
        cursor.cursor.copy_expert(
            f'COPY "{meta.db_table}" ({columns}) FROM STDIN WITH (FORMAT csv)', buffer
        )
    for obj in objects:
        obj._state.adding = False
        obj._state.db = connection.alias
    return objects
