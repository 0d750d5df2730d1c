"""Insecurity Insight importer: IMPORTS.md's mapping on small files."""

from __future__ import annotations

import pytest

from incidents.importers.insecurity_insight import parse_perpetrators
from incidents.models import Actor, Incident
from tests.factories import import_reference_data
from tests.incidents.test_import_support import (
    II_COLUMNS,
    II_HXL,
    ii_row,
    rows_of,
    run,
    write_csv,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def reference_data():
    return import_reference_data()


def import_rows(tmp_path, *rows, **options):
    path = write_csv(tmp_path / "ii.csv", II_COLUMNS, [II_HXL, *rows])
    return run("insecurity-insight", path, **options)


def test_it_skips_the_hxl_row_and_maps_an_air_strike_on_a_hospital(tmp_path):
    batch = import_rows(
        tmp_path,
        ii_row(
            **{
                "Number of Attacks on Health Facilities Reporting Damaged": "1",
                "Health Workers Killed": "2",
            }
        ),
    )

    incident = Incident.objects.get()
    assert batch.rows_read == 1
    assert batch.rows_created == 1
    assert incident.incident_type.code == "airstrike-fixed-wing"
    assert incident.geo_precision == "subdistrict"
    assert incident.governorate.pcode == "SY07"
    assert [(t.target_type.code, t.damage) for t in incident.targets.all()] == [
        ("health-facility", "damaged")
    ]
    assert [w.weapon.code for w in incident.weapons.all()] == ["explosive"]
    assert incident.summary == "A hospital was hit by an air strike."
    rows = {(c.group, c.outcome): (c.min, c.max) for c in incident.casualties.all()}
    assert rows[("medical_personnel", "killed")] == (2, 2)
    assert incident.medical_personnel_killed_min == 2


def test_an_empty_count_is_no_row_and_a_zero_is_a_real_zero(tmp_path):
    import_rows(
        tmp_path, ii_row(**{"Health Workers Killed": "", "Health Workers Injured": "0"})
    )

    keys = {
        (c.group, c.outcome, c.max) for c in Incident.objects.get().casualties.all()
    }
    assert ("medical_personnel", "injured", 0) in keys
    assert not any(outcome == "killed" for _, outcome, _ in keys)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Syrian or Russian Forces", [("Syrian Forces", 1), ("Russian Forces", 2)]),
        (
            "Armed Forces of the Russian Federation, Syrian Armed Forces",
            [
                ("Armed Forces of the Russian Federation", None),
                ("Syrian Armed Forces", None),
            ],
        ),
        ("No Information", []),
    ],
)
def test_it_reads_alternative_and_joint_perpetrators(text, expected):
    assert parse_perpetrators(text) == expected


def test_or_becomes_two_hypotheses_on_the_incident(tmp_path):
    import_rows(
        tmp_path, ii_row(**{"Reported Perpetrator Name": "Syrian or Russian Forces"})
    )

    alternatives = sorted(
        a.alternative for a in Incident.objects.get().attributions.all()
    )
    assert alternatives == [1, 2]


def test_transport_damage_adds_an_ambulance_target(tmp_path):
    import_rows(
        tmp_path,
        ii_row(
            **{
                "Location ": "Road",
                "Health Transportation Destroyed": "1",
                "Weapon Carried/Used": "Missile",
            }
        ),
    )

    incident = Incident.objects.get()
    assert incident.incident_type.code == "shelling"
    assert sorted((t.target_type.code, t.damage) for t in incident.targets.all()) == [
        ("ambulance", "destroyed"),
        ("road-or-bridge", "unknown"),
    ]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"Health Workers Kidnapped": "1", "Weapon Carried/Used": "Firearms"},
            "abduction-or-disappearance",
        ),
        (
            {"Health Workers Arrested": "2", "Weapon Carried/Used": "Firearms"},
            "arbitrary-detention",
        ),
        (
            {
                "Occupation of Health Facility": "1",
                "Weapon Carried/Used": "Not Applicable: No Direct Violence",
            },
            "militarization-of-civilian-object",
        ),
        (
            {
                "Looting/Theft/Robbery/Burglary of Health Supplies": "1",
                "Weapon Carried/Used": "No Information on the Weapon Used",
            },
            "looting-or-destruction",
        ),
        ({"Weapon Carried/Used": "Aerial Bomb: Drone"}, "drone-strike"),
        ({"Weapon Carried/Used": "SVIED"}, "suicide-or-vehicle-bomb"),
        ({"Weapon Carried/Used": "Stones, Sticks and Gravel"}, "other"),
    ],
)
def test_it_derives_the_incident_type(tmp_path, values, expected):
    import_rows(tmp_path, ii_row(**values))

    assert Incident.objects.get().incident_type.code == expected


def test_no_information_places_it_in_syria_and_an_empty_point_is_kept_empty(tmp_path):
    import_rows(
        tmp_path,
        ii_row(
            **{
                "Admin 1": "No Information",
                "Latitude": "",
                "Longitude": "",
                "Geo Precision": "(6) Country",
            }
        ),
    )

    incident = Incident.objects.get()
    assert incident.location.level == "country"
    assert incident.latitude is None
    assert incident.geo_precision == "country"


def test_governorate_spellings_resolve_to_the_same_place(tmp_path):
    import_rows(
        tmp_path,
        ii_row(**{"SiND Event ID": "1", "Admin 1": "Ar-Raqqah Governorate"}),
        ii_row(**{"SiND Event ID": "2", "Admin 1": "Al-Raqqah Governorate"}),
        ii_row(**{"SiND Event ID": "3", "Admin 1": "al-Bab District"}),
    )

    places = dict(
        Incident.objects.values_list("external_refs__value", "governorate__pcode")
    )
    assert places == {"1": "SY11", "2": "SY11", "3": "SY02"}
    assert Incident.objects.get(external_refs__value="3").location.level == "district"


def test_a_letter_in_a_count_is_rejected_with_its_column(tmp_path):
    batch = import_rows(tmp_path, ii_row(**{"Health Workers Killed": "two"}))

    rejected = rows_of(batch, "rejected")[0]
    assert rejected["line"] == 3
    assert rejected["column"] == "Health Workers Killed"
    assert Incident.objects.count() == 0


def test_the_non_military_names_match_the_starting_actor_table(tmp_path):
    if not Actor.objects.exists():
        pytest.skip("the starting actor table (migration 0006) is not loaded")
    before = Actor.objects.count()

    import_rows(
        tmp_path,
        ii_row(
            **{
                "SiND Event ID": "1",
                "Reported Perpetrator Name": "Unidentified Armed Actor",
            }
        ),
        ii_row(**{"SiND Event ID": "2", "Reported Perpetrator Name": "Family"}),
        ii_row(**{"SiND Event ID": "3", "Reported Perpetrator Name": "Militia"}),
    )

    assert Actor.objects.count() == before
