"""ACLED importer, on a file the test writes itself in ACLED's layout (no ACLED data is
redistributable)."""

from __future__ import annotations

import datetime as dt

import pytest

from incidents.models import ExternalRef, Incident
from tests.factories import IncidentTypeFactory, import_reference_data
from tests.incidents.test_import_support import ACLED_COLUMNS, acled_row, run, write_csv

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def reference_data():
    places = import_reference_data()
    airstrike = IncidentTypeFactory(code="airstrike")
    airstrike.acled_sub_event_type = "Air/drone strike"
    airstrike.save()
    armed_clash = IncidentTypeFactory(code="armed-clash")
    armed_clash.acled_sub_event_type = "Armed clash"
    armed_clash.save()
    return places


def test_it_maps_civilian_targeting_to_certain_perpetrators(tmp_path):
    path = write_csv(tmp_path / "acled.csv", ACLED_COLUMNS, [acled_row()])

    batch = run("acled", path, release="")

    incident = Incident.objects.get()
    assert batch.release == "1581000000"
    assert batch.release_date == dt.date(2020, 2, 6)
    assert incident.incident_type.code == "airstrike"
    assert incident.total_killed_min == incident.total_killed_max == 5
    attributions = list(incident.attributions.all())
    assert len(attributions) == 1
    assert attributions[0].alternative is None
    assert incident.location.name == "Ariha"
    assert incident.governorate.pcode == "SY07"
    assert ExternalRef.objects.get().value == "SYR100001"


def test_a_battle_gives_competing_hypotheses(tmp_path):
    row = acled_row(
        event_type="Battles",
        sub_event_type="Armed clash",
        civilian_targeting="",
        actor2="Hayat Tahrir al-Sham",
        assoc_actor_2="Jaysh al-Izza",
        fatalities="3",
    )
    path = write_csv(tmp_path / "acled.csv", ACLED_COLUMNS, [row])

    run("acled", path, release="")

    alternatives = sorted(
        a.alternative for a in Incident.objects.get().attributions.all()
    )
    assert alternatives == [1, 2, 2]


def test_an_unknown_sub_event_type_becomes_other_with_a_warning(tmp_path):
    path = write_csv(
        tmp_path / "acled.csv",
        ACLED_COLUMNS,
        [acled_row(sub_event_type="Something unheard of")],
    )

    batch = run("acled", path, release="")

    assert Incident.objects.get().incident_type.code == "other"
    assert batch.rows_warnings == 1
