"""UCDP GED importer: mapping (19.1 and 23.1 column sets) and the rules every importer
follows (idempotency, releases, all-or-nothing, dry run, people's edits, revert)."""

from __future__ import annotations

import datetime as dt

import pytest
from pghistory.models import Events

from incidents import services
from incidents.importers import import_batch_revert
from incidents.models import (
    Actor,
    Attribution,
    CasualtyCount,
    ExternalRef,
    ImportBatch,
    Incident,
    Source,
)
from tests.factories import import_reference_data, researcher, reviewer
from tests.incidents.test_import_support import (
    UCDP_191_COLUMNS,
    UCDP_231_COLUMNS,
    rows_of,
    run,
    ucdp_row,
    write_csv,
)

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def reference_data():
    return import_reference_data()


def casualties(incident) -> dict:
    return {
        (c.group, c.outcome): (c.min, c.max, c.best) for c in incident.casualties.all()
    }


def test_it_maps_a_battle_row(tmp_path):
    path = write_csv(tmp_path / "ged.csv", UCDP_191_COLUMNS, [ucdp_row()])

    batch = run("ucdp-ged", path)

    incident = Incident.objects.get(external_refs__value="1001")
    assert batch.status == "succeeded"
    assert batch.rows_created == 1
    assert incident.incident_type.code == "armed-clash"
    assert incident.status == "draft"
    assert incident.grading == "not_assessed"
    assert incident.date_start == dt.date(2016, 1, 2)
    assert incident.date_precision == "day"
    assert incident.geo_precision == "community"
    assert incident.location.name == "Teir Maaleh"
    assert incident.location.level == "community"
    assert incident.location.parent.name == "Ar Rastan"
    assert incident.governorate.pcode == "SY04"
    assert casualties(incident) == {
        ("all", "killed"): (4, 5, 4),
        ("civilians", "killed"): (1, 1, 1),
        ("combatants", "killed"): (3, 3, 3),
        ("unknown_status", "killed"): (0, 0, 0),
    }
    hypotheses = {
        (a.actor.name, a.alternative, a.confidence)
        for a in incident.attributions.select_related("actor")
    }
    assert {alt for _, alt, _ in hypotheses} == {1, 2}
    assert all(conf == "likely" for _, _, conf in hypotheses)
    assert incident.import_batch == batch


def test_it_keeps_the_row_verbatim_and_cites_the_release(tmp_path):
    row = ucdp_row()
    path = write_csv(tmp_path / "ged.csv", UCDP_191_COLUMNS, [row])

    run("ucdp-ged", path, release="19.1", release_date=dt.date(2019, 6, 1))

    ref = ExternalRef.objects.get(system="ucdp_ged", value="1001")
    assert ref.raw["row"] == {c: row.get(c, "") for c in UCDP_191_COLUMNS}
    assert ref.release == "19.1"
    assert ref.release_date == dt.date(2019, 6, 1)
    citation = ref.incident.citations.get()
    assert citation.source.kind == Source.Kind.DATASET
    assert citation.source.release == "19.1"
    assert "Shelling on the town" in citation.excerpt
    assert set(citation.supports) >= {"occurrence", "casualties", "attribution"}


def test_it_reads_the_231_column_set_with_timestamps(tmp_path):
    row = ucdp_row(
        id="2002",
        date_start="2013-01-03 00:00:00.000",
        date_end="2013-01-05 00:00:00.000",
        date_prec="2",
        relid="SYR-2013-1-11973-99",
    )
    path = write_csv(tmp_path / "ged231.csv", UCDP_231_COLUMNS, [row])

    run("ucdp-ged", path)

    incident = Incident.objects.get(external_refs__value="2002")
    assert (incident.date_start, incident.date_end) == (
        dt.date(2013, 1, 3),
        dt.date(2013, 1, 5),
    )
    assert incident.date_precision == "days"


