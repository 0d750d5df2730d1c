"""Importers: one module per dataset format, sharing `base` (IMPORTS.md).

from incidents.importers import run_import, import_batch_revert
"""

from __future__ import annotations

FORMATS = ("ucdp-ged", "insecurity-insight", "acled", "civtrack")


def importer_for(format: str):
    """The importer class instance for a batch format."""
    from incidents.importers.acled import AcledImporter
    from incidents.importers.civtrack_csv import CivtrackImporter
    from incidents.importers.insecurity_insight import InsecurityInsightImporter
    from incidents.importers.ucdp_ged import UcdpGedImporter

    classes = {
        cls.format: cls
        for cls in (
            UcdpGedImporter,
            InsecurityInsightImporter,
            AcledImporter,
            CivtrackImporter,
        )
    }
    return classes[format]()


def run_import(batch, source=None, *, out=None):
    """Run a queued ImportBatch (see base.run_batch)."""
    from incidents.importers.base import run_batch

    return run_batch(batch, source, out=out)


def import_batch_revert(*, batch, by):
    """Undo a batch (see revert.import_batch_revert)."""
    from incidents.importers.revert import import_batch_revert as revert

    return revert(batch=batch, by=by)
