"""Cached aggregates over the public data (issue 8): statistics, facet counts and map
clusters over a million incidents take seconds to compute, yet public data changes
rarely. Answers are cached per normalised question and keyed on a fingerprint of the
data, so that a cached answer is never served after the data it was computed from has
changed: figures stay exact.

The fingerprint (`public_data_version()`, one query) is the changes feed's last `seq`
(every change to a published incident appends to it, DOMAIN.md) together with the last
audit event id of every table public aggregates read (pghistory records every insert,
update and delete, whatever the path: services, admin, raw SQL). Sequences never go
back, so a new state never shares a fingerprint with an old one; rows loaded with
triggers off (`generate_synthetic`) add changes-feed rows, which move `seq`. Entries
also expire after CACHE_SECONDS, a safety net for anything written around both.

Only the public's answers are cached: staff see drafts, whose edits the feed does not
record. The cache is Django's default cache (per process unless CACHES says otherwise).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Callable
from typing import Any, TypeVar

from django.apps import apps
from django.core.cache import cache
from django.db import connection

T = TypeVar("T")

CACHE_SECONDS = 600
KEY_VERSION = "2"  # bump when a cached value's shape changes (2: issue 12, nulls)

# Audit-event tables whose changes can change a public aggregate (not import batches'
# progress or write conflicts).
_UNRELATED_EVENTS = {"ImportBatchEvent", "WriteConflictEvent"}


@functools.cache
def _fingerprint_sql() -> str:
    from incidents.models import PublicChange

    parts = [f"(SELECT max(seq) FROM {PublicChange._meta.db_table})"]
    for model in apps.get_app_config("incidents").get_models():
        if (
            model.__name__.endswith("Event")
            and model.__name__ not in _UNRELATED_EVENTS
            and any(f.name == "pgh_id" for f in model._meta.fields)
        ):
            parts.append(f"(SELECT max(pgh_id) FROM {model._meta.db_table})")
    return "SELECT " + ", ".join(parts)


def public_data_version() -> str:
    """A string that changes whenever public data may have changed (one query)."""
    with connection.cursor() as cursor:
        cursor.execute(_fingerprint_sql())
        row = cursor.fetchone()
    return ".".join("-" if value is None else str(value) for value in row)


def cached(
    kind: str,
    question: Any,
    compute: Callable[[], T],
    *,
    version: str | None = None,
    enabled: bool = True,
) -> T:
    """`compute()`, or its cached value for the same `kind` and `question` (anything
    whose repr identifies the question: a normalised filter and its options) over the
    same data. `version` is public_data_version(), when the caller already has it.
    With `enabled=False` (staff), always computes."""
    if not enabled:
        return compute()
    data = version if version is not None else public_data_version()
    digest = hashlib.sha256(repr((question, data)).encode()).hexdigest()
    key = f"civtrack:public:{KEY_VERSION}:{kind}:{digest}"
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, CACHE_SECONDS)
    return value
