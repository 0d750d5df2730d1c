"""Statistics selectors (incidents/stats.py) against hand-computed figures.

The world (`build_world`, also used by the API tests), all published unless said:

| incident | date       | governorate | civilians killed | perpetrators (confidence, alternative) |
|----------|------------|-------------|------------------|----------------------------------------|
| i1       | 2016-02-15 | Idleb       | 10–12 (children 3–4, aid workers 1–2) | Tiger Forces (likely) |
| i2       | 2016-03-01 | Idleb       | 5–8              | SAA (likely, 1) or Russia (likely, 2)  |
| i3       | 2017-01-10 | Aleppo      | children 2–2 → 2–? | SAA and Russia, jointly (likely)     |
| i4       | 2017-05-05 | none        | 20–30            | ISIS (confirmed)                       |
| i5       | 2017-06-01 | Aleppo      | 1–1              | Russia (possible)                      |
| draft    | 2017-07-01 | Aleppo      | 100–100          | ISIS (confirmed)                       |

Tiger Forces is a subunit of the Syrian Arab Army (SAA). Weapons: i1 barrel bomb; i2
barrel bomb and cluster munition. Targets: i1 two hospitals; i2 a market.
"""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace

import pytest
from django.core.exceptions import ValidationError

from incidents import selectors, services, stats
from incidents.models import Location
from incidents.services import (
    AttributionData,
    CasualtyRowData,
    ExternalRefData,
    IncidentParts,
    TargetData,
    WeaponData,
)
from tests.factories import (
    ActorFactory,
    IncidentTypeFactory,
    LocationFactory,
    TargetTypeFactory,
    WeaponTypeFactory,
    make_incident,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # Factories create users; Argon2 would make each one take a noticeable while.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _country() -> Location:
    return Location.objects.filter(level="country").first() or Location.objects.create(
        slug="syria", name="Syria", level="country", pcode="SY"
    )


def _governorate(pcode: str, slug: str, name: str) -> Location:
    governorate, _created = Location.objects.get_or_create(
        pcode=pcode,
        defaults={
            "slug": slug,
            "name": name,
            "level": "governorate",
            "parent": _country(),
            "latitude": 35.0,
            "longitude": 37.0,
        },
    )
    return governorate


def killed(group: str, low: int, high: int) -> CasualtyRowData:
    return CasualtyRowData(group=group, outcome="killed", min=low, max=high)


def rng(low, high, *, not_recorded=0, max_unknown=0) -> dict:
    """A range sum as the statistics give it (DOMAIN.md "Statistics")."""
    return {
        "min": low,
        "max": high,
        "incidents_not_recorded": not_recorded,
        "incidents_max_unknown": max_unknown,
    }


def perp(actor, confidence="likely", alternative=None) -> AttributionData:
    return AttributionData(actor=actor, confidence=confidence, alternative=alternative)


def build_world() -> SimpleNamespace:
    """The incidents of the module docstring."""
    idleb = _governorate("SY07", "idleb", "Idleb")
    aleppo = _governorate("SY02", "aleppo", "Aleppo")
    town_a = LocationFactory(parent=idleb, latitude=35.6, longitude=36.6)
    town_b = LocationFactory(parent=aleppo, latitude=36.2, longitude=37.1)
    saa = ActorFactory(slug="st-saa", name="Syrian Arab Army", bloc="syrian_government")
    tiger = ActorFactory(
        slug="st-tiger", name="Tiger Forces", parent=saa, bloc="syrian_government"
    )
    russia = ActorFactory(
        slug="st-ru-af", name="Russian Aerospace Forces", bloc="russia"
    )
    isis = ActorFactory(slug="st-isis", name="Islamic State", bloc="isis")
    airstrike = IncidentTypeFactory(code="airstrike")
    shelling = IncidentTypeFactory(code="shelling")
    barrel = WeaponTypeFactory(code="barrel-bomb")
    cluster = WeaponTypeFactory(code="cluster-munition")
    hospital = TargetTypeFactory(code="hospital")
    market = TargetTypeFactory(code="market")

    i1 = make_incident(
        status="published",
        date_start=dt.date(2016, 2, 15),
        location=town_a,
        incident_type=airstrike,
        grading="fair",
        parts=IncidentParts(
            casualty_rows=[
                killed("civilians", 10, 12),
                killed("children", 3, 4),
                killed("aid_workers", 1, 2),
            ],
            attributions=[perp(tiger)],
            weapons=[WeaponData(barrel)],
            targets=[TargetData(hospital), TargetData(hospital)],
            external_refs=[ExternalRefData(system="ucdp_ged", value="1001")],
        ),
    )
    i2 = make_incident(
        status="published",
        date_start=dt.date(2016, 3, 1),
        location=town_a,
        incident_type=airstrike,
        grading="confirmed",
        parts=IncidentParts(
            casualty_rows=[killed("civilians", 5, 8)],
            attributions=[perp(saa, alternative=1), perp(russia, alternative=2)],
            weapons=[WeaponData(barrel), WeaponData(cluster)],
            targets=[TargetData(market)],
            external_refs=[
                ExternalRefData(system="insecurity_insight", value="SiND-1")
            ],
        ),
    )
    i3 = make_incident(
        status="published",
        date_start=dt.date(2017, 1, 10),
        location=town_b,
        incident_type=airstrike,
        grading="fair",
        parts=IncidentParts(
            casualty_rows=[killed("children", 2, 2)],
            attributions=[perp(saa), perp(russia)],
            external_refs=[ExternalRefData(system="ucdp_ged", value="1003")],
        ),
    )
    i4 = make_incident(
        status="published",
        date_start=dt.date(2017, 5, 5),
        location=_country(),
        latitude=None,
        longitude=None,
        incident_type=shelling,
        grading="weak",
        parts=IncidentParts(
            casualty_rows=[killed("civilians", 20, 30)],
            attributions=[perp(isis, confidence="confirmed")],
            external_refs=[ExternalRefData(system="ucdp_ged", value="1004")],
        ),
    )
    i5 = make_incident(
        status="published",
        date_start=dt.date(2017, 6, 1),
        location=town_b,
        incident_type=shelling,
        grading="fair",
        parts=IncidentParts(
            casualty_rows=[killed("civilians", 1, 1)],
            attributions=[perp(russia, confidence="possible")],
        ),
    )
    draft = make_incident(
        date_start=dt.date(2017, 7, 1),
        location=town_b,
        incident_type=shelling,
        parts=IncidentParts(
            casualty_rows=[killed("civilians", 100, 100)],
            attributions=[perp(isis, confidence="confirmed")],
        ),
    )
    return SimpleNamespace(**locals())


@pytest.fixture
def world():
    return build_world()


def _summary(**kwargs):
    return stats.stats_summary(selectors.public_incidents(), **kwargs)


def _rows(result, key):
    """Rows by their key's code/slug (or value), totals row under None."""
    out = {}
    for row in result["rows"]:
        if row["total"]:
            out[None] = row
            continue
        value = row[key]
        if isinstance(value, dict):
            value = value.get("code") or value.get("slug")
        out[value] = row
    return out


# ---------------------------------------------------------------------------------------
# Ranges, periods, places
# ---------------------------------------------------------------------------------------


def test_it_sums_ranges_by_year_with_an_unknown_max(world):
    result = _summary(group_by=["year"])

    rows = _rows(result, "year")
    assert rows[2016]["incidents"] == 2
    assert rows[2016]["civilians_killed"] == rng(15, 20)
    # i2 records no children: not 0, so the 2016 maximum is unknown.
    assert rows[2016]["children_killed"] == rng(3, None, not_recorded=1)
    assert rows[2017]["incidents"] == 3
    # i3 records only children 2: civilians "at least 2", no upper figure.
    assert rows[2017]["civilians_killed"] == rng(23, None, max_unknown=1)
    assert rows[2017]["total_killed"]["max"] is None


def test_it_leaves_unpublished_incidents_out(world):
    result = _summary(group_by=["year"])

    assert _rows(result, "year")[None]["incidents"] == 5


def test_it_orders_years_and_ends_with_the_totals_row(world):
    result = _summary(group_by=["year"])

    assert [row["year"] for row in result["rows"]] == [2016, 2017, None]
    assert result["rows"][-1]["total"] is True
    assert "more than the totals" in result["rows"][-1]["note"]


def test_it_groups_by_month(world):
    result = _summary(group_by=["month"])

    rows = _rows(result, "month")
    assert sorted(k for k in rows if k) == [
        "2016-02",
        "2016-03",
        "2017-01",
        "2017-05",
        "2017-06",
    ]
    assert rows["2016-03"]["civilians_killed"] == rng(5, 8)


def test_it_shows_country_level_incidents_as_no_governorate(world):
    result = _summary(group_by=["governorate"])

    rows = _rows(result, "governorate")
    assert rows["none"]["governorate"] == {
        "slug": "none",
        "pcode": None,
        "name": "Syria (no governorate)",
    }
    assert rows["none"]["civilians_killed"] == rng(20, 30)
    assert rows["idleb"]["incidents"] == 2
    assert rows["aleppo"]["incidents"] == 2
    assert result["rows"][-2]["governorate"]["slug"] == "none"  # last before totals


def test_it_groups_by_two_keys(world):
    result = _summary(group_by=["year", "governorate"])

    got = {
        (row["year"], row["governorate"]["slug"]): row["incidents"]
        for row in result["rows"]
        if not row["total"]
    }
    assert got == {(2016, "idleb"): 2, (2017, "aleppo"): 2, (2017, "none"): 1}


def test_it_gives_one_row_per_exact_weapon_code(world):
    result = _summary(group_by=["weapon"])

    rows = _rows(result, "weapon")
    assert rows["barrel-bomb"]["incidents"] == 2
    assert rows["barrel-bomb"]["civilians_killed"] == rng(15, 20)
    assert rows["cluster-munition"]["incidents"] == 1
    assert set(rows) == {"barrel-bomb", "cluster-munition", None}


def test_it_counts_an_incident_once_per_target_type(world):
    result = _summary(group_by=["target_type"])

    rows = _rows(result, "target_type")
    assert rows["hospital"]["incidents"] == 1  # i1 hit two hospitals
    assert rows["hospital"]["civilians_killed"] == rng(10, 12)


def test_it_groups_by_incident_type_and_grading(world):
    by_type = _rows(_summary(group_by=["incident_type"]), "incident_type")
    by_grading = _rows(_summary(group_by=["grading"]), "grading")

    assert by_type["airstrike"]["incidents"] == 3
    assert by_type["shelling"]["incidents"] == 2
    assert by_grading["fair"]["incidents"] == 3
    assert by_grading["fair"]["grading"]["label"] == "fair"


def test_it_adds_measures_from_casualty_rows(world):
    result = _summary(
        group_by=["year"], measures=["aid_workers_killed", "medical_personnel_killed"]
    )

    rows = _rows(result, "year")
    # An incident without the row has the measure not recorded: never 0–0.
    assert rows[2016]["aid_workers_killed"] == rng(1, None, not_recorded=1)
    assert rows[2017]["aid_workers_killed"] == rng(None, None, not_recorded=3)
    assert rows[None]["aid_workers_killed"] == rng(1, None, not_recorded=4)
    assert rows[2016]["medical_personnel_killed"] == rng(None, None, not_recorded=2)
    assert "aid_workers_killed" in result["measures"]


def test_the_totals_row_counts_distinct_incidents(world):
    result = _summary(group_by=["weapon"])

    totals = result["rows"][-1]
    assert totals["incidents"] == 5
    assert totals["civilians_killed"] == rng(38, None, max_unknown=1)


def test_an_empty_filter_gives_a_zero_totals_row(world):
    result = stats.stats_summary(selectors.public_incidents().none(), group_by=["year"])

    assert result["rows"] == [
        {
            "total": True,
            "year": None,
            "incidents": 0,
            "civilians_killed": rng(None, None),
            "children_killed": rng(None, None),
            "civilians_injured": rng(None, None),
            "total_killed": rng(None, None),
            "note": result["rows"][0]["note"],
        }
    ]


def test_it_labels_in_arabic(world):
    world.idleb.name_ar = "إدلب"
    world.idleb.save()

    result = _summary(group_by=["governorate"], lang="ar")

    assert _rows(result, "governorate")["idleb"]["governorate"]["name"] == "إدلب"


# ---------------------------------------------------------------------------------------
# Actors and blocs
# ---------------------------------------------------------------------------------------


def test_actor_rows_count_hypotheses_as_possible(world):
    result = _summary(group_by=["actor"])

    rows = _rows(result, "actor")
    # SAA: i1 (through Tiger Forces), i2 (hypothesis 1), i3 (joint).
    assert rows["st-saa"]["incidents"] == 3
    assert rows["st-saa"]["incidents_possible"] == 1
    # min over i1 and i3 (certain); max over all three, i3's max unknown.
    assert rows["st-saa"]["civilians_killed"] == rng(12, None, max_unknown=1)
    # Russia: i2 (hypothesis 2) and i3 (joint); i5 is only "possible" confidence.
    assert rows["st-ru-af"]["incidents"] == 2
    assert rows["st-ru-af"]["incidents_possible"] == 1
    assert rows["st-ru-af"]["civilians_killed"]["min"] == 2
    assert rows["st-ru-af"]["civilians_killed"]["max"] is None
    assert rows["st-ru-af"]["civilians_killed"]["incidents_max_unknown"] == 1
    assert rows["st-isis"]["civilians_killed"] == rng(20, 30)


def test_joint_perpetrators_count_fully_for_each(world):
    result = _summary(group_by=["actor"])

    rows = _rows(result, "actor")
    assert rows["st-saa"]["children_killed"]["min"] == 3 + 2  # i1 and i3
    assert rows["st-ru-af"]["children_killed"]["min"] == 2  # i3, fully
    actor_incidents = sum(r["incidents"] for k, r in rows.items() if k)
    assert actor_incidents == 6 > rows[None]["incidents"] == 5


def test_subunits_roll_up_to_top_level_actors(world):
    result = _summary(group_by=["actor"])

    slugs = [row["actor"]["slug"] for row in result["rows"] if not row["total"]]
    assert "st-tiger" not in slugs
    assert sorted(slugs) == ["st-isis", "st-ru-af", "st-saa"]


def test_a_single_actor_filter_gives_it_exactly_and_its_children(world):
    filtered = (
        selectors.public_incidents()
        .filter(attributions__actor__in=[world.saa, world.tiger])
        .distinct()
    )

    result = stats.stats_summary(
        filtered, group_by=["actor"], actor_filter_ids=[world.saa.pk]
    )

    rows = _rows(result, "actor")
    assert result["rows"][0]["actor"] == {
        "slug": "st-saa",
        "name": "Syrian Arab Army",
        "exact": True,
    }
    assert rows["st-saa"]["incidents"] == 2  # i2, i3: its own rows only
    assert rows["st-saa"]["incidents_possible"] == 1
    assert rows["st-tiger"]["incidents"] == 1
    assert rows["st-tiger"]["civilians_killed"] == rng(10, 12)
    assert rows["st-tiger"]["actor"]["exact"] is False


def test_the_confidence_filter_decides_what_counts(world):
    result = _summary(
        group_by=["actor"], actor_confidence=["confirmed", "likely", "possible"]
    )

    rows = _rows(result, "actor")
    assert rows["st-ru-af"]["incidents"] == 3
    assert rows["st-ru-af"]["civilians_killed"]["min"] == 2 + 1  # i3 and i5


def test_certainty_is_computed_over_every_perpetrator_row(world):
    # Russia (possible) 1 or SAA (likely) 2: SAA counts, but only possibly, even though
    # Russia's row is not counted at the default confidences.
    make_incident(
        status="published",
        date_start=dt.date(2018, 1, 1),
        location=world.town_a,
        parts=IncidentParts(
            casualty_rows=[killed("civilians", 7, 7)],
            attributions=[
                perp(world.russia, confidence="possible", alternative=1),
                perp(world.saa, alternative=2),
            ],
        ),
    )

    rows = _rows(_summary(group_by=["actor"]), "actor")

    assert rows["st-saa"]["incidents"] == 4
    assert rows["st-saa"]["incidents_possible"] == 2
    assert rows["st-saa"]["civilians_killed"]["min"] == 12
    assert rows["st-saa"]["civilians_killed"] == rng(12, None, max_unknown=1)


def test_an_actor_in_every_hypothesis_is_certain(world):
    # "SAA, or SAA together with Russia": SAA is in both hypotheses.
    make_incident(
        status="published",
        date_start=dt.date(2018, 1, 2),
        location=world.town_a,
        parts=IncidentParts(
            casualty_rows=[killed("civilians", 4, 4)],
            attributions=[
                perp(world.tiger, alternative=1),
                perp(world.saa, alternative=2),
                perp(world.russia, alternative=2),
            ],
        ),
    )

    rows = _rows(_summary(group_by=["actor"]), "actor")

    assert rows["st-saa"]["incidents_possible"] == 1  # still only i2
    assert rows["st-saa"]["civilians_killed"]["min"] == 12 + 4
    assert rows["st-ru-af"]["incidents_possible"] == 2


def test_it_agrees_with_the_python_certainty_rule(world):
    incident = (
        selectors.public_incidents()
        .prefetch_related("attributions")
        .get(pk=world.i2.pk)
    )

    assert not selectors.incident_is_certain_for(
        incident, {world.saa.pk, world.tiger.pk}
    )
    rows = _rows(_summary(group_by=["actor"]), "actor")
    assert rows["st-saa"]["incidents_possible"] == 1


def test_bloc_rows_follow_the_same_rules(world):
    rows = _rows(_summary(group_by=["bloc"]), "bloc")

    assert rows["syrian_government"]["incidents"] == 3
    assert rows["syrian_government"]["incidents_possible"] == 1
    assert rows["syrian_government"]["bloc"]["label"] == "Syrian government"
    assert rows["russia"]["incidents"] == 2
    assert rows["isis"]["incidents"] == 1


def test_a_bloc_filter_limits_the_bloc_rows(world):
    result = _summary(group_by=["bloc"], bloc_filter=["russia"])

    assert [r["bloc"]["code"] for r in result["rows"] if not r["total"]] == ["russia"]


def test_it_groups_actors_by_year(world):
    result = _summary(group_by=["actor", "year"])

    got = {
        (row["actor"]["slug"], row["year"]): (
            row["incidents"],
            row["incidents_possible"],
        )
        for row in result["rows"]
        if not row["total"]
    }
    assert got == {
        ("st-saa", 2016): (2, 1),
        ("st-saa", 2017): (1, 0),
        ("st-ru-af", 2016): (1, 1),
        ("st-ru-af", 2017): (1, 0),
        ("st-isis", 2017): (1, 0),
    }


# ---------------------------------------------------------------------------------------
# Validation
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("group_by", "message"),
    [
        (["colour"], "Unknown grouping colour"),
        ([], "one or two"),
        (["year", "month", "grading"], "one or two"),
        (["actor", "bloc"], "not both"),
        (["year", "year"], "different"),
    ],
)
def test_it_rejects_bad_groupings(group_by, message):
    with pytest.raises(ValidationError) as error:
        stats.validate_group_by(group_by)

    assert message in error.value.message_dict["group_by"][0]


