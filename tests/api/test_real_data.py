"""Statistics on the real UCDP GED Syria release and Insecurity Insight files equal the
figures computed straight from the CSV files (with the csv module, by DOMAIN.md's rules),
and an export of a 20,000-row filter equals the list's count and content (API.md).

The files are imported once, published, as `load_demo` does, inside the test's
transaction (rolled back at the end), so the test counts only what they hold.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from http import HTTPStatus
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from rest_framework.test import APIClient

from incidents.importers.insecurity_insight import parse_perpetrators
from incidents.models import Actor, ActorName, ImportBatch
from incidents.text import normalize_name

pytestmark = pytest.mark.django_db

DATA = Path(settings.BASE_DIR) / "data"
UCDP_SYRIA = DATA / "ucdp_ged_syria_652.1601.1911.csv.gz"
INSECURITY = DATA / "insecurity_insight_attacks_on_health_care_2016_2023_syria.csv.gz"
SUMMARY = "/api/v1/stats/summary/"

# Insecurity Insight's `Admin 1` spellings → governorate pcode (OCHA's SY01–SY14), written
# out by hand from the file; "No Information" is a country-level incident.
ADMIN1_PCODES = {
    "damascus": "SY01",
    "aleppo": "SY02",
    "al-bab district": "SY02",  # a district of Aleppo written in the governorate column
    "rif dimashq": "SY03",
    "homs": "SY04",
    "hama": "SY05",
    "latakia": "SY06",
    "idlib": "SY07",
    "al-hasaka": "SY08",
    "deir ezzor": "SY09",
    "deir ez-zor": "SY09",
    "tartus": "SY10",
    "ar-raqqah": "SY11",
    "al-raqqah": "SY11",
    "daraa": "SY12",
    "as-suwayda": "SY13",
    "al-qunaitra": "SY14",
    "no information": None,
}


def read_gz(path: Path) -> list[dict[str, str]]:
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def admin1_pcode(text: str) -> str | None:
    key = " ".join(text.split()).lower().removesuffix(" governorate")
    return ADMIN1_PCODES[key]


@dataclass
class Figures:
    """What a statistics row holds, computed from the file."""

    incidents: int = 0
    possible: int = 0
    total_min: int = 0
    total_max: int = 0
    civilians: int = 0
    health_workers_killed: int = 0
    events: set[str] = field(default_factory=set)


def import_real_files() -> None:
    for fmt, path, release, date in (
        ("ucdp-ged", UCDP_SYRIA, "652.1601.1911", dt.date(2019, 12, 1)),
        ("insecurity-insight", INSECURITY, "2024-01-05", dt.date(2024, 1, 5)),
    ):
        call_command(
            "import_incidents",
            str(path),
            "--publish",
            format=fmt,
            release=release,
            release_date=date,
            report_limit=0,
            verbosity=0,
        )
    assert list(ImportBatch.objects.values_list("status", flat=True)) == [
        "succeeded",
        "succeeded",
    ]


def summary(client: APIClient, query: str) -> list[dict]:
    response = client.get(f"{SUMMARY}?{query}")
    assert response.status_code == HTTPStatus.OK, response.content
    rows = response.json()["rows"]
    assert rows[-1]["total"] is True
    return rows


def ucdp_range(row: dict[str, str]) -> tuple[int, int]:
    """A UCDP event's deaths as a range: some rows break low <= best <= high."""
    estimates = [int(row["low"]), int(row["best"]), int(row["high"])]
    return min(estimates), max(estimates)


