"""make backup / make restore: a consistent dump round-trips every table's content."""

import psycopg2
import pytest
from django.db import connection

from civtrack import backup
from incidents import services
from tests.factories import SourceFactory, make_incident


def table_fingerprints(cursor) -> dict[str, tuple[int, str]]:
    cursor.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
    )
    tables = [row[0] for row in cursor.fetchall()]
    result = {}
    for table in tables:
        cursor.execute(
            f"SELECT count(*), coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') "
            f'FROM "{table}" t'
        )
        result[table] = cursor.fetchone()
    return result


def database_url() -> str:
    settings = connection.settings_dict
    host = settings["HOST"].replace("/", "%2F")
    port = f":{settings['PORT']}" if settings["PORT"] else ""
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    return f"postgres://{settings['USER']}{password}@{host}{port}/{settings['NAME']}"


@pytest.fixture(params=["own tools", "newer tools through a script"])
def restore_path(request, monkeypatch):
    """Both ways a restore runs: with the server's own client programs, and with newer
    ones than the server (the embedded package's, against an older system server), where
    settings the server does not know are left out of a SQL script."""
    if request.param == "newer tools through a script":
        real = backup.tools_for

        def older_server(env):
            _directory, client, _server = real(env)
            return None, client, client - 1

        monkeypatch.setattr(backup, "tools_for", older_server)
    return request.param


@pytest.mark.django_db(transaction=True)
def test_a_backup_restores_into_a_fresh_database_with_identical_content(
    tmp_path, restore_path
):
    make_incident(
        status="published",
        parts=services.IncidentParts(
            casualty_rows=[services.CasualtyRowData("civilians", "killed", 2, 5)],
            citations=[services.CitationData(SourceFactory())],
        ),
    )
    make_incident(internal_notes="restricted, but backed up")
    url = database_url()
    restored_name = connection.settings_dict["NAME"] + "_restored"

    dump_file = backup.dump(url, tmp_path)
    restored_url = backup.restore(url, dump_file, restored_name, replace=True)

    with connection.cursor() as cursor:
        original = table_fingerprints(cursor)
    settings = connection.settings_dict
    restored = psycopg2.connect(
        dbname=restored_name,
        host=settings["HOST"] or None,
        port=settings["PORT"] or None,
        user=settings["USER"],
        password=settings["PASSWORD"] or None,
    )
    try:
        with restored.cursor() as cursor:
            copy = table_fingerprints(cursor)
            # Issue 12 §9: a restore ends with ANALYZE (explicit runs only: autovacuum's
            # are counted apart), or the restored server plans as if it were empty.
            cursor.execute(
                "SELECT relname FROM pg_stat_user_tables WHERE analyze_count > 0"
            )
            analysed = {row[0] for row in cursor.fetchall()}
    finally:
        restored.close()
        backup._run(
            [backup._bin("dropdb"), "--force", restored_name],
            backup._conninfo(url, "postgres"),
        )

    assert restored_name in restored_url
    assert (tmp_path / f"{dump_file.name}.sha256").exists()
    assert original["incidents_incident"][0] == 2
    assert copy == original
    assert {
        "incidents_incident",
        "incidents_casualtycount",
        "incidents_citation",
        "incidents_source",
    } <= analysed


def test_a_tampered_backup_is_refused(tmp_path):
    dump_file = tmp_path / "x.dump"
    dump_file.write_bytes(b"data")
    (tmp_path / "x.dump.sha256").write_text("0" * 64 + "  x.dump\n")

    with pytest.raises(SystemExit, match="checksum mismatch"):
        backup.restore("postgres://postgres@localhost/none", dump_file, "whatever")
