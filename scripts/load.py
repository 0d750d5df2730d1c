"""`make load`: a bounded load test of CivTrack through real HTTP (issue 7, item 6).

    python scripts/load.py [--seconds 60] [--workers 4] [--readers 8] [--writers 3]
                           [--max-requests 50000] [--no-write-docs]

1. Uses the development database (`civtrack` on the embedded PostgreSQL, or
   LOAD_DATABASE_URL): migrates it and loads the demo data (`manage.py load_demo`) when
   it holds no published incident.
2. Creates a reviewer with an API token (a throw-away `load-test-…` account), picks
   the incidents the writers will edit, and starts gunicorn (--workers sync workers)
   on a free 127.0.0.1 port plus one `db_worker` for the import. Nothing leaves the
   machine: every request goes to 127.0.0.1.
3. For --seconds (and at most --max-requests requests), concurrently:
   - readers (anonymous): the list with and without filters, full-text search, the
     detail, map clusters (country and zoomed), statistics, the incidents page with
     its facets, the changes feed, and CSV / GeoJSON exports;
   - writers (the reviewer's token): PATCH edits with If-Match, each writer on its own
     incidents, plus two writers racing on one shared incident (their 412s are the
     optimistic lock refusing a stale write: counted, not errors);
   - one small import through the API (`POST /api/v1/imports/`, CivTrack CSV round
     trip of three other incidents, titles changed), polled until it finishes.
4. Checks that nothing was lost: every accepted edit (200) is in the audit trail at
   the version the API answered, with the text sent; each incident ends with its last
   accepted edit; the import succeeded and its titles are in the database.
5. Prints and writes docs/load.md: requests, errors, lost writes, throughput and
   p50/p95/p99 latency per operation, the machine and its load.

The edits are real edits of the development database (summaries get a marker line,
three titles a suffix), recorded in the audit trail with the reason "load test".
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import random
import secrets
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PY = str(ROOT / ".venv" / "bin" / "python")
STATE = ROOT / ".state"
DOCS = ROOT / "docs" / "load.md"


def say(text: str) -> None:
    print(text, flush=True)


# ---------------------------------------------------------------------------------------
# Set-up
# ---------------------------------------------------------------------------------------


def database_url() -> str:
    if os.environ.get("LOAD_DATABASE_URL"):
        return os.environ["LOAD_DATABASE_URL"]
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    out = subprocess.run(
        [PY, "-m", "civtrack.devdb", "url"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def server_env(url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "load-" + secrets.token_hex(24),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DATABASE_CONN_MAX_AGE": "600",
        "CIVTRACK_ANON_THROTTLE": "100000000/min",
        "CIVTRACK_USER_THROTTLE": "100000000/min",
        "CIVTRACK_STATIC_ROOT": str(STATE / "load-static"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def manage(env: dict[str, str], *args: str) -> None:
    subprocess.run(
        [PY, "manage.py", *args, "--skip-checks"],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def django_setup(env: dict[str, str]) -> None:
    """Django in this process, on the same database, for the set-up and the checks."""
    os.environ.update(
        {k: env[k] for k in ("DATABASE_URL", "DJANGO_DEBUG", "DJANGO_SECRET_KEY")}
    )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "civtrack.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


@dataclass
class Plan:
    token: str
    user_id: int
    own: list[list[str]]  # per writer, its incidents' codes
    shared: str  # the incident two writers race on
    imported: list[str]  # the incidents the import edits
    marker: str  # this run's marker
    read_code: str
    actor: str
    governorate: str


def prepare(writers: int) -> Plan:
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group
    from django.db import connection
    from knox.models import AuthToken

    from incidents.models import Actor, Incident, Location

    marker = (
        dt.datetime.now(tz=dt.UTC).strftime("%Y%m%dT%H%M%S")
        + "-"
        + uuid.uuid4().hex[:6]
    )
    user = get_user_model().objects.create_user(
        username=f"load-test-{marker}", password=secrets.token_urlsafe(24)
    )
    user.groups.add(Group.objects.get(name="reviewer"))
    _instance, token = AuthToken.objects.create(user, expiry=dt.timedelta(hours=2))
    codes = list(
        Incident.objects.filter(status=Incident.Status.PUBLISHED)
        .order_by("?")
        .values_list("code", flat=True)[: writers * 5 + 1 + 3 + 1]
    )
    if len(codes) < writers * 5 + 5:
        raise SystemExit(f"Only {len(codes)} published incidents: not enough to edit.")
    own = [codes[i * 5 : (i + 1) * 5] for i in range(writers)]
    rest = codes[writers * 5 :]
    actor = (
        Actor.objects.filter(attributions__incident__status="published")
        .values_list("slug", flat=True)
        .first()
    )
    governorate = (
        Location.objects.filter(level="governorate")
        .order_by("pcode")
        .values_list("slug", flat=True)
        .first()
    )
    plan = Plan(
        token=token,
        user_id=user.pk,
        own=own,
        shared=rest[0],
        imported=rest[1:4],
        marker=marker,
        read_code=rest[4],
        actor=actor or "",
        governorate=governorate or "",
    )
    connection.close()
    return plan


# ---------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------


class Budget:
    """The run's bounds: a deadline and a request count, shared by every thread."""

    def __init__(self, seconds: float, max_requests: int):
        self.deadline = time.monotonic() + seconds
        self.left = max_requests
        self.lock = threading.Lock()

    def take(self) -> bool:
        with self.lock:
            if self.left <= 0 or time.monotonic() >= self.deadline:
                return False
            self.left -= 1
            return True


