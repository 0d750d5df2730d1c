"""`make bench`: CivTrack at a million incidents, against its raw-SQL floor and Datasette.

    python scripts/bench.py [--incidents 1000000] [--repeat 30] [--budget 20]
                            [--no-datasette] [--no-import] [--only NAME,…] [--no-write]

1. Builds or reuses the benchmark database `civtrack_bench` on the embedded PostgreSQL
   (or BENCH_DATABASE_URL): migrates it and tops it up to --incidents synthetic incidents
   with `manage.py generate_synthetic` (the dev database `civtrack` is never touched).
2. Starts gunicorn (2 sync workers) on a free 127.0.0.1 port and measures every
   operation of issue 8's table through real HTTP (http.client, 127.0.0.1 only,
   bounded loops: --repeat samples or --budget seconds per operation, whichever ends
   first), and its floor: the same result fetched by hand-written SQL through psycopg2
   on the same database. An endpoint that answers 404 is reported as "not available".
3. Exports the same data to SQLite (same indexes where SQLite has them, FTS5 for text),
   serves it with Datasette from its own venv (.state/bench-venv) and measures the
   operations Datasette can do.
4. Prints the table (p50/p95, ratio to the floor, Datasette) and writes
   docs/benchmarks.md with the machine described and the command to reproduce.
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import os
import platform
import secrets
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
import bench_datasette  # noqa: E402

PY = str(ROOT / ".venv" / "bin" / "python")
STATE = ROOT / ".state"
DOCS = ROOT / "docs" / "benchmarks.md"
BENCH_DB = "civtrack_bench"
IMPORT_DB = "civtrack_bench_import"
GENERATION_LOG = STATE / "bench-generation.json"
UCDP_FILE = ROOT / "data" / "ucdp_ged_syria_652.1601.1911.csv.gz"


def say(text: str) -> None:
    print(text, flush=True)


# ---------------------------------------------------------------------------------------
# Databases and servers
# ---------------------------------------------------------------------------------------


def devdb_url(database: str) -> str:
    env = {**os.environ, "CIVTRACK_DEV_DATABASE": database}
    env.pop("DATABASE_URL", None)
    out = subprocess.run(
        [PY, "-m", "civtrack.devdb", "url"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip().splitlines()[-1]


def django_env(database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "DJANGO_DEBUG": "0",
        "DJANGO_SECRET_KEY": "bench-" + secrets.token_hex(24),
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_SECURE_SSL_REDIRECT": "0",
        "DJANGO_SECURE_COOKIES": "0",
        "DATABASE_CONN_MAX_AGE": "600",
        "CIVTRACK_ANON_THROTTLE": "100000000/min",
        "CIVTRACK_STATIC_ROOT": str(STATE / "bench-static"),
        "PYTHONDONTWRITEBYTECODE": "1",
    }


def manage(env: dict[str, str], *args: str, quiet: bool = False) -> None:
    subprocess.run(
        [PY, "manage.py", *args],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL if quiet else None,
    )


def psql(database_url: str):
    import psycopg2

    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    return conn


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(port: int, process: subprocess.Popen, path: str = "/", seconds: int = 60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"server on port {port} exited ({process.returncode})")
        try:
            status, _body, _t = fetch(port, path)
            return status
        except OSError:
            time.sleep(0.3)
    raise RuntimeError(f"server on port {port} did not answer in {seconds}s")


def fetch(port: int, path: str, sink=None) -> tuple[int, bytes, float]:
    """GET 127.0.0.1:port/path; the body (or, with sink, bytes fed to sink); seconds."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    try:
        conn.request("GET", path, headers={"Accept-Encoding": "identity"})
        response = conn.getresponse()
        if sink is None:
            body = response.read()
        else:
            body = b""
            while chunk := response.read(1 << 20):
                sink(chunk)
        return response.status, body, time.perf_counter() - started
    finally:
        conn.close()


# ---------------------------------------------------------------------------------------
# Measurements
# ---------------------------------------------------------------------------------------


@dataclass
class Result:
    name: str
    target: str
    http: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)
    datasette: list[float] = field(default_factory=list)
    note: str = ""
    datasette_note: str = ""
    # The very first request's time (the cold one: no cached aggregate yet), apart from
    # the samples, which follow two warm-up requests.
    first_ms: float | None = None
    rows_per_s: float | None = None
    floor_rows_per_s: float | None = None
    datasette_rows_per_s: float | None = None
    peak_rss_mb: float | None = None
    datasette_rss_mb: float | None = None
    limit_ms: float | None = None
    ratio_limit: float | None = None

    def p(self, samples: list[float], q: float) -> float | None:
        if not samples:
            return None
        ordered = sorted(samples)
        index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
        return ordered[index] * 1000

    def verdict(self) -> str:
        if self.rows_per_s is not None:
            ok = self.rows_per_s >= 100_000 and (self.peak_rss_mb or 0) < 300
            return "met" if ok else "NOT met"
        if self.note and not self.http:
            return "–"
        p50 = self.p(self.http, 0.5)
        if p50 is None or self.limit_ms is None:
            return "–"
        ok = p50 <= self.limit_ms
        if self.ratio_limit is not None and self.floor:
            ok = ok and p50 <= self.ratio_limit * self.p(self.floor, 0.5)
        if self.name.startswith("incidents page") and self.datasette:
            ok = ok and p50 < self.p(self.datasette, 0.5)
        return "met" if ok else "NOT met"


def timed_loop(call, repeat: int, budget: float) -> list[float]:
    samples: list[float] = []
    deadline = time.monotonic() + budget
    for _ in range(repeat):
        samples.append(call())
        if time.monotonic() > deadline and len(samples) >= 5:
            break
    return samples


