"""The changes feed (API.md "Changes feed"): `/api/v1/changes/?since=<cursor>&limit=`.

Every change to public data — publications, updates, withdrawals, merges — in order,
from `incidents.PublicChange`. The cursor is the last `seq` a client has seen: the feed
answers the changes after it and a `next` cursor to store. The services append feed rows
under a transaction-level advisory lock (services._record_change), so rows become visible
in `seq` order: a client that stores `next` and polls never misses a change and never
sees one twice.
"""

from __future__ import annotations

import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from api.pagination import single
from api.views import BAD_REQUEST, ApiViewMixin
from incidents import selectors
from incidents.models import PublicChange

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_SEQ = 2**63 - 1


def _read_int(params, name: str, *, default: int, low: int, high: int, message: str):
    value = single(params, name)
    if value is None:
        return default
    value = value.strip()
    if not re.fullmatch(r"[0-9]{1,19}", value) or not low <= int(value) <= high:
        raise ValidationError({name: [message]})
    return int(value)


class ChangeSerializer(serializers.Serializer):
    seq = serializers.IntegerField()
    at = serializers.DateTimeField()
    code = serializers.CharField()
    action = serializers.ChoiceField(choices=PublicChange.Action.choices)
    version = serializers.IntegerField()
    public_reason = serializers.CharField(allow_blank=True)


class ChangesResponseSerializer(serializers.Serializer):
    results = ChangeSerializer(many=True)
    next = serializers.IntegerField(
        help_text="The cursor to send as `since` next time (the last seq seen)."
    )
    next_url = serializers.URLField()
    has_more = serializers.BooleanField(
        help_text="true: more changes are waiting; ask for next_url now."
    )


class ChangesView(ApiViewMixin, APIView):
    """`GET /api/v1/changes/`."""

    allowed_params = frozenset({"since", "limit"})

    @extend_schema(
        summary="Changes feed",
        operation_id="v1_changes",
        description="Changes to public data in commit order. Store `next` and send it "
        "as `since`: you never miss a change and never get one twice. Withdrawals and "
        "merges are listed so that mirrors can delete.",
        parameters=[
            OpenApiParameter(
                "since",
                OpenApiTypes.INT,
                description="Cursor: the `next` of your last call (0 or left out: "
                "from the beginning).",
            ),
            OpenApiParameter(
                "limit",
                OpenApiTypes.INT,
                description=f"1–{MAX_LIMIT}, default {DEFAULT_LIMIT}.",
            ),
        ],
        responses={200: ChangesResponseSerializer, 400: BAD_REQUEST},
    )
    def get(self, request):
        params = self.check_params()
        if single(params, "format") not in (None, "json"):
            raise ValidationError({"format": ["The changes feed is JSON only: json."]})
        since = _read_int(
            params,
            "since",
            default=0,
            low=0,
            high=MAX_SEQ,
            message="Enter the cursor you were given (`next`): a whole number, 0 or more.",
        )
        limit = _read_int(
            params,
            "limit",
            default=DEFAULT_LIMIT,
            low=1,
            high=MAX_LIMIT,
            message=f"Enter a whole number from 1 to {MAX_LIMIT}.",
        )
        # One query, one snapshot: rows are visible in seq order (see the module doc),
        # so everything up to the last seq read here has been read.
        rows = list(
            selectors.public_changes(after_seq=since, limit=limit + 1).values(
                "seq", "at", "code", "action", "version", "public_reason"
            )
        )
        has_more = len(rows) > limit
        rows = rows[:limit]
        cursor = rows[-1]["seq"] if rows else since
        next_url = request.build_absolute_uri(
            f"{request.path}?since={cursor}"
            + (f"&limit={limit}" if limit != DEFAULT_LIMIT else "")
        )
        return Response(
            {
                "results": rows,
                "next": cursor,
                "next_url": next_url,
                "has_more": has_more,
            }
        )
