"""A worker killed mid-import (SIGKILL: no handler, no cleanup) leaves the database as it
was, and the batch shows as failed with the reason once its heartbeat is over a minute
old (DOMAIN.md "ImportBatch"; IMPORTS.md "A crash, a kill or Ctrl-C leaves the database
as it was")."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import time
from urllib.parse import urlsplit, urlunsplit

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from incidents.admin_imports import shown_status
from incidents.models import ImportBatch
from tests.factories import import_reference_data, researcher, reviewer
from tests.incidents.test_import_bad_input import db_state
from tests.incidents.test_import_support import UCDP_191_COLUMNS, ucdp_row, write_csv

pytestmark = pytest.mark.django_db(transaction=True)


def manage_py(*args: str, stdout, stderr) -> subprocess.Popen:
    """`manage.py …` in a process of its own, on this test's database."""
    url = urlsplit(os.environ["DATABASE_URL"])
    url = urlunsplit(url._replace(path="/" + connection.settings_dict["NAME"]))
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_SETTINGS_MODULE": "civtrack.settings_test",
        "PYTHONUNBUFFERED": "1",
        # libpq names the process's connections, so the test can wait for exactly
        # these to be gone (other tests may leave their own connections open).
        "PGAPPNAME": APP_NAME,
    }
    return subprocess.Popen(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=stdout,
        stderr=stderr,
    )


def wait_for(condition, *, timeout: float, process: subprocess.Popen | None = None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        if process is not None and process.poll() is not None:
            pytest.fail(f"the process ended first (exit {process.returncode})")
        time.sleep(0.02)
    pytest.fail("timed out")


APP_NAME = "civtrack-test-killed-import"


def other_backends() -> int:
    """Server processes still serving the killed command's connections (until
    PostgreSQL notices its client is gone and rolls its transaction back)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
            "AND application_name = %s",
            [APP_NAME],
        )
        return cursor.fetchone()[0]


def test_a_worker_killed_half_way_leaves_no_trace_and_the_batch_shows_failed(
    tmp_path, client
):
    import_reference_data()
    rows = [ucdp_row(id=str(n)) for n in range(1, 6001)]
    path = write_csv(tmp_path / "ged.csv", UCDP_191_COLUMNS, rows)
    before = db_state()
    log = (tmp_path / "out.txt").open("wb")

    process = manage_py(
        "import_incidents",
        str(path),
        "--format=ucdp-ged",
        "--release=19.1",
        "--release-date=2019-06-01",
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        # Half-way: the first chunk is written inside the batch's transaction and its
        # progress is visible through the progress connection.
        batch = wait_for(
            lambda: ImportBatch.objects.filter(progress_done__gt=0).first(),
            timeout=90,
            process=process,
        )
        os.kill(process.pid, signal.SIGKILL)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)
        log.close()
    wait_for(lambda: other_backends() == 0, timeout=120)

    assert process.returncode == -signal.SIGKILL
    assert 0 < batch.progress_done < batch.progress_total == 6000
    assert db_state() == before  # no incident, actor, place, source or audit row
    batch.refresh_from_db()
    assert batch.status == "running"  # as the killed worker left it
    assert batch.finished_at is None

    # Over a minute later, the admin and the API show it failed, with the reason.
    later = timezone.now() + dt.timedelta(minutes=2)
    with time_machine.travel(later, tick=False):
        assert shown_status(batch).startswith("failed (no heartbeat")
        client.force_login(reviewer())
        page = client.get(reverse("admin:incidents_importbatch_changelist"))
        assert "failed (no heartbeat for over a minute: the worker stopped)" in (
            page.content.decode()
        )
        api = APIClient()
        api.force_authenticate(researcher())
        body = api.get(reverse("api:import-detail", args=[batch.pk])).json()
    assert body["status"] == "failed"
    assert "heartbeat" in body["failure_reason"]


def test_the_command_line_prints_one_clean_error_and_exits_non_zero(tmp_path):
    import_reference_data()
    path = write_csv(tmp_path / "ged.csv", UCDP_191_COLUMNS, [ucdp_row()])
    data = path.read_bytes()
    path.write_bytes(data[: data.rindex(b"SOHR") + 2])  # cut inside a quoted value
    before = db_state()

    process = manage_py(
        "import_incidents",
        str(path),
        "--format=ucdp-ged",
        "--release=19.1",
        "--release-date=2019-06-01",
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    out, err = process.communicate(timeout=60)

    assert process.returncode == 1
    assert err.decode().strip() == (
        "CommandError: Line 2, column 'source_article': the file ends inside a quoted "
        "value (expected a closing quote and the rest of the record): the file is "
        "truncated."
    )
    assert b"Traceback" not in out + err
    assert db_state() == before
    assert ImportBatch.objects.get().status == "failed"
