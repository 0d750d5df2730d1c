"""The redaction layer: public_* selectors."""

import pytest

from incidents import selectors, services
from incidents.models import Victim
from tests.factories import ActorFactory, SourceFactory, make_incident, reviewer

pytestmark = pytest.mark.django_db


def test_public_incidents_hold_only_published_ones():
    published = make_incident(status="published")
    make_incident()
    make_incident(status="in_review")
    make_incident(status="withdrawn")

    assert list(selectors.public_incidents()) == [published]


def test_public_incidents_defer_restricted_columns():
    make_incident(status="published", internal_notes="CANARY-NOTES")

    incident = selectors.public_incidents().get()

    assert "internal_notes" in incident.get_deferred_fields()


def test_lookup_answers_withdrawn_merged_and_missing():
    withdrawn = make_incident(status="withdrawn")
    survivor = make_incident(status="published")
    merged = make_incident(status="published")
    services.incident_merge(incident=merged, into=survivor, by=reviewer())
    draft = make_incident()

    assert selectors.public_incident_lookup(withdrawn.code).kind == "withdrawn"
    lookup = selectors.public_incident_lookup(merged.code)
    assert (lookup.kind, lookup.survivor_code) == ("merged", survivor.code)
    assert selectors.public_incident_lookup(draft.code).kind == "missing"
    assert selectors.public_incident_lookup("SY-1999-00001").kind == "missing"
    assert selectors.public_incident_lookup(survivor.code).incident == survivor


def test_public_detail_leaves_out_confidential_sources():
    public_source = SourceFactory()
    secret = SourceFactory(confidential=True, title="CANARY-SOURCE")
    incident = make_incident(
        status="published",
        parts=services.IncidentParts(
            citations=[
                services.CitationData(public_source),
                services.CitationData(secret),
            ]
        ),
    )

    detail = selectors.public_incident_detail(incident.code)

    assert [c.source for c in detail.public_citations] == [public_source]
    assert selectors.confidential_source_counts([incident.pk]) == {incident.pk: 1}
    assert secret not in selectors.public_sources()


def test_public_victims_hide_names_without_consent_and_minors_ages():
    incident = make_incident()
    hidden = Victim.objects.create(
        incident=incident, outcome="killed", name="CANARY", age=12, age_group="child"
    )
    shown = Victim.objects.create(
        incident=incident,
        outcome="killed",
        name="Named",
        age=40,
        consent_note="Family, 2024",
        publish_name=True,
    )

    assert selectors.public_victim(hidden)["name"] is None
    assert selectors.public_victim(hidden)["age"] is None
    assert selectors.public_victim(shown)["name"] == "Named"
    assert selectors.public_victim(shown)["age"] == 40


def test_a_sensitive_facility_is_known_only_by_ref():
    from tests.factories import FacilityFactory

    facility = FacilityFactory(sensitive=True, name="CANARY-HOSPITAL")

    summary = selectors.public_facility_summary(facility)

    assert summary["name"] is None
    assert summary["ref"] == facility.ref


@pytest.mark.parametrize(
    ("rows", "certain_for_a"),
    [
        ([("a", None)], True),  # unnumbered: certain
        ([("a", None), ("b", None)], True),  # joint
        ([("a", 1), ("b", 2)], False),  # "A or B": possibly
        ([("a", 1), ("b", 2), ("a2", 2)], True),  # A's subunit in hypothesis 2 too
        ([("b", 1), ("c", 2)], False),  # not involved
    ],
)
def test_involvement_is_certain_only_when_every_hypothesis_holds_the_actor(
    rows, certain_for_a
):
    from django.db import connection

    parent = ActorFactory(slug="a")
    actors = {
        "a": parent,
        "a2": ActorFactory(slug="a2", parent=parent),
        "b": ActorFactory(slug="b"),
        "c": ActorFactory(slug="c"),
    }
    incident = make_incident(
        parts=services.IncidentParts(
            attributions=[
                services.AttributionData(actors[slug], alternative=alt)
                for slug, alt in rows
            ]
        )
    )
    actor_ids = selectors.actor_descendant_ids([parent.pk])

    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {selectors.involvement_condition()} FROM incidents_incident i "
            "WHERE i.id = %s",
            [actor_ids, actor_ids, incident.pk],
        )
        in_sql = cursor.fetchone()[0]

    assert in_sql is certain_for_a
    assert selectors.incident_is_certain_for(incident, set(actor_ids)) is certain_for_a


def test_public_history_starts_at_publication_with_public_fields_only():
    incident = make_incident(status="published", internal_notes="CANARY")

    services.incident_update(
        incident=incident,
        expected_version=incident.version,
        fields={"title": "Corrected", "internal_notes": "CANARY-2"},
        by=reviewer(),
        public_reason="Title corrected",
    )

    history = selectors.public_history(incident)

    assert [entry["action"] for entry in history] == ["published", "updated"]
    assert history[1]["changes"] == {
        "title": {"old": "Air strike on a market", "new": "Corrected"}
    }
    assert history[1]["public_reason"] == "Title corrected"
    assert "CANARY" not in repr(history)
