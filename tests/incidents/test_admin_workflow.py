"""The admin's workflow actions, sources, actors and history (PAGES.md "The admin")."""

from __future__ import annotations

import hashlib
from http import HTTPStatus

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from incidents import services
from incidents.models import (
    Attribution,
    Incident,
    ProtectionRequest,
    PublicChange,
    Source,
)
from tests.factories import (
    ActorFactory,
    IncidentTypeFactory,
    LocationFactory,
    SourceFactory,
    admin_user,
    make_incident,
    researcher,
    reviewer,
)
from tests.incidents.test_admin import form_data

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.incidents.test_admin")]

CHANGELIST = "admin:incidents_incident_changelist"


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def _action(client, action: str, incidents, **extra):
    data = {"action": action, ACTION_CHECKBOX_NAME: [i.pk for i in incidents], **extra}
    return client.post(reverse(CHANGELIST), data, follow=True)


def _publish(client, incidents):
    """The publish action's confirm page, then its form with each version shown."""
    versions = {f"version_{i.pk}": i.version for i in incidents}
    return _action(client, "publish_selected", incidents, apply="1", **versions)


# ---------------------------------------------------------------------------------------
# Workflow actions
# ---------------------------------------------------------------------------------------


def test_the_four_eyes_rule_blocks_publishing_your_own_incident(client):
    author = reviewer(username="samir")
    incident = make_incident(by=author, status=Incident.Status.IN_REVIEW)
    client.force_login(author)

    response = _publish(client, [incident])

    incident.refresh_from_db()
    assert incident.status == Incident.Status.IN_REVIEW
    assert _messages(response) == [
        f"{incident.code}: You created this incident: another reviewer must publish it "
        "(four-eyes rule)."
    ]


def test_another_reviewer_publishes_it(client):
    incident = make_incident(by=reviewer(), status=Incident.Status.IN_REVIEW)
    client.force_login(reviewer())

    response = _publish(client, [incident])

    incident.refresh_from_db()
    assert incident.status == Incident.Status.PUBLISHED
    assert _messages(response) == [f"Published: {incident.code}."]


def test_it_reports_each_incident_of_an_action(client):
    mine = make_incident(status=Incident.Status.IN_REVIEW)
    draft = make_incident()
    client.force_login(reviewer())

    response = _publish(client, [mine, draft])

    assert _messages(response) == [
        f"{draft.code}: Only an incident in review can be published.",
        f"Published: {mine.code}.",
    ]


def test_a_researcher_has_no_publish_action(client):
    user = researcher()
    incident = make_incident(by=user, status=Incident.Status.IN_REVIEW)
    client.force_login(user)

    page = client.get(reverse(CHANGELIST))
    _action(client, "publish_selected", [incident])

    assert "publish_selected" not in page.content.decode()
    incident.refresh_from_db()
    assert incident.status == Incident.Status.IN_REVIEW


def test_it_submits_drafts(client):
    user = researcher()
    incident = make_incident(by=user)
    client.force_login(user)

    _action(client, "submit_selected", [incident])

    incident.refresh_from_db()
    assert incident.status == Incident.Status.IN_REVIEW


def test_sending_back_asks_for_a_reason(client):
    incident = make_incident(status=Incident.Status.IN_REVIEW)
    client.force_login(reviewer())

    page = _action(client, "send_back_selected", [incident])
    done = _action(
        client, "send_back_selected", [incident], apply="1", reason="No source cited."
    )

    assert b'name="reason"' in page.content
    incident.refresh_from_db()
    assert incident.status == Incident.Status.DRAFT
    assert _messages(done) == [f"Sent back: {incident.code}."]


def test_withdrawing_asks_for_the_public_reason(client):
    incident = make_incident(status=Incident.Status.PUBLISHED)
    client.force_login(reviewer())

    page = _action(client, "withdraw_selected", [incident])
    _action(client, "withdraw_selected", [incident], apply="1", reason="A duplicate.")

    assert "Public reason" in page.content.decode()
    incident.refresh_from_db()
    assert incident.status == Incident.Status.WITHDRAWN
    assert incident.withdrawn_reason == "A duplicate."
    assert PublicChange.objects.filter(incident=incident, action="withdrawn").exists()


def test_merging_chooses_the_survivor_by_code(client):
    survivor = make_incident(title="The survivor")
    duplicate = make_incident(title="The duplicate")
    client.force_login(reviewer())

    unknown = _action(
        client, "merge_selected", [duplicate], apply="1", into="SY-1999-00001"
    )
    _action(
        client, "merge_selected", [duplicate], apply="1", into=survivor.code.lower()
    )

    assert "No incident has the code SY-1999-00001." in unknown.content.decode()
    duplicate.refresh_from_db()
    assert duplicate.status == Incident.Status.MERGED
    assert duplicate.merged_into == survivor


