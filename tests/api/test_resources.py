"""Actors, locations, facilities, sources and vocabularies (API.md "Other resources")."""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from incidents import selectors, services
from incidents.models import ActorRelation
from tests.api.conftest import CANARIES
from tests.factories import ActorFactory, researcher, reviewer

pytestmark = pytest.mark.django_db


def staff_client() -> APIClient:
    client = APIClient()
    client.force_authenticate(researcher())
    return client


def slugs(response, key="slug") -> list[str]:
    assert response.status_code == HTTPStatus.OK, response.content
    return [item[key] for item in response.json()["results"]]


# -- actors -----------------------------------------------------------------------------


def test_actors_filter_by_q_kind_bloc_and_parent(client, world):
    url = reverse("api:actor-list")

    assert slugs(client.get(url + "?q=panther")) == ["panther-brigade"]
    assert slugs(client.get(url + "?q=لواء الفهد")) == ["panther-brigade"]
    assert slugs(client.get(url + "?q=nobody-zzz")) == []
    assert "test-air-force" in slugs(client.get(url + "?bloc=russia&page_size=1000"))
    assert "test-air-force" not in slugs(client.get(url + "?bloc=hts&page_size=1000"))
    assert slugs(client.get(url + "?parent=test-government")) == ["panther-brigade"]
    assert slugs(client.get(url + "?parent=test-isis")) == []
    assert "test-isis" in slugs(client.get(url + "?kind=armed_group&page_size=1000"))
    assert slugs(client.get(url + "?kind=person&q=panther")) == []


def test_actor_list_rejects_bad_parameters(client, world):
    url = reverse("api:actor-list")

    for query, name in [
        ("kind=alien", "kind"),
        ("bloc=nato", "bloc"),
        ("parent=nobody", "parent"),
        ("colour=red", "colour"),
        ("page_size=5000", "page_size"),
    ]:
        response = client.get(f"{url}?{query}")
        assert response.status_code == HTTPStatus.BAD_REQUEST, query
        assert name in response.json()


def test_actor_list_pages_with_a_cursor(client, world):
    url = reverse("api:actor-list")

    first = client.get(url + "?page_size=2").json()
    second = client.get(first["next"]).json()

    assert first["count"] == selectors.live_actors().count()
    assert len(first["results"]) == 2
    assert {a["slug"] for a in first["results"]}.isdisjoint(
        {a["slug"] for a in second["results"]}
    )


def test_actor_detail_has_hierarchy_relations_and_statistics(client, world):
    commander = services.actor_save(
        actor=ActorFactory.build(slug="commander-x", name="Commander X", kind="person")
    )
    relation = ActorRelation.objects.create(
        from_actor=world.objects["tigers"],
        to_actor=commander,
        kind="commanded_by",
        start_date=dt.date(2015, 1, 1),
        end_date=dt.date(2018, 12, 31),
    )
    relation.citations.add(
        world.objects["public_source"], world.objects["confidential"]
    )

    tigers = client.get(
        reverse("api:actor-detail", kwargs={"slug": "panther-brigade"})
    ).json()
    government = client.get(
        reverse("api:actor-detail", kwargs={"slug": "test-government"})
    ).json()

    assert tigers["parent"]["slug"] == "test-government"
    assert tigers["ancestors"] == [
        {"slug": "test-government", "name": "Test government forces"}
    ]
    assert {"name": "لواء الفهد", "language": "ar"} in tigers["aliases"]
    assert tigers["relations"][0]["kind"] == "commanded_by"
    assert tigers["relations"][0]["actor"]["slug"] == "commander-x"
    assert tigers["relations"][0]["start_date"] == "2015-01-01"
    assert [s["title"] for s in tigers["relations"][0]["sources"]] == [
        world.objects["public_source"].title
    ]
    assert [c["slug"] for c in government["children"]] == ["panther-brigade"]
    assert government["statistics"]["incidents"] == 2
    assert government["statistics"]["incidents_possible"] == 1


def test_a_merged_actor_redirects_to_the_survivor(client, world):
    duplicate = services.actor_save(actor=ActorFactory.build(slug="tigers-dup"))
    services.actor_merge(actor=duplicate, into=world.objects["tigers"], by=reviewer())

    response = client.get(reverse("api:actor-detail", kwargs={"slug": "tigers-dup"}))

    assert response.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert response.json() == {"slug": "tigers-dup", "merged_into": "panther-brigade"}
    assert response["Location"].endswith("/api/v1/actors/panther-brigade/")


def test_an_unknown_actor_is_a_404(client, world):
    response = client.get(reverse("api:actor-detail", kwargs={"slug": "nobody"}))

    assert response.status_code == HTTPStatus.NOT_FOUND


# -- locations --------------------------------------------------------------------------


