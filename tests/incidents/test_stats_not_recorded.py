"""Issue 12 §7, the aggregate half: "Not recorded is not zero" in every range sum.

DOMAIN.md "Statistics": a group's `min` sums the recorded minimums (an incident where
the measure is not recorded adds nothing to the floor) and is null only when no incident
of the group records the measure; `max` is null as soon as one incident's max is unknown;
`incidents_not_recorded` (null min) and `incidents_max_unknown` (recorded min, null max)
never overlap. Per actor/bloc: min over the certainly involved incidents, max over all.

The property test builds small random worlds (incidents with and without each measure,
floors without ceilings, joint and alternative perpetrators) and compares the statistics
with a straightforward computation in Python from the CasualtyCount rows.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict

import pytest

from incidents import selectors, stats
from incidents.services import (
    AttributionData,
    CasualtyRowData,
    IncidentParts,
)
from tests.factories import (
    ActorFactory,
    IncidentTypeFactory,
    LocationFactory,
    make_incident,
)
from tests.incidents.test_stats import _governorate

pytestmark = pytest.mark.django_db

MEASURES = ("civilians_killed", "children_killed", "aid_workers_killed")
CIVILIAN_SUBGROUPS = ("children", "women", "aid_workers")  # the ones the world uses
COUNTED = {"confirmed", "likely"}


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# ---------------------------------------------------------------------------------------
# The straightforward computation
# ---------------------------------------------------------------------------------------


def incident_measure(rows: dict[tuple[str, str], tuple[int, int]], measure: str):
    """(min, max) of one incident's measure read from its CasualtyCount rows; None for
    a bound that is not recorded."""
    if measure == "civilians_killed":
        if ("civilians", "killed") in rows:
            return rows[("civilians", "killed")]
        floors = [
            rows[(g, "killed")][0] for g in CIVILIAN_SUBGROUPS if (g, "killed") in rows
        ]
        return (max(floors), None) if floors else (None, None)
    group = measure.rpartition("_")[0]
    return rows.get((group, "killed"), (None, None))


def expected_range(members: list[tuple[dict, bool]], measure: str) -> dict:
    """The range sum over (incident rows, certainly involved) pairs."""
    values = [(incident_measure(rows, measure), sure) for rows, sure in members]
    recorded = [(low, high, sure) for (low, high), sure in values if low is not None]
    not_recorded = len(values) - len(recorded)
    max_unknown = sum(1 for _low, high, _sure in recorded if high is None)
    low = sum(lo for lo, _hi, sure in recorded if sure) if recorded else None
    high = (
        None
        if low is None or not_recorded or max_unknown
        else sum(hi for _lo, hi, _sure in recorded)
    )
    return {
        "min": low,
        "max": high,
        "incidents_not_recorded": not_recorded,
        "incidents_max_unknown": max_unknown,
    }


def build_random_world(seed: int) -> list[dict]:
    """Published incidents drawn at random; returns what the Python side needs."""
    rng = random.Random(seed)  # noqa: S311 - a reproducible test world, not a secret
    idleb = _governorate("SY07", "idleb", "Idleb")
    aleppo = _governorate("SY02", "aleppo", "Aleppo")
    places = [LocationFactory(parent=idleb), LocationFactory(parent=aleppo)]
    types = [
        IncidentTypeFactory(code="airstrike"),
        IncidentTypeFactory(code="shelling"),
    ]
    top = [
        ActorFactory(slug="nr-saa", bloc="syrian_government"),
        ActorFactory(slug="nr-ru", bloc="russia"),
        ActorFactory(slug="nr-isis", bloc="isis"),
    ]
    sub = ActorFactory(slug="nr-tiger", parent=top[0], bloc="syrian_government")
    actors = [*top, sub]
    top_of = {a.pk: (top[0] if a == sub else a) for a in actors}
    world = []
    for index in range(18):
        rows: dict[tuple[str, str], tuple[int, int]] = {}
        # Consistent rows (a subgroup within the civilians, everyone above them).
        ceiling = 40
        if rng.random() < 0.5:
            low = rng.choice([0, 1, 3, 7, 12])
            ceiling = low + rng.choice([0, 2, 5])
            rows[("civilians", "killed")] = (low, ceiling)
        for group in CIVILIAN_SUBGROUPS:
            if rng.random() < 0.4:
                low = rng.randint(0, min(ceiling, 6))
                rows[(group, "killed")] = (low, low + rng.randint(0, ceiling - low))
        if rng.random() < 0.3:
            low = rng.choice([40, 50])
            rows[("all", "killed")] = (low, low + rng.choice([0, 10]))
        shape = rng.choice(["none", "single", "joint", "alternative"])
        attributions: list[tuple] = []  # (actor, confidence, alternative)
        if shape == "single":
            attributions = [
                (
                    rng.choice(actors),
                    rng.choice(["confirmed", "likely", "possible"]),
                    None,
                )
            ]
        elif shape == "joint":
            a, b = rng.sample(actors, 2)
            attributions = [
                (a, "likely", None),
                (b, rng.choice(["likely", "possible"]), None),
            ]
        elif shape == "alternative":
            a, b = rng.sample(actors, 2)
            attributions = [
                (a, "likely", 1),
                (b, rng.choice(["likely", "possible"]), 2),
            ]
        incident = make_incident(
            status="published",
            title=f"Random incident {index}",
            date_start=dt.date(rng.choice([2015, 2016, 2017]), rng.randint(1, 12), 1),
            location=rng.choice(places),
            incident_type=rng.choice(types),
            grading=rng.choice(["confirmed", "fair", "weak"]),
            parts=IncidentParts(
                casualty_rows=[
                    CasualtyRowData(group=g, outcome=o, min=lo, max=hi)
                    for (g, o), (lo, hi) in rows.items()
                ],
                attributions=[
                    AttributionData(actor=a, confidence=c, alternative=alt)
                    for a, c, alt in attributions
                ],
            ),
        )
        world.append(
            {
                "incident": incident,
                "rows": rows,
                "attributions": [(top_of[a.pk], c, alt) for a, c, alt in attributions],
            }
        )
    return world


def involvement(item: dict, key) -> dict:
    """group → certainly involved, for the groups (top-level actor or bloc) `key`
    gives each attribution, counting only those with a counted confidence."""
    groups: dict = defaultdict(list)
    for actor, confidence, alternative in item["attributions"]:
        groups[key(actor)].append((confidence, alternative))
    hypotheses = {alt for _a, _c, alt in item["attributions"] if alt is not None}
    out = {}
    for group, entries in groups.items():
        if not any(c in COUNTED for c, _alt in entries):
            continue
        unnumbered = any(alt is None for _c, alt in entries)
        covered = {alt for _c, alt in entries if alt is not None}
        out[group] = unnumbered or (bool(hypotheses) and covered == hypotheses)
    return out


def expected_rows(world: list[dict], group_by: str) -> dict:
    """Expected ranges per group key (and None for the totals)."""
    groups: dict = defaultdict(list)
    for item in world:
        incident = item["incident"]
        if group_by in ("actor", "bloc"):
            key = (lambda a: a.slug) if group_by == "actor" else (lambda a: a.bloc)
            for group, sure in involvement(item, key).items():
                groups[group].append((item["rows"], sure))
        else:
            value = {
                "year": incident.date_start.year,
                "governorate": incident.governorate.slug,
                "incident_type": incident.incident_type.code,
                "grading": incident.grading,
            }[group_by]
            groups[value].append((item["rows"], True))
        groups[None].append((item["rows"], True))
    return {
        key: {
            "incidents": len(members),
            **{m: expected_range(members, m) for m in MEASURES},
            **(
                {"incidents_possible": sum(1 for _r, sure in members if not sure)}
                if group_by in ("actor", "bloc") and key is not None
                else {}
            ),
        }
        for key, members in groups.items()
    }


def actual_rows(result: dict, group_by: str) -> dict:
    out = {}
    for row in result["rows"]:
        key = None
        if not row["total"]:
            value = row[group_by]
            key = (
                value.get("code") or value.get("slug")
                if isinstance(value, dict)
                else value
            )
        got = {"incidents": row["incidents"], **{m: row[m] for m in MEASURES}}
        if "incidents_possible" in row:
            got["incidents_possible"] = row["incidents_possible"]
        out[key] = got
    return out


@pytest.mark.parametrize("seed", [12, 2026])
def test_range_sums_match_a_straightforward_computation(seed):
    world = build_random_world(seed)
    # Every measure is missing somewhere, and recorded somewhere: the test bites.
    for measure in MEASURES:
        values = [incident_measure(item["rows"], measure) for item in world]
        assert any(low is None for low, _high in values), measure
        assert any(low is not None for low, _high in values), measure

    for group_by in (
        "year",
        "governorate",
        "incident_type",
        "grading",
        "actor",
        "bloc",
    ):
        result = stats.stats_summary(
            selectors.public_incidents(),
            group_by=[group_by],
            measures=["aid_workers_killed"],
        )
        assert actual_rows(result, group_by) == expected_rows(world, group_by), group_by


@pytest.mark.parametrize("seed", [12, 2026])
def test_the_two_counts_never_overlap_and_max_never_below_min(seed):
    build_random_world(seed)
    for group_by in ("year", "actor", "bloc"):
        result = stats.stats_summary(
            selectors.public_incidents(), group_by=[group_by], measures=["women_killed"]
        )
        for row in result["rows"]:
            for measure in (*stats.DEFAULT_RANGES, "women_killed"):
                value = row[measure]
                assert set(value) == {
                    "min",
                    "max",
                    "incidents_not_recorded",
                    "incidents_max_unknown",
                }
                assert (
                    value["incidents_not_recorded"] + value["incidents_max_unknown"]
                    <= row["incidents"]
                )
                if value["max"] is not None:
                    assert value["min"] is not None
                    assert value["max"] >= value["min"]
                    assert value["incidents_not_recorded"] == 0
                    assert value["incidents_max_unknown"] == 0


# ---------------------------------------------------------------------------------------
# UCDP-like data: only `all` rows
# ---------------------------------------------------------------------------------------


def _ucdp_like(n: int = 3):
    isis = ActorFactory(slug="nr-ucdp-isis", bloc="isis")
    for index in range(n):
        make_incident(
            status="published",
            title=f"UCDP-like {index}",
            parts=IncidentParts(
                casualty_rows=[
                    CasualtyRowData(group="all", outcome="killed", min=4, max=9)
                ],
                attributions=[AttributionData(actor=isis, confidence="confirmed")],
            ),
        )
    return isis


def test_ucdp_like_data_does_not_claim_that_no_child_died():
    _ucdp_like(3)

    for group_by in ("year", "bloc", "actor"):
        result = stats.stats_summary(selectors.public_incidents(), group_by=[group_by])
        for row in result["rows"]:
            assert row["children_killed"] == {
                "min": None,
                "max": None,
                "incidents_not_recorded": 3,
                "incidents_max_unknown": 0,
            }, (group_by, row)
            assert row["civilians_killed"]["min"] is None
            assert row["total_killed"] == {
                "min": 12,
                "max": 27,
                "incidents_not_recorded": 0,
                "incidents_max_unknown": 0,
            }


def test_a_compare_side_that_records_nothing_keeps_true_bounds():
    _ucdp_like(2)
    russia = ActorFactory(slug="nr-ru-2", bloc="russia")
    make_incident(
        status="published",
        parts=IncidentParts(
            casualty_rows=[
                CasualtyRowData(group="children", outcome="killed", min=2, max=3)
            ],
            attributions=[AttributionData(actor=russia, confidence="likely")],
        ),
    )

    result = stats.stats_compare(
        selectors.public_incidents(),
        blocs=["isis", "russia"],
        measures=["children_killed"],
    )

    isis_row, russia_row = result["rows"]
    assert isis_row["children_killed"]["min"] is None
    assert russia_row["children_killed"] == {
        "min": 2,
        "max": 3,
        "incidents_not_recorded": 0,
        "incidents_max_unknown": 0,
    }
    diff = result["differences"][0]["children_killed"]
    # ISIS − Russia: at least 0 − 3; ISIS's maximum is unknown, so no upper bound.
    assert diff["min"] == -3
    assert diff["max"] is None
    assert diff["greater"] is None


def test_an_actor_min_is_zero_not_null_when_only_possible_incidents_record_it():
    saa = ActorFactory(slug="nr-saa-2", bloc="syrian_government")
    russia = ActorFactory(slug="nr-ru-3", bloc="russia")
    make_incident(
        status="published",
        parts=IncidentParts(
            casualty_rows=[
                CasualtyRowData(group="civilians", outcome="killed", min=5, max=6)
            ],
            attributions=[
                AttributionData(actor=saa, confidence="likely", alternative=1),
                AttributionData(actor=russia, confidence="likely", alternative=2),
            ],
        ),
    )

    rows = {
        r["bloc"]["code"]: r
        for r in stats.stats_summary(selectors.public_incidents(), group_by=["bloc"])[
            "rows"
        ]
        if not r["total"]
    }

    assert rows["russia"]["civilians_killed"] == {
        "min": 0,
        "max": 6,
        "incidents_not_recorded": 0,
        "incidents_max_unknown": 0,
    }
    assert rows["russia"]["incidents_possible"] == 1


def test_map_cells_sum_as_the_statistics_do():
    place = LocationFactory(latitude=35.5, longitude=36.5)
    for rows in (
        [CasualtyRowData(group="civilians", outcome="killed", min=3, max=5)],
        [CasualtyRowData(group="children", outcome="killed", min=2, max=2)],  # a floor
        [CasualtyRowData(group="all", outcome="killed", min=8, max=9)],  # not recorded
    ):
        make_incident(
            status="published", location=place, parts=IncidentParts(casualty_rows=rows)
        )

    result = stats.map_clusters(selectors.public_incidents(), zoom=6)

    (cell,) = result["clusters"]
    assert cell["count"] == 3
    assert cell["civilians_killed_min"] == 5
    assert cell["civilians_killed_max"] is None
    assert cell["civilians_killed_incidents_not_recorded"] == 1
    assert cell["civilians_killed_incidents_max_unknown"] == 1
    assert "civilians_killed_max_known" not in cell
