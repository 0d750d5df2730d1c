"""The synthetic data generator (incidents.synthetic, manage.py generate_synthetic)."""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict

import pytest
from django.apps import apps
from django.core.management import CommandError, call_command
from django.db import connection

from incidents import services, synthetic
from incidents.models import (
    Attribution,
    CasualtyCount,
    Citation,
    Incident,
    IncidentCodeCounter,
    IncidentType,
    Location,
    PublicChange,
    Source,
)

pytestmark = pytest.mark.django_db

TOTAL_FIELDS = (
    "casualties_known",
    "civilians_killed_min",
    "civilians_killed_max",
    "civilians_injured_min",
    "civilians_injured_max",
    "children_killed_min",
    "children_killed_max",
    "medical_personnel_killed_min",
    "medical_personnel_killed_max",
    "total_killed_min",
    "total_killed_max",
    "total_injured_min",
    "total_injured_max",
)


@pytest.fixture
def generated():
    call_command("generate_synthetic", incidents=300, seed=7, no_progress=True)
    return list(
        Incident.objects.filter(synthetic=True)
        .select_related("location", "governorate")
        .prefetch_related("casualties", "attributions__actor", "citations")
    )


def _parts(incident: Incident) -> services.IncidentParts:
    return services.IncidentParts(
        casualty_rows=[
            services.CasualtyRowData(r.group, r.outcome, r.min, r.max, r.best)
            for r in incident.casualties.all()
        ],
        attributions=[
            services.AttributionData(
                actor=a.actor,
                role=a.role,
                confidence=a.confidence,
                alternative=a.alternative,
                position=a.position,
            )
            for a in incident.attributions.all()
        ],
    )


def _check_published_and_marked_synthetic(generated):
    assert len(generated) == 300
    assert Incident.objects.count() == 300
    for incident in generated:
        assert incident.synthetic is True
        assert incident.status == Incident.Status.PUBLISHED
        assert incident.version == 1
        assert incident.published_at is not None
        assert incident.first_published_at == incident.published_at
        assert dt.date(2011, 1, 1) <= incident.date_start <= incident.date_end
        assert incident.date_start.year <= 2024
        assert all((incident.title, incident.title_ar, incident.summary_ar))
    assert PublicChange.objects.filter(action="published").count() == 300
    assert synthetic.synthetic_exists()


def _check_totals_exactly_as_compute_totals(generated):
    unknown = 0
    for incident in generated:
        expected = services.compute_totals(list(incident.casualties.all()))
        actual = {name: getattr(incident, name) for name in TOTAL_FIELDS}
        assert actual == expected, incident.code
        unknown += not incident.casualties_known
    # Some incidents say nothing about casualties, most do.
    assert 0 < unknown < 100


def _check_parts_the_validation_layer_accepts(generated):
    for incident in generated:
        services.validate_incident(
            {
                "title": incident.title,
                "date_start": incident.date_start,
                "date_end": incident.date_end,
                "incident_type": incident.incident_type,
            },
            _parts(incident),
        )


def _check_alternative_rules_and_hypotheses(generated):
    numbers: dict[int, set[int]] = defaultdict(set)
    for attribution in Attribution.objects.filter(incident__synthetic=True):
        if attribution.alternative is None:
            continue
        assert attribution.role == Attribution.Role.PERPETRATOR
        assert attribution.confidence != "confirmed"
        numbers[attribution.incident_id].add(attribution.alternative)
    # Hypotheses on roughly 15% of incidents, never a single numbered one.
    assert 15 <= len(numbers) <= 90
    assert all(len(n) >= 2 for n in numbers.values())


def _check_about_three_links_per_incident(generated):
    links = (
        Attribution.objects.filter(incident__synthetic=True).count()
        + Citation.objects.filter(incident__synthetic=True).count()
    )
    assert 2.4 <= links / 300 <= 3.6
    # Sources are reused across incidents.
    assert Source.objects.filter(citations__isnull=False).distinct().count() < (
        Citation.objects.count()
    )


def _check_places_in_syria_public_equal_to_real(generated):
    for incident in generated:
        assert incident.public_location_id == incident.location_id
        assert incident.public_latitude == incident.latitude
        assert incident.public_longitude == incident.longitude
        assert incident.public_geo_precision == incident.geo_precision
        assert incident.governorate == services.governorate_of(incident.location)
        if incident.latitude is not None:
            assert 32.3 <= incident.latitude <= 37.3
            assert 35.7 <= incident.longitude <= 42.4
    communities = Location.objects.filter(level="community", slug__startswith="syn-")
    assert communities.count() >= 60


def _check_search_names_as_the_services(generated):
    for incident in generated[:40]:
        expected = services._search_names(
            incident.public_location, [a.actor for a in incident.attributions.all()]
        )
        assert set(incident.search_names.split()) == set(expected.split())
    # And the generated search column finds them.
    incident = generated[0]
    assert Incident.objects.filter(search_vector=incident.code, pk=incident.pk).exists()


