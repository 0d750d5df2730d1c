"""The services: validation, codes, workflow with the four-eyes rule, optimistic locking,
merging, the public changes feed and derived values."""

import datetime as dt
import hashlib
import threading

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection

from incidents import services
from incidents.models import (
    CasualtyCount,
    Incident,
    IncidentType,
    PublicChange,
    WriteConflict,
)
from incidents.services import AttributionData, CasualtyRowData, IncidentParts
from tests.factories import (
    ActorFactory,
    FacilityFactory,
    IncidentTypeFactory,
    LocationFactory,
    TargetTypeFactory,
    make_incident,
    researcher,
    reviewer,
)

pytestmark = pytest.mark.django_db


def fields(**overrides):
    base = {
        "title": "Strike on a bakery",
        "date_start": dt.date(2016, 2, 15),
        "incident_type": IncidentTypeFactory(code="airstrike"),
    }
    base.update(overrides)
    return base


# --- validation ------------------------------------------------------------------------


def test_it_rejects_a_window_ending_before_it_starts():
    with pytest.raises(services.IncidentValidationError) as error:
        services.incident_create(
            fields=fields(date_end=dt.date(2016, 2, 1)), by=researcher()
        )

    assert "date_end" in error.value.detail
    assert not Incident.objects.exists()


def test_it_names_the_casualty_row_and_field_in_errors():
    parts = IncidentParts(
        casualty_rows=[
            CasualtyRowData("civilians", "killed", 1, 1),
            CasualtyRowData("combatants", "killed", 5, 3),
        ]
    )

    with pytest.raises(services.IncidentValidationError) as error:
        services.incident_create(fields=fields(), parts=parts, by=researcher())

    assert error.value.detail["casualty_rows"][1] == {"max": ["must be >= min (5)"]}
    assert error.value.detail["casualty_rows"][0] == {}
    assert "casualty_rows[1].max" in error.value.message_dict
    assert not Incident.objects.exists()
    assert not CasualtyCount.objects.exists()


def test_it_rejects_a_subgroup_above_the_civilians_maximum():
    parts = IncidentParts(
        casualty_rows=[
            CasualtyRowData("civilians", "killed", 2, 3),
            CasualtyRowData("children", "killed", 4, 4),
        ]
    )

    with pytest.raises(services.IncidentValidationError) as error:
        services.incident_create(fields=fields(), parts=parts, by=researcher())

    assert "min" in error.value.detail["casualty_rows"][1]


def test_it_rejects_status_groups_above_everyones_maximum():
    parts = IncidentParts(
        casualty_rows=[
            CasualtyRowData("all", "killed", 5, 10),
            CasualtyRowData("civilians", "killed", 6, 6),
            CasualtyRowData("combatants", "killed", 5, 5),
        ]
    )

    with pytest.raises(services.IncidentValidationError) as error:
        services.incident_create(fields=fields(), parts=parts, by=researcher())

    assert "max" in error.value.detail["casualty_rows"][0]


def test_it_rejects_an_alternative_on_a_confirmed_perpetrator():
    parts = IncidentParts(
        attributions=[
            AttributionData(ActorFactory(), confidence="confirmed", alternative=1),
            AttributionData(ActorFactory(), alternative=2),
        ]
    )

    with pytest.raises(services.IncidentValidationError) as error:
        services.incident_create(fields=fields(), parts=parts, by=researcher())

    assert "alternative" in error.value.detail["attributions"][0]


def test_it_rejects_a_single_numbered_hypothesis():
    parts = IncidentParts(attributions=[AttributionData(ActorFactory(), alternative=1)])

    with pytest.raises(services.IncidentValidationError) as error:
        services.incident_create(fields=fields(), parts=parts, by=researcher())

    assert "alternative" in error.value.detail["attributions"][0]


def test_it_rejects_fields_callers_may_not_set():
    with pytest.raises(services.IncidentValidationError) as error:
        services.incident_create(fields=fields(status="published"), by=researcher())

    assert "status" in error.value.detail


def test_anonymous_callers_cannot_create():
    from django.contrib.auth.models import AnonymousUser

    with pytest.raises(PermissionDenied):
        services.incident_create(fields=fields(), by=AnonymousUser())


# --- creation and derived values -------------------------------------------------------