def test_it_rejects_unknown_measures():
    with pytest.raises(ValidationError) as error:
        stats.validate_measures(["goats_killed"])

    assert "aid_workers_abducted" in error.value.message_dict["measure"][0]


# ---------------------------------------------------------------------------------------
# Row links
# ---------------------------------------------------------------------------------------


def test_row_params_put_the_row_into_the_base_filter():
    row = {
        "total": False,
        "year": 2016,
        "weapon": {"code": "barrel-bomb", "label": "x"},
    }

    params = stats.row_filter_params(
        row, ["year", "weapon"], {"q": "market", "date_from": "2016-06-01"}
    )

    assert params == {
        "q": "market",
        "date_from": "2016-06-01",
        "date_to": "2016-12-31",
        "date_match": "start",
        "weapon": "barrel-bomb",
        "weapon_exact": "true",
    }


def test_row_params_for_an_actor_row_and_its_minimum():
    row = {"total": False, "actor": {"slug": "st-saa", "name": "SAA", "exact": True}}

    params = stats.row_filter_params(
        row, ["actor"], {"actor": "st-saa"}, involvement="certain"
    )

    assert params == {
        "actor": "st-saa",
        "actor_exact": "true",
        "actor_role": "perpetrator",
        "actor_confidence": "confirmed,likely",
        "actor_involvement": "certain",
    }