def test_it_keeps_out_of_order_estimates_with_a_warning(tmp_path):
    path = write_csv(
        tmp_path / "ged.csv",
        UCDP_191_COLUMNS,
        [
            ucdp_row(
                low=12, best=10, high=11, deaths_a=5, deaths_b=5, deaths_civilians=0
            )
        ],
    )

    batch = run("ucdp-ged", path)

    incident = Incident.objects.get()
    assert casualties(incident)[("all", "killed")] == (10, 12, 10)
    created = rows_of(batch, "created")[0]
    assert "low 12 above best 10: range 10–12, best 10" in created["messages"]
    assert batch.rows_warnings == 1


def test_it_maps_one_sided_violence_to_certain_perpetrators(tmp_path):
    path = write_csv(
        tmp_path / "ged.csv",
        UCDP_191_COLUMNS,
        [ucdp_row(type_of_violence=3, side_a="IS", side_b="Civilians")],
    )

    run("ucdp-ged", path)

    incident = Incident.objects.get()
    assert incident.incident_type.code == "violence-against-civilians"
    attributions = list(incident.attributions.all())
    assert len(attributions) == 1
    assert attributions[0].alternative is None


def test_it_reads_a_joint_side_as_one_hypothesis(tmp_path):
    path = write_csv(
        tmp_path / "ged.csv",
        UCDP_191_COLUMNS,
        [
            ucdp_row(
                side_a="Ahrar al-Sham, HTS, Southern Front",
                side_b="IS",
                type_of_violence=2,
            )
        ],
    )

    run("ucdp-ged", path)

    alternatives = sorted(
        a.alternative
        for a in Attribution.objects.filter(incident=Incident.objects.get())
    )
    assert alternatives == [1, 1, 1, 2]


def test_it_marks_event_clarity_2_as_aggregate_at_country_level(tmp_path):
    path = write_csv(
        tmp_path / "ged.csv",
        UCDP_191_COLUMNS,
        [
            ucdp_row(
                event_clarity=2,
                where_prec=6,
                where_coordinates="Syria",
                adm_1="",
                adm_2="",
                date_prec=5,
                date_end="2016-12-31",
            )
        ],
    )

    run("ucdp-ged", path)

    incident = Incident.objects.get()
    assert incident.aggregate is True
    assert incident.geo_precision == "country"
    assert incident.location.level == "country"
    assert incident.governorate is None


def test_a_second_import_of_the_same_file_changes_nothing(tmp_path):
    path = write_csv(
        tmp_path / "ged.csv",
        UCDP_191_COLUMNS,
        [
            ucdp_row(),
            ucdp_row(
                id="1002",
                low=1,
                best=1,
                high=1,
                deaths_a=0,
                deaths_b=0,
                deaths_civilians=1,
            ),
        ],
    )
    run("ucdp-ged", path)
    versions = dict(Incident.objects.values_list("pk", "version"))

    batch = run("ucdp-ged", path)

    assert (batch.rows_created, batch.rows_updated, batch.rows_unchanged) == (0, 0, 2)
    assert dict(Incident.objects.values_list("pk", "version")) == versions
    assert Incident.objects.count() == 2


def test_a_second_import_writes_no_audit_rows_for_data(tmp_path):
    path = write_csv(tmp_path / "ged.csv", UCDP_191_COLUMNS, [ucdp_row()])
    run("ucdp-ged", path)
    before = Events.objects.exclude(pgh_model="incidents.ImportBatchEvent").count()

    run("ucdp-ged", path)

    assert (
        Events.objects.exclude(pgh_model="incidents.ImportBatchEvent").count() == before
    )


def test_a_newer_release_updates_changed_values(tmp_path):
    first = write_csv(tmp_path / "a.csv", UCDP_191_COLUMNS, [ucdp_row()])
    run("ucdp-ged", first, release="19.1", release_date=dt.date(2019, 6, 1))
    newer = write_csv(
        tmp_path / "b.csv",
        UCDP_231_COLUMNS,
        [ucdp_row(best=5, high=6, deaths_unknown=1)],
    )

    batch = run("ucdp-ged", newer, release="23.1", release_date=dt.date(2023, 6, 1))

    incident = Incident.objects.get()
    assert batch.rows_updated == 1
    assert casualties(incident)[("all", "killed")] == (4, 6, 5)
    assert casualties(incident)[("unknown_status", "killed")] == (1, 1, 1)
    assert incident.external_refs.get().release == "23.1"
    assert incident.citations.count() == 2  # both releases cited
    updated = rows_of(batch, "updated")[0]
    assert any(m.startswith("everyone killed: 4–5") for m in updated["messages"])