def test_it_creates_published_synthetic_incidents_with_exact_totals(generated):
    _check_published_and_marked_synthetic(generated)
    _check_totals_exactly_as_compute_totals(generated)
    _check_parts_the_validation_layer_accepts(generated)


def test_it_generates_hypotheses_links_places_and_search_names(generated):
    _check_alternative_rules_and_hypotheses(generated)
    _check_about_three_links_per_incident(generated)
    _check_places_in_syria_public_equal_to_real(generated)
    _check_search_names_as_the_services(generated)
    _check_every_dropped_index_rebuilt(generated)


def test_it_advances_the_counters_so_a_new_incident_gets_a_new_code(generated):
    codes = [i.code for i in generated]
    assert len(set(codes)) == len(codes)
    highest: dict[int, int] = defaultdict(int)
    for code in codes:
        match = re.fullmatch(r"SY-(\d{4})-(\d{5,})", code)
        assert match
        year, number = int(match[1]), int(match[2])
        highest[year] = max(highest[year], number)
    for year, number in highest.items():
        assert IncidentCodeCounter.objects.get(year=year).last_number >= number
    busiest = max(highest, key=highest.get)
    created = services.incident_create(
        fields={
            "title": "Real incident",
            "date_start": dt.date(busiest, 6, 1),
            "incident_type": IncidentType.objects.first(),
        },
        by=None,
    )
    assert created.code not in codes
    assert created.code == f"SY-{busiest}-{highest[busiest] + 1:05d}"
    assert created.synthetic is False


def test_it_keeps_synthetic_rows_out_of_the_audit_trail_and_reenables_triggers(
    generated,
):
    events = apps.get_model("incidents", "IncidentEvent")
    assert not events.objects.filter(pgh_obj_id__in=[i.pk for i in generated]).exists()
    # The triggers are back on: a real write is recorded (and bumps the version).
    incident = generated[0]
    Incident.objects.filter(pk=incident.pk).update(title="Edited")
    incident.refresh_from_db()
    assert incident.version == 2
    assert events.objects.filter(pgh_obj_id=incident.pk).exists()


def _check_every_dropped_index_rebuilt(generated):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_indexes WHERE tablename = 'incidents_incident'"
        )
        after = cursor.fetchone()[0]
        cursor.execute(
            "SELECT count(*) FROM pg_constraint WHERE conrelid = "
            "'incidents_attribution'::regclass AND contype IN ('u', 'f')"
        )
        attribution_constraints = cursor.fetchone()[0]
    expected_indexes = len(Incident._meta.indexes) + 1  # + the primary key
    assert after >= expected_indexes
    assert attribution_constraints >= 3  # unique + two foreign keys


def test_it_loads_the_same_with_indexes_kept():
    call_command(
        "generate_synthetic", incidents=40, seed=3, keep_indexes=True, no_progress=True
    )
    incidents = Incident.objects.filter(synthetic=True).prefetch_related("casualties")
    assert incidents.count() == 40
    for incident in incidents:
        expected = services.compute_totals(list(incident.casualties.all()))
        assert {n: getattr(incident, n) for n in TOTAL_FIELDS} == expected


def test_it_deletes_every_synthetic_row_and_keeps_the_counters(generated):
    real_type = IncidentType.objects.first()
    real = services.incident_create(
        fields={
            "title": "Real",
            "date_start": dt.date(2016, 2, 1),
            "incident_type": real_type,
        },
        by=None,
    )
    counters = dict(IncidentCodeCounter.objects.values_list("year", "last_number"))
    call_command("generate_synthetic", delete=True, no_progress=True)
    assert list(Incident.objects.all()) == [real]
    assert not CasualtyCount.objects.exists()
    assert not PublicChange.objects.exists()
    assert not Source.objects.filter(title__startswith="syn-").exists()
    assert not Location.objects.filter(
        slug__startswith="syn-", level__in=["community", "district"]
    ).exists()
    assert (
        dict(IncidentCodeCounter.objects.values_list("year", "last_number")) == counters
    )
    assert not synthetic.synthetic_exists()


def test_it_refuses_bad_arguments():
    with pytest.raises(CommandError, match="--incidents"):
        call_command("generate_synthetic", incidents=0, no_progress=True)
    with pytest.raises(CommandError, match="not both"):
        call_command("generate_synthetic", incidents=5, delete=True, no_progress=True)


def test_it_writes_valid_copy_text():
    assert synthetic.copy_text("a\tb\\c\nd") == "a\\tb\\\\c\\nd"
    assert synthetic.copy_text(None) == "\\N"
    assert synthetic.copy_text(["occurrence", "date"]) == "{occurrence,date}"
