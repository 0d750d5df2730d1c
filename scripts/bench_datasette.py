"""The Datasette side of `make bench`: export the bench database to SQLite (with the same
indexes where SQLite has them, and an FTS5 index for full-text search), install
Datasette in its own venv (.state/bench-venv, never the project's lock) and serve it.

Used by scripts/bench.py; `python scripts/bench_datasette.py export DATABASE_URL FILE`
runs only the export.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".state" / "bench-venv"
PYTHON = os.environ.get("PYTHON", "python3.11")

SCHEMA = """
CREATE TABLE incidents (
    id INTEGER PRIMARY KEY, code TEXT, title TEXT, title_ar TEXT, summary TEXT,
    date_start TEXT, date_end TEXT, year INTEGER, date_precision TEXT,
    governorate TEXT, location TEXT, incident_type TEXT, grading TEXT,
    latitude REAL, longitude REAL, geo_precision TEXT, aggregate INTEGER,
    casualties_known INTEGER, civilians_killed_min INTEGER, civilians_killed_max INTEGER,
    children_killed_min INTEGER, children_killed_max INTEGER,
    total_killed_min INTEGER, total_killed_max INTEGER,
    blocs TEXT, perpetrators TEXT, updated_at TEXT, version INTEGER
);
CREATE TABLE attributions (
    id INTEGER PRIMARY KEY, incident_id INTEGER, actor TEXT, bloc TEXT, role TEXT,
    confidence TEXT, alternative INTEGER
);
CREATE TABLE changes (seq INTEGER PRIMARY KEY, at TEXT, code TEXT, action TEXT,
                      version INTEGER);
"""
# The same indexes as the PostgreSQL models where SQLite can have them.
INDEXES = """
CREATE UNIQUE INDEX incidents_code ON incidents (code);
CREATE INDEX incidents_date_id ON incidents (date_start DESC, id DESC);
CREATE INDEX incidents_gov_date ON incidents (governorate, date_start);
CREATE INDEX incidents_type_date ON incidents (incident_type, date_start);
CREATE INDEX incidents_grading ON incidents (grading);
CREATE INDEX incidents_year ON incidents (year);
CREATE INDEX incidents_point ON incidents (longitude, latitude);
CREATE INDEX incidents_ck_max ON incidents (civilians_killed_max DESC, id DESC);
CREATE INDEX attributions_incident ON attributions (incident_id);
CREATE INDEX attributions_bloc ON attributions (bloc, role, incident_id);
CREATE VIRTUAL TABLE incidents_fts USING fts5 (title, summary, title_ar,
    content="incidents", content_rowid="id");
INSERT INTO incidents_fts (incidents_fts) VALUES ('rebuild');
"""


def export(database_url: str, target: Path, log=print) -> int:
    """Copy the public view of the PostgreSQL bench database into `target`."""
    import psycopg2

    tmp = target.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    lite = sqlite3.connect(tmp)
    lite.executescript("PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;" + SCHEMA)
    pg = psycopg2.connect(database_url)
    started = time.monotonic()
    with pg:
        named = pg.cursor(name="export_incidents")
        named.itersize = 20_000
        named.execute(
            """
            SELECT i.id, i.code, i.title, i.title_ar, i.summary, i.date_start::text,
                   i.date_end::text, extract(year FROM i.date_start)::int, i.date_precision,
                   g.name, l.name, t.code, i.grading, i.public_latitude, i.public_longitude,
                   i.public_geo_precision, i.aggregate::int, i.casualties_known::int,
                   i.civilians_killed_min, i.civilians_killed_max, i.children_killed_min,
                   i.children_killed_max, i.total_killed_min, i.total_killed_max,
                   (SELECT json_agg(DISTINCT a.bloc) FROM incidents_attribution p
                      JOIN incidents_actor a ON a.id = p.actor_id
                     WHERE p.incident_id = i.id AND p.role = 'perpetrator')::text,
                   (SELECT string_agg(a.slug, ';' ORDER BY p.id) FROM incidents_attribution p
                      JOIN incidents_actor a ON a.id = p.actor_id
                     WHERE p.incident_id = i.id AND p.role = 'perpetrator'),
                   i.updated_at::text, i.version
            FROM incidents_incident i
            JOIN incidents_incidenttype t ON t.id = i.incident_type_id
            LEFT JOIN incidents_location g ON g.id = i.governorate_id
            LEFT JOIN incidents_location l ON l.id = i.public_location_id
            WHERE i.status = 'published'
            """
        )
        rows = 0
        while True:
            batch = named.fetchmany(20_000)
            if not batch:
                break
            lite.executemany(
                f"INSERT INTO incidents VALUES ({','.join('?' * 28)})", batch
            )
            rows += len(batch)
            log(
                f"  SQLite export: {rows:,} incidents ({time.monotonic() - started:.0f}s)"
            )
        named.close()
        for name, sql, width, table in (
            (
                "export_attr",
                """SELECT p.id, p.incident_id, a.slug, a.bloc, p.role, p.confidence,
                          p.alternative
                   FROM incidents_attribution p JOIN incidents_actor a ON a.id = p.actor_id
                   JOIN incidents_incident i ON i.id = p.incident_id
                   WHERE i.status = 'published'""",
                7,
                "attributions",
            ),
            (
                "export_changes",
                "SELECT seq, at::text, code, action, version FROM incidents_publicchange",
                5,
                "changes",
            ),
        ):
            cursor = pg.cursor(name=name)
            cursor.itersize = 50_000
            cursor.execute(sql)
            while True:
                batch = cursor.fetchmany(50_000)
                if not batch:
                    break
                lite.executemany(
                    f"INSERT INTO {table} VALUES ({','.join('?' * width)})", batch
                )
            cursor.close()
    pg.close()
    log("  SQLite export: building indexes and the FTS5 index…")
    lite.executescript(INDEXES)
    lite.execute("ANALYZE")
    lite.commit()
    lite.close()
    tmp.replace(target)
    return rows


def ensure_venv(log=print) -> Path:
    datasette = VENV / "bin" / "datasette"
    if not datasette.exists():
        log(f"Installing Datasette into {VENV} (the bench's own environment)…")
        subprocess.run([PYTHON, "-m", "venv", str(VENV)], check=True)
        done = subprocess.run(
            [str(VENV / "bin" / "pip"), "install", "--quiet", "datasette"],
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode != 0:
            log(done.stdout + done.stderr)
            raise RuntimeError("pip could not install datasette into the bench venv")
    return datasette


def datasette_version() -> str:
    out = subprocess.run(
        [str(VENV / "bin" / "datasette"), "--version"],
        capture_output=True,
        text=True,
        check=False,
    )
    return out.stdout.strip()


def serve(sqlite_file: Path, port: int) -> subprocess.Popen:
    """Datasette on 127.0.0.1:port with time limits raised so that exact counts and
    facets over a million rows finish instead of being cut off."""
    settings = {
        "facet_time_limit_ms": 120_000,
        "sql_time_limit_ms": 120_000,
        "max_returned_rows": 1000,
        "num_sql_threads": 2,
        "default_cache_ttl": 0,
        "allow_csv_stream": True,
        "max_csv_mb": 0,
    }
    command = [
        str(VENV / "bin" / "datasette"),
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--immutable",
        str(sqlite_file),
    ]
    for key, value in settings.items():
        command += ["--setting", key, "on" if value is True else str(value)]
    return subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT
    )


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "export":
        export(sys.argv[2], Path(sys.argv[3]))
    else:
        sys.exit("usage: bench_datasette.py export DATABASE_URL FILE.sqlite")