def measure_http(
    port: int, path: str, repeat: int, budget: float
) -> tuple[list[float], str, float]:
    """(samples, note, the first request's ms: the cold one)."""
    status, body, first = fetch(port, path)  # warm-up (and availability)
    first_ms = first * 1000
    if status == 404:
        return [], "not available (404)", first_ms
    if status != 200:
        return [], f"error {status}: {body[:160].decode(errors='replace')}", first_ms
    fetch(port, path)

    def once() -> float:
        status, _body, seconds = fetch(port, path)
        if status != 200:
            raise RuntimeError(f"{path} answered {status}")
        return seconds

    return timed_loop(once, repeat, budget), "", first_ms


def measure_sql(conn, statements: list[tuple[str, list]], repeat: int, budget: float):
    def once() -> float:
        started = time.perf_counter()
        with conn.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
                cursor.fetchall()
        return time.perf_counter() - started

    once()
    return timed_loop(once, repeat, budget)


class RssWatcher:
    """Peak resident memory of a process tree (gunicorn master and workers)."""

    def __init__(self, pid: int):
        import psutil

        self.process = psutil.Process(pid)
        self.peak = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def run(self) -> None:
        import psutil

        while not self.stop.is_set():
            try:
                members = [self.process, *self.process.children(recursive=True)]
                for member in members:
                    self.peak = max(self.peak, member.memory_info().rss)
            except psutil.Error:
                pass
            time.sleep(0.05)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join()


def measure_export(
    port: int, path: str, pid: int, marker: bytes
) -> tuple[float, float, int, str]:
    """Stream a whole export; (rows/s, peak RSS MB of the serving process tree, rows)."""
    count = [0]

    def sink(chunk: bytes) -> None:
        count[0] += chunk.count(marker)

    with RssWatcher(pid) as watcher:
        status, body, seconds = fetch(port, path, sink=sink)
    if status == 404:
        return 0, 0, 0, "not available (404)"
    if status != 200:
        return 0, 0, 0, f"error {status}: {body[:160].decode(errors='replace')}"
    rows = count[0] - (1 if marker == b"\n" else 0)
    return rows / seconds, watcher.peak / 2**20, rows, ""


# ---------------------------------------------------------------------------------------
# The operations
# ---------------------------------------------------------------------------------------

PUBLIC = "i.status = 'published' AND i.grading <> 'discounted'"
LIST_COLUMNS = """i.id, i.code, i.title, i.title_ar, i.summary, i.date_start, i.date_end,
    i.date_precision, i.public_latitude, i.public_longitude, i.public_geo_precision,
    i.incident_type_id, i.public_location_id, i.governorate_id, i.casualties_known,
    i.civilians_killed_min, i.civilians_killed_max, i.civilians_injured_min,
    i.civilians_injured_max, i.children_killed_min, i.children_killed_max,
    i.medical_personnel_killed_min, i.medical_personnel_killed_max, i.total_killed_min,
    i.total_killed_max, i.total_injured_min, i.total_injured_max, i.aggregate, i.grading,
    i.status, i.updated_at, i.version"""
PARTS = [
    # What a list row carries besides the incident: perpetrators, weapons, targets,
    # place names, sources count, for the 50 ids of the page.
    (
        """SELECT p.incident_id, a.slug, a.name, p.confidence, p.alternative, p.position
           FROM incidents_attribution p JOIN incidents_actor a ON a.id = p.actor_id
           WHERE p.incident_id = ANY(%s) AND p.role = 'perpetrator'""",
        "ids",
    ),
    (
        """SELECT w.incident_id, v.code, w.certainty FROM incidents_incidentweapon w
           JOIN incidents_weapontype v ON v.id = w.weapon_id WHERE w.incident_id = ANY(%s)""",
        "ids",
    ),
    (
        """SELECT t.incident_id, v.code, t.damage FROM incidents_incidenttarget t
           JOIN incidents_targettype v ON v.id = t.target_type_id WHERE t.incident_id = ANY(%s)""",
        "ids",
    ),
    (
        """SELECT c.incident_id, count(*) FROM incidents_citation c
           JOIN incidents_source s ON s.id = c.source_id
           WHERE c.incident_id = ANY(%s) AND NOT s.confidential GROUP BY 1""",
        "ids",
    ),
]


def list_floor(conn, where: str, params: list, after: tuple | None = None):
    """The floor of a 50-row list page: the page, its parts, and the exact count."""
    keyset = " AND (i.date_start, i.id) < (%s, %s)" if after else ""
    page_sql = (
        f"SELECT {LIST_COLUMNS} FROM incidents_incident i WHERE {PUBLIC} AND {where}"
        f"{keyset} ORDER BY i.date_start DESC, i.id DESC LIMIT 50"
    )
    count_sql = f"SELECT count(*) FROM incidents_incident i WHERE {PUBLIC} AND {where}"

    def run() -> None:
        with conn.cursor() as cursor:
            cursor.execute(page_sql, [*params, *(after or ())])
            ids = [row[0] for row in cursor.fetchall()]
            for sql, _kind in PARTS:
                cursor.execute(sql, [ids])
                cursor.fetchall()
            if not after:
                cursor.execute(count_sql, params)
                cursor.fetchall()

    return run


def sql_floor(conn, statements: list[tuple[str, list]]):
    def run() -> None:
        with conn.cursor() as cursor:
            for sql, params in statements:
                cursor.execute(sql, params)
                cursor.fetchall()

    return run