def test_it_assigns_codes_from_the_year_of_date_start():
    first = services.incident_create(fields=fields(), by=researcher())
    second = services.incident_create(fields=fields(), by=researcher())
    other_year = services.incident_create(
        fields=fields(date_start=dt.date(2013, 8, 21)), by=researcher()
    )

    assert first.code == "SY-2016-00001"
    assert second.code == "SY-2016-00002"
    assert other_year.code == "SY-2013-00001"


def test_it_never_reuses_a_code_after_a_failed_creation():
    services.incident_create(fields=fields(), by=researcher())
    with pytest.raises(services.IncidentValidationError):
        services.incident_create(fields=fields(title=""), by=researcher())

    third = services.incident_create(fields=fields(), by=researcher())

    assert third.code == "SY-2016-00002"
    assert Incident.objects.count() == 2


def test_it_stores_totals_and_version_one_on_creation():
    parts = IncidentParts(
        casualty_rows=[
            CasualtyRowData("civilians", "killed", 9, 11, 9),
            CasualtyRowData("children", "killed", 4, 4, 4),
        ]
    )

    incident = services.incident_create(fields=fields(), parts=parts, by=researcher())
    incident.refresh_from_db()

    assert (incident.civilians_killed_min, incident.civilians_killed_max) == (9, 11)
    assert (incident.children_killed_min, incident.children_killed_max) == (4, 4)
    assert incident.casualties_known is True
    assert incident.version == 1


def test_it_denormalises_the_governorate():
    governorate = LocationFactory(level="governorate", slug="test-idleb", name="Idleb")
    town = LocationFactory(
        parent=governorate, slug="test-maarrat", name="Maarat al-Numan"
    )

    incident = services.incident_create(fields=fields(location=town), by=researcher())

    assert incident.governorate == governorate


def test_it_hides_a_sensitive_facility_behind_its_district():
    governorate = LocationFactory(
        level="governorate", slug="g1", latitude=35.0, longitude=36.0
    )
    district = LocationFactory(
        level="district", parent=governorate, slug="d1", latitude=35.5, longitude=36.5
    )
    town = LocationFactory(parent=district, slug="t1", latitude=35.7, longitude=36.7)
    facility = FacilityFactory(location=town, sensitive=True)
    parts = IncidentParts(
        targets=[
            services.TargetData(
                target_type=TargetTypeFactory(code="hospital"), facility=facility
            )
        ]
    )

    incident = services.incident_create(
        fields=fields(
            location=town, latitude=35.71, longitude=36.71, geo_precision="exact"
        ),
        parts=parts,
        by=researcher(),
    )

    assert incident.public_location == district
    assert (incident.public_latitude, incident.public_longitude) == (35.5, 36.5)
    assert incident.public_geo_precision == "district"
    assert town.name not in incident.search_names


def test_it_finds_incidents_by_actor_alias_and_arabic_without_diacritics():
    actor = ActorFactory(name="25th Special Mission Forces Division")
    services.actor_name_add(actor=actor, name="Tiger Forces")
    parts = IncidentParts(attributions=[AttributionData(actor)])
    incident = services.incident_create(
        fields=fields(title_ar="قَصْفٌ على المُستشفى"), parts=parts, by=researcher()
    )

    def search(query, config):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id FROM incidents_incident WHERE search_vector @@ "
                "plainto_tsquery(%s::regconfig, civtrack_ar_normalize(%s))",
                [config, query],
            )
            return [row[0] for row in cursor.fetchall()]

    assert search("tiger forces", "simple") == [incident.pk]
    assert search("مستشفى", "arabic") == [incident.pk]
    assert search("بستان", "arabic") == []


# --- concurrency -----------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_gives_distinct_codes_under_concurrent_creation():
    incident_type = IncidentType.objects.get_or_create(
        code="airstrike", defaults={"label": "a"}
    )[0]
    author = researcher()
    codes, errors = [], []

    def create():
        try:
            incident = services.incident_create(
                fields={
                    "title": "t",
                    "date_start": dt.date(2017, 1, 1),
                    "incident_type": incident_type,
                },
                by=author,
            )
            codes.append(incident.code)
        except Exception as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=create) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert sorted(codes) == [f"SY-2017-{n:05d}" for n in range(1, 13)]


# --- workflow --------------------------------------------------------------------------


