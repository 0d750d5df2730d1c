"""Prebuilt export lines (api/export_snapshot.py): used only while the data is what they
were built from, and then exactly what the live export writes; any change by any path
sends exports back to the live query until the next build (issue 8)."""

from __future__ import annotations

import json

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import connection
from django.http import QueryDict
from django.test.utils import CaptureQueriesContext
from django_tasks_db.models import DBTaskResult
from rest_framework.test import APIClient

from api import export_snapshot
from api.filters import run_incident_filter
from api.models import ExportLine, ExportSnapshot
from api.tasks import build_export_snapshot
from incidents import services
from incidents.models import Actor, Incident, IncidentWeapon
from tests.api.test_export_batches import awkward, body, reference_csv  # noqa: F401
from tests.api.test_export_sql_fuzz import _csv_problems as fuzz_csv_problems
from tests.api.test_export_sql_fuzz import (
    _geojson_property_problems as fuzz_geojson_problems,
)
from tests.api.test_export_sql_fuzz import fuzz  # noqa: F401
from tests.api.test_export_sql_fuzz import report as fuzz_report
from tests.api.test_export_sql_fuzz import (
    test_public_exports_never_show_the_sensitive_place as check_fuzz_redaction,
)
from tests.factories import researcher, reviewer

pytestmark = pytest.mark.django_db

LIST = "/api/v1/incidents/"
QUERIES = [
    "",
    "ordering=code",
    "ordering=-civilians_killed_max",
    "ordering=updated_at",
    "bloc=syrian_government",
    "grading=discounted",
]
LINES_TABLE = ExportLine._meta.db_table


def fetch(client, query: str, fmt: str) -> tuple[bytes, bool]:
    """The export's body and whether it read prebuilt lines."""
    with CaptureQueriesContext(connection) as ctx:
        data = body(client.get(f"{LIST}?{query}&format={fmt}"))
    return data, any(LINES_TABLE in q["sql"] for q in ctx.captured_queries)


def expected_csv(query: str) -> bytes:
    result = run_incident_filter(QueryDict(query), user=None)
    return reference_csv(result.queryset.order_by(*result.keyset.order_by()))


def live(client, query: str, fmt: str) -> bytes:
    """The same export with no snapshot at all (then the snapshots are as before)."""
    saved = list(ExportSnapshot.objects.values())
    ExportSnapshot.objects.all().delete()
    try:
        data, prebuilt = fetch(client, query, fmt)
        assert not prebuilt
        return data
    finally:
        ExportSnapshot.objects.bulk_create(ExportSnapshot(**row) for row in saved)


def build_all() -> None:
    for kind in export_snapshot.KINDS:
        assert export_snapshot.build(kind) is not None


def assert_exports_exact(client, *, prebuilt: bool) -> None:
    for query in QUERIES:
        csv_data, used = fetch(client, query, "csv")
        assert used is prebuilt, query
        assert csv_data == expected_csv(query), query
        geo, used = fetch(client, query, "geojson")
        assert used is prebuilt, query
        assert geo == live(client, query, "geojson"), query
        features = json.loads(geo)["features"]
        items = {
            item["code"]: item
            for item in client.get(f"{LIST}?{query}&page_size=1000").json()["results"]
        }
        for feature in features:
            assert feature["properties"] == items[feature["id"]]


def test_prebuilt_lines_are_exactly_the_live_export(client, awkward):  # noqa: F811
    build_all()

    assert_exports_exact(client, prebuilt=True)
    snapshot = ExportSnapshot.objects.get(kind="csv")
    published = Incident.objects.filter(status=Incident.Status.PUBLISHED).count()
    assert snapshot.rows == published
    assert (
        ExportLine.objects.filter(generation=snapshot.generation).count() == published
    )


def test_a_current_snapshot_is_kept_unless_forced(awkward):  # noqa: F811
    first = export_snapshot.build("csv")

    again = export_snapshot.build("csv")

    assert again.generation == first.generation
    assert ExportLine.objects.filter(generation=first.generation).count() == first.rows


def test_lines_of_another_format_are_never_served(client, awkward, monkeypatch):  # noqa: F811
    """After an upgrade that changes what the export SQL writes, lines built by the
    previous release are not used, even though the data is the same."""
    build_all()
    assert fetch(client, "", "csv")[1]

    monkeypatch.setattr(
        export_snapshot, "_format_digest", lambda kind: "another-release"
    )

    data, prebuilt = fetch(client, "", "csv")
    assert not prebuilt
    assert data == expected_csv("")
    assert not fetch(client, "", "geojson")[1]
    build_all()
    assert fetch(client, "", "csv")[1]


def test_a_rebuild_replaces_the_previous_generation(awkward):  # noqa: F811
    first = export_snapshot.build("csv")
    second = export_snapshot.build("csv", force=True)

    assert second.generation > first.generation
    assert not ExportLine.objects.filter(generation=first.generation).exists()
    assert (
        ExportLine.objects.filter(generation=second.generation).count() == second.rows
    )


def _edit_title(incident: Incident) -> None:
    services.incident_update(
        incident=incident,
        expected_version=incident.version,
        fields={"title": 'Edited, "after" the build'},
        parts=services.IncidentParts(),
        by=reviewer(),
        reason="test",
    )