STATS_YEAR_BLOC = f"""
WITH p AS (
  SELECT a.incident_id, ac.bloc AS key, a.alternative, a.confidence
  FROM incidents_attribution a JOIN incidents_actor ac ON ac.id = a.actor_id
  WHERE a.role = 'perpetrator'),
hyp AS (SELECT incident_id, count(DISTINCT alternative) AS n FROM p
        WHERE alternative IS NOT NULL GROUP BY incident_id),
involved AS (
  SELECT p.incident_id, p.key,
         bool_or(p.alternative IS NULL)
           OR count(DISTINCT p.alternative) = max(hyp.n) AS certain,
         bool_or(p.confidence IN ('confirmed', 'likely')) AS counted
  FROM p LEFT JOIN hyp USING (incident_id) GROUP BY 1, 2)
SELECT extract(year FROM i.date_start) AS year, v.key, count(*),
       count(*) FILTER (WHERE NOT v.certain),
       sum(i.civilians_killed_min) FILTER (WHERE v.certain), sum(i.civilians_killed_max),
       sum(i.children_killed_min) FILTER (WHERE v.certain), sum(i.children_killed_max),
       sum(i.total_killed_min) FILTER (WHERE v.certain), sum(i.total_killed_max)
FROM involved v JOIN incidents_incident i ON i.id = v.incident_id
WHERE v.counted AND {PUBLIC}
GROUP BY 1, 2 ORDER BY 1, 2
"""
STATS_TOTAL = f"""
SELECT extract(year FROM i.date_start), count(*), sum(i.civilians_killed_min),
       sum(i.civilians_killed_max)
FROM incidents_incident i WHERE {PUBLIC} GROUP BY 1"""
STATS_ACTOR = STATS_YEAR_BLOC.replace("ac.bloc AS key", "ac.slug AS key").replace(
    "SELECT extract(year FROM i.date_start) AS year, v.key",
    "SELECT 0 AS year, v.key",
)


def clusters_sql(
    cell: float, bbox: tuple[float, float, float, float]
) -> tuple[str, list]:
    return (
        f"""SELECT floor(i.public_longitude / %s), floor(i.public_latitude / %s),
                   count(*), avg(i.public_latitude), avg(i.public_longitude),
                   max(i.civilians_killed_max), min(i.public_longitude),
                   min(i.public_latitude), max(i.public_longitude), max(i.public_latitude)
            FROM incidents_incident i
            WHERE {PUBLIC} AND NOT i.aggregate AND i.public_latitude IS NOT NULL
              AND i.public_longitude BETWEEN %s AND %s AND i.public_latitude BETWEEN %s AND %s
            GROUP BY 1, 2""",
        [cell, cell, bbox[0], bbox[2], bbox[1], bbox[3]],
    )


DETAIL_SQL = [
    f"SELECT {LIST_COLUMNS} FROM incidents_incident i WHERE i.code = %s AND {PUBLIC}",
    """SELECT c.group, c.outcome, c.min, c.max, c.best FROM incidents_casualtycount c
       JOIN incidents_incident i ON i.id = c.incident_id WHERE i.code = %s""",
    """SELECT a.slug, a.name, a.bloc, p.role, p.confidence, p.alternative, p.position
       FROM incidents_attribution p JOIN incidents_actor a ON a.id = p.actor_id
       JOIN incidents_incident i ON i.id = p.incident_id WHERE i.code = %s""",
    """SELECT s.id, s.title, s.publisher, s.url, s.archive_url, c.supports, c.excerpt
       FROM incidents_citation c JOIN incidents_source s ON s.id = c.source_id
       JOIN incidents_incident i ON i.id = c.incident_id WHERE i.code = %s""",
    """SELECT v.code, w.certainty FROM incidents_incidentweapon w
       JOIN incidents_weapontype v ON v.id = w.weapon_id
       JOIN incidents_incident i ON i.id = w.incident_id WHERE i.code = %s""",
    """SELECT v.code, t.damage FROM incidents_incidenttarget t
       JOIN incidents_targettype v ON v.id = t.target_type_id
       JOIN incidents_incident i ON i.id = t.incident_id WHERE i.code = %s""",
]

FACET_SQL = [
    f"SELECT i.governorate_id, count(*) FROM incidents_incident i WHERE {PUBLIC} GROUP BY 1",
    f"SELECT i.incident_type_id, count(*) FROM incidents_incident i WHERE {PUBLIC} GROUP BY 1",
    f"SELECT i.grading, count(*) FROM incidents_incident i WHERE {PUBLIC} GROUP BY 1",
    f"SELECT extract(year FROM i.date_start), count(*) FROM incidents_incident i WHERE {PUBLIC} GROUP BY 1",
    f"""SELECT ac.bloc, count(DISTINCT p.incident_id) FROM incidents_attribution p
        JOIN incidents_actor ac ON ac.id = p.actor_id JOIN incidents_incident i ON i.id = p.incident_id
        WHERE p.role = 'perpetrator' AND {PUBLIC} GROUP BY 1""",
    f"""SELECT w.weapon_id, count(DISTINCT w.incident_id) FROM incidents_incidentweapon w
        JOIN incidents_incident i ON i.id = w.incident_id WHERE {PUBLIC} GROUP BY 1""",
    f"""SELECT t.target_type_id, count(DISTINCT t.incident_id) FROM incidents_incidenttarget t
        JOIN incidents_incident i ON i.id = t.incident_id WHERE {PUBLIC} GROUP BY 1""",
]


@dataclass
class Fixture:
    """Values the operations need, read from the bench database."""

    code: str
    incident_id: int
    governorate_slug: str
    governorate_id: int
    governorate_name: str
    type_code: str
    type_ids: list[int]
    word: str
    deep_after: tuple
    deep_sqlite: str
    change_seq: int