def test_an_older_release_is_skipped(tmp_path):
    newer = write_csv(
        tmp_path / "b.csv",
        UCDP_191_COLUMNS,
        [ucdp_row(best=5, high=6, deaths_unknown=1)],
    )
    run("ucdp-ged", newer, release="23.1", release_date=dt.date(2023, 6, 1))
    older = write_csv(tmp_path / "a.csv", UCDP_191_COLUMNS, [ucdp_row()])

    batch = run("ucdp-ged", older, release="19.1", release_date=dt.date(2019, 6, 1))

    assert batch.rows_skipped == 1
    assert batch.rows_updated == 0
    assert "older release, skipped" in rows_of(batch, "skipped")[0]["messages"][0]
    assert casualties(Incident.objects.get())[("all", "killed")] == (4, 6, 5)


def test_a_researchers_edit_wins_over_a_newer_release(tmp_path):
    first = write_csv(tmp_path / "a.csv", UCDP_191_COLUMNS, [ucdp_row()])
    run("ucdp-ged", first, release="19.1", release_date=dt.date(2019, 6, 1))
    incident = Incident.objects.get()
    services.incident_update(
        incident=incident,
        expected_version=incident.version,
        fields={"title": "Shelling of Teir Maaleh, researcher's title"},
        parts=services.IncidentParts(
            casualty_rows=[
                services.CasualtyRowData("all", "killed", 4, 5, 4),
                services.CasualtyRowData("civilians", "killed", 2, 3, 2),
                services.CasualtyRowData("combatants", "killed", 1, 2, 1),
                services.CasualtyRowData("unknown_status", "killed", 0, 0, 0),
            ]
        ),
        by=researcher(),
    )
    newer = write_csv(
        tmp_path / "b.csv",
        UCDP_191_COLUMNS,
        [
            ucdp_row(
                deaths_civilians=2,
                best=5,
                high=6,
                where_coordinates="Teir Maaleh village",
            )
        ],
    )

    batch = run("ucdp-ged", newer, release="23.1", release_date=dt.date(2023, 6, 1))

    incident.refresh_from_db()
    counts = casualties(incident)
    assert incident.title == "Shelling of Teir Maaleh, researcher's title"
    assert counts[("civilians", "killed")] == (2, 3, 2)  # researcher's
    assert counts[("all", "killed")] == (4, 6, 5)  # import's, untouched by anyone
    messages = rows_of(batch, "updated")[0]["messages"]
    assert "kept researcher's edit of civilians killed" in messages


def test_a_batch_without_publish_skips_published_incidents(tmp_path):
    path = write_csv(tmp_path / "a.csv", UCDP_191_COLUMNS, [ucdp_row()])
    run(
        "ucdp-ged", path, publish=True, release="19.1", release_date=dt.date(2019, 6, 1)
    )
    newer = write_csv(
        tmp_path / "b.csv",
        UCDP_191_COLUMNS,
        [ucdp_row(best=5, high=6, deaths_unknown=1)],
    )

    batch = run("ucdp-ged", newer, release="23.1", release_date=dt.date(2023, 6, 1))

    assert batch.rows_skipped == 1
    assert casualties(Incident.objects.get())[("all", "killed")] == (4, 5, 4)


def test_publish_publishes_from_the_dataset_with_the_waiver_recorded(tmp_path):
    path = write_csv(tmp_path / "a.csv", UCDP_191_COLUMNS, [ucdp_row()])

    batch = run(
        "ucdp-ged", path, publish=True, release="19.1", release_date=dt.date(2019, 6, 1)
    )

    incident = Incident.objects.get()
    assert incident.status == "published"
    assert incident.published_at is not None
    assert batch.four_eyes_waived is True
    event = (
        Events.objects.tracks(incident)
        .filter(pgh_label="update")
        .latest("pgh_created_at")
    )
    assert event.pgh_context["reason"] == "published from dataset UCDP GED 19.1"
    assert event.pgh_context["import_batch"] == batch.pk