def _rename_actor(incident: Incident) -> None:
    actor = Actor.objects.get(pk=incident.attributions.first().actor_id)
    actor.name = "Renamed, after the build"
    actor.slug = "renamed-after-the-build"
    actor.save()


def _bulk_update_weapons(incident: Incident) -> None:
    IncidentWeapon.objects.filter(incident=incident).update(certainty="alleged")


def _publish_another(incident: Incident) -> None:
    draft = Incident.objects.get(title="A draft, staff only")
    submitted = services.incident_submit(incident=draft, by=researcher())
    services.incident_publish(
        incident=submitted, expected_version=submitted.version, by=reviewer()
    )


CHANGES = [_edit_title, _rename_actor, _bulk_update_weapons, _publish_another]


@pytest.mark.parametrize("change", CHANGES, ids=lambda c: c.__name__.strip("_"))
def test_any_change_sends_exports_back_to_live_until_the_next_build(
    client,
    awkward,  # noqa: F811
    change,
):
    build_all()
    incident = Incident.objects.get(title__startswith='Shelling, "heavy"')

    change(incident)

    assert_exports_exact(client, prebuilt=False)
    build_all()
    assert_exports_exact(client, prebuilt=True)


def test_staff_other_languages_and_field_subsets_stay_live(client, awkward):  # noqa: F811
    build_all()
    staff = APIClient()
    staff.force_authenticate(researcher())

    data, prebuilt = fetch(staff, "", "csv")
    assert not prebuilt
    assert b"A draft, staff only" in data
    for query in ("lang=ar", "fields=code,perpetrators"):
        _data, prebuilt = fetch(client, query, "geojson")
        assert not prebuilt, query
    _data, prebuilt = fetch(staff, "", "geojson")
    assert not prebuilt


def test_prebuilt_features_carry_this_request_s_urls(awkward):  # noqa: F811
    build_all()
    secure = APIClient()

    with CaptureQueriesContext(connection) as ctx:
        data = body(secure.get(f"{LIST}?format=geojson", secure=True))

    assert any(LINES_TABLE in q["sql"] for q in ctx.captured_queries)
    assert b"\x01" not in data
    feature = json.loads(data)["features"][0]
    code = feature["id"]
    assert (
        feature["properties"]["url"] == f"https://testserver/api/v1/incidents/{code}/"
    )
    assert (
        feature["properties"]["page_url"] == f"https://testserver/en/incidents/{code}/"
    )


def test_a_stale_snapshot_asks_the_worker_for_one_rebuild(
    client,
    awkward,  # noqa: F811
    settings,
    django_capture_on_commit_callbacks,
):
    settings.CIVTRACK_EXPORT_SNAPSHOT_MIN_ROWS = 0
    cache.clear()
    path = f"{build_export_snapshot.module_path}"

    with django_capture_on_commit_callbacks(execute=True):
        fetch(client, "", "csv")
        fetch(client, "ordering=code", "csv")
        fetch(client, "", "geojson")

    queued = sorted(
        r.args_kwargs["args"][0] for r in DBTaskResult.objects.filter(task_path=path)
    )
    assert queued == ["csv", "geojson"]
    assert build_export_snapshot.call("csv").startswith("csv #")
    _data, prebuilt = fetch(client, "", "csv")
    assert prebuilt


def test_small_databases_ask_for_no_rebuild(client, awkward, settings):  # noqa: F811
    settings.CIVTRACK_EXPORT_SNAPSHOT_MIN_ROWS = 20000
    cache.clear()

    fetch(client, "", "csv")

    assert not DBTaskResult.objects.exists()


def test_the_command_builds_and_clears_the_snapshots(awkward, capsys):  # noqa: F811
    call_command("build_export_snapshots")
    out = capsys.readouterr().out

    assert "csv: generation" in out
    assert "geojson: generation" in out
    assert set(ExportSnapshot.objects.values_list("kind", flat=True)) == {
        "csv",
        "geojson",
    }
    call_command("build_export_snapshots", "--clear")
    assert not ExportSnapshot.objects.exists()
    assert not ExportLine.objects.exists()


def test_prebuilt_lines_hold_awkward_values_exactly(client, fuzz, monkeypatch):  # noqa: F811
    """The seeded awkward incidents of test_export_sql_fuzz (quotes, CR/LF, control
    characters — the GeoJSON pieces are cut at one —, long and tiny numbers) read back
    from prebuilt lines exactly as export_row() and the list items have them."""
    build_all()
    assert fetch(client, "", "csv")[1]
    assert fetch(client, "", "geojson")[1]

    problems = fuzz_csv_problems(client, None, monkeypatch)
    problems += fuzz_geojson_problems(client, monkeypatch)

    assert not problems, fuzz_report(problems)


def test_prebuilt_lines_keep_restricted_values_out(client, fuzz):  # noqa: F811
    """Lines are built from the public view only: the canaries of the fuzz module
    (sensitive places and facility names, drafts, internal notes, confidential
    sources) are absent from prebuilt exports as from live ones."""
    build_all()
    assert fetch(client, "", "csv")[1]

    check_fuzz_redaction(client, fuzz)
