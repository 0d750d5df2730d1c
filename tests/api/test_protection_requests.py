"""Lowering protection through the API (issue 12 §2; API.md "Writing", DOMAIN.md
"Lowering protection"): a researcher's PATCH that would lower a protection answers 202
with a ProtectionRequest and changes nothing public; `/api/v1/protection-requests/`
and its approve/reject actions with `If-Match`."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse
from rest_framework.test import APIClient

from incidents import services
from incidents.models import Facility, Incident, ProtectionRequest, PublicChange, Source
from tests.factories import (
    FacilityFactory,
    LocationFactory,
    SourceFactory,
    TargetTypeFactory,
    api_token,
    make_incident,
    researcher,
    reviewer,
)

pytestmark = pytest.mark.django_db

SECRETS = {
    "facility_name": "CANARY-HOSPITAL-6127",
    "facility_lat": "36.417263",
    "facility_lon": "37.158349",
    "source_title": "CANARY-WITNESS-TITLE-5530",
    "source_author": "CANARY-AUTHOR-9902",
    "excerpt": "CANARY-EXCERPT-3371",
}


def client_for(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(user)}")
    return client


@pytest.fixture
def world():
    """A published incident that targets a sensitive hospital and cites a confidential
    witness statement, each holding restricted values."""
    hospital = TargetTypeFactory(code="hospital")
    place = LocationFactory(slug="canary-town", name="Town")
    facility = FacilityFactory(
        name=SECRETS["facility_name"],
        target_type=hospital,
        location=place,
        latitude=float(SECRETS["facility_lat"]),
        longitude=float(SECRETS["facility_lon"]),
        sensitive=True,
    )
    source = SourceFactory(
        kind=Source.Kind.WITNESS_TESTIMONY,
        title=SECRETS["source_title"],
        author=SECRETS["source_author"],
        confidential=True,
    )
    incident = make_incident(
        status=Incident.Status.PUBLISHED,
        title="Strike on a hospital",
        location=place,
        parts=services.IncidentParts(
            targets=[services.TargetData(target_type=hospital, facility=facility)],
            citations=[
                services.CitationData(
                    source=source, supports=["occurrence"], excerpt=SECRETS["excerpt"]
                )
            ],
        ),
    )
    return {"facility": facility, "source": source, "incident": incident}


def public_outputs(world) -> dict[str, str]:
    """Every kind of public output an outsider or a mirror reads, as text."""
    code = world["incident"].code
    ref = world["facility"].ref
    urls = [
        "/api/v1/incidents/",
        f"/api/v1/incidents/{code}/",
        f"/api/v1/incidents/{code}/history/",
        "/api/v1/incidents/?format=csv",
        "/api/v1/incidents/?format=geojson",
        "/api/v1/changes/?since=0",
        "/api/v1/facilities/",
        f"/api/v1/facilities/{ref}/",
        "/api/v1/sources/",
        f"/api/v1/sources/{world['source'].pk}/",
        f"/en/incidents/{code}/",
        f"/ar/incidents/{code}/",
        f"/en/facilities/{ref}/",
        "/en/changes/",
        "/en/changes/feed/",
    ]
    anonymous = APIClient()
    cache.clear()
    out = {}
    for url in urls:
        response = anonymous.get(url)
        body = (
            b"".join(response.streaming_content)
            if response.streaming
            else response.content
        )
        out[url] = f"{response.status_code} {body.decode('utf-8', 'replace')}"
    return out


def leaks(outputs: dict[str, str], names: list[str]) -> dict[str, list[str]]:
    found = {
        url: [name for name in names if SECRETS[name] in text]
        for url, text in outputs.items()
    }
    return {url: names for url, names in found.items() if names}


def _lower(client, world):
    facility = client.patch(
        f"/api/v1/facilities/{world['facility'].ref}/",
        {"sensitive": False, "reason": "The hospital asked to be named."},
        format="json",
    )
    source = client.patch(
        f"/api/v1/sources/{world['source'].pk}/",
        {"confidential": False, "reason": "The witness agreed."},
        format="json",
    )
    return facility, source


def _approve(client, asked_url: str):
    detail = client.get(asked_url)
    return client.post(
        f"{asked_url}approve/", {}, format="json", HTTP_IF_MATCH=detail["ETag"]
    )


def test_a_researchers_lowering_reaches_no_public_output_until_approved(world):
    """The outside tester's attack: untick `sensitive` / `confidential` as a researcher
    and read every public output (API, CSV, GeoJSON, changes feed, pages)."""
    feed = PublicChange.objects.count()
    version = world["incident"].version
    asker = client_for(researcher())

    facility, source = _lower(asker, world)

    assert (facility.status_code, source.status_code) == (202, 202)
    assert facility.json()["status"] == "pending"
    assert facility["Location"] == facility.json()["url"]
    assert leaks(public_outputs(world), list(SECRETS)) == {}
    assert PublicChange.objects.count() == feed  # mirrors are told nothing
    world["incident"].refresh_from_db()
    assert world["incident"].version == version
    assert Facility.objects.get(pk=world["facility"].pk).sensitive is True
    assert Source.objects.get(pk=world["source"].pk).confidential is True

    approver = client_for(reviewer())
    approved = [
        _approve(approver, facility.json()["url"]),
        _approve(approver, source.json()["url"]),
    ]

    assert [a.status_code for a in approved] == [200, 200]
    assert [a.json()["status"] for a in approved] == ["approved", "approved"]
    after = public_outputs(world)
    code = world["incident"].code
    # Only now: the test sees them where they belong (so the check above was real).
    assert SECRETS["facility_name"] in after[f"/api/v1/incidents/{code}/"]
    assert SECRETS["source_title"] in after[f"/api/v1/incidents/{code}/"]
    assert SECRETS["excerpt"] in after[f"/en/incidents/{code}/"]
    assert PublicChange.objects.filter(
        incident=world["incident"], action="updated"
    ).exists()


def test_raising_through_the_api_is_immediate(world):
    source = SourceFactory(confidential=False)
    facility = FacilityFactory(sensitive=False)
    client = client_for(researcher())

    raised = [
        client.patch(
            f"/api/v1/sources/{source.pk}/", {"confidential": True}, format="json"
        ),
        client.patch(
            f"/api/v1/facilities/{facility.ref}/", {"sensitive": True}, format="json"
        ),
    ]

    assert [r.status_code for r in raised] == [200, 200]
    assert raised[0].json()["confidential"] is True
    assert Source.objects.get(pk=source.pk).confidential is True
    assert Facility.objects.get(pk=facility.pk).sensitive is True
    assert not ProtectionRequest.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"title": "Renamed"}, "title"),
        ({"confidential": "no"}, "confidential"),
        ({"confidential": None}, "confidential"),
        ({}, "non_field_errors"),
        ({"confidential": False, "reason": "x" * 2001}, "reason"),
    ],
)
def test_a_bad_patch_is_a_400_naming_the_field(world, body, field):
    response = client_for(researcher()).patch(
        f"/api/v1/sources/{world['source'].pk}/", body, format="json"
    )

    assert response.status_code == 400
    assert field in response.json()
    assert Source.objects.get(pk=world["source"].pk).confidential is True


def test_a_lowering_without_a_reason_is_a_400(world):
    response = client_for(researcher()).patch(
        f"/api/v1/facilities/{world['facility'].ref}/",
        {"sensitive": False},
        format="json",
    )

    assert response.status_code == 400
    assert "reason" in response.json()
    assert not ProtectionRequest.objects.exists()


def _asked(world, asker) -> str:
    response = client_for(asker).patch(
        f"/api/v1/facilities/{world['facility'].ref}/",
        {"sensitive": False, "reason": "Named in its own press release."},
        format="json",
    )
    assert response.status_code == 202
    return response.json()["url"]


def test_approve_needs_if_match_and_refuses_a_stale_version(world):
    url = _asked(world, researcher())
    approver = client_for(reviewer())
    etag = approver.get(url)["ETag"]

    missing = approver.post(f"{url}approve/", {}, format="json")
    garbled = approver.post(f"{url}approve/", {}, format="json", HTTP_IF_MATCH="7")
    facility = Facility.objects.get(pk=world["facility"].pk)
    facility.operator = "Changed meanwhile"
    services.facility_save(facility=facility, by=researcher())
    stale = approver.post(f"{url}approve/", {}, format="json", HTTP_IF_MATCH=etag)

    assert missing.status_code == 428
    assert garbled.status_code == 400
    assert "If-Match" in garbled.json()
    assert stale.status_code == 412
    assert "asks again" in stale.json()["detail"]
    assert stale.json()["current_version"] != etag.strip('"')
    assert Facility.objects.get(pk=world["facility"].pk).sensitive is True


def test_the_requester_and_researchers_get_403(world):
    asker = reviewer()
    url = _asked(world, asker)
    etag = client_for(asker).get(url)["ETag"]

    own = client_for(asker).post(f"{url}approve/", {}, HTTP_IF_MATCH=etag)
    own_reject = client_for(asker).post(f"{url}reject/", {}, HTTP_IF_MATCH=etag)
    other = researcher()
    by_researcher = client_for(other).post(f"{url}approve/", {}, HTTP_IF_MATCH=etag)

    assert own.status_code == 403
    assert "four-eyes" in own.json()["detail"]
    assert own_reject.status_code == 403
    assert by_researcher.status_code == 403
    assert "reviewers" in by_researcher.json()["detail"]
    assert Facility.objects.get(pk=world["facility"].pk).sensitive is True


def test_reject_leaves_it_protected_and_a_decided_request_is_a_400(world):
    url = _asked(world, researcher())
    approver = client_for(reviewer())
    etag = approver.get(url)["ETag"]

    rejected = approver.post(
        f"{url}reject/", {"note": "Still at risk."}, format="json", HTTP_IF_MATCH=etag
    )
    again = approver.post(f"{url}approve/", {}, format="json", HTTP_IF_MATCH=etag)

    assert rejected.status_code == 200
    assert rejected.json()["status"] == "rejected"
    assert rejected.json()["decision_note"] == "Still at risk."
    assert again.status_code == 400
    assert "status" in again.json()
    assert Facility.objects.get(pk=world["facility"].pk).sensitive is True


def test_reviewers_list_pending_requests_researchers_their_own(
    world, django_assert_num_queries
):
    mine, theirs = researcher(), researcher()
    _asked(world, mine)
    client_for(theirs).patch(
        f"/api/v1/sources/{world['source'].pk}/",
        {"confidential": False, "reason": "Agreed."},
        format="json",
    )
    boss = reviewer()
    boss_client = client_for(boss)

    # The token (with its user), knox's expiry check, the user's groups, and the
    # requests with both users: the same four for any number of requests.
    with django_assert_num_queries(4):
        listed = boss_client.get("/api/v1/protection-requests/")
    own = client_for(mine).get("/api/v1/protection-requests/")
    decided = boss_client.get("/api/v1/protection-requests/?status=approved")
    bad = boss_client.get("/api/v1/protection-requests/?status=maybe")
    unknown = boss_client.get("/api/v1/protection-requests/?colour=red")

    assert listed.status_code == 200
    assert listed.json()["count"] == 2
    assert [r["requested_by"] for r in own.json()["results"]] == [mine.username]
    assert decided.json()["count"] == 0
    assert bad.status_code == 400
    assert "status" in bad.json()
    assert unknown.status_code == 400
    assert "colour" in unknown.json()


def test_a_new_victim_name_through_the_api_is_asked_for():
    incident = make_incident()
    client = client_for(researcher())

    response = client.patch(
        reverse("api:incident-detail", kwargs={"code": incident.code}),
        {
            "victims": [
                {
                    "outcome": "killed",
                    "name": "Hana K.",
                    "consent_note": "Her brother, by phone.",
                    "publish_name": True,
                }
            ]
        },
        format="json",
        HTTP_IF_MATCH=f'"{incident.version}"',
    )

    assert response.status_code == 200
    assert len(response.json()["protection_requests"]) == 1
    assert incident.victims.get().publish_name is False


def test_the_schema_documents_the_endpoints():
    schema = APIClient().get("/api/schema/?format=json").json()

    paths = schema["paths"]
    assert "/api/v1/protection-requests/" in paths
    approve = paths["/api/v1/protection-requests/{id}/approve/"]["post"]
    assert {"412", "428", "403"} <= set(approve["responses"])
    assert any(p["name"] == "If-Match" for p in approve["parameters"])
    patch = paths["/api/v1/sources/{id}/"]["patch"]
    assert "202" in patch["responses"]


# Hostile ids: a JSON answer, (the public, staff): 401 for the public where a route
# matches (the catch-all's 404 where none does), 404 for staff, 400 for a NUL in the
# path; never a 500 nor the CSRF middleware's HTML 403.
HOSTILE_IDS = {
    "/api/v1/protection-requests/abc/approve/": (401, 404),
    "/api/v1/protection-requests/%C2%B2/approve/": (401, 404),  # a superscript two
    "/api/v1/protection-requests/99999999999999999999999/reject/": (401, 404),
    "/api/v1/sources/99999999999999999999999/": (401, 404),
    "/api/v1/sources/abc/": (404, 404),
    "/api/v1/facilities/F-%00/": (400, 400),
    "/api/v1/facilities/no-such-ref/": (401, 404),
}


@pytest.mark.parametrize("path", list(HOSTILE_IDS))
@pytest.mark.parametrize("caller", ["anonymous", "reviewer"])
def test_hostile_ids_are_a_json_4xx_never_a_500(path, caller):
    client = APIClient() if caller == "anonymous" else client_for(reviewer())
    decide = path.endswith(("/approve/", "/reject/"))
    send = client.post if decide else client.patch

    response = send(path, {"sensitive": True}, format="json", HTTP_IF_MATCH='"1"')

    assert response["Content-Type"].startswith("application/json")
    assert response.status_code == HOSTILE_IDS[path][caller != "anonymous"]
