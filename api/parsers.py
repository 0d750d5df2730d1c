"""The API's JSON parser, with API.md's limits ("Limits and errors").

DRF's JSONParser reads the whole body, however large, and hands it to the json module,
whose decoder recurses once per level: a 21 MB body, or a thousand `[`, ended in the
catch-all 500 of api/exceptions.py. This parser is the default of every API view
(REST_FRAMEWORK["DEFAULT_PARSER_CLASSES"]), so no endpoint escapes it:

- a body of more than `CIVTRACK_MAX_JSON_BYTES` (2 MiB) is a 413 naming the limit,
  refused on its declared length, and never parsed beyond the limit whatever it
  declares (Django never reads more than DATA_UPLOAD_MAX_MEMORY_SIZE, 20 MiB, of a
  body DRF reads for this parser: a longer one is refused unread, and
  api/exceptions.py names this limit for it too);
- JSON nested more than `MAX_JSON_DEPTH` (32) levels is a 400 naming the limit.

File uploads (multipart, api/views_write.py) and imports keep their own, larger limits.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from rest_framework import exceptions, parsers, status
from rest_framework.utils import json

MAX_JSON_DEPTH = 32


class JSONTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_code = "payload_too_large"


def max_json_bytes() -> int:
    return int(settings.CIVTRACK_MAX_JSON_BYTES)


def too_large(limit: int) -> JSONTooLarge:
    return JSONTooLarge(
        f"A JSON body may be at most {limit} bytes ({limit / (1024 * 1024):g} MiB)."
    )


def too_deep() -> exceptions.ParseError:
    return exceptions.ParseError(
        f"JSON parse error - the body is nested more than {MAX_JSON_DEPTH} levels deep "
        f"(at most {MAX_JSON_DEPTH} levels of arrays and objects)."
    )


def json_depth(value: Any) -> int:
    """How many levels of arrays and objects `value` holds (a scalar: 0), walked
    without recursion so that no value can exhaust the stack."""
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, level)
        if level > MAX_JSON_DEPTH:
            return level  # deep enough to refuse: no need to walk the rest
        stack.extend((child, level + 1) for child in children)
    return deepest


def declared_length(request) -> int:
    """The body's declared Content-Length (0 when absent or not a number)."""
    meta = getattr(request, "META", {}) if request is not None else {}
    try:
        return max(0, int(meta.get("CONTENT_LENGTH") or 0))
    except (TypeError, ValueError):
        return 0


class LimitedJSONParser(parsers.JSONParser):
    """DRF's JSONParser with the size and depth limits; every mistake a 4xx."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        limit = max_json_bytes()
        if declared_length(parser_context.get("request")) > limit:
            raise too_large(limit)
        # Never more than the limit (and one byte to know it was exceeded), whatever
        # the client declared or streams.
        raw = stream.read(limit + 1)
        if len(raw) > limit:
            raise too_large(limit)
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as error:
            raise exceptions.ParseError(
                f"JSON parse error - the body is not valid {encoding}: {error}"
            ) from error
        parse_constant = json.strict_constant if self.strict else None
        try:
            data = json.loads(text, parse_constant=parse_constant)
        except RecursionError:
            raise too_deep() from None
        except ValueError as error:
            raise exceptions.ParseError(f"JSON parse error - {error}") from error
        if json_depth(data) > MAX_JSON_DEPTH:
            raise too_deep()
        return data