def test_a_reviewer_cannot_publish_an_incident_they_created():
    author = reviewer()
    incident = make_incident(by=author, status="in_review")

    with pytest.raises(PermissionDenied, match="four-eyes"):
        services.incident_publish(
            incident=incident, expected_version=incident.version, by=author
        )


def test_a_reviewer_cannot_publish_an_incident_they_edited_last():
    editor = reviewer()
    incident = make_incident(status="in_review")
    incident = services.incident_update(
        incident=incident,
        expected_version=incident.version,
        fields={"title": "Edited"},
        by=editor,
    )

    with pytest.raises(PermissionDenied, match="four-eyes"):
        services.incident_publish(
            incident=incident, expected_version=incident.version, by=editor
        )


def test_another_reviewer_publishes_and_the_feed_records_it():
    incident = make_incident(status="in_review")

    published = services.incident_publish(
        incident=incident, expected_version=incident.version, by=reviewer()
    )

    assert published.status == "published"
    assert published.published_at is not None
    change = PublicChange.objects.get()
    assert (change.code, change.action, change.version) == (
        incident.code,
        "published",
        published.version,
    )


def test_a_researcher_cannot_publish():
    incident = make_incident(status="in_review")

    with pytest.raises(PermissionDenied):
        services.incident_publish(
            incident=incident, expected_version=incident.version, by=researcher()
        )


def test_only_an_incident_in_review_is_published():
    incident = make_incident()

    with pytest.raises(ValidationError):
        services.incident_publish(
            incident=incident, expected_version=incident.version, by=reviewer()
        )


def test_a_researcher_cannot_edit_a_published_incident():
    incident = make_incident(status="published")

    with pytest.raises(PermissionDenied):
        services.incident_update(
            incident=incident,
            expected_version=incident.version,
            fields={"title": "x"},
            by=researcher(),
        )


def test_send_back_needs_a_reason_and_returns_to_draft():
    incident = make_incident(status="in_review")
    with pytest.raises(ValidationError):
        services.incident_send_back(incident=incident, reason=" ", by=reviewer())

    sent_back = services.incident_send_back(
        incident=incident, reason="Add a source", by=reviewer()
    )

    assert sent_back.status == "draft"


def test_withdraw_needs_a_public_reason():
    incident = make_incident(status="published")

    with pytest.raises(ValidationError):
        services.incident_withdraw(
            incident=incident, withdrawn_reason="", by=reviewer()
        )
    withdrawn = services.incident_withdraw(
        incident=incident, withdrawn_reason="Duplicate record", by=reviewer()
    )

    assert withdrawn.status == "withdrawn"
    assert PublicChange.objects.filter(action="withdrawn", code=incident.code).exists()


def test_editing_a_published_incident_keeps_it_published_and_is_in_the_feed():
    incident = make_incident(status="published")

    updated = services.incident_update(
        incident=incident,
        expected_version=incident.version,
        fields={"title": "Corrected"},
        by=reviewer(),
        public_reason="Title corrected",
    )

    assert updated.status == "published"
    change = PublicChange.objects.filter(action="updated").get()
    assert change.public_reason == "Title corrected"


# --- optimistic locking ----------------------------------------------------------------


def test_a_stale_save_is_refused_and_logged():
    incident = make_incident(status="in_review")
    editor = reviewer()
    seen_version = incident.version
    services.incident_update(
        incident=incident,
        expected_version=seen_version,
        fields={"title": "First"},
        by=editor,
    )

    with pytest.raises(services.StaleVersionError) as error:
        services.incident_update(
            incident=incident,
            expected_version=seen_version,
            fields={"summary": "Second"},
            by=editor,
        )

    incident.refresh_from_db()
    assert incident.title == "First"
    assert incident.summary == ""
    assert error.value.changed_fields == ["title"]
    conflict = WriteConflict.objects.get()
    assert (conflict.sent_version, conflict.current_version) == (
        seen_version,
        seen_version + 1,
    )


def test_replacing_parts_updates_the_incident_once():
    incident = make_incident(
        parts=IncidentParts(
            casualty_rows=[CasualtyRowData("civilians", "killed", 1, 1)]
        )
    )

    updated = services.incident_update(
        incident=incident,
        expected_version=incident.version,
        parts=IncidentParts(
            casualty_rows=[CasualtyRowData("civilians", "killed", 3, 5)]
        ),
        by=researcher(),
    )

    assert updated.version == incident.version + 1
    assert (updated.civilians_killed_min, updated.civilians_killed_max) == (3, 5)
    assert list(updated.casualties.values_list("min", "max")) == [(3, 5)]