def read_fixture(conn) -> Fixture:
    with conn.cursor() as cursor:
        cursor.execute(
            f"""SELECT i.code, i.id FROM incidents_incident i WHERE {PUBLIC}
                ORDER BY i.id OFFSET (SELECT count(*) / 2 FROM incidents_incident) LIMIT 1"""
        )
        code, incident_id = cursor.fetchone()
        cursor.execute(
            """SELECT slug, id, name FROM incidents_location WHERE level = 'governorate'
               AND (pcode = 'SY02' OR slug = 'syn-aleppo') ORDER BY pcode NULLS LAST LIMIT 1"""
        )
        gov_slug, gov_id, gov_name = cursor.fetchone()
        cursor.execute(
            """SELECT code, id FROM incidents_incidenttype
               WHERE code IN ('shelling', 'syn-shelling') ORDER BY code LIMIT 1"""
        )
        type_code, type_id = cursor.fetchone()
        cursor.execute(
            "SELECT id FROM incidents_incidenttype WHERE id = %s OR parent_id = %s",
            [type_id, type_id],
        )
        type_ids = [row[0] for row in cursor.fetchall()]
        cursor.execute(
            f"""SELECT i.date_start, i.id FROM incidents_incident i WHERE {PUBLIC}
                ORDER BY i.date_start DESC, i.id DESC OFFSET 899999 LIMIT 1"""
        )
        deep = cursor.fetchone() or (dt.date(2011, 1, 1), 0)
        cursor.execute("SELECT coalesce(min(seq), 0) FROM incidents_publicchange")
        first_seq = cursor.fetchone()[0]
    return Fixture(
        code=code,
        incident_id=incident_id,
        governorate_slug=gov_slug,
        governorate_id=gov_id,
        governorate_name=gov_name,
        type_code=type_code,
        type_ids=type_ids,
        word="Salma",
        deep_after=deep,
        deep_sqlite=f"{deep[0].isoformat()},{deep[1]}",
        change_seq=first_seq + 100_000,
    )


def q(params: dict) -> str:
    return urllib.parse.urlencode(params)


def operations(fx: Fixture, conn):
    """(name, target ms, ratio limit, CivTrack path, floor callable, Datasette path)."""
    text_where = "i.search_vector @@ (plainto_tsquery('simple', %s) || plainto_tsquery('english', %s))"
    filters = {
        "governorate": fx.governorate_slug,
        "incident_type": fx.type_code,
        "date_from": "2015-01-01",
    }
    three_where = (
        "i.governorate_id = %s AND i.incident_type_id = ANY(%s) AND i.date_end >= %s"
    )
    three_params = [fx.governorate_id, fx.type_ids, dt.date(2015, 1, 1)]
    ds_list = "/bench/incidents.json?_size=50&_sort_desc=date_start"
    facets = (
        "&".join(
            f"_facet={f}" for f in ("governorate", "incident_type", "grading", "year")
        )
        + "&_facet_array=blocs"
    )
    whole = (35.7, 32.3, 42.4, 37.3)
    zoomed = (36.9, 36.0, 37.4, 36.4)
    stats_sql = (
        "SELECT i.year, a.bloc, count(DISTINCT i.id), sum(i.civilians_killed_min), "
        "sum(i.civilians_killed_max) FROM incidents i JOIN attributions a ON "
        "a.incident_id = i.id WHERE a.role = 'perpetrator' AND a.confidence IN "
        "('confirmed', 'likely') AND i.grading <> 'discounted' GROUP BY 1, 2"
    )
    actor_sql = stats_sql.replace("i.year, a.bloc", "a.actor").replace(
        "GROUP BY 1, 2", "GROUP BY 1"
    )
    map_sql = (
        "SELECT cast(longitude / {c} AS int), cast(latitude / {c} AS int), count(*), "
        "avg(latitude), avg(longitude), max(civilians_killed_max) FROM incidents "
        "WHERE NOT aggregate AND latitude IS NOT NULL AND grading <> 'discounted' "
        "AND longitude BETWEEN {b[0]} AND {b[2]} AND latitude BETWEEN {b[1]} AND {b[3]} "
        "GROUP BY 1, 2"
    )
    return [
        (
            "API list, 50 rows + exact count, no filter",
            50,
            3,
            "/api/v1/incidents/?page_size=50",
            list_floor(conn, "TRUE", []),
            ds_list,
        ),
        (
            "API list, 3 filters",
            50,
            3,
            "/api/v1/incidents/?" + q(filters),
            list_floor(conn, three_where, three_params),
            ds_list
            + "&"
            + q(
                {
                    "governorate": fx.governorate_name,
                    "incident_type": fx.type_code,
                    "date_end__gte": "2015-01-01",
                }
            ),
        ),
        (
            "API list, full-text query",
            50,
            3,
            "/api/v1/incidents/?" + q({"q": fx.word}),
            list_floor(conn, text_where, [fx.word, fx.word]),
            ds_list + "&" + q({"_search": fx.word}),
        ),
        (
            "API list deep in the cursor (row 900,000)",
            50,
            None,
            "DEEP",
            list_floor(conn, "TRUE", [], after=fx.deep_after),
            ds_list + "&" + q({"_next": fx.deep_sqlite}),
        ),
        (
            "incidents page with all facet counts",
            300,
            None,
            "/en/incidents/",
            sql_floor(conn, [(s, []) for s in FACET_SQL]),
            "/bench/incidents?_size=50&_sort_desc=date_start&" + facets,
        ),
        (
            "statistics by year × bloc",
            300,
            None,
            "/api/v1/stats/summary/?group_by=year,bloc",
            sql_floor(conn, [(STATS_YEAR_BLOC, []), (STATS_TOTAL, [])]),
            "/bench.json?" + q({"sql": stats_sql, "_shape": "array"}),
        ),
        (
            "statistics per actor, with hypotheses",
            300,
            None,
            "/api/v1/stats/summary/?group_by=actor",
            sql_floor(conn, [(STATS_ACTOR, []), (STATS_TOTAL, [])]),
            "/bench.json?" + q({"sql": actor_sql, "_shape": "array"}),
        ),
        (
            "map clusters, whole country",
            150,
            None,
            "/api/v1/map/clusters/?"
            + q({"zoom": 6, "bbox": ",".join(map(str, whole))}),
            sql_floor(conn, [clusters_sql(0.25, whole)]),
            "/bench.json?"
            + q({"sql": map_sql.format(c=0.25, b=whole), "_shape": "array"}),
        ),
        (
            "map clusters, zoomed bbox",
            150,
            None,
            "/api/v1/map/clusters/?"
            + q({"zoom": 11, "bbox": ",".join(map(str, zoomed))}),
            sql_floor(conn, [clusters_sql(0.01, zoomed)]),
            "/bench.json?"
            + q({"sql": map_sql.format(c=0.01, b=zoomed), "_shape": "array"}),
        ),
        (
            "incident detail, API",
            30,
            None,
            f"/api/v1/incidents/{fx.code}/",
            sql_floor(conn, [(s, [fx.code]) for s in DETAIL_SQL]),
            f"/bench/incidents/{fx.incident_id}.json",
        ),
        (
            "incident detail, page",
            30,
            None,
            f"/en/incidents/{fx.code}/",
            sql_floor(conn, [(s, [fx.code]) for s in DETAIL_SQL]),
            f"/bench/incidents/{fx.incident_id}",
        ),
        (
            "changes feed, 1,000 changes",
            50,
            None,
            "CHANGES",
            sql_floor(
                conn,
                [
                    (
                        "SELECT seq, at, code, action, version FROM incidents_publicchange "
                        "WHERE seq > %s ORDER BY seq LIMIT 1000",
                        [fx.change_seq],
                    )
                ],
            ),
            "/bench/changes.json?"
            + q({"_size": 1000, "_sort": "seq", "seq__gt": fx.change_seq}),
        ),
    ]