def test_the_change_page_buttons_run_the_workflow(client):
    incident = make_incident(status=Incident.Status.IN_REVIEW)
    client.force_login(reviewer())
    page = client.get(reverse("admin:incidents_incident_change", args=[incident.pk]))
    url = reverse("admin:incidents_incident_workflow", args=[incident.pk, "publish"])

    response = client.post(url, {"version": incident.version})

    assert url in page.content.decode()
    assert response.status_code == HTTPStatus.FOUND
    incident.refresh_from_db()
    assert incident.status == Incident.Status.PUBLISHED


def test_it_exports_the_selected_incidents_as_csv(client):
    chosen = make_incident(title="Chosen", internal_notes="secret note")
    make_incident(title="Other")
    client.force_login(researcher())

    response = client.post(
        reverse(CHANGELIST),
        {"action": "export_csv", ACTION_CHECKBOX_NAME: [chosen.pk]},
    )

    body = b"".join(response.streaming_content).decode()
    lines = body.splitlines()
    assert response["Content-Type"] == "text/csv"
    assert lines[0].startswith("code,status,title")
    assert len(lines) == 2
    assert lines[1].startswith(f"{chosen.code},draft,Chosen")
    assert "secret note" not in body


# ---------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------


def _source_post(client, **fields):
    response = client.get(reverse("admin:incidents_source_add"))
    data = form_data(response)
    data.update(kind="photo", title="Photo of the crater", reliability="unsure")
    data.update(fields)
    return client.post(reverse("admin:incidents_source_add"), data)


def test_a_source_upload_computes_its_hash_size_and_type(client):
    client.force_login(researcher())
    content = b"\x89PNG\r\n\x1a\n fake image bytes"

    response = _source_post(
        client, file=SimpleUploadedFile("crater.png", content, content_type="image/png")
    )

    assert response.status_code == HTTPStatus.FOUND
    source = Source.objects.get()
    assert source.sha256 == hashlib.sha256(content).hexdigest()
    assert source.size == len(content)
    assert source.mime == "image/png"


def test_a_url_already_present_points_at_the_existing_source(client):
    existing = SourceFactory(url="https://snhr.org/report/1", title="SNHR report")
    client.force_login(researcher())

    response = _source_post(client, url="https://snhr.org/report/1")

    assert response.status_code == HTTPStatus.OK
    errors = response.context["adminform"].form.errors["url"]
    assert "already source" in errors[0]
    assert f"#{existing.pk}</a>: SNHR report" in errors[0]
    assert reverse("admin:incidents_source_change", args=[existing.pk]) in errors[0]
    assert Source.objects.count() == 1


def test_a_source_edit_goes_through_the_service(client):
    source = SourceFactory(title="Old")
    client.force_login(researcher())
    url = reverse("admin:incidents_source_change", args=[source.pk])
    data = form_data(client.get(url))
    data["title"] = "New"

    response = client.post(url, data)

    assert response.status_code == HTTPStatus.FOUND
    source.refresh_from_db()
    assert source.title == "New"


# ---------------------------------------------------------------------------------------
# Actors, places, vocabularies
# ---------------------------------------------------------------------------------------


def test_merging_actors_moves_their_attributions(client):
    unknown = ActorFactory(name="Unknown aircraft")
    tigers = ActorFactory(name="Tiger Forces")
    incident = make_incident(
        parts=services.IncidentParts(
            attributions=[services.AttributionData(actor=unknown)]
        )
    )
    client.force_login(reviewer())

    response = client.post(
        reverse("admin:incidents_actor_changelist"),
        {
            "action": "merge_selected",
            ACTION_CHECKBOX_NAME: [unknown.pk],
            "apply": "1",
            "into": tigers.pk,
        },
        follow=True,
    )

    assert list(
        Attribution.objects.filter(incident=incident).values_list("actor", flat=True)
    ) == [tigers.pk]
    unknown.refresh_from_db()
    assert unknown.merged_into == tigers
    assert _messages(response) == ["Unknown aircraft merged into Tiger Forces."]


