"""`/api/v1/changes/` (API.md "Changes feed") and the Atom feed of incidents/feeds.py."""

from __future__ import annotations

import random
import threading
import time
import xml.etree.ElementTree as ET
from http import HTTPStatus

import pytest
from django.db import connection, transaction
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle

from incidents import services
from incidents.feeds import PublicChangesFeed
from incidents.models import Incident, PublicChange
from tests.factories import make_incident, reviewer

CHANGES = "api:changes"
ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Factories create users; Argon2 would make each one take a noticeable while.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def client():
    return APIClient()


def poll(client, since=None, limit=None) -> dict:
    query = []
    if since is not None:
        query.append(f"since={since}")
    if limit is not None:
        query.append(f"limit={limit}")
    response = client.get(f"{reverse(CHANGES)}?{'&'.join(query)}")
    assert response.status_code == HTTPStatus.OK, response.content
    return response.json()


@pytest.mark.django_db
def test_it_lists_every_kind_of_change_in_order(client):
    first = make_incident(status="published", title="First")
    second = make_incident(status="published", title="Second")
    services.incident_update(
        incident=first,
        expected_version=first.version,
        fields={"title": "First, corrected"},
        by=reviewer(),
        public_reason="Corrected the title.",
    )
    services.incident_withdraw(
        incident=second, withdrawn_reason="Duplicate.", by=reviewer()
    )
    third = make_incident(status="published", title="Third")
    services.incident_merge(incident=third, into=first, by=reviewer())
    make_incident(title="A draft never shows")

    body = poll(client)

    got = [(r["code"], r["action"]) for r in body["results"]]
    assert got == [
        (first.code, "published"),
        (second.code, "published"),
        (first.code, "updated"),
        (second.code, "withdrawn"),
        (third.code, "published"),
        (third.code, "merged"),
        (first.code, "updated"),  # the survivor absorbed the merged incident
    ]
    seqs = [r["seq"] for r in body["results"]]
    assert seqs == sorted(seqs)
    assert body["next"] == seqs[-1]
    assert body["results"][2]["public_reason"] == "Corrected the title."
    assert (
        body["results"][2]["version"] == Incident.objects.get(pk=first.pk).version - 1
    )


@pytest.mark.django_db
def test_the_cursor_returns_only_newer_changes(client):
    make_incident(status="published")
    cursor = poll(client)["next"]

    assert poll(client, since=cursor) | {"next_url": None} == {
        "results": [],
        "next": cursor,
        "next_url": None,
        "has_more": False,
    }
    later = make_incident(status="published")
    body = poll(client, since=cursor)
    assert [r["code"] for r in body["results"]] == [later.code]
    assert body["next"] > cursor


@pytest.mark.django_db
def test_it_pages_with_limit_and_next_url(client):
    for _ in range(5):
        make_incident(status="published")

    page = poll(client, limit=2)
    seen = [r["seq"] for r in page["results"]]
    while page["has_more"]:
        response = client.get(page["next_url"])
        page = response.json()
        seen += [r["seq"] for r in page["results"]]

    assert seen == list(
        PublicChange.objects.order_by("seq").values_list("seq", flat=True)
    )
    assert "limit=2" in page["next_url"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("since=-1", "since"),
        ("since=abc", "since"),
        ("since=99999999999999999999", "since"),
        ("limit=0", "limit"),
        ("limit=1001", "limit"),
        ("since=1&since=2", "since"),
        ("cursor=1", "cursor"),
        ("format=csv", "format"),
    ],
)
def test_bad_parameters_are_a_400(client, query, parameter):
    response = client.get(f"{reverse(CHANGES)}?{query}")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    assert parameter in response.json()


@pytest.mark.django_db
def test_staff_get_the_same_feed(client):
    from tests.factories import api_token, researcher

    incident = make_incident(status="published")
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_token(researcher())}")

    body = poll(client)

    assert [r["code"] for r in body["results"]] == [incident.code]


@pytest.mark.django_db
def test_query_count_is_fixed(client, django_assert_num_queries):
    for _ in range(4):
        make_incident(status="published")

    with django_assert_num_queries(1):
        body = poll(client)

    assert len(body["results"]) == 4


