"""Keyset (cursor) pagination: pages are `WHERE (key, id) after (last key, last id)
ORDER BY key, id LIMIT n`, so any ordering stays fast at any depth (API.md).

The cursor is opaque and signed (django.core.signing): a tampered or foreign cursor is a
400 naming `cursor`. A nullable key (civilians_killed_max: null is "not recorded" or
"at least", DOMAIN.md) puts its nulls last in both directions, as a reader expects; a
page walked backwards (`previous`) reads the same order from its end, so there the nulls
come first. `Keyset.after` compares accordingly, so paging returns every row once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.core import signing
from django.db.models import F, Q, QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.utils.urls import remove_query_param, replace_query_param

CURSOR_SALT = "civtrack.api.cursor.v1"
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
PAGINATION_PARAMS = frozenset({"cursor", "page_size"})


@dataclass(frozen=True)
class Keyset:
    """An ordering usable for keyset paging: `field` then `id`, both one way."""

    name: str  # what the cursor records (e.g. "-date_start")
    field: str
    descending: bool
    kind: str = "str"  # "date", "datetime", "int" or "str": how the cursor stores it
    nullable: bool = False

    def order_by(self, reverse: bool = False) -> list[Any]:
        descending = self.descending != reverse
        column = F(self.field)
        if self.nullable:
            # Nulls last in the order as shown; walking it backwards, they come first.
            nulls = {"nulls_first": True} if reverse else {"nulls_last": True}
            first = column.desc(**nulls) if descending else column.asc(**nulls)
        else:
            first = column.desc() if descending else column.asc()
        return [first, F("id").desc() if descending else F("id").asc()]

    def after(self, value: Any, pk: int, reverse: bool = False) -> Q:
        """Rows strictly after (value, pk) in this order (or in the reversed one).
        Written as `key <= v AND (key < v OR id < pk)` so the index range starts at v.
        Nulls lie at the end of the walk going forwards and at its start backwards."""
        f = self.field
        descending = self.descending != reverse
        id_after = Q(id__lt=pk) if descending else Q(id__gt=pk)
        nulls_at_end = self.nullable and not reverse
        if value is None:
            condition = Q(**{f"{f}__isnull": True}) & id_after
            if not nulls_at_end:
                condition |= Q(**{f"{f}__isnull": False})
            return condition
        if descending:
            condition = Q(**{f"{f}__lte": value}) & (
                Q(**{f"{f}__lt": value}) | id_after
            )
        else:
            condition = Q(**{f"{f}__gte": value}) & (
                Q(**{f"{f}__gt": value}) | id_after
            )
        if nulls_at_end:
            condition |= Q(**{f"{f}__isnull": True})
        return condition

    def encode(self, value: Any) -> Any:
        if isinstance(value, (dt.date, dt.datetime)):
            return value.isoformat()
        return value

    def decode(self, raw: Any) -> Any:
        if raw is None:
            if not self.nullable:
                raise ValueError("null key")
            return None
        if self.kind == "date":
            return dt.date.fromisoformat(raw)
        if self.kind == "datetime":
            return dt.datetime.fromisoformat(raw)
        if self.kind == "int":
            if not isinstance(raw, int) or isinstance(raw, bool):
                raise ValueError("not an int")
            return raw
        if not isinstance(raw, str):
            raise ValueError("not a string")
        return raw


@dataclass
class Cursor:
    value: Any
    pk: int
    reverse: bool


def make_cursor(keyset: Keyset, row: dict[str, Any], *, reverse: bool) -> str:
    return signing.dumps(
        {
            "o": keyset.name,
            "v": keyset.encode(row[keyset.field]),
            "i": row["id"],
            "r": int(reverse),
        },
        salt=CURSOR_SALT,
        compress=True,
    )


def read_cursor(raw: str | None, keyset: Keyset) -> Cursor | None:
    if raw is None or raw == "":
        return None
    invalid = ValidationError(
        {"cursor": ["Invalid cursor: use the `next` or `previous` link as given."]}
    )
    try:
        data = signing.loads(raw, salt=CURSOR_SALT)
    except (signing.BadSignature, ValueError, UnicodeError):
        raise invalid from None
    if not isinstance(data, dict):
        raise invalid
    if data.get("o") != keyset.name:
        raise ValidationError(
            {
                "cursor": [
                    f"This cursor belongs to ordering={data.get('o')!s}; "
                    "keep the ordering of the page it came from."
                ]
            }
        )
    pk, reverse = data.get("i"), data.get("r")
    if not isinstance(pk, int) or isinstance(pk, bool) or reverse not in (0, 1):
        raise invalid
    try:
        value = keyset.decode(data.get("v"))
    except (ValueError, TypeError):
        raise invalid from None
    return Cursor(value=value, pk=pk, reverse=bool(reverse))


def read_page_size(raw: str | None) -> int:
    if raw is None or raw == "":
        return DEFAULT_PAGE_SIZE
    if not raw.isascii() or not raw.isdigit() or not 1 <= int(raw) <= MAX_PAGE_SIZE:
        raise ValidationError(
            {"page_size": [f"Enter a whole number from 1 to {MAX_PAGE_SIZE}."]}
        )
    return int(raw)


@dataclass
class Page:
    rows: list[dict[str, Any]]
    next_url: str | None
    previous_url: str | None


def single(params: dict[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise ValidationError({name: ["Give this parameter once."]})
    return values[0]


def paginate(
    request,
    queryset: QuerySet,
    keyset: Keyset,
    *,
    values: Sequence[Any],
    page_size: int,
    cursor: Cursor | None,
) -> Page:
    """One page of `queryset.values(*values)` (which must include `id` and the key)
    after `cursor`, with absolute next/previous links. One query."""
    reverse = bool(cursor and cursor.reverse)
    qs = queryset.order_by(*keyset.order_by(reverse=reverse))
    if cursor is not None:
        qs = qs.filter(keyset.after(cursor.value, cursor.pk, reverse=reverse))
    rows = list(qs.values(*values)[: page_size + 1])
    more = len(rows) > page_size
    rows = rows[:page_size]
    if reverse:
        rows.reverse()
        has_next, has_previous = True, more
    else:
        has_next, has_previous = more, cursor is not None
    url = request.build_absolute_uri()
    next_url = previous_url = None
    if has_next and rows:
        next_url = replace_query_param(
            url, "cursor", make_cursor(keyset, rows[-1], reverse=False)
        )
    if has_previous and rows:
        previous_url = replace_query_param(
            url, "cursor", make_cursor(keyset, rows[0], reverse=True)
        )
    elif has_previous and not rows:
        previous_url = remove_query_param(url, "cursor")
    return Page(rows=rows, next_url=next_url, previous_url=previous_url)


def iterate_keyset(
    queryset: QuerySet,
    keyset: Keyset,
    *,
    values: Sequence[Any] | None = None,
    chunk_size: int = 2000,
) -> Iterator[list[Any]]:
    """Every row of `queryset` (as `values()` dicts, or model instances with the
    queryset's prefetches when `values` is None), in `keyset` order, `chunk_size` at a
    time: one indexed query per chunk, so an export of any size runs in constant memory
    and holds no transaction or server-side cursor open between chunks."""
    qs = queryset.order_by(*keyset.order_by())
    last: tuple[Any, int] | None = None
    while True:
        page = qs
        if last is not None:
            page = page.filter(keyset.after(*last))
        if values is not None:
            page = page.values(*values)
        rows = list(page[:chunk_size])
        if not rows:
            return
        yield rows
        if len(rows) < chunk_size:
            return
        tail = rows[-1]
        last = (
            (tail[keyset.field], tail["id"])
            if isinstance(tail, dict)
            else (getattr(tail, keyset.field), tail.pk)
        )
