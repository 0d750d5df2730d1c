"""python manage.py load_demo: what `make run` calls on every start.

Loads the curated seed incidents (`load_seed`, when that command exists) and imports the
shipped datasets, published, in release order. A file already imported (a succeeded
batch with the same sha256) is skipped at once, so later starts take a second or two.
"""

from __future__ import annotations

import hashlib
import sys
import time
from datetime import date
from pathlib import Path

from django.conf import settings
from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError

from incidents.dbstats import import_tables, tables_analyze
from incidents.importers.base import batch_create, run_batch, summary
from incidents.models import ImportBatch

DATA_DIR = Path(settings.BASE_DIR) / "data"
# In release order: the newer UCDP sample updates the 42 events it shares.
DEMO_FILES = (
    (
        "ucdp-ged",
        "ucdp_ged_syria_652.1601.1911.csv.gz",
        "652.1601.1911",
        date(2019, 12, 1),
    ),
    (
        "ucdp-ged",
        "ucdp_ged231_sample_syria_uncertainUCDP.csv.gz",
        "23.1",
        date(2023, 6, 1),
    ),
    (
        "insecurity-insight",
        "insecurity_insight_attacks_on_health_care_2016_2023_syria.csv.gz",
        "2024-01-05",
        date(2024, 1, 5),
    ),
)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


class Command(BaseCommand):
    help = "Load the seed incidents and import the shipped datasets (published), once."

    def add_arguments(self, parser):
        parser.add_argument("--data-dir", default=str(DATA_DIR))
        parser.add_argument("--skip-seed", action="store_true")

    def handle(self, *args, **options):
        started = time.monotonic()
        seed_batches = ImportBatch.objects.filter(format=ImportBatch.Format.SEED)
        seeded_before = seed_batches.count()
        if not options["skip_seed"] and "load_seed" in get_commands():
            call_command("load_seed", verbosity=options["verbosity"])
        data_dir = Path(options["data_dir"])
        for format, name, release, release_date in DEMO_FILES:
            path = data_dir / name
            if not path.is_file():
                raise CommandError(f"Missing demo data file {path}.")
            sha256 = file_sha256(path)
            if ImportBatch.objects.filter(
                sha256=sha256,
                format=format,
                dry_run=False,
                status=ImportBatch.Status.SUCCEEDED,
            ).exists():
                self.stdout.write(f"{name}: already imported, skipped")
                continue
            batch = batch_create(
                format=format,
                file_name=name,
                publish=True,
                release=release,
                release_date=release_date,
                note="demo data loaded by load_demo",
            )
            run_batch(batch, path, out=sys.stderr if options["verbosity"] > 0 else None)
            if batch.status != ImportBatch.Status.SUCCEEDED:
                raise CommandError(
                    f"{name}: import #{batch.pk} failed: {batch.failure_reason}"
                )
            self.stdout.write(f"{name}: import #{batch.pk}: {summary(batch)}")
        # Each import analysed what it filled (run_batch); the seed incidents get their
        # statistics here, so the first counts after `make run` plan with the real row
        # numbers (issue 12 §9). A start that loaded nothing analyses nothing.
        if seed_batches.count() != seeded_before:
            tables_analyze(tables=import_tables())
        self.stdout.write(f"Demo data ready in {time.monotonic() - started:.1f} s.")
