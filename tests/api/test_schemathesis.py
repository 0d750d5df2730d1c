"""Schemathesis against the API's own OpenAPI schema (API.md: "no request input of any
shape produces a 5xx"), through the WSGI app (no network), every operation except
`/api/v1/auth/` (a token would revoke itself), anonymous and with a reviewer's token.

Checks: no 5xx, and every response is one the schema documents (status code, content type
and body). The run is bounded and repeatable: derandomized, no shrinking, at most
`max_examples` generated cases per operation, plus schemathesis' coverage phase (every
boundary and invalid value the schema implies, once) where it tells something: on the
reads for anonymous callers (where parameters are validated) and on the writes for
staff (anonymous writes stop at the 401).
"""

from __future__ import annotations

import zlib

import pytest
import schemathesis
from django.core.cache import cache
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, Phase, settings
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from civtrack.wsgi import application
from incidents.models import Incident
from tests.factories import api_token, reviewer

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
EXAMPLES = settings(
    max_examples=15,
    derandomize=True,
    deadline=None,
    database=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
WRITES = "^(POST|PUT|PATCH|DELETE)$"


def _config(**coverage_filter: str) -> SchemathesisConfig:
    """The coverage phase only for the operations `coverage_filter` selects (keys of
    schemathesis' `[[operations]]` filters)."""
    return SchemathesisConfig.from_dict(
        {
            "seed": 1,
            "phases": {"coverage": {"enabled": False}},
            "operations": [
                {**coverage_filter, "phases": {"coverage": {"enabled": True}}}
            ],
        }
    )


@pytest.fixture
def _quiet_api(monkeypatch):
    """Throttles lifted (a 429 after 120 calls would hide everything behind it) and, as
    Django's test client does, the test's connection kept open across requests (the WSGI
    handler would close it, inside the test's transaction, after each one)."""
    rates = {"anon": "1000000/min", "user": "1000000/min"}
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", rates)
    cache.clear()
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@pytest.fixture
def anonymous_schema(world, _quiet_api):
    """The schema served at /api/schema/, over `world` (published incidents, actors,
    places, facilities, sources); coverage phase on the reads. The statistics and the
    map take the incident list's filters (one FilterSet): the list's coverage covers
    them, their own parameters are fuzzed."""
    config = _config(
        **{
            "include-method": "GET",
            "exclude-path-regex": "^/api/v1/(stats|map)/",
        }
    )
    return schemathesis.openapi.from_wsgi("/api/schema/", application, config=config)


@pytest.fixture
def staff_schema(world, _quiet_api):
    """The same, for a reviewer's token; coverage phase on the writes."""
    config = _config(**{"include-method-regex": WRITES})
    return schemathesis.openapi.from_wsgi("/api/schema/", application, config=config)


@pytest.fixture
def staff_headers(db):
    return {"Authorization": f"Token {api_token(reviewer())}"}


# `.exclude()` on the lazy schema: on the fixture's value it would be ignored.
anonymous = schemathesis.pytest.from_fixture("anonymous_schema").exclude(
    path_regex=r"^/api/v1/auth/"
)
staff = schemathesis.pytest.from_fixture("staff_schema").exclude(
    path_regex=r"^/api/v1/auth/"
)


def _known_values(world) -> dict[str, list[str]]:
    """Real path values of `world` by operation path: random codes and slugs would only
    ever meet a 404, so every other case is sent to an existing object instead."""
    o = world.objects
    return {
        "/api/v1/incidents/{code}/": list(world.codes.values()),
        "/api/v1/actors/{slug}/": [
            o[name].slug for name in ("government", "tigers", "russia", "isis")
        ],
        "/api/v1/locations/{slug}/": [
            o[name].slug for name in ("syria", "idleb", "maarat", "village")
        ],
        "/api/v1/facilities/{ref}/": [
            o[name].ref
            for name in ("public_hospital", "sensitive_hospital", "unused_facility")
        ],
        "/api/v1/sources/{id}/": [
            str(o[n].pk) for n in ("public_source", "confidential")
        ],
    }


def _aim(case, world) -> None:
    """Point every other case at an existing object (chosen from the generated value, so
    the run stays repeatable); a PATCH aimed so gets the current version in `If-Match`
    half of the time, so that the body reaches the services' validation."""
    for prefix, values in _known_values(world).items():
        if not case.path.startswith(prefix.rsplit("/", 2)[0] + "/{"):
            continue
        (name,) = case.path_parameters
        digest = zlib.crc32(str(case.path_parameters[name]).encode())
        if digest % 2:
            return
        value = values[digest // 2 % len(values)]
        case.path_parameters[name] = value
        # (Sources' and facilities' PATCH carries no version: only their protections.)
        incident = prefix == "/api/v1/incidents/{code}/"
        if case.method == "PATCH" and incident and digest % 4 == 0:
            version = Incident.objects.get(code=value).version
            case.headers = {**(case.headers or {}), "If-Match": f'"{version}"'}
        return


@anonymous.parametrize()
@EXAMPLES
def test_it_answers_anonymous_callers_as_documented(case, world):
    _aim(case, world)
    case.call_and_validate(checks=CHECKS)


@staff.parametrize()
@EXAMPLES
def test_it_answers_a_staff_token_as_documented(case, world, staff_headers):
    _aim(case, world)
    case.call_and_validate(headers=staff_headers, checks=CHECKS)