def test_row_params_for_country_level_incidents_and_a_month():
    row = {"total": False, "month": "2016-02", "governorate": {"slug": "none"}}

    params = stats.row_filter_params(row, ["month", "governorate"], {})

    assert params == {
        "date_from": "2016-02-01",
        "date_to": "2016-02-29",
        "date_match": "start",
        "governorate": "none",
    }


# ---------------------------------------------------------------------------------------
# Comparison
# ---------------------------------------------------------------------------------------


def test_compare_states_the_difference_as_a_range(world):
    result = stats.stats_compare(
        selectors.public_incidents(), blocs=["syrian_government", "isis"]
    )

    sg, isis = result["rows"]
    assert sg["civilians_killed"]["min"] == 12
    assert isis["civilians_killed"] == rng(20, 30)
    diff = result["differences"][0]
    assert (diff["a"], diff["b"]) == ("syrian_government", "isis")
    # [12 − 30, unknown]: the Syrian government's max is unknown.
    assert diff["civilians_killed"] == {"min": -18, "max": None, "greater": None}
    assert diff["incidents"] == 3 - 1
    # ISIS's only incident (i4) does not record children: not 0, so nothing can be
    # said (it once read "the Syrian government killed more children", from 0–0).
    assert diff["children_killed"] == {"min": None, "max": None, "greater": None}