def changes_http(port: int) -> tuple[int, float, str]:
    """Fetch 1,000 changes through /api/v1/changes/, following the feed's cursor
    (`next_url`, or `next` as a URL or as the `since` value)."""
    started = time.perf_counter()
    path = "/api/v1/changes/?limit=1000"
    got = 0
    while got < 1000 and path:
        status, body, _s = fetch(port, path)
        if status != 200:
            return status, 0.0, body[:160].decode(errors="replace")
        data = json.loads(body)
        results = data.get("results", data if isinstance(data, list) else [])
        got += len(results)
        if not results or not isinstance(data, dict):
            break
        nxt = data.get("next_url") or data.get("next")
        if nxt is None:
            break
        if isinstance(nxt, int):
            path = "/api/v1/changes/?" + q({"since": nxt, "limit": 1000})
        else:
            parts = urllib.parse.urlsplit(str(nxt))
            path = parts.path + ("?" + parts.query if parts.query else "")
    return 200, time.perf_counter() - started, f"{got} changes"


def deep_cursor_path(port: int, depth: int, budget: float) -> tuple[str | None, str]:
    """Walk the cursor to `depth` rows (page_size=1000, following `next`)."""
    path = "/api/v1/incidents/?page_size=1000&fields=code"
    seen = 0
    deadline = time.monotonic() + budget
    while seen < depth:
        status, body, _s = fetch(port, path)
        if status == 404:
            return None, "not available (404)"
        if status != 200:
            return None, f"error {status}: {body[:120].decode(errors='replace')}"
        data = json.loads(body)
        seen += len(data.get("results", []))
        nxt = data.get("next")
        if not nxt:
            return None, f"the list ended at row {seen:,}"
        parts = urllib.parse.urlsplit(nxt)
        path = parts.path + "?" + parts.query
        if seen % 100_000 < 1000:
            say(f"      walked the cursor to row {seen:,}")
        if time.monotonic() > deadline:
            return (
                None,
                f"walking the cursor reached only row {seen:,} in {budget:.0f}s",
            )
    # The next page starts at row `depth`; ask it for 50 rows like a client would.
    parts = urllib.parse.urlsplit(path)
    params = dict(urllib.parse.parse_qsl(parts.query))
    params["page_size"] = "50"
    params.pop("fields", None)
    return parts.path + "?" + q(params), ""


# ---------------------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------------------


def machine() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        mem_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        memory = f"{mem_kb / 2**20:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        memory = "unknown"
    return {
        "cpus": str(os.cpu_count()),
        "cpu": cpu,
        "memory": memory,
        "os": platform.platform(),
        "python": platform.python_version(),
    }


def ms(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f}"


