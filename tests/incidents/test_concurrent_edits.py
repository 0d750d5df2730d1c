"""Concurrent edits of one incident against the real database: exactly one wins each
round, the others are refused and logged, and no update is lost."""

import threading

import pytest
from django.db import connection
from pghistory.models import Events

from incidents import services
from incidents.models import Incident, WriteConflict
from tests.factories import make_incident, reviewer

ROUNDS = 8
WRITERS = 4


@pytest.mark.django_db(transaction=True)
def test_exactly_one_concurrent_edit_wins_each_round_and_none_is_lost():
    incident = make_incident(status="in_review")
    editors = [reviewer() for _ in range(WRITERS)]
    winners: list[str] = []

    for round_number in range(ROUNDS):
        seen = Incident.objects.get(pk=incident.pk).version
        barrier = threading.Barrier(WRITERS)
        outcomes: list[str] = []

        def edit(
            editor,
            writer,
            seen=seen,
            barrier=barrier,
            outcomes=outcomes,
            round_number=round_number,
        ):
            title = f"round {round_number} writer {writer}"
            try:
                barrier.wait(timeout=10)
                services.incident_update(
                    incident=incident,
                    expected_version=seen,
                    fields={"title": title},
                    by=editor,
                )
                outcomes.append(title)
            except services.StaleVersionError:
                outcomes.append("refused")
            finally:
                connection.close()

        threads = [
            threading.Thread(target=edit, args=(editor, n))
            for n, editor in enumerate(editors)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        won = [o for o in outcomes if o != "refused"]
        assert len(won) == 1, outcomes
        assert outcomes.count("refused") == WRITERS - 1
        winners.append(won[0])
        assert Incident.objects.get(pk=incident.pk).title == won[0]

    final = Incident.objects.get(pk=incident.pk)
    assert final.version == incident.version + ROUNDS
    assert WriteConflict.objects.filter(incident=incident).count() == ROUNDS * (
        WRITERS - 1
    )
    titles_in_trail = [
        data["title"]
        for data in Events.objects.tracks(final)
        .filter(pgh_model="incidents.IncidentEvent")
        .order_by("pgh_created_at", "pgh_id")
        .values_list("pgh_data", flat=True)
    ]
    assert [t for t in titles_in_trail if t.startswith("round")] == winners
