"""Background jobs (django-tasks with the database backend)."""

from __future__ import annotations

from django_tasks import task

from incidents.models import ImportBatch


@task()
def run_import_batch(batch_id: int) -> str:
    """Run a queued import batch from its stored file; returns the batch's status.

    A worker that dies mid-import leaves the database as before (one transaction); the
    batch's stale heartbeat then shows it as failed."""
    from incidents.importers.base import run_batch

    batch = ImportBatch.objects.get(pk=batch_id)
    if batch.status != ImportBatch.Status.QUEUED:
        return batch.status
    run_batch(batch)
    return batch.status


def enqueue_import(batch: ImportBatch):
    """Start a queued batch in the background (the admin page and the API call this)."""
    return run_import_batch.enqueue(batch.pk)