def test_locations_filter_by_q_level_parent_and_pcode(client, world):
    url = reverse("api:location-list")

    assert slugs(client.get(url + "?q=Ma'arrat")) == ["maarat-al-numan"]
    assert slugs(client.get(url + "?q=معرة")) == ["maarat-al-numan"]
    assert slugs(client.get(url + "?q=zzz")) == []
    assert slugs(client.get(url + "?pcode=SY07")) == [world.objects["idleb"].slug]
    assert slugs(client.get(url + "?pcode=SY99")) == []
    assert slugs(client.get(url + "?parent=maarat-district")) == ["maarat-al-numan"]
    assert "maarat-district" in slugs(
        client.get(url + "?level=district&page_size=1000")
    )
    assert "maarat-al-numan" not in slugs(
        client.get(url + "?level=district&page_size=1000")
    )


def test_location_detail_has_its_parent_chain(client, world):
    body = client.get(
        reverse("api:location-detail", kwargs={"slug": "maarat-al-numan"})
    ).json()

    assert [p["slug"] for p in body["ancestors"]][:2] == [
        "maarat-district",
        world.objects["idleb"].slug,
    ]
    assert (body["latitude"], body["longitude"], body["level"]) == (
        35.64,
        36.67,
        "community",
    )
    assert body["incidents_url"].endswith("?location=maarat-al-numan")


def test_location_list_rejects_a_bad_level(client, world):
    response = client.get(reverse("api:location-list") + "?level=planet")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert "level" in response.json()


# -- facilities -------------------------------------------------------------------------


def test_a_sensitive_facility_shows_only_ref_type_and_district(client, world):
    ref = world.objects["sensitive_hospital"].ref

    body = client.get(reverse("api:facility-detail", kwargs={"ref": ref})).json()

    assert set(body) == {
        "ref",
        "url",
        "target_type",
        "district",
        "sensitive",
        "incidents_url",
        "incidents",
    }
    assert body["district"]["slug"] == "jebel-saman"
    assert body["target_type"] == "hospital"
    assert [i["code"] for i in body["incidents"]] == [world.code("F")]


def test_a_public_facility_shows_its_name_place_and_incidents(client, world):
    ref = world.objects["public_hospital"].ref

    body = client.get(reverse("api:facility-detail", kwargs={"ref": ref})).json()

    assert body["name"] == "Maarat National Hospital"
    assert body["location"]["slug"] == "maarat-al-numan"
    assert body["district"]["slug"] == "maarat-district"
    assert [i["code"] for i in body["incidents"]] == [world.code("A")]


def test_staff_see_a_sensitive_facility_in_full(world):
    ref = world.objects["sensitive_hospital"].ref

    body = (
        staff_client().get(reverse("api:facility-detail", kwargs={"ref": ref})).json()
    )

    assert body["name"] == CANARIES["facility_name"]


def test_facility_search_never_matches_a_sensitive_name(client, world):
    url = reverse("api:facility-list")

    assert slugs(client.get(url + "?q=CANARY"), "ref") == []
    assert slugs(client.get(url + "?q=Maarat"), "ref") == [
        world.objects["public_hospital"].ref
    ]
    assert slugs(staff_client().get(url + "?q=CANARY"), "ref") == [
        world.objects["sensitive_hospital"].ref
    ]


# -- sources ----------------------------------------------------------------------------


def test_sources_are_public_ones_only(client, world):
    listed = client.get(reverse("api:source-list"))
    staff = staff_client().get(reverse("api:source-list"))

    assert slugs(listed, "id") == [world.objects["public_source"].pk]
    assert set(slugs(staff, "id")) == {
        world.objects["public_source"].pk,
        world.objects["confidential"].pk,
    }


def test_a_source_detail_links_its_incidents(client, world):
    source = world.objects["public_source"]

    body = client.get(reverse("api:source-detail", kwargs={"pk": source.pk})).json()

    assert body["title"] == source.title
    assert body["incidents_url"].endswith(f"?source={source.pk}")
    assert body["file_url"] is None


def test_source_list_filters_by_kind(client, world):
    url = reverse("api:source-list")

    assert slugs(client.get(url + "?kind=news_report"), "id") == [
        world.objects["public_source"].pk
    ]
    assert slugs(client.get(url + "?kind=video"), "id") == []
    assert client.get(url + "?kind=rumour").status_code == HTTPStatus.BAD_REQUEST


# -- vocabularies -----------------------------------------------------------------------


def test_vocabularies_list_every_code_list(client, world):
    body = client.get(reverse("api:vocabularies")).json()

    assert {
        "incident_types",
        "weapons",
        "target_types",
        "gradings",
        "date_precisions",
        "geo_precisions",
        "casualty_groups",
        "casualty_outcomes",
        "blocs",
        "confidences",
        "roles",
        "positions",
    } <= set(body)
    hospital = next(t for t in body["target_types"] if t["code"] == "hospital")
    assert hospital["parent"] == "health-facility"
    assert {g["code"] for g in body["gradings"]} >= {"confirmed", "discounted"}
    assert all(g["definition"] for g in body["gradings"])


@pytest.mark.parametrize(
    "name",
    ["api:actor-list", "api:location-list", "api:facility-list", "api:source-list"],
)
def test_resource_lists_use_a_fixed_number_of_queries(
    client, world, django_assert_max_num_queries, name
):
    with django_assert_max_num_queries(4):  # count, page, (districts / sources)
        response = client.get(reverse(name) + "?page_size=1000")

    assert response.status_code == HTTPStatus.OK
