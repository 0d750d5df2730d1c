"""The audit trail (django-pghistory triggers): every change, bulk ones included, with
who, why and the import batch."""

import pghistory
import pytest
from pghistory.models import Events

from incidents import services
from incidents.models import ImportBatch, Incident
from tests.factories import make_incident, researcher, reviewer

pytestmark = pytest.mark.django_db


def incident_events(incident):
    return Events.objects.tracks(incident).filter(pgh_model="incidents.IncidentEvent")


def test_a_bulk_update_writes_one_audit_row_per_incident():
    incidents = [make_incident() for _ in range(3)]
    before = [incident_events(i).count() for i in incidents]

    with pghistory.context(user=None, reason="bulk regrade"):
        Incident.objects.filter(pk__in=[i.pk for i in incidents]).update(grading="weak")

    after = [incident_events(i).count() for i in incidents]
    assert [a - b for a, b in zip(after, before, strict=True)] == [1, 1, 1]
    latest = (
        incident_events(incidents[0]).order_by("-pgh_created_at", "-pgh_id").first()
    )
    assert latest.pgh_data["grading"] == "weak"
    assert latest.pgh_context["reason"] == "bulk regrade"


def test_a_service_records_who_and_why():
    editor = reviewer()
    incident = make_incident(status="in_review")

    services.incident_update(
        incident=incident,
        expected_version=incident.version,
        fields={"title": "New"},
        by=editor,
        reason="fixed title",
        public_reason="Title corrected",
    )

    event = incident_events(incident).order_by("-pgh_created_at", "-pgh_id").first()
    assert event.pgh_context["user"] == editor.pk
    assert event.pgh_context["reason"] == "fixed title"
    assert event.pgh_context["public_reason"] == "Title corrected"


def test_child_row_deletions_are_recorded():
    incident = make_incident(
        parts=services.IncidentParts(
            casualty_rows=[services.CasualtyRowData("civilians", "killed", 1, 2)]
        )
    )

    services.incident_update(
        incident=incident,
        expected_version=incident.version,
        parts=services.IncidentParts(casualty_rows=[]),
        by=researcher(),
    )

    labels = list(
        Events.objects.filter(pgh_model="incidents.CasualtyCountEvent")
        .order_by("pgh_created_at", "pgh_id")
        .values_list("pgh_label", flat=True)
    )
    assert labels == ["insert", "delete"]


def test_an_import_batch_is_attached_to_the_audit_rows():
    batch = ImportBatch.objects.create(file_name="x.csv", format="ucdp-ged")

    incident = services.incident_create(
        fields={
            "title": "t",
            "date_start": make_incident().date_start,
            "incident_type": make_incident().incident_type,
        },
        by=None,
        batch=batch,
    )

    event = incident_events(incident).get()
    assert event.pgh_context["import_batch"] == batch.pk
    assert incident.import_batch == batch