@pytest.mark.django_db(transaction=True)
def test_a_poller_never_misses_or_repeats_a_change_under_concurrent_writes(
    monkeypatch,
):
    """Writers publish and edit incidents in parallel, holding their transactions open
    for a random while after the feed row is written; a poller follows the feed by its
    cursor all along. It must end with exactly the feed's rows, in order."""
    # The poller polls as fast as it can: lift the anonymous rate limit.
    monkeypatch.setattr(AnonRateThrottle, "get_rate", lambda self: None)
    writers = 4
    per_writer = 4
    reviewers = [reviewer() for _ in range(writers)]
    batches = [
        [make_incident(status="in_review") for _ in range(per_writer)]
        for _ in range(writers)
    ]
    errors: list[BaseException] = []
    done = threading.Event()
    collected: list[int] = []

    def write(incidents, by, seed):
        rng = random.Random(seed)  # noqa: S311 - timing jitter, not secrets
        try:
            for incident in incidents:
                with transaction.atomic():
                    services.incident_publish(
                        incident=incident, expected_version=incident.version, by=by
                    )
                    time.sleep(rng.uniform(0, 0.01))  # commit late, lock held
                for n in range(2):
                    with transaction.atomic():
                        current = Incident.objects.get(pk=incident.pk)
                        services.incident_update(
                            incident=current,
                            expected_version=current.version,
                            fields={"title": f"{current.title} ({n})"},
                            by=None,
                            public_reason="edited",
                        )
                        time.sleep(rng.uniform(0, 0.01))
        except BaseException as error:  # reported by the main thread
            errors.append(error)
        finally:
            connection.close()

    def follow():
        client = APIClient()
        cursor = 0
        try:
            while True:
                finished = done.is_set()
                body = poll(client, since=cursor, limit=7)
                collected.extend(r["seq"] for r in body["results"])
                cursor = body["next"]
                if finished and not body["has_more"]:
                    break
                time.sleep(0.002)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=write, args=(batch, by, i))
        for i, (batch, by) in enumerate(zip(batches, reviewers, strict=True))
    ]
    poller = threading.Thread(target=follow)
    poller.start()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    done.set()
    poller.join(timeout=120)

    assert errors == []
    final = list(PublicChange.objects.order_by("seq").values_list("seq", flat=True))
    assert len(final) == writers * per_writer * 3
    assert len(collected) == len(set(collected))  # no repeats
    assert collected == final  # no gaps, in order


# ---------------------------------------------------------------------------------------
# Atom
# ---------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_atom_feed_lists_recent_changes_newest_first():
    published = make_incident(status="published", title="Strike on a bakery")
    withdrawn = make_incident(status="published", title="Withdrawn story")
    services.incident_withdraw(
        incident=withdrawn, withdrawn_reason="Not an attack.", by=reviewer()
    )
    make_incident(title="A draft never shows")

    response = PublicChangesFeed()(RequestFactory().get("/en/changes/feed/"))

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"].startswith("application/atom+xml")
    root = ET.fromstring(response.content)  # noqa: S314 - our own output
    entries = root.findall(f"{ATOM}entry")
    titles = [e.findtext(f"{ATOM}title") for e in entries]
    assert titles[0].startswith(f"{withdrawn.code} withdrawn")
    assert "Withdrawn story" not in " ".join(titles)  # no title once withdrawn
    assert f"{published.code} published (version" in titles[-1]
    assert titles[-1].endswith("Strike on a bakery")
    assert entries[0].findtext(f"{ATOM}summary") == "Not an attack."
    ids = [e.findtext(f"{ATOM}id") for e in entries]
    assert len(set(ids)) == 3
    assert "A draft never shows" not in response.content.decode()


@pytest.mark.django_db
def test_the_atom_feed_keeps_to_a_fixed_number_of_queries(django_assert_num_queries):
    for _ in range(3):
        make_incident(status="published")

    with django_assert_num_queries(3):  # last seq, changes, public titles
        response = PublicChangesFeed()(RequestFactory().get("/en/changes/feed/"))

    root = ET.fromstring(response.content)  # noqa: S314 - our own output
    assert len(root.findall(f"{ATOM}entry")) == 3


@pytest.mark.django_db
def test_the_atom_feed_declares_every_text_as_text_and_keeps_markup_literal():
    """Issue 12 §4: entries declared `type="html"` for plain text, so a feed reader
    rendered a reason's markup as elements. Every text construct is `type="text"`."""
    markup = '<img src=x onerror="alert(1)"><b>bold</b>'
    incident = make_incident(status="published", title=markup)
    services.incident_withdraw(
        incident=make_incident(status="published", title="Other"),
        withdrawn_reason=markup,
        by=reviewer(),
    )

    response = PublicChangesFeed()(RequestFactory().get("/en/changes/feed/"))

    root = ET.fromstring(response.content)  # noqa: S314 - our own output
    constructs = [
        element
        for name in ("title", "subtitle", "summary", "rights", "content")
        for element in root.iter(f"{ATOM}{name}")
    ]
    assert len(constructs) >= 5
    assert {element.get("type") for element in constructs} == {"text"}
    texts = [element.text or "" for element in constructs]
    assert markup in " ".join(texts)  # the reason, literal
    assert any(t.endswith(markup) and incident.code in t for t in texts)
    assert b"<b>bold</b>" not in response.content  # escaped in the XML
