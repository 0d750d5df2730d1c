"""Fast JSON rendering for the API, and the content negotiation that goes with it.

The incident list is built from `values()` rows as plain dicts (api/serializers.py) and
rendered with orjson: DRF's ModelSerializer + json.dumps measured about 10× slower on big
pages. CSV and GeoJSON exports are streamed by the views themselves (api/views.py), not
rendered here, so that they run in constant memory.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from typing import Any

import orjson
from django.utils.functional import Promise
from rest_framework.exceptions import ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer

ORJSON_OPTIONS = orjson.OPT_UTC_Z | orjson.OPT_NON_STR_KEYS


def _default(value: Any) -> Any:
    if isinstance(value, Promise):  # gettext_lazy labels
        return str(value)
    if isinstance(value, decimal.Decimal):
        return float(value)
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    raise TypeError(f"Cannot serialise {type(value).__name__}")


def dumps(data: Any) -> bytes:
    """orjson with CivTrack's options: UTC datetimes end in `Z`, lazy strings allowed."""
    return orjson.dumps(data, default=_default, option=ORJSON_OPTIONS)


class ORJSONRenderer(BaseRenderer):
    media_type = "application/json"
    format = "json"
    charset = None  # JSON is UTF-8 by definition (RFC 8259)

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return dumps(data)


class ApiContentNegotiation(DefaultContentNegotiation):
    """DRF's negotiation, except that `?format=` never answers 404: a format the view
    streams itself (`view.export_formats`, e.g. CSV on the incident list) is left to the
    view, and an unknown one is a 400 naming `format`."""

    def select_renderer(self, request, renderers, format_suffix=None):
        fmt = format_suffix or request.query_params.get(
            self.settings.URL_FORMAT_OVERRIDE
        )
        view = (getattr(request, "parser_context", None) or {}).get("view")
        exports = tuple(getattr(view, "export_formats", ()))
        known = [r.format for r in renderers]
        if fmt in exports:
            return renderers[0], renderers[0].media_type
        if fmt is not None and fmt not in known:
            raise ValidationError(
                {"format": [f"Choose one of: {', '.join([*known, *exports])}."]}
            )
        return super().select_renderer(request, renderers, format_suffix)