@dataclass
class Stats:
    lock: threading.Lock = field(default_factory=threading.Lock)
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    errors: list[str] = field(default_factory=list)
    conflicts: int = 0
    accepted: list[tuple[str, int, str]] = field(default_factory=list)  # code, v, text
    exported_rows: int = 0

    def record(self, kind: str, seconds: float) -> None:
        with self.lock:
            self.latencies[kind].append(seconds)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)


def request(
    port: int,
    method: str,
    path: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes, float]:
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        data = response.read()
        return (
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            data,
            time.perf_counter() - started,
        )
    finally:
        conn.close()


def reader(
    port: int, plan: Plan, budget: Budget, stats: Stats, seed: int, exporter=False
) -> None:
    rng = random.Random(seed)  # noqa: S311 - picks requests, not secrets
    q = urllib.parse.urlencode
    paths = [
        ("list", "/api/v1/incidents/"),
        ("list", "/api/v1/incidents/?" + q({"ordering": "-civilians_killed_max"})),
        (
            "list, filters",
            "/api/v1/incidents/?"
            + q({"governorate": plan.governorate, "date_from": "2014-01-01"}),
        ),
        ("list, filters", "/api/v1/incidents/?" + q({"actor": plan.actor})),
        ("list, full text", "/api/v1/incidents/?" + q({"q": "hospital"})),
        ("detail", f"/api/v1/incidents/{plan.read_code}/"),
        ("detail page", f"/en/incidents/{plan.read_code}/"),
        ("incidents page", "/en/incidents/"),
        ("incidents page", "/en/incidents/?" + q({"grading": "confirmed,fair"})),
        ("map", "/api/v1/map/clusters/?zoom=6"),
        ("map", "/api/v1/map/clusters/?zoom=11&bbox=36.9,36.0,37.4,36.4"),
        ("stats", "/api/v1/stats/summary/?group_by=year,bloc"),
        ("stats", "/api/v1/stats/summary/?group_by=actor"),
        ("changes", "/api/v1/changes/?limit=200"),
    ]
    if exporter:
        # One client exporting the whole set again and again (a mirror's nightly pull,
        # on a loop): CSV and GeoJSON in turn.
        paths = [
            ("export csv", "/api/v1/incidents/?format=csv"),
            ("export geojson", "/api/v1/incidents/?format=geojson"),
        ]
    while budget.take():
        kind, path = rng.choice(paths)
        try:
            status, _headers, data, seconds = request(port, "GET", path)
        except OSError as error:
            stats.error(f"GET {path}: {error}")
            continue
        if status != 200:
            stats.error(f"GET {path}: {status} {data[:120]!r}")
            continue
        stats.record(kind, seconds)
        if kind == "export csv":
            with stats.lock:
                stats.exported_rows += data.count(b"\r\n") - 1


def _auth(plan: Plan) -> dict[str, str]:
    return {"Authorization": f"Token {plan.token}", "Accept": "application/json"}