def test_a_bad_row_rejects_the_whole_batch_and_lists_every_bad_row(tmp_path):
    rows = [
        ucdp_row(id="1"),
        ucdp_row(id="2", best="ten"),
        ucdp_row(id="3"),
        ucdp_row(id="4", date_start="2016-02-30"),
    ]
    path = write_csv(tmp_path / "bad.csv", UCDP_191_COLUMNS, rows)

    batch = run("ucdp-ged", path)

    assert batch.status == "failed"
    assert Incident.objects.count() == 0
    rejected = rows_of(batch, "rejected")
    assert [(r["line"], r["column"]) for r in rejected] == [
        (3, "best"),
        (5, "date_start"),
    ]
    assert "'ten' is not a whole number" in rejected[0]["messages"][0]
    assert "line 5" in rejected[1]["messages"][0]


def test_skip_bad_rows_imports_the_valid_rows(tmp_path):
    rows = [ucdp_row(id="1"), ucdp_row(id="2", best="ten"), ucdp_row(id="3")]
    path = write_csv(tmp_path / "bad.csv", UCDP_191_COLUMNS, rows)

    batch = run("ucdp-ged", path, skip_bad_rows=True)

    assert batch.status == "succeeded"
    assert (batch.rows_created, batch.rows_rejected) == (2, 1)
    assert Incident.objects.count() == 2


def test_a_dry_run_writes_nothing_and_reports_the_changes(tmp_path):
    first = write_csv(tmp_path / "a.csv", UCDP_191_COLUMNS, [ucdp_row()])
    run("ucdp-ged", first, release="19.1", release_date=dt.date(2019, 6, 1))
    version = Incident.objects.get().version
    counts = (
        Incident.objects.count(),
        CasualtyCount.objects.count(),
        Actor.objects.count(),
    )
    newer = write_csv(
        tmp_path / "b.csv",
        UCDP_191_COLUMNS,
        [
            ucdp_row(best=5, high=6, deaths_unknown=1),
            ucdp_row(id="9", side_a="Brand new armed group"),
        ],
    )

    batch = run(
        "ucdp-ged",
        newer,
        dry_run=True,
        release="23.1",
        release_date=dt.date(2023, 6, 1),
    )

    assert batch.status == "succeeded"
    assert batch.dry_run
    assert (batch.rows_created, batch.rows_updated) == (1, 1)
    assert (
        Incident.objects.count(),
        CasualtyCount.objects.count(),
        Actor.objects.count(),
    ) == counts
    assert Incident.objects.get().version == version
    updated = rows_of(batch, "updated")[0]
    assert "everyone killed: 4–5 (best 4) → 4–6 (best 5)" in updated["messages"]


def test_a_file_lacking_a_column_is_refused_naming_it(tmp_path):
    path = write_csv(
        tmp_path / "x.csv", [c for c in UCDP_191_COLUMNS if c != "best"], [ucdp_row()]
    )

    batch = run("ucdp-ged", path)

    assert batch.status == "failed"
    assert "'best'" in batch.failure_reason


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty"),
        (b"id,best\n\xff\xfe1,2\n", "not UTF-8"),
    ],
)
def test_it_refuses_unreadable_files_with_a_message(tmp_path, content, expected):
    path = tmp_path / "x.csv"
    path.write_bytes(content)

    batch = run("ucdp-ged", path)

    assert batch.status == "failed"
    assert expected in batch.failure_reason


def test_it_reports_the_line_a_multiline_record_starts_on(tmp_path):
    rows = [ucdp_row(id="1", source_headline="two\nlines"), ucdp_row(id="2", low="x")]
    path = write_csv(tmp_path / "x.csv", UCDP_191_COLUMNS, rows)

    batch = run("ucdp-ged", path)

    assert rows_of(batch, "rejected")[0]["line"] == 4


