"""Writing incidents through the API (API.md "Writing"): nested create in one
transaction, PATCH with If-Match, and the workflow actions."""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from incidents import services
from incidents.models import (
    Attribution,
    CasualtyCount,
    Citation,
    Incident,
    IncidentWeapon,
    Location,
    Source,
    WriteConflict,
)
from tests.factories import (
    ActorFactory,
    FacilityFactory,
    IncidentTypeFactory,
    LocationFactory,
    SourceFactory,
    TargetTypeFactory,
    WeaponTypeFactory,
    api_token,
    make_incident,
    researcher,
    reviewer,
)

pytestmark = pytest.mark.django_db


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    return client


def list_url() -> str:
    return reverse("api:incident-list")


def detail_url(code: str) -> str:
    return reverse("api:incident-detail", kwargs={"code": code})


def action_url(code: str, name: str) -> str:
    return reverse(f"api:incident-{name}", kwargs={"code": code})


@pytest.fixture
def vocab():
    return {
        "type": IncidentTypeFactory(code="airstrike"),
        "weapon": WeaponTypeFactory(code="cluster-munition"),
        "target": TargetTypeFactory(code="market"),
        "actor": ActorFactory(slug="test-air-force-a"),
        "other_actor": ActorFactory(slug="test-air-force-b"),
        "place": LocationFactory(slug="maarat-al-numan"),
    }


def payload(**overrides) -> dict:
    body = {
        "title": "Air strike on the central market",
        "date_start": "2016-02-15",
        "incident_type": "airstrike",
        "location": "maarat-al-numan",
        "latitude": 35.64,
        "longitude": 36.67,
        "geo_precision": "exact",
        "casualty_rows": [
            {"group": "civilians", "outcome": "killed", "min": 9, "max": 11},
            {"group": "children", "outcome": "killed", "min": 4, "max": 4},
            {"group": "civilians", "outcome": "injured", "min": 20, "max": 30},
        ],
        "attributions": [
            {"actor": "test-air-force-a", "alternative": 1},
            {"actor": "test-air-force-b", "alternative": 2},
        ],
        "weapons": [{"weapon": "cluster-munition", "certainty": "reported"}],
        "targets": [{"target_type": "market", "damage": "destroyed"}],
        "external_refs": [{"system": "snhr", "value": "2016-0215-03"}],
        "victims": [{"outcome": "killed", "sex": "female", "age": 34}],
    }
    body.update(overrides)
    return body


def row_counts() -> dict[str, int]:
    return {
        "incidents": Incident.objects.count(),
        "casualties": CasualtyCount.objects.count(),
        "attributions": Attribution.objects.count(),
        "citations": Citation.objects.count(),
        "weapons": IncidentWeapon.objects.count(),
        "sources": Source.objects.count(),
    }


# ---------------------------------------------------------------------------------------
# Create
# ---------------------------------------------------------------------------------------


def test_it_creates_a_draft_with_its_parts(vocab):
    author = researcher()
    existing = SourceFactory()
    body = payload(
        citations=[
            {"source": existing.pk, "supports": ["occurrence", "casualties"]},
            {
                "source": {
                    "kind": "news_report",
                    "title": "Market strike",
                    "url": "https://news.example.org/market-strike",
                },
                "supports": ["occurrence"],
                "excerpt": "Eleven people were killed.",
            },
        ]
    )

    response = client_for(author).post(list_url(), body, format="json")

    assert response.status_code == HTTPStatus.CREATED, response.json()
    incident = Incident.objects.get()
    assert incident.code == "SY-2016-00001"
    assert response.json()["code"] == incident.code
    assert response["Location"].endswith(detail_url(incident.code))
    assert response["ETag"] == f'"{incident.version}"'
    assert incident.status == Incident.Status.DRAFT
    assert incident.created_by == author
    assert (incident.civilians_killed_min, incident.civilians_killed_max) == (9, 11)
    assert (incident.children_killed_min, incident.children_killed_max) == (4, 4)
    assert (incident.civilians_injured_min, incident.civilians_injured_max) == (20, 30)
    assert incident.casualties.count() == 3
    assert sorted(incident.attributions.values_list("alternative", flat=True)) == [1, 2]
    assert incident.weapons.get().weapon == vocab["weapon"]
    assert incident.targets.get().damage == "destroyed"
    assert incident.external_refs.get().value == "2016-0215-03"
    assert incident.victims.get().age == 34
    assert incident.citations.count() == 2
    new_source = Source.objects.get(url="https://news.example.org/market-strike")
    assert new_source.created_by == author
    assert (
        incident.citations.filter(source=new_source).get().excerpt.startswith("Eleven")
    )


