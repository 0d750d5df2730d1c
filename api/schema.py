"""OpenAPI schema post-processing (drf-spectacular POSTPROCESSING_HOOKS).

What every API operation can answer, documented once instead of on each view: a 400 for an
unknown or malformed parameter or body (every view refuses unknown parameters), and a 429
when the caller is throttled (every view is throttled), with `Retry-After`. Error bodies
get a schema, so that clients (and the schemathesis run in the test suite) can rely on
them.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.authentication import SessionScheme
from drf_spectacular.openapi import AutoSchema


class CivTrackAutoSchema(AutoSchema):
    """An operation's description is what its `extend_schema(description=…)` says for
    the API's users, never a docstring: docstrings are written for the project's
    developers (internal module names, notes to self) and drf-spectacular would
    otherwise publish a view's or mixin's docstring as the description of every
    operation that has none of its own."""

    def get_description(self) -> str:
        return ""


class CivTrackSessionScheme(SessionScheme):
    """Documents api.authentication.SessionAuthentication (DRF's session
    authentication with the two-factor check) as the session cookie it is."""

    target_class = "api.authentication.SessionAuthentication"


VALIDATION_ERROR = {
    "type": "object",
    "description": "Field-keyed errors: each bad parameter or field with what is "
    "allowed (nested for nested input), or `detail` for a body that cannot be read.",
    "additionalProperties": {},
    "example": {"date_from": ["Enter a date as YYYY-MM-DD."]},
}
ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
THROTTLED = {
    "description": "Too many requests: try again after `Retry-After` seconds.",
    "headers": {
        "Retry-After": {
            "schema": {"type": "integer"},
            "description": "Seconds to wait before the next request.",
        }
    },
    "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}},
}
METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")


def _json(ref: str) -> dict[str, Any]:
    return {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}


def add_common_responses(result, generator, request, public):
    """Add 400 (with the ValidationError schema) and 429 to every `/api/` operation."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ValidationError", VALIDATION_ERROR)
    schemas.setdefault("Error", ERROR)
    for path, item in result.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, operation in item.items():
            if method not in METHODS:
                continue
            responses = operation.setdefault("responses", {})
            bad = responses.setdefault(
                "400", {"description": "A parameter is unknown or malformed."}
            )
            bad.setdefault("content", _json("ValidationError"))
            responses.setdefault("429", THROTTLED)
    return result