def test_compare_warns_that_ucdp_does_not_separate_russia(world):
    result = stats.stats_compare(
        selectors.public_incidents(), blocs=["russia", "syrian_government"]
    )

    assert [w["system"] for w in result["warnings"]] == ["ucdp_ged"]
    assert "never names Russia" in result["warnings"][0]["message"]
    assert {d["system"]: d["incidents"] for d in result["datasets"]} == {
        "ucdp_ged": 2,  # i1, i3
        "insecurity_insight": 1,  # i2
    }
    russia = result["rows"][0]
    assert russia["datasets"] == {"ucdp_ged": 1, "insecurity_insight": 1}


def test_compare_without_ucdp_incidents_has_no_warning(world):
    result = stats.stats_compare(
        selectors.public_incidents().filter(pk=world.i2.pk),
        blocs=["russia", "syrian_government"],
    )

    assert result["warnings"] == []


def test_compare_of_blocs_the_caveat_does_not_concern_has_no_warning(world):
    result = stats.stats_compare(selectors.public_incidents(), blocs=["isis", "other"])

    assert result["warnings"] == []
    assert result["rows"][1]["incidents"] == 0  # "other" has none: still shown


def test_compare_of_actors(world):
    result = stats.stats_compare(
        selectors.public_incidents(), actors=[world.saa, world.russia]
    )

    assert [r["actor"]["slug"] for r in result["rows"]] == ["st-saa", "st-ru-af"]
    assert result["rows"][0]["incidents"] == 3
    assert result["warnings"]  # UCDP incidents, Russia and the Syrian government


def test_compare_needs_two_items(world):
    with pytest.raises(ValidationError) as error:
        stats.stats_compare(selectors.public_incidents(), blocs=["russia"])

    assert "two or more" in error.value.message_dict["bloc"][0]


def test_compare_names_public_dataset_sources(world):
    from tests.factories import SourceFactory

    dataset = SourceFactory(kind="dataset", title="UCDP GED 19.1")
    secret = SourceFactory(kind="dataset", title="CANARY", confidential=True)
    services.incident_update(
        incident=world.i3,
        expected_version=None,
        parts=IncidentParts(
            citations=[services.CitationData(dataset), services.CitationData(secret)]
        ),
        by=None,
    )

    result = stats.stats_compare(
        selectors.public_incidents(), blocs=["russia", "syrian_government"]
    )

    assert [(s["title"], s["incidents"]) for s in result["dataset_sources"]] == [
        ("UCDP GED 19.1", 1)
    ]