def table(results: list[Result]) -> list[str]:
    lines = [
        "| operation | target | CivTrack p50 ms | p95 ms | first request ms | floor p50 ms | ratio | Datasette p50 ms | met? | notes |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|---|",
    ]
    for r in results:
        if r.rows_per_s is not None or r.name.startswith(("CSV", "GeoJSON")):
            c = f"{r.rows_per_s:,.0f} rows/s" if r.rows_per_s else "–"
            f = f"{r.floor_rows_per_s:,.0f} rows/s" if r.floor_rows_per_s else "–"
            d = (
                f"{r.datasette_rows_per_s:,.0f} rows/s"
                if r.datasette_rows_per_s
                else (r.datasette_note or "–")
            )
            rss = f"peak RSS {r.peak_rss_mb:,.0f} MB" if r.peak_rss_mb else ""
            if r.datasette_rss_mb:
                rss += f"; Datasette peak RSS {r.datasette_rss_mb:,.0f} MB"
            lines.append(
                f"| {r.name} | {r.target} | {c} | | | {f} | | {d} | {r.verdict()} | {'; '.join(x for x in (rss, r.note) if x)} |"
            )
            continue
        p50, p95, floor = r.p(r.http, 0.5), r.p(r.http, 0.95), r.p(r.floor, 0.5)
        ratio = f"{p50 / floor:.1f}×" if p50 and floor else "–"
        dset = ms(r.p(r.datasette, 0.5)) if r.datasette else (r.datasette_note or "–")
        lines.append(
            f"| {r.name} | {r.target} | {ms(p50)} | {ms(p95)} | {ms(r.first_ms)} | {ms(floor)} | {ratio} | {dset} | {r.verdict()} | {r.note} |"
        )
    return lines


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--incidents", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument(
        "--budget", type=float, default=20.0, help="seconds per operation"
    )
    parser.add_argument("--no-datasette", action="store_true")
    parser.add_argument("--no-import", action="store_true")
    parser.add_argument("--no-exports", action="store_true")
    parser.add_argument("--only", default="", help="comma-separated name fragments")
    parser.add_argument(
        "--live-exports",
        action="store_true",
        help="measure the exports without prebuilt lines (the rate right after a change)",
    )
    parser.add_argument(
        "--no-write", action="store_true", help="do not write docs/benchmarks.md"
    )
    args = parser.parse_args()
    command = "make bench" + (
        f" BENCH_ARGS='{' '.join(sys.argv[1:])}'" if sys.argv[1:] else ""
    )

    started = time.monotonic()
    url = os.environ.get("BENCH_DATABASE_URL") or devdb_url(BENCH_DB)
    env = django_env(url)
    say(f"[setup] benchmark database: {url.rsplit('/', 1)[-1]}; migrating…")
    manage(env, "migrate", "--noinput", "--skip-checks", quiet=True)
    conn = psql(url)
    with conn.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM incidents_incident WHERE synthetic")
        existing = cursor.fetchone()[0]
    generation = (
        json.loads(GENERATION_LOG.read_text()) if GENERATION_LOG.exists() else None
    )
    if existing < args.incidents:
        missing = args.incidents - existing
        say(f"[setup] {existing:,} synthetic incidents; generating {missing:,} more…")
        began = time.monotonic()
        manage(env, "generate_synthetic", "--incidents", str(missing), "--skip-checks")
        generation = {
            "incidents": missing,
            "seconds": round(time.monotonic() - began, 1),
            "on": dt.datetime.now(tz=dt.UTC).date().isoformat(),
        }
        STATE.mkdir(exist_ok=True)
        GENERATION_LOG.write_text(json.dumps(generation))
    else:
        say(f"[setup] reusing {existing:,} synthetic incidents")
    with conn.cursor() as cursor:
        cursor.execute(
            """SELECT (SELECT count(*) FROM incidents_incident),
                      (SELECT count(*) FROM incidents_attribution),
                      (SELECT count(*) FROM incidents_citation),
                      (SELECT count(*) FROM incidents_casualtycount),
                      (SELECT count(*) FROM incidents_publicchange),
                      current_setting('server_version'),
                      pg_size_pretty(pg_database_size(current_database())),
                      current_setting('shared_buffers'), current_setting('work_mem')"""
        )
        (
            incidents,
            attributions,
            citations,
            casualty_rows,
            changes,
            pg_version,
            db_size,
            shared,
            work_mem,
        ) = cursor.fetchone()
    fx = read_fixture(conn)
    if args.no_exports or (args.only and "export" not in args.only):
        snapshots = None
    else:
        # The public's export lines, prebuilt as the background worker keeps them after
        # a change (api/export_snapshot.py); the exports below read them.
        if args.live_exports:
            say("[setup] dropping the export snapshots: exports run live…")
            manage(env, "build_export_snapshots", "--clear", "--skip-checks")
            env["CIVTRACK_EXPORT_SNAPSHOT_MIN_ROWS"] = "-1"  # and ask for no rebuild
            snapshots = None
        else:
            say("[setup] building the export snapshots (CSV, GeoJSON)…")
            began = time.monotonic()
            manage(env, "build_export_snapshots", "--force", "--skip-checks")
            snapshots = round(time.monotonic() - began, 1)

    say("[setup] collecting static files and starting gunicorn (2 workers)…")
    manage(env, "collectstatic", "--noinput", "--skip-checks", quiet=True)
    port = free_port()
    gunicorn = subprocess.Popen(
        [
            str(ROOT / ".venv" / "bin" / "gunicorn"),
            "civtrack.wsgi",
            "--workers",
            "2",
            "--bind",
            f"127.0.0.1:{port}",
            "--timeout",
            "600",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=env,
    )
    datasette = None
    results: list[Result] = []
    try:
        wait_for(port, gunicorn, "/-/bench-ready")
        ds_port = None
        if not args.no_datasette:
            sqlite_file = STATE / "bench.sqlite"
            marker = STATE / "bench.sqlite.count"
            if (
                not sqlite_file.exists()
                or not marker.exists()
                or marker.read_text() != str(incidents)
            ):
                say("[setup] exporting the bench database to SQLite for Datasette…")
                last = [0.0]

                def log(text: str) -> None:
                    if time.monotonic() - last[0] > 10:
                        say(text)
                        last[0] = time.monotonic()

                bench_datasette.export(url, sqlite_file, log=log)
                marker.write_text(str(incidents))
            bench_datasette.ensure_venv(log=say)
            ds_port = free_port()
            datasette = bench_datasette.serve(sqlite_file, ds_port)
            wait_for(ds_port, datasette, "/-/versions.json", seconds=120)

        ops = operations(fx, conn)
        if args.only:
            wanted = [w.strip().lower() for w in args.only.split(",")]
            ops = [o for o in ops if any(w in o[0].lower() for w in wanted)]
        for index, (name, limit, ratio, path, floor, ds_path) in enumerate(ops, 1):
            say(f"[{index}/{len(ops)}] {name}")
            r = Result(
                name,
                f"p50 ≤ {limit} ms" + (f", ≤ {ratio}× floor" if ratio else ""),
                limit_ms=limit,
                ratio_limit=ratio,
            )
            if name.startswith("incidents page"):
                r.target += ", faster than Datasette"
            try:
                if path == "DEEP":
                    deep, r.note = deep_cursor_path(port, 900_000, budget=600)
                    if deep:
                        r.http, r.note, _first = measure_http(
                            port, deep, args.repeat, args.budget
                        )
                elif path == "CHANGES":
                    status, _s, note = changes_http(port)
                    if status == 404:
                        r.note = "not available (404)"
                    elif status != 200:
                        r.note = f"error {status}: {note}"
                    else:
                        r.http = timed_loop(
                            lambda: changes_http(port)[1], args.repeat, args.budget
                        )
                        r.note = note
                else:
                    r.http, r.note, r.first_ms = measure_http(
                        port, path, args.repeat, args.budget
                    )
            except Exception as error:  # one broken endpoint must not stop the run
                r.note = f"failed: {type(error).__name__}: {error}"[:200]
            floor()
            r.floor = timed_loop(lambda f=floor: _time(f), args.repeat, args.budget)
            if ds_port:
                try:
                    r.datasette, r.datasette_note, _first = measure_http(
                        ds_port, ds_path, args.repeat, args.budget
                    )
                except (RuntimeError, OSError) as error:
                    r.datasette_note = f"failed: {error}"
            say(
                f"      CivTrack p50 {ms(r.p(r.http, 0.5))} ms, floor {ms(r.p(r.floor, 0.5))} ms, "
                f"Datasette {ms(r.p(r.datasette, 0.5))} ms {r.note}"
            )
            results.append(r)

        if not args.no_exports and (not args.only or "export" in args.only):
            results += run_exports(port, gunicorn.pid, conn, ds_port, datasette)
        if not args.no_import and (not args.only or "import" in args.only):
            results.append(run_import())
    finally:
        for process in (gunicorn, datasette):
            if process is not None:
                process.terminate()
                try:
                    process.wait(10)
                except subprocess.TimeoutExpired:
                    process.kill()

    lines = table(results)
    say("\n" + "\n".join(lines))
    if not args.no_write:
        info = machine()
        write_docs(
            lines,
            info,
            {
                "incidents": incidents,
                "attributions": attributions,
                "citations": citations,
                "casualty_rows": casualty_rows,
                "changes": changes,
                "pg_version": pg_version,
                "db_size": db_size,
                "shared_buffers": shared,
                "work_mem": work_mem,
                "generation": generation,
                "snapshots": snapshots,
                "datasette": bench_datasette.datasette_version()
                if not args.no_datasette
                else "not run",
                "command": command,
                "minutes": (time.monotonic() - started) / 60,
            },
        )
        say(f"\nWritten to {DOCS.relative_to(ROOT)}")
    return 0


def _time(call) -> float:
    began = time.perf_counter()
    call()
    return time.perf_counter() - began


def run_exports(port, pid, conn, ds_port, datasette) -> list[Result]:
    results = []
    for name, path, marker, floor_sql in (
        (
            "CSV export of every row",
            "/api/v1/incidents/?format=csv",
            b"\n",
            f"COPY (SELECT {LIST_COLUMNS} FROM incidents_incident i WHERE {PUBLIC} ORDER BY i.date_start DESC, i.id DESC) TO STDOUT WITH CSV HEADER",
        ),
        (
            "GeoJSON export of every row",
            "/api/v1/incidents/?format=geojson",
            b'"Feature"',
            f"""COPY (SELECT json_build_object('type', 'Feature', 'geometry', json_build_object('type', 'Point', 'coordinates', json_build_array(i.public_longitude, i.public_latitude)), 'properties', json_build_object('code', i.code, 'title', i.title, 'date_start', i.date_start, 'civilians_killed_min', i.civilians_killed_min, 'civilians_killed_max', i.civilians_killed_max)) FROM incidents_incident i WHERE {PUBLIC} AND NOT i.aggregate AND i.public_latitude IS NOT NULL ORDER BY i.date_start DESC, i.id DESC) TO STDOUT""",
        ),
    ):
        say(f"[export] {name}")
        r = Result(name, "≥ 100,000 rows/s, peak RSS < 300 MB")
        rate, rss, rows, note = measure_export(port, path, pid, marker)
        r.note = note or f"{rows:,} rows"
        if rows:
            r.rows_per_s, r.peak_rss_mb = rate, rss
        counter = _Counter()
        began = time.perf_counter()
        with conn.cursor() as cursor:
            cursor.copy_expert(floor_sql, counter)
        r.floor_rows_per_s = counter.lines / (time.perf_counter() - began)
        if ds_port and name.startswith("CSV"):
            rate, rss, _rows, note = measure_export(
                ds_port,
                "/bench/incidents.csv?_stream=on&_size=max",
                datasette.pid,
                b"\n",
            )
            r.datasette_rows_per_s, r.datasette_rss_mb = rate or None, rss or None
            r.datasette_note = note
        elif ds_port:
            r.datasette_note = "no GeoJSON without a plugin"
        say(
            f"      CivTrack {r.rows_per_s or 0:,.0f} rows/s (peak RSS {r.peak_rss_mb or 0:,.0f} MB), "
            f"floor {r.floor_rows_per_s:,.0f} rows/s {r.note}"
        )
        results.append(r)
    return results


class _Counter:
    def __init__(self):
        self.lines = 0

    def write(self, data):
        self.lines += data.count("\n" if isinstance(data, str) else b"\n")
        return len(data)


def run_import() -> Result:
    """Import the real UCDP Syria file into a fresh scratch database (never the bench
    database, which holds only synthetic data)."""
    r = Result("import of the real UCDP Syria file", "≤ 30 s")
    say(f"[import] {UCDP_FILE.name} into a fresh {IMPORT_DB} database")
    url = devdb_url("postgres")
    conn = psql(url)
    with conn.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{IMPORT_DB}"')
    conn.close()
    env = django_env(devdb_url(IMPORT_DB))
    manage(env, "migrate", "--noinput", "--skip-checks", quiet=True)
    began = time.perf_counter()
    done = subprocess.run(
        [
            PY,
            "manage.py",
            "import_incidents",
            "--format",
            "ucdp-ged",
            "--publish",
            "--release",
            "652.1601.1911",
            "--release-date",
            "2019-12-01",
            "--skip-checks",
            str(UCDP_FILE),
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - began
    if done.returncode != 0:
        r.note = "failed: " + (done.stderr.strip().splitlines() or ["?"])[-1][:200]
    else:
        r.http = [seconds]
        r.limit_ms = 30_000
        r.note = (done.stdout.strip().splitlines() or [""])[-1][:200]
    say(f"      {seconds:.1f}s {r.note}")
    return r


def write_docs(lines: list[str], info: dict, data: dict) -> None:
    gen = data["generation"]
    generation = (
        f"{gen['incidents']:,} incidents generated in {gen['seconds']:.0f} s "
        f"({gen['incidents'] / gen['seconds']:,.0f} incidents/s, on {gen['on']})"
        if gen
        else "reused an existing database (no generation time recorded)"
    )
    notes = _notes()
    snapshot_note = (
        f" The public's export lines were prebuilt in {data['snapshots']:.0f} s before "
        "the measurements (`manage.py build_export_snapshots --force`, then VACUUM: what the background "
        "worker does after a change; see the notes)."
        if data.get("snapshots")
        else ""
    )
    text = f"""# Benchmarks

Measured by `scripts/bench.py` on {dt.datetime.now(tz=dt.UTC).date().isoformat()} in {data["minutes"]:.0f} minutes.
Reproduce with:

    make run   # once, on a fresh clone (installs, migrates)
    {data["command"]}

## Machine

- {info["cpus"]} CPUs ({info["cpu"]}), {info["memory"]} memory, {info["os"]}
- PostgreSQL {data["pg_version"]} (the embedded server of `civtrack.devdb`;
  shared_buffers {data["shared_buffers"]}, work_mem {data["work_mem"]}), Python {info["python"]}
- gunicorn, 2 sync workers, on 127.0.0.1; the client, PostgreSQL and Datasette share
  the same machine
- Datasette: {data["datasette"]} (in its own venv, `.state/bench-venv`)

## Data

{data["incidents"]:,} incidents ({data["attributions"]:,} attributions +
{data["citations"]:,} citations = {data["attributions"] + data["citations"]:,} links,
{data["casualty_rows"]:,} casualty rows, {data["changes"]:,} changes-feed rows);
database size {data["db_size"]}. Synthetic data from `manage.py generate_synthetic`
({generation}).{snapshot_note}

## Results

p50/p95 over up to 30 requests (or 20 s) per operation after two warm-up requests.
"first request" is the first of those warm-up requests: for the public's aggregates
(facet counts, statistics, map clusters, list counts) the cold computation, before
`incidents/public_cache.py` holds the answer for the data's current fingerprint.
"floor" is the same result fetched by hand-written SQL through psycopg2 on the same
database (page + parts + exact count, facet counts, aggregates…); "ratio" is CivTrack's
p50 over the floor's p50. "not available" means the endpoint answered 404 when the
bench ran.

{chr(10).join(lines)}

## Method

See `scripts/bench.py` (operations, floors) and `scripts/bench_datasette.py` (the SQLite
export: the public view of the same rows, the same indexes where SQLite has them, FTS5
for text search; Datasette runs with its time limits raised so counts and facets over a
million rows finish instead of being cut off). Datasette operations without a built-in
equivalent (statistics, map clusters) are measured as Datasette SQL queries; GeoJSON
needs a plugin and is not measured. The UCDP import runs into a fresh scratch
database (`civtrack_bench_import`), never into the synthetic one, and its time includes
starting Django.

{notes}"""
    DOCS.parent.mkdir(exist_ok=True)
    DOCS.write_text(text)


def _notes() -> str:
    """The hand-written "## Notes" section of the current docs/benchmarks.md (kept)."""
    if DOCS.exists() and "\n## Notes\n" in DOCS.read_text():
        return (
            "## Notes\n" + DOCS.read_text().split("\n## Notes\n", 1)[1].rstrip() + "\n"
        )
    return ""


if __name__ == "__main__":
    if not shutil.which(PY) and not Path(PY).exists():
        sys.exit("Run `make install` first.")
    sys.exit(main())