def test_it_resolves_a_place_by_pcode_and_a_facility_by_ref(vocab):
    governorate = Location.objects.filter(pcode="SY07").first() or LocationFactory(
        slug="idleb", level="governorate", pcode="SY07"
    )
    facility = FacilityFactory()

    response = client_for(researcher()).post(
        list_url(),
        payload(
            location="SY07",
            targets=[{"target_type": "market", "facility": facility.ref}],
        ),
        format="json",
    )

    assert response.status_code == HTTPStatus.CREATED, response.json()
    incident = Incident.objects.get()
    assert incident.location == governorate
    assert incident.targets.get().facility == facility


def test_an_invalid_nested_row_is_a_400_naming_it_and_writes_nothing(vocab):
    before = row_counts()
    body = payload(
        casualty_rows=[
            {"group": "civilians", "outcome": "killed", "min": 1, "max": 2},
            {"group": "civilians", "outcome": "injured", "min": 3, "max": 1},
        ],
        citations=[
            {
                "source": {
                    "kind": "news_report",
                    "title": "Would be created",
                    "url": "https://news.example.org/never",
                }
            }
        ],
    )

    response = client_for(researcher()).post(list_url(), body, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert response.json() == {"casualty_rows": [{}, {"max": ["must be >= min (3)"]}]}
    assert row_counts() == before


def test_a_rule_only_the_services_know_is_a_400_and_writes_nothing(vocab):
    # A civilian subgroup above the civilians' maximum: checked across rows by
    # services.validate_incident, after the inline source was already created.
    before = row_counts()
    body = payload(
        casualty_rows=[
            {"group": "civilians", "outcome": "killed", "min": 1, "max": 2},
            {"group": "children", "outcome": "killed", "min": 5, "max": 5},
        ],
        citations=[
            {
                "source": {
                    "kind": "news_report",
                    "title": "Inline",
                    "url": "https://x.org/a",
                }
            }
        ],
    )

    response = client_for(researcher()).post(list_url(), body, format="json")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "min" in response.json()["casualty_rows"][1]
    assert row_counts() == before


@pytest.mark.parametrize(
    ("override", "field"),
    [
        ({"latitude": 91}, "latitude"),
        ({"longitude": -180.5}, "longitude"),
        ({"latitude": "NaN"}, "latitude"),
        ({"incident_type": "no-such-type"}, "incident_type"),
        ({"location": "atlantis"}, "location"),
        ({"date_start": "15/02/2016"}, "date_start"),
        ({"date_end": "2016-02-01"}, "date_end"),
        ({"grading": "great"}, "grading"),
        ({"title": "x" * 501}, "title"),
        ({"title": "nul\x00byte"}, "title"),
        ({"status": "published"}, "status"),
        ({"casualties": {}}, "casualties"),
        ({"colour": "red"}, "colour"),
        ({"casualty_rows": "many"}, "casualty_rows"),
    ],
)
def test_it_refuses_bad_top_level_input_naming_the_field(vocab, override, field):
    response = client_for(researcher()).post(
        list_url(), payload(**override), format="json"
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert field in response.json()
    assert Incident.objects.count() == 0


@pytest.mark.parametrize(
    ("part", "row", "field"),
    [
        (
            "casualty_rows",
            {"group": "aliens", "outcome": "killed", "min": 1, "max": 1},
            "group",
        ),
        (
            "casualty_rows",
            {"group": "civilians", "outcome": "killed", "min": -1, "max": 1},
            "min",
        ),
        (
            "casualty_rows",
            {"group": "civilians", "outcome": "killed", "min": 1, "max": 2**31},
            "max",
        ),
        (
            "casualty_rows",
            {"group": "civilians", "outcome": "killed", "min": 1, "max": 3, "best": 9},
            "best",
        ),
        ("casualty_rows", {"group": "civilians", "outcome": "killed", "min": 1}, "max"),
        ("attributions", {"actor": "nobody"}, "actor"),
        (
            "attributions",
            {"actor": "test-air-force-a", "role": "target", "alternative": 1},
            "alternative",
        ),
        (
            "attributions",
            {"actor": "test-air-force-a", "alternative": 0},
            "alternative",
        ),
        ("weapons", {"weapon": "slingshot"}, "weapon"),
        ("targets", {"target_type": "market", "facility": "F-999999"}, "facility"),
        ("targets", {"target_type": "market", "damage": "obliterated"}, "damage"),
        ("citations", {"source": 987654}, "source"),
        ("citations", {"source": {"id": 1, "title": "Edited?"}}, "source"),
        ("citations", {"source": 1, "sha256": "ab"}, "sha256"),
        ("attributions", {"actor": "test-air-force-a", "name": "Renamed"}, "name"),
        ("citations", {"source": {"kind": "news_report"}}, "source"),
        ("citations", {"source": 1, "supports": ["gossip"]}, "supports"),
        ("external_refs", {"system": "myspace", "value": "1"}, "system"),
        ("victims", {"outcome": "killed", "age": 200}, "age"),
        (
            "victims",
            {"outcome": "killed", "publish_name": True, "name": "A"},
            "publish_name",
        ),
        ("victims", {"outcome": "killed", "nickname": "A"}, "nickname"),
    ],
)
def test_it_refuses_a_bad_nested_row_naming_the_field(vocab, part, row, field):
    response = client_for(researcher()).post(
        list_url(), payload(**{part: [row]}), format="json"
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    errors = response.json()[part]
    assert field in errors[0], errors
    assert Incident.objects.count() == 0


def test_an_inline_source_with_a_known_url_is_a_400_pointing_at_it(vocab):
    existing = SourceFactory(url="https://news.example.org/known")

    response = client_for(researcher()).post(
        list_url(),
        payload(
            citations=[
                {
                    "source": {
                        "kind": "news_report",
                        "title": "Again",
                        "url": existing.url,
                    }
                }
            ]
        ),
        format="json",
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert str(existing.pk) in response.json()["citations"][0]["source"][0]
    assert Incident.objects.count() == 0


def test_it_accepts_only_json(vocab):
    response = client_for(researcher()).post(
        list_url(), {"title": "x"}, format="multipart"
    )

    assert response.status_code == HTTPStatus.UNSUPPORTED_MEDIA_TYPE


# ---------------------------------------------------------------------------------------
# PATCH with If-Match
# ---------------------------------------------------------------------------------------


def test_patch_without_if_match_is_428(vocab):
    incident = make_incident()

    response = client_for(researcher()).patch(
        detail_url(incident.code), {"title": "New"}, format="json"
    )

    assert response.status_code == HTTPStatus.PRECONDITION_REQUIRED
    assert "If-Match" in response.json()["detail"]
    incident.refresh_from_db()
    assert incident.title != "New"


def test_patch_with_a_malformed_if_match_is_400(vocab):
    incident = make_incident()

    response = client_for(researcher()).patch(
        detail_url(incident.code), {"title": "New"}, format="json", HTTP_IF_MATCH="*"
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "If-Match" in response.json()


def test_a_stale_patch_is_412_logs_the_conflict_and_overwrites_nothing(vocab):
    author = researcher()
    incident = make_incident(by=author, title="Original")
    seen = incident.version
    services.incident_update(
        incident=incident,
        expected_version=seen,
        fields={"title": "Changed by a colleague"},
        by=researcher(),
    )

    response = client_for(author).patch(
        detail_url(incident.code),
        {"title": "My edit", "summary": "mine"},
        format="json",
        HTTP_IF_MATCH=f'"{seen}"',
    )

    assert response.status_code == HTTPStatus.PRECONDITION_FAILED
    body = response.json()
    assert body["current_version"] == seen + 1
    assert body["changed_fields"] == ["title"]
    assert body["detail"]
    assert response["ETag"] == f'"{seen + 1}"'
    incident.refresh_from_db()
    assert incident.title == "Changed by a colleague"
    assert incident.summary == ""
    conflict = WriteConflict.objects.get(incident=incident)
    assert (conflict.sent_version, conflict.current_version) == (seen, seen + 1)
    assert conflict.user == author


def test_a_patch_with_a_version_from_the_future_is_412(vocab):
    incident = make_incident()

    response = client_for(researcher()).patch(
        detail_url(incident.code),
        {"title": "x"},
        format="json",
        HTTP_IF_MATCH=f'"{incident.version + 5}"',
    )

    assert response.status_code == HTTPStatus.PRECONDITION_FAILED
    assert response.json()["current_version"] == incident.version


def test_a_fresh_patch_is_200_with_the_next_version(vocab):
    incident = make_incident(title="Original")
    editor = researcher()

    response = client_for(editor).patch(
        detail_url(incident.code),
        {"title": "Corrected", "reason": "typo"},
        format="json",
        HTTP_IF_MATCH=f'"{incident.version}"',
    )

    assert response.status_code == HTTPStatus.OK, response.json()
    assert response["ETag"] == f'"{incident.version + 1}"'
    assert response.json()["version"] == incident.version + 1
    incident.refresh_from_db()
    assert incident.title == "Corrected"
    assert incident.last_edited_by == editor


def test_a_nested_list_in_a_patch_replaces_that_list_only(vocab):
    incident = make_incident(
        parts=services.IncidentParts(
            casualty_rows=[
                services.CasualtyRowData("civilians", "killed", 1, 2),
                services.CasualtyRowData("civilians", "injured", 5, 6),
            ],
            weapons=[services.WeaponData(weapon=vocab["weapon"])],
        )
    )

    response = client_for(researcher()).patch(
        detail_url(incident.code),
        {
            "casualty_rows": [
                {"group": "civilians", "outcome": "killed", "min": 7, "max": 9}
            ]
        },
        format="json",
        HTTP_IF_MATCH=f'"{incident.version}"',
    )

    assert response.status_code == HTTPStatus.OK, response.json()
    incident.refresh_from_db()
    assert list(incident.casualties.values_list("group", "outcome", "min", "max")) == [
        ("civilians", "killed", 7, 9)
    ]
    assert (incident.civilians_killed_min, incident.civilians_killed_max) == (7, 9)
    # The injured row is gone: not recorded (null), not 0 (DOMAIN.md).
    assert (incident.civilians_injured_min, incident.civilians_injured_max) == (
        None,
        None,
    )
    assert incident.weapons.count() == 1  # not in the PATCH: left alone


def test_an_empty_list_in_a_patch_clears_it(vocab):
    incident = make_incident(
        parts=services.IncidentParts(
            casualty_rows=[services.CasualtyRowData("civilians", "killed", 1, 2)]
        )
    )

    response = client_for(researcher()).patch(
        detail_url(incident.code),
        {"casualty_rows": []},
        format="json",
        HTTP_IF_MATCH=f'"{incident.version}"',
    )

    assert response.status_code == HTTPStatus.OK
    incident.refresh_from_db()
    assert incident.casualties.count() == 0
    assert incident.casualties_known is False


def test_a_patched_row_must_still_be_complete(vocab):
    incident = make_incident()

    response = client_for(researcher()).patch(
        detail_url(incident.code),
        {"casualty_rows": [{"group": "civilians"}]},
        format="json",
        HTTP_IF_MATCH=f'"{incident.version}"',
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert set(response.json()["casualty_rows"][0]) == {"outcome", "min", "max"}


def test_a_patch_with_an_unknown_field_is_400_and_changes_nothing(vocab):
    incident = make_incident(title="Original")

    response = client_for(researcher()).patch(
        detail_url(incident.code),
        {"title": "New", "colour": "red"},
        format="json",
        HTTP_IF_MATCH=f'"{incident.version}"',
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "colour" in response.json()
    incident.refresh_from_db()
    assert incident.title == "Original"


def test_a_patch_of_an_unknown_code_is_404(vocab):
    response = client_for(researcher()).patch(
        detail_url("SY-1999-99999"), {"title": "x"}, format="json", HTTP_IF_MATCH='"1"'
    )

    assert response.status_code == HTTPStatus.NOT_FOUND


def test_put_is_not_allowed(vocab):
    incident = make_incident()

    response = client_for(researcher()).put(
        detail_url(incident.code), payload(), format="json", HTTP_IF_MATCH='"1"'
    )

    assert response.status_code == HTTPStatus.METHOD_NOT_ALLOWED


def test_a_reviewer_edit_of_a_published_incident_is_recorded_with_its_public_reason(
    vocab,
):
    incident = make_incident(status=Incident.Status.PUBLISHED)

    response = client_for(reviewer()).patch(
        detail_url(incident.code),
        {"summary": "More detail.", "public_reason": "Added the hospital's statement."},
        format="json",
        HTTP_IF_MATCH=f'"{incident.version}"',
    )

    assert response.status_code == HTTPStatus.OK, response.json()
    incident.refresh_from_db()
    assert incident.status == Incident.Status.PUBLISHED
    from incidents.models import PublicChange

    change = PublicChange.objects.filter(incident=incident).order_by("-seq").first()
    assert change.action == "updated"
    assert change.public_reason == "Added the hospital's statement."


# ---------------------------------------------------------------------------------------
# Workflow actions
# ---------------------------------------------------------------------------------------


def test_submit_moves_a_draft_to_review(vocab):
    incident = make_incident()

    response = client_for(researcher()).post(action_url(incident.code, "submit"))

    assert response.status_code == HTTPStatus.OK
    assert response.json()["status"] == "in_review"
    incident.refresh_from_db()
    assert response["ETag"] == f'"{incident.version}"'
    assert incident.status == Incident.Status.IN_REVIEW


def test_submitting_twice_is_400_naming_status(vocab):
    incident = make_incident(status=Incident.Status.IN_REVIEW)

    response = client_for(researcher()).post(action_url(incident.code, "submit"))

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "status" in response.json()


def test_the_author_reviewer_cannot_publish_four_eyes(vocab):
    author = reviewer()
    incident = make_incident(by=author, status=Incident.Status.IN_REVIEW)

    response = client_for(author).post(
        action_url(incident.code, "publish"), HTTP_IF_MATCH=f'"{incident.version}"'
    )

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "four-eyes" in response.json()["detail"]
    incident.refresh_from_db()
    assert incident.status == Incident.Status.IN_REVIEW


def test_the_last_editor_cannot_publish_four_eyes(vocab):
    incident = make_incident(status=Incident.Status.IN_REVIEW)
    editor = reviewer()
    client = client_for(editor)
    edited = client.patch(
        detail_url(incident.code),
        {"title": "Reviewed title"},
        format="json",
        HTTP_IF_MATCH=f'"{incident.version}"',
    )

    response = client.post(
        action_url(incident.code, "publish"), HTTP_IF_MATCH=edited["ETag"]
    )

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert "edited this incident last" in response.json()["detail"]


def test_another_reviewer_publishes(vocab):
    incident = make_incident(by=reviewer(), status=Incident.Status.IN_REVIEW)

    response = client_for(reviewer()).post(
        action_url(incident.code, "publish"),
        {"public_reason": "First publication."},
        HTTP_IF_MATCH=f'"{incident.version}"',
    )

    assert response.status_code == HTTPStatus.OK
    assert response.json()["status"] == "published"
    incident.refresh_from_db()
    assert incident.status == Incident.Status.PUBLISHED
    assert response["ETag"] == f'"{incident.version}"'


def test_send_back_needs_a_reason(vocab):
    incident = make_incident(status=Incident.Status.IN_REVIEW)
    client = client_for(reviewer())

    missing = client.post(action_url(incident.code, "send-back"), {})
    response = client.post(
        action_url(incident.code, "send-back"), {"reason": "Check the date."}
    )

    assert missing.status_code == HTTPStatus.BAD_REQUEST
    assert "reason" in missing.json()
    assert response.status_code == HTTPStatus.OK
    assert response.json()["status"] == "draft"


def test_withdraw_needs_a_public_reason(vocab):
    incident = make_incident(status=Incident.Status.PUBLISHED)
    client = client_for(reviewer())

    blank = client.post(
        action_url(incident.code, "withdraw"), {"withdrawn_reason": " "}
    )
    response = client.post(
        action_url(incident.code, "withdraw"),
        {"withdrawn_reason": "Duplicate of SY-2016-00002."},
    )

    assert blank.status_code == HTTPStatus.BAD_REQUEST
    assert "withdrawn_reason" in blank.json()
    assert response.status_code == HTTPStatus.OK
    assert response.json()["status"] == "withdrawn"
    incident.refresh_from_db()
    assert incident.withdrawn_reason == "Duplicate of SY-2016-00002."


def test_withdrawing_a_draft_is_400(vocab):
    incident = make_incident()

    response = client_for(reviewer()).post(
        action_url(incident.code, "withdraw"), {"withdrawn_reason": "x"}
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "status" in response.json()


def test_merge_points_at_the_survivor(vocab):
    survivor = make_incident(status=Incident.Status.PUBLISHED)
    duplicate = make_incident(status=Incident.Status.PUBLISHED)

    response = client_for(reviewer()).post(
        action_url(duplicate.code, "merge"), {"into": survivor.code}
    )

    assert response.status_code == HTTPStatus.OK, response.json()
    assert response.json()["status"] == "merged"
    duplicate.refresh_from_db()
    assert duplicate.merged_into == survivor


def test_merge_into_an_unknown_code_is_400(vocab):
    incident = make_incident()

    response = client_for(reviewer()).post(
        action_url(incident.code, "merge"), {"into": "SY-1999-99999"}
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "into" in response.json()


def test_a_once_public_incident_cannot_merge_into_a_draft(vocab):
    draft = make_incident()
    public = make_incident(status=Incident.Status.PUBLISHED)

    response = client_for(reviewer()).post(
        action_url(public.code, "merge"), {"into": draft.code}
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "into" in response.json()
    public.refresh_from_db()
    assert public.status == Incident.Status.PUBLISHED


def test_an_action_refuses_unknown_parameters(vocab):
    incident = make_incident()

    response = client_for(researcher()).post(
        action_url(incident.code, "submit"), {"force": True}, format="json"
    )

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "force" in response.json()


def test_dates_in_the_response_follow_the_created_incident(vocab):
    response = client_for(researcher()).post(
        list_url(),
        payload(date_start="2019-12-31", date_end="2020-01-02"),
        format="json",
    )

    assert response.status_code == HTTPStatus.CREATED
    incident = Incident.objects.get(code=response.json()["code"])
    assert incident.code.startswith("SY-2019-")
    assert incident.date_end == dt.date(2020, 1, 2)