def edit_once(
    port: int, plan: Plan, code: str, stats: Stats, writer_id: int, n: int
) -> int:
    """GET the version, PATCH the summary with If-Match. The answer's status."""
    path = f"/api/v1/incidents/{code}/"
    status, headers, data, seconds = request(port, "GET", path, headers=_auth(plan))
    if status != 200:
        stats.error(f"GET {path} (staff): {status} {data[:120]!r}")
        return status
    stats.record("detail (staff)", seconds)
    etag = headers.get("etag", "")
    text = f"Load test {plan.marker}: writer {writer_id}, edit {n}."
    body = json.dumps({"summary": text, "reason": "load test"}).encode()
    status, headers, data, seconds = request(
        port,
        "PATCH",
        path,
        body=body,
        headers={**_auth(plan), "Content-Type": "application/json", "If-Match": etag},
    )
    if status == 200:
        stats.record("edit (PATCH)", seconds)
        version = json.loads(data)["version"]
        with stats.lock:
            stats.accepted.append((code, int(version), text))
    elif status == 412:
        stats.record("edit refused (412)", seconds)
        with stats.lock:
            stats.conflicts += 1
    else:
        stats.error(f"PATCH {path}: {status} {data[:200]!r}")
    return status


def writer(port: int, plan: Plan, budget: Budget, stats: Stats, index: int) -> None:
    codes = plan.own[index]
    n = 0
    while budget.take():
        n += 1
        status = edit_once(port, plan, codes[n % len(codes)], stats, index, n)
        if status == 412:
            stats.error(f"writer {index}: 412 on its own incident")
        time.sleep(0.05)


def racer(port: int, plan: Plan, budget: Budget, stats: Stats, index: int) -> None:
    n = 0
    while budget.take():
        n += 1
        edit_once(port, plan, plan.shared, stats, 100 + index, n)


