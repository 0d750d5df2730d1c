"""incidents/public_cache.py: cached public aggregates are served only while the data
they were computed from is unchanged (issue 8: counts and figures stay exact)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from incidents import public_cache, services
from incidents.models import Incident
from tests.factories import ActorFactory, IncidentTypeFactory, make_incident

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
    cache.clear()


def test_it_computes_once_while_the_data_is_unchanged():
    calls = []

    def compute():
        calls.append(1)
        return {"n": len(calls)}

    first = public_cache.cached("test", "q", compute)
    second = public_cache.cached("test", "q", compute)
    other = public_cache.cached("test", "another question", compute)

    assert first == second == {"n": 1}
    assert other == {"n": 2}


def test_a_published_change_gives_a_new_fingerprint():
    before = public_cache.public_data_version()

    make_incident(status=Incident.Status.PUBLISHED)

    assert public_cache.public_data_version() != before


def test_an_actor_s_new_bloc_gives_a_new_fingerprint():
    """A bloc change touches no incident (no changes-feed row), yet changes every
    bloc statistic: the audit trail's last event id is part of the fingerprint."""
    actor = services.actor_save(actor=ActorFactory.build(bloc="isis"))
    before = public_cache.public_data_version()

    actor.bloc = "russia"
    services.actor_save(actor=actor)

    assert public_cache.public_data_version() != before


def test_a_vocabulary_label_change_gives_a_new_fingerprint():
    kind = IncidentTypeFactory(code="cache-test-type")
    before = public_cache.public_data_version()

    kind.label = "Renamed"
    kind.save()

    assert public_cache.public_data_version() != before


def test_it_recomputes_after_a_change_and_never_for_staff():
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    assert public_cache.cached("test", "q", compute) == 1
    make_incident(status=Incident.Status.PUBLISHED)

    assert public_cache.cached("test", "q", compute) == 2
    assert public_cache.cached("test", "q", compute, enabled=False) == 3
    assert public_cache.cached("test", "q", compute, enabled=False) == 4
