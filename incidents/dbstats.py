"""Planner statistics after bulk writes (issue 12 §9).

A bulk load (an import, `load_demo`, synthetic data, a restore) fills tables far faster
than autovacuum notices: until its ANALYZE runs (never, on a server whose autovacuum is
off) the planner believes the tables are nearly empty and picks nested loops that turn a
count of `external_ref=ucdp_ged` with a date window into 7–27 s. So every bulk write ends
by analysing what it filled, here, in one place. ANALYZE may run inside a transaction in
PostgreSQL (unlike VACUUM), so callers need not care whether one is open; the statistics
describe the rows the transaction can see.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.apps import apps
from django.db import DEFAULT_DB_ALIAS, connections

# What an import writes (incidents/importers/base.py: the bulk create, the places,
# actors and sources it adds, the feed rows of a publish), by model name.
IMPORT_MODELS = (
    "Incident",
    "CasualtyCount",
    "Attribution",
    "IncidentWeapon",
    "IncidentTarget",
    "Citation",
    "ExternalRef",
    "PublicChange",
    "Location",
    "Actor",
    "ActorName",
    "Source",
)


def import_tables() -> list[str]:
    """The tables an import fills: its models' and their pghistory event tables (the
    importer writes the audit rows in bulk too, and the history pages count them)."""
    tables = []
    for name in IMPORT_MODELS:
        model = apps.get_model("incidents", name)
        tables.append(model._meta.db_table)
        try:
            event = apps.get_model("incidents", f"{name}Event")
        except LookupError:
            continue
        tables.append(event._meta.db_table)
    return tables


def tables_analyze(
    *, tables: Iterable[str], vacuum: bool = False, using: str = DEFAULT_DB_ALIAS
) -> None:
    """ANALYZE each of `tables` (each once, in the order given), so that the next
    query plans with the rows the bulk write just stored. With `vacuum`, VACUUM
    (ANALYZE) where it can run (outside a transaction): it also sets the visibility map
    that index-only scans need; inside a transaction it falls back to ANALYZE."""
    connection = connections[using]
    command = (
        "VACUUM (ANALYZE)" if vacuum and not connection.in_atomic_block else "ANALYZE"
    )
    with connection.cursor() as cursor:
        for table in dict.fromkeys(tables):
            cursor.execute(f"{command} {connection.ops.quote_name(table)}")