def importer(port: int, plan: Plan, stats: Stats, result: dict) -> None:
    """Export three incidents as CivTrack CSV, change their titles, import the file
    through the API and poll the batch until it ends."""
    import csv
    import io

    rows = []
    header = None
    for code in plan.imported:
        path = "/api/v1/incidents/?" + urllib.parse.urlencode(
            {"q": code, "format": "csv"}
        )
        status, _h, data, seconds = request(port, "GET", path, headers=_auth(plan))
        stats.record("export csv (import)", seconds)
        reader_ = csv.DictReader(io.StringIO(data.decode("utf-8"), newline=""))
        header = reader_.fieldnames
        rows += [row for row in reader_ if row["code"] == code]
    titles = {}
    for row in rows:
        row["title"] = f"{row['title']} [load test {plan.marker}]"
        titles[row["code"]] = row["title"]
    out = io.StringIO(newline="")
    writer_ = csv.DictWriter(out, fieldnames=header)
    writer_.writeheader()
    writer_.writerows(rows)
    boundary = uuid.uuid4().hex
    fields = {"format": "civtrack", "publish": "true"}  # publish: they are published
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
        f"{value}\r\n".encode()
        for name, value in fields.items()
    )
    body += (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="load-test-{plan.marker}.csv"\r\nContent-Type: text/csv\r\n\r\n'
    ).encode()
    body += out.getvalue().encode() + f"\r\n--{boundary}--\r\n".encode()
    status, _h, data, seconds = request(
        port,
        "POST",
        "/api/v1/imports/",
        body=body,
        headers={
            **_auth(plan),
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
    )
    if status != 202:
        stats.error(f"POST /api/v1/imports/: {status} {data[:300]!r}")
        return
    stats.record("import (POST)", seconds)
    url = urllib.parse.urlsplit(json.loads(data)["url"]).path
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status, _h, data, seconds = request(port, "GET", url, headers=_auth(plan))
        if status != 200:
            stats.error(f"GET {url}: {status}")
            return
        batch = json.loads(data)
        if batch["status"] in ("succeeded", "failed"):
            result.update(batch=batch, titles=titles)
            return
        time.sleep(0.5)
    stats.error("the import did not finish in 120 s")


# ---------------------------------------------------------------------------------------
# Checks and report
# ---------------------------------------------------------------------------------------


def check(plan: Plan, stats: Stats, imported: dict) -> dict[str, object]:
    """Every accepted edit in the audit trail; every incident at its last edit; the
    import's titles in the database."""
    from django.db import connection

    from incidents.models import Incident, IncidentEvent

    lost = []
    ids = dict(
        Incident.objects.filter(
            code__in={code for code, _v, _t in stats.accepted}
        ).values_list("code", "id")
    )
    for code, version, text in stats.accepted:
        found = IncidentEvent.objects.filter(
            pgh_obj_id=ids[code], version=version, summary=text
        ).exists()
        if not found:
            lost.append(f"{code} v{version}")
    last: dict[str, tuple[int, str]] = {}
    for code, version, text in stats.accepted:
        if code not in last or version > last[code][0]:
            last[code] = (version, text)
    wrong_final = [
        code
        for code, (_v, text) in last.items()
        if Incident.objects.get(code=code).summary != text
    ]
    versions_by_code = defaultdict(list)
    for code, version, _text in stats.accepted:
        versions_by_code[code].append(version)
    duplicate_versions = [
        code for code, vs in versions_by_code.items() if len(vs) != len(set(vs))
    ]
    import_ok = False
    import_note = "not run"
    if imported.get("batch"):
        batch = imported["batch"]
        titles = imported["titles"]
        in_db = dict(
            Incident.objects.filter(code__in=titles).values_list("code", "title")
        )
        import_ok = batch["status"] == "succeeded" and all(
            in_db.get(code) == title for code, title in titles.items()
        )
        import_note = f"{batch['status']}, counts {batch.get('counts')}"
    connection.close()
    return {
        "lost": lost,
        "wrong_final": wrong_final,
        "duplicate_versions": duplicate_versions,
        "import_ok": import_ok,
        "import_note": import_note,
    }


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return ordered[index] * 1000


def table(stats: Stats, seconds: float) -> list[str]:
    lines = [
        "| operation | requests | per second | p50 ms | p95 ms | p99 ms |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    everything: list[float] = []
    for kind in sorted(stats.latencies):
        samples = stats.latencies[kind]
        everything += samples
        lines.append(
            f"| {kind} | {len(samples):,} | {len(samples) / seconds:,.1f} | "
            f"{percentile(samples, 0.5):,.1f} | {percentile(samples, 0.95):,.1f} | "
            f"{percentile(samples, 0.99):,.1f} |"
        )
    if everything:
        lines.append(
            f"| **all** | **{len(everything):,}** | **{len(everything) / seconds:,.1f}** | "
            f"{percentile(everything, 0.5):,.1f} | {percentile(everything, 0.95):,.1f} | "
            f"{percentile(everything, 0.99):,.1f} |"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--workers", type=int, default=4, help="gunicorn workers")
    parser.add_argument("--readers", type=int, default=8)
    parser.add_argument("--writers", type=int, default=3)
    parser.add_argument("--max-requests", type=int, default=50_000)
    parser.add_argument("--no-write-docs", action="store_true")
    args = parser.parse_args()
    command = "make load" + (
        f" LOAD_ARGS='{' '.join(sys.argv[1:])}'" if sys.argv[1:] else ""
    )

    url = database_url()
    env = server_env(url)
    say(f"[setup] database {url.rsplit('/', 1)[-1]}: migrating…")
    manage(env, "migrate", "--noinput")
    django_setup(env)
    from incidents.models import Incident

    published = Incident.objects.filter(status=Incident.Status.PUBLISHED).count()
    if published < args.writers * 5 + 5:
        say(f"[setup] {published} published incidents: loading the demo data…")
        manage(env, "load_demo")
        published = Incident.objects.filter(status=Incident.Status.PUBLISHED).count()
    plan = prepare(args.writers)
    say(
        f"[setup] {published:,} published incidents; reviewer load-test-{plan.marker}; "
        f"starting gunicorn ({args.workers} workers) and a db_worker…"
    )
    manage(env, "collectstatic", "--noinput")
    port = free_port()
    gunicorn = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "civtrack.wsgi",
            "--workers",
            str(args.workers),
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "120",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    worker = subprocess.Popen(
        [PY, "manage.py", "db_worker", "--no-startup-delay", "--no-reload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
    )
    stats = Stats()
    imported: dict = {}
    load_before = os.getloadavg()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                request(port, "GET", "/api/v1/vocabularies/")
                break
            except OSError:
                if time.monotonic() > deadline or gunicorn.poll() is not None:
                    raise RuntimeError("gunicorn did not start") from None
                time.sleep(0.3)
        say(
            f"[load] {args.seconds:.0f} s: {args.readers} readers, 1 exporter, "
            f"{args.writers} writers, 2 racing writers, 1 import…"
        )
        budget = Budget(args.seconds, args.max_requests)
        threads = [
            threading.Thread(target=reader, args=(port, plan, budget, stats, i))
            for i in range(args.readers)
        ]
        threads.append(
            threading.Thread(target=reader, args=(port, plan, budget, stats, 99, True))
        )
        threads += [
            threading.Thread(target=writer, args=(port, plan, budget, stats, i))
            for i in range(args.writers)
        ]
        threads += [
            threading.Thread(target=racer, args=(port, plan, budget, stats, i))
            for i in range(2)
        ]
        threads.append(
            threading.Thread(target=importer, args=(port, plan, stats, imported))
        )
        started = time.monotonic()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        load_after = os.getloadavg()
    finally:
        for process in (gunicorn, worker):
            process.terminate()
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()

    say("[check] accepted edits against the audit trail…")
    result = check(plan, stats, imported)
    lines = table(stats, elapsed)
    total = sum(len(v) for v in stats.latencies.values())
    ok = (
        not stats.errors
        and not result["lost"]
        and not result["wrong_final"]
        and not result["duplicate_versions"]
        and result["import_ok"]
    )
    summary = [
        f"- {total:,} requests in {elapsed:.1f} s ({total / elapsed:,.1f}/s), "
        f"{len(stats.errors)} errors",
        f"- {len(stats.accepted)} edits accepted, {len(result['lost'])} lost "
        "(every accepted edit is in the audit trail at the version answered, with "
        f"the text sent), {len(result['wrong_final'])} incidents not at their last "
        f"edit, {len(result['duplicate_versions'])} versions answered twice",
        f"- {stats.conflicts} stale edits refused with 412 (two writers racing on "
        "one incident: the optimistic lock at work, not errors)",
        f"- import through the API: {result['import_note']}; titles in the database: "
        f"{'yes' if result['import_ok'] else 'NO'}",
        f"- CSV export rows streamed: {stats.exported_rows:,}",
    ]
    say("\n" + "\n".join(summary) + "\n\n" + "\n".join(lines))
    for text in stats.errors[:20]:
        say(f"  error: {text}")
    for text in result["lost"][:20]:
        say(f"  lost: {text}")
    if not args.no_write_docs:
        write_docs(
            lines, summary, args, elapsed, published, load_before, load_after, command
        )
        say(f"\nWritten to {DOCS.relative_to(ROOT)}")
    say("\nOK" if ok else "\nFAILED")
    return 0 if ok else 1


def write_docs(
    lines, summary, args, elapsed, published, load_before, load_after, command
) -> None:
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    text = f"""# Load test

Measured by `scripts/load.py` on {dt.datetime.now(tz=dt.UTC).date().isoformat()}.
Reproduce with:

    make run    # once: installs, migrates, loads the demo data
    {command}

## Set-up

- {os.cpu_count()} CPUs ({cpu}), {platform.platform()}, Python {platform.python_version()}
- gunicorn with {args.workers} sync workers on 127.0.0.1, the embedded PostgreSQL,
  one `db_worker`, and the client threads, all on the same machine; load average
  {load_before[0]:.1f} before the run and {load_after[0]:.1f} at its end
- the development database with the demo data: {published:,} published incidents
- {args.readers} anonymous readers (list, filters, full text, detail, incidents
  page with facets, map clusters, statistics, changes feed), one client exporting
  the whole set (CSV and GeoJSON in turn), {args.writers} writers editing their own incidents (GET the ETag, PATCH with
  If-Match), 2 writers racing on one shared incident, one CivTrack CSV import through
  `POST /api/v1/imports/`; {args.seconds:.0f} s and at most {args.max_requests:,}
  requests

## Results

{chr(10).join(summary)}

{chr(10).join(lines)}

Latencies are per request, measured by the client (connection included); an
export's is the whole download. Each writer pauses 50 ms between edits. The readers'
operations are drawn at random. Every client sends its next request as soon as the
last one is answered, so the latencies include the wait for a free worker: with
more clients than workers they measure the queue as much as the request.

Under this write load, public data changes about every second, so the cached
statistics, facet counts, map clusters and list counts (incidents/public_cache.py)
are computed again after nearly every change, once per gunicorn worker (the default
cache is per process): the reads above mostly pay the uncached price. A shared
cache (CACHES, e.g. Redis) would compute each once per change for all workers.
The load average counts every process on the machine, including work that was not
this test's when it shared the machine.
"""
    DOCS.parent.mkdir(exist_ok=True)
    DOCS.write_text(text)


if __name__ == "__main__":
    sys.exit(main())