def sides(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def top_level_actors() -> dict[str, str]:
    """Every name the importer resolved (an actor's name or alias, normalised) → slug of
    the top-level actor above it: statistics grouped by actor count each top-level actor
    with its subunits."""
    actors = {a.pk: a for a in Actor.objects.all()}

    def top(actor: Actor) -> str:
        while actor.merged_into_id:
            actor = actors[actor.merged_into_id]
        while actor.parent_id:
            actor = actors[actor.parent_id]
        return actor.slug

    by_name = {normalize_name(a.name): top(a) for a in actors.values()}
    for normalized, actor_id in ActorName.objects.values_list("normalized", "actor_id"):
        by_name.setdefault(normalized, top(actors[actor_id]))
    return by_name


def test_real_data_statistics_equal_the_figures_of_the_csv_files():
    ucdp = read_gz(UCDP_SYRIA)
    insecurity = [r for r in read_gz(INSECURITY) if not r["Date"].startswith("#")]
    assert (len(ucdp), len(insecurity)) == (16566, 904)
    import_real_files()
    client = APIClient()

    # Per year (UCDP: the year of date_start).
    expected_years: dict[int, Figures] = defaultdict(Figures)
    for row in ucdp:
        low, high = ucdp_range(row)
        year = expected_years[int(row["date_start"][:4])]
        year.incidents += 1
        year.total_min += low
        year.total_max += high
        year.civilians += int(row["deaths_civilians"])
    rows = summary(client, "group_by=year&external_ref=ucdp_ged")
    assert {
        r["year"]: (
            r["incidents"],
            r["total_killed"]["min"],
            r["total_killed"]["max"],
            r["civilians_killed"]["min"],
            r["civilians_killed"]["max"],
        )
        for r in rows[:-1]
    } == {
        year: (f.incidents, f.total_min, f.total_max, f.civilians, f.civilians)
        for year, f in expected_years.items()
    }
    assert rows[-1]["incidents"] == len(ucdp) == 16566
    assert rows[-1]["total_killed"] == {
        "min": sum(ucdp_range(r)[0] for r in ucdp),
        "max": sum(ucdp_range(r)[1] for r in ucdp),
        # UCDP gives every event a total (low/high): none is unrecorded or a floor.
        "incidents_not_recorded": 0,
        "incidents_max_unknown": 0,
    }

    # Per governorate (Insecurity Insight's Admin 1), with health workers killed.
    expected_governorates: dict[str | None, Figures] = defaultdict(Figures)
    for row in insecurity:
        place = expected_governorates[admin1_pcode(row["Admin 1"])]
        place.incidents += 1
        place.health_workers_killed += int(row["Health Workers Killed"] or 0)
    rows = summary(
        client,
        "group_by=governorate&external_ref=insecurity_insight"
        "&measure=medical_personnel_killed",
    )
    assert {
        r["governorate"]["pcode"]: (
            r["incidents"],
            r["medical_personnel_killed"]["min"],
            r["medical_personnel_killed"]["max"],
        )
        for r in rows[:-1]
    } == {
        pcode: (f.incidents, f.health_workers_killed, f.health_workers_killed)
        for pcode, f in expected_governorates.items()
    }
    assert expected_governorates[None].incidents == 76  # "No Information"
    assert rows[-1]["incidents"] == 904

    # Per actor, certainly vs possibly involved (UCDP): one-sided violence (type 3) has
    # side A as its certain perpetrator; a clash (types 1 and 2) has side A as
    # hypothesis 1 and side B as hypothesis 2 (a side "A, B" fights jointly). An actor
    # is certainly involved when it is in every hypothesis.
    names = top_level_actors()
    expected_actors: dict[str, Figures] = defaultdict(Figures)
    for row in ucdp:
        if row["type_of_violence"] == "3":
            hypotheses = [{names[normalize_name(n)] for n in sides(row["side_a"])}]
        else:
            hypotheses = [
                {names[normalize_name(n)] for n in sides(row[side])}
                for side in ("side_a", "side_b")
                if sides(row[side])
            ]
        low, high = ucdp_range(row)
        for slug in set().union(*hypotheses):
            actor = expected_actors[slug]
            actor.incidents += 1
            actor.total_max += high
            if all(slug in hypothesis for hypothesis in hypotheses):
                actor.total_min += low
            else:
                actor.possible += 1
    rows = summary(client, "group_by=actor&external_ref=ucdp_ged")
    found = {
        r["actor"]["slug"]: (
            r["incidents"],
            r["incidents_possible"],
            r["total_killed"]["min"],
            r["total_killed"]["max"],
        )
        for r in rows[:-1]
    }
    assert found == {
        slug: (f.incidents, f.possible, f.total_min, f.total_max)
        for slug, f in expected_actors.items()
    }
    government = found[names[normalize_name("Government of Syria")]]
    assert government[0] > 11000
    assert 0 < government[1] < government[0]
    assert rows[-1]["incidents"] == 16566

    # Per actor on Insecurity Insight, with health workers killed: "X or Y" are
    # hypotheses 1 and 2 (the importer's reading of the free text), "X, Y" is joint.
    expected_actors = defaultdict(Figures)
    for row in insecurity:
        perpetrators = parse_perpetrators(row["Reported Perpetrator Name"])
        joint = {names[normalize_name(n)] for n, number in perpetrators if not number}
        numbered: dict[int, set[str]] = defaultdict(set)
        for name, number in perpetrators:
            if number:
                numbered[number].add(names[normalize_name(name)])
        killed = int(row["Health Workers Killed"] or 0)
        for slug in joint.union(*numbered.values()):
            actor = expected_actors[slug]
            actor.incidents += 1
            actor.health_workers_killed += killed
            if slug in joint or all(slug in h for h in numbered.values()):
                actor.total_min += killed
            else:
                actor.possible += 1
    rows = summary(
        client,
        "group_by=actor&external_ref=insecurity_insight&measure=medical_personnel_killed"
        "&actor_confidence=confirmed,likely,possible,contested",
    )
    found = {
        r["actor"]["slug"]: (
            r["incidents"],
            r["incidents_possible"],
            r["medical_personnel_killed"]["min"],
            r["medical_personnel_killed"]["max"],
        )
        for r in rows[:-1]
    }
    assert found == {
        slug: (f.incidents, f.possible, f.total_min, f.health_workers_killed)
        for slug, f in expected_actors.items()
    }
    assert sum(f.possible for f in expected_actors.values()) >= 104


def test_real_data_the_export_of_a_20000_row_filter_equals_the_list():
    call_command("generate_synthetic", incidents=21000, seed=5, no_progress=True)
    client = APIClient()
    query = "date_from=2012-01-01&aggregate=false"

    codes: list[str] = []
    url = f"/api/v1/incidents/?{query}&page_size=1000&fields=code"
    count = None
    while url:
        response = client.get(url)
        assert response.status_code == HTTPStatus.OK, response.content
        body = response.json()
        count = body["count"] if count is None else count
        assert body["count"] == count
        codes += [item["code"] for item in body["results"]]
        url = body["next"]
    response = client.get(f"/api/v1/incidents/?{query}&format=csv")
    assert response.status_code == HTTPStatus.OK
    exported = list(
        csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode()))
    )

    assert count >= 20000
    assert len(codes) == len(set(codes)) == count
    assert len(exported) == count
    assert [row["code"] for row in exported] == codes
    assert Counter(row["code"][:7] for row in exported) == Counter(
        code[:7] for code in codes
    )