# --- merging ---------------------------------------------------------------------------


def test_merge_moves_external_refs_and_points_at_the_survivor():
    survivor = make_incident(status="published")
    duplicate = make_incident(
        status="published",
        parts=IncidentParts(
            external_refs=[services.ExternalRefData("ucdp_ged", "123")]
        ),
    )

    services.incident_merge(incident=duplicate, into=survivor, by=reviewer())

    duplicate.refresh_from_db()
    assert duplicate.status == "merged"
    assert duplicate.merged_into == survivor
    assert survivor.external_refs.filter(value="123").exists()


def test_a_once_public_incident_merges_only_into_a_published_one():
    draft = make_incident()
    public = make_incident(status="published")

    with pytest.raises(ValidationError):
        services.incident_merge(incident=public, into=draft, by=reviewer())


def test_a_researcher_cannot_merge():
    with pytest.raises(PermissionDenied):
        services.incident_merge(
            incident=make_incident(), into=make_incident(), by=researcher()
        )


# --- shared rows -----------------------------------------------------------------------


def test_renaming_an_actor_touches_published_incidents_showing_it():
    actor = ActorFactory(name="Old name")
    incident = make_incident(
        status="published", parts=IncidentParts(attributions=[AttributionData(actor)])
    )

    actor.name = "New name"
    services.actor_save(actor=actor, by=reviewer())

    incident.refresh_from_db()
    assert "New name" in incident.search_names
    assert PublicChange.objects.filter(code=incident.code, action="updated").exists()


def test_actor_merge_moves_attributions_and_names():
    survivor, merged = ActorFactory(), ActorFactory()
    services.actor_name_add(actor=merged, name="Qawat al-Nimr")
    incident = make_incident(
        parts=IncidentParts(attributions=[AttributionData(merged)])
    )

    services.actor_merge(actor=merged, into=survivor, by=reviewer())

    assert incident.attributions.get().actor == survivor
    assert survivor.names.filter(name="Qawat al-Nimr").exists()
    merged.refresh_from_db()
    assert merged.merged_into == survivor


def test_a_duplicate_source_url_names_the_existing_source():
    first = services.source_create(
        by=researcher(), kind="news_report", title="A", url="https://example.org/report"
    )

    with pytest.raises(services.DuplicateSourceError) as error:
        services.source_create(
            by=researcher(),
            kind="news_report",
            title="B",
            url="https://example.org/report",
        )

    assert error.value.existing == first
    assert f"#{first.pk}" in str(error.value)


def test_source_upload_computes_hash_size_and_type():
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("witness.txt", b"testimony", content_type="text/plain")

    source = services.source_create(
        by=researcher(),
        file=upload,
        kind="witness_testimony",
        title="Testimony",
        confidential=True,
    )

    assert source.sha256 == hashlib.sha256(b"testimony").hexdigest()
    assert (source.size, source.mime) == (9, "text/plain")
    with pytest.raises(services.DuplicateSourceError):
        services.source_create(
            by=researcher(),
            file=SimpleUploadedFile("x", b"testimony"),
            kind="photo",
            title="Same file",
        )


def test_a_constraint_that_slips_past_validation_becomes_a_named_error():
    make_incident(
        parts=IncidentParts(external_refs=[services.ExternalRefData("acled", "SYR1")])
    )

    with pytest.raises(services.IncidentValidationError) as error:
        make_incident(
            parts=IncidentParts(
                external_refs=[services.ExternalRefData("acled", "SYR1")]
            )
        )

    assert "already belongs to an incident" in str(error.value.detail)
    assert Incident.objects.count() == 1


def test_editing_an_external_reference_keeps_its_raw_row_and_batch():
    incident = make_incident(
        parts=IncidentParts(
            external_refs=[
                services.ExternalRefData(
                    "snhr", "42", url="https://a.example", raw={"r": 1}
                )
            ]
        )
    )

    services.incident_update(
        incident=incident,
        expected_version=incident.version,
        parts=IncidentParts(
            external_refs=[
                services.ExternalRefData("snhr", "42", url="https://b.example")
            ]
        ),
        by=researcher(),
    )

    ref = incident.external_refs.get()
    assert ref.url == "https://b.example"
    assert ref.raw == {"r": 1}
