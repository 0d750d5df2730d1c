"""The database itself refuses bad rows (CheckConstraints), and full_clean() words them."""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from incidents.models import Attribution, CasualtyCount, Location, Source, Victim
from tests.factories import ActorFactory, LocationFactory, make_incident

pytestmark = pytest.mark.django_db


def refused_by_database(sql, params):
    with (
        pytest.raises(IntegrityError),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, params)
    return True


@pytest.fixture
def incident():
    return make_incident()


def test_it_refuses_casualty_min_above_max(incident):
    assert refused_by_database(
        "UPDATE incidents_incident SET civilians_killed_min = 5, civilians_killed_max = 3 "
        "WHERE id = %s",
        [incident.pk],
    )
    row = CasualtyCount(
        incident=incident, group="civilians", outcome="killed", min=5, max=3
    )
    with pytest.raises(ValidationError, match="minimum cannot exceed"):
        row.full_clean()
    with pytest.raises(IntegrityError), transaction.atomic():
        CasualtyCount.objects.create(
            incident=incident, group="civilians", outcome="killed", min=5, max=3
        )


def test_it_refuses_best_outside_the_range(incident):
    with pytest.raises(IntegrityError), transaction.atomic():
        CasualtyCount.objects.create(
            incident=incident, group="civilians", outcome="killed", min=1, max=3, best=4
        )


def test_it_refuses_two_rows_for_one_group_and_outcome(incident):
    CasualtyCount.objects.create(
        incident=incident, group="civilians", outcome="killed", min=1, max=1
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        CasualtyCount.objects.create(
            incident=incident, group="civilians", outcome="killed", min=2, max=2
        )


def test_it_refuses_a_window_that_ends_before_it_starts(incident):
    assert refused_by_database(
        "UPDATE incidents_incident SET date_end = date_start - 1 WHERE id = %s",
        [incident.pk],
    )


@pytest.mark.parametrize(
    ("lat", "lon"), [(91, 36), (-91, 36), (35, 181), (35, -181), (35, None), (None, 36)]
)
def test_it_refuses_coordinates_out_of_bounds_or_alone(incident, lat, lon):
    assert refused_by_database(
        "UPDATE incidents_incident SET latitude = %s, longitude = %s WHERE id = %s",
        [lat, lon, incident.pk],
    )


def test_it_refuses_a_malformed_code(incident):
    from incidents.models import Incident

    with pytest.raises(IntegrityError, match="code_format"), transaction.atomic():
        Incident.objects.create(
            code="X-1",
            title="t",
            date_start=incident.date_start,
            date_end=incident.date_end,
            incident_type=incident.incident_type,
        )


def test_it_refuses_changing_a_code(incident):
    from django.db import InternalError

    with (
        pytest.raises(InternalError, match="code_immutable"),
        transaction.atomic(),
        connection.cursor() as c,
    ):
        c.execute(
            "UPDATE incidents_incident SET code = 'SY-1999-00001' WHERE id = %s",
            [incident.pk],
        )


def test_it_refuses_withdrawn_without_reason(incident):
    assert refused_by_database(
        "UPDATE incidents_incident SET status = 'withdrawn', withdrawn_reason = '' WHERE id = %s",
        [incident.pk],
    )


def test_it_refuses_merged_without_survivor(incident):
    assert refused_by_database(
        "UPDATE incidents_incident SET status = 'merged' WHERE id = %s", [incident.pk]
    )


def test_it_refuses_an_alternative_on_a_non_perpetrator(incident):
    with pytest.raises(IntegrityError), transaction.atomic():
        Attribution.objects.create(
            incident=incident, actor=ActorFactory(), role="target", alternative=1
        )


def test_it_refuses_an_alternative_on_a_confirmed_perpetrator(incident):
    with pytest.raises(IntegrityError), transaction.atomic():
        Attribution.objects.create(
            incident=incident,
            actor=ActorFactory(),
            confidence="confirmed",
            alternative=1,
        )


def test_it_refuses_the_same_actor_twice_in_one_role(incident):
    actor = ActorFactory()
    Attribution.objects.create(incident=incident, actor=actor)

    with pytest.raises(IntegrityError), transaction.atomic():
        Attribution.objects.create(incident=incident, actor=actor)


def test_it_refuses_publishing_a_victims_name_without_consent(incident):
    with pytest.raises(IntegrityError), transaction.atomic():
        Victim.objects.create(
            incident=incident, outcome="killed", name="A", publish_name=True
        )


def test_it_refuses_a_child_marked_adult(incident):
    with pytest.raises(IntegrityError), transaction.atomic():
        Victim.objects.create(
            incident=incident, outcome="killed", age=12, age_group="adult"
        )


def test_it_refuses_two_sources_with_one_url():
    Source.objects.create(kind="news_report", title="A", url="https://example.org/a")

    with pytest.raises(IntegrityError), transaction.atomic():
        Source.objects.create(
            kind="news_report", title="B", url="https://example.org/a"
        )


def test_it_allows_many_sources_without_url():
    Source.objects.create(kind="witness_testimony", title="A")
    Source.objects.create(kind="witness_testimony", title="B")

    assert Source.objects.filter(url="").count() == 2


def test_it_refuses_a_place_without_parent_below_country():
    with pytest.raises(IntegrityError), transaction.atomic():
        Location.objects.create(slug="orphan", name="Orphan", level="community")


def test_it_refuses_duplicate_pcodes():
    LocationFactory(pcode="C1234")

    with pytest.raises(IntegrityError), transaction.atomic():
        LocationFactory(pcode="C1234")


def test_it_refuses_an_actor_relation_ending_before_it_starts():
    from incidents.models import ActorRelation

    with pytest.raises(IntegrityError), transaction.atomic():
        ActorRelation.objects.create(
            from_actor=ActorFactory(),
            to_actor=ActorFactory(),
            kind="commanded_by",
            start_date=dt.date(2016, 1, 1),
            end_date=dt.date(2015, 1, 1),
        )


def test_version_is_bumped_by_the_database_on_every_update(incident):
    before = incident.version

    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE incidents_incident SET title = 'x' WHERE id = %s", [incident.pk]
        )
    incident.refresh_from_db()

    assert incident.version == before + 1
