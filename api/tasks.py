"""Background jobs of the API (django-tasks, the database backend's worker)."""

from __future__ import annotations

from django_tasks import task


@task()
def build_export_snapshot(kind: str) -> str:
    """Rebuild the prebuilt lines of the public's `kind` export (api/export_snapshot.py)
    after the data changed; returns what was built."""
    from api import export_snapshot

    snapshot = export_snapshot.build(kind)
    return str(snapshot) if snapshot else "another build was running"