def test_a_researcher_cannot_merge_actors(client):
    unknown, tigers = ActorFactory(), ActorFactory()
    client.force_login(researcher())

    client.post(
        reverse("admin:incidents_actor_changelist"),
        {
            "action": "merge_selected",
            ACTION_CHECKBOX_NAME: [unknown.pk],
            "apply": "1",
            "into": tigers.pk,
        },
    )

    unknown.refresh_from_db()
    assert unknown.merged_into is None


def test_an_actor_alias_is_added_through_the_service(client):
    actor = ActorFactory(name="Tiger Forces")
    client.force_login(researcher())
    url = reverse("admin:incidents_actor_change", args=[actor.pk])
    data = form_data(client.get(url))
    data["names-0-name"] = "قوات النمر"
    data["names-0-language"] = "ar"

    response = client.post(url, data)

    assert response.status_code == HTTPStatus.FOUND
    assert "قوات النمر" in set(actor.names.values_list("name", flat=True))


def test_only_admins_edit_vocabularies(client):
    kind = IncidentTypeFactory(code="airstrike")
    url = reverse("admin:incidents_incidenttype_change", args=[kind.pk])
    client.force_login(reviewer())
    as_reviewer = client.get(url)
    client.force_login(admin_user())
    as_admin = client.get(url)

    assert as_reviewer.status_code == HTTPStatus.OK
    assert as_reviewer.context["has_change_permission"] is False
    assert as_admin.context["has_change_permission"] is True


def test_a_place_is_merged_by_a_reviewer(client):
    duplicate, survivor = (
        LocationFactory(name="Kafranbel"),
        LocationFactory(name="Kafr Nabl"),
    )
    incident = make_incident(location=duplicate)
    client.force_login(reviewer())

    client.post(
        reverse("admin:incidents_location_changelist"),
        {
            "action": "merge_selected",
            ACTION_CHECKBOX_NAME: [duplicate.pk],
            "apply": "1",
            "into": survivor.pk,
        },
    )

    incident.refresh_from_db()
    assert incident.location == survivor


# ---------------------------------------------------------------------------------------
# History
# ---------------------------------------------------------------------------------------


def test_the_history_shows_who_changed_what_and_why(client, django_assert_num_queries):
    editor = reviewer(username="nour")
    incident = make_incident(
        title="First title",
        parts=services.IncidentParts(
            casualty_rows=[
                services.CasualtyRowData(
                    group="civilians", outcome="killed", min=1, max=2
                )
            ]
        ),
    )
    services.incident_update(
        incident=incident,
        expected_version=incident.version,
        fields={"title": "Second title"},
        parts=services.IncidentParts(
            casualty_rows=[
                services.CasualtyRowData(
                    group="civilians", outcome="killed", min=1, max=6
                )
            ]
        ),
        by=editor,
        reason="New SNHR figures",
        public_reason="Casualty figures updated",
    )
    client.force_login(admin_user())
    url = reverse("admin:incidents_incident_history", args=[incident.pk])

    # session, user, incident; events; users; places; incident types
    with django_assert_num_queries(7):
        response = client.get(url)

    entries = response.context["entries"]
    latest = entries[0]
    assert latest["user"] == "nour"
    assert latest["reason"] == "New SNHR figures"
    assert latest["public_reason"] == "Casualty figures updated"
    assert "title: First title → Second title" in latest["changes"]
    assert "civilians_killed_max: 2 → 6" in latest["changes"]
    assert any(
        c.startswith("+ casualty row") and "max=6" in c for c in latest["changes"]
    )
    assert entries[-1]["changes"][0] == "created"
    assert "New SNHR figures" in response.content.decode()


@pytest.mark.parametrize("role", ["researcher", "reviewer"])
def test_making_a_source_file_public_is_asked_for(client, role):
    """A file made public can expose the people in it (issue 12 §2, DOMAIN.md
    "Lowering protection"): ticking `file_public` in the admin, on a new or an existing
    source and by any role, keeps the file protected and files a request that a second
    person who is a reviewer approves."""
    source = SourceFactory(title="Photo", file_public=False)
    url = reverse("admin:incidents_source_change", args=[source.pk])
    client.force_login(researcher() if role == "researcher" else reviewer())
    data = form_data(client.get(url))
    data["file_public"] = "on"

    edited = client.post(url, data)
    added = _source_post(client, file_public="on", url="https://example.org/p")

    assert edited.status_code == HTTPStatus.FOUND
    assert added.status_code == HTTPStatus.FOUND
    source.refresh_from_db()
    assert source.file_public is False
    assert Source.objects.get(url="https://example.org/p").file_public is False
    assert sorted(ProtectionRequest.objects.values_list("target", flat=True)) == [
        "source.file_public",
        "source.file_public",
    ]