def test_an_unknown_actor_is_created_once_and_reported(tmp_path):
    path = write_csv(
        tmp_path / "a.csv",
        UCDP_191_COLUMNS,
        [
            ucdp_row(id="1", side_a="Zzyzx Brigade"),
            ucdp_row(id="2", side_a="Zzyzx Brigade"),
        ],
    )

    batch = run("ucdp-ged", path)

    actor = Actor.objects.get(name="Zzyzx Brigade")
    assert (actor.kind, actor.bloc) == ("unknown", "unidentified")
    assert any("Zzyzx Brigade" in m for m in rows_of(batch, "note")[0]["messages"])


def test_a_merged_unknown_actor_is_matched_next_time(tmp_path):
    path = write_csv(
        tmp_path / "a.csv", UCDP_191_COLUMNS, [ucdp_row(id="1", side_a="Zzyzx Brigade")]
    )
    run("ucdp-ged", path)
    survivor = Actor.objects.create(
        slug="the-brigade", name="The Brigade", kind="armed_group", bloc="other"
    )
    services.actor_merge(
        actor=Actor.objects.get(name="Zzyzx Brigade"), into=survivor, by=reviewer()
    )
    again = write_csv(
        tmp_path / "b.csv", UCDP_191_COLUMNS, [ucdp_row(id="2", side_a="Zzyzx Brigade")]
    )

    run("ucdp-ged", again)

    incident = Incident.objects.get(external_refs__value="2")
    assert incident.attributions.filter(actor=survivor).exists()
    assert Actor.objects.filter(name="Zzyzx Brigade").count() == 1  # not created again


def test_a_shared_village_name_gets_its_parents_slug(tmp_path):
    rows = [
        ucdp_row(
            id="1",
            where_coordinates="Kafr Nabl village",
            adm_1="Idlib Governorate",
            adm_2="Maarrat an Nu'man district",
        ),
        ucdp_row(
            id="2",
            where_coordinates="Kafr Nabl village",
            adm_1="Aleppo Governorate",
            adm_2="Al Bab district",
        ),
    ]
    path = write_csv(tmp_path / "a.csv", UCDP_191_COLUMNS, rows)

    run("ucdp-ged", path)

    slugs = sorted(Incident.objects.values_list("location__slug", flat=True))
    assert len(set(slugs)) == 2
    assert slugs[0].startswith("kafr-nabl")


def test_revert_restores_changes_and_deletes_untouched_drafts(tmp_path):
    first = write_csv(tmp_path / "a.csv", UCDP_191_COLUMNS, [ucdp_row()])
    run("ucdp-ged", first, release="19.1", release_date=dt.date(2019, 6, 1))
    newer = write_csv(
        tmp_path / "b.csv",
        UCDP_191_COLUMNS,
        [ucdp_row(best=5, high=6, deaths_unknown=1), ucdp_row(id="77")],
    )
    batch = run("ucdp-ged", newer, release="23.1", release_date=dt.date(2023, 6, 1))

    import_batch_revert(batch=batch, by=reviewer())

    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.REVERTED
    assert not ExternalRef.objects.filter(value="77").exists()
    assert casualties(Incident.objects.get())[("all", "killed")] == (4, 5, 4)
    assert Incident.objects.get().external_refs.get().release == "19.1"
    assert batch.report[0]["action"] == "reverted"


def test_revert_withdraws_published_incidents_and_a_new_import_recreates_them(tmp_path):
    path = write_csv(tmp_path / "a.csv", UCDP_191_COLUMNS, [ucdp_row()])
    batch = run("ucdp-ged", path, publish=True)

    import_batch_revert(batch=batch, by=None)
    first = Incident.objects.get()
    again = run("ucdp-ged", path, publish=True)

    first.refresh_from_db()
    assert first.status == "withdrawn"
    assert first.withdrawn_reason == "import reverted"
    assert again.rows_created == 1
    assert ExternalRef.objects.get(value="1001").incident.status == "published"


def test_only_reviewers_revert(tmp_path):
    path = write_csv(tmp_path / "a.csv", UCDP_191_COLUMNS, [ucdp_row()])
    batch = run("ucdp-ged", path)

    with pytest.raises(services.PermissionDenied):
        import_batch_revert(batch=batch, by=researcher())
