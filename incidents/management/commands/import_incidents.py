"""python manage.py import_incidents --format FORMAT FILE [options] (IMPORTS.md)."""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from incidents.importers import FORMATS
from incidents.importers.base import (
    ImportFileError,
    batch_create,
    print_report,
    run_batch,
    summary,
)


def _date(value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(
            f"--release-date: '{value}' is not a date (YYYY-MM-DD)."
        ) from None


class Command(BaseCommand):
    help = "Import a UCDP GED, Insecurity Insight, ACLED or CivTrack CSV file (plain or .gz)."

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV file, plain or gzip-compressed")
        parser.add_argument("--format", required=True, choices=FORMATS)
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="report what would change, write nothing",
        )
        parser.add_argument(
            "--skip-bad-rows",
            action="store_true",
            help="import the valid rows, report the rejected ones",
        )
        parser.add_argument(
            "--publish",
            action="store_true",
            help="publish the new incidents (four-eyes waiver recorded)",
        )
        parser.add_argument("--user", help="account the batch is recorded under")
        parser.add_argument(
            "--instance", default="", help="CivTrack CSV from another instance NAME"
        )
        parser.add_argument("--release", default="")
        parser.add_argument("--release-date", type=_date)
        parser.add_argument("--batch-note", default="")
        parser.add_argument(
            "--report-limit",
            type=int,
            default=200,
            help="rows of the per-row report to print",
        )

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        user = None
        if options["user"]:
            user = get_user_model().objects.filter(username=options["user"]).first()
            if user is None:
                raise CommandError(f"--user: no account named '{options['user']}'.")
        if options["release_date"] and not options["release"]:
            raise CommandError("--release-date needs --release NAME.")
        try:
            batch = batch_create(
                format=options["format"],
                file_name=path.name,
                user=user,
                dry_run=options["dry_run"],
                skip_bad_rows=options["skip_bad_rows"],
                publish=options["publish"],
                release=options["release"],
                release_date=options["release_date"],
                instance=options["instance"],
                note=options["batch_note"],
            )
        except ImportFileError as error:
            raise CommandError(str(error)) from error
        started = time.monotonic()
        try:
            run_batch(batch, path, out=sys.stderr if options["verbosity"] > 0 else None)
        except KeyboardInterrupt:
            raise CommandError(
                f"Import #{batch.pk} interrupted: nothing was written (the batch is "
                "marked failed)."
            ) from None
        except Exception as error:
            # The batch is marked failed with the reason; the command says so in one
            # line rather than a traceback (--traceback shows it).
            if options.get("traceback"):
                raise
            raise CommandError(
                f"Import #{batch.pk} failed: {batch.failure_reason or error}. Nothing "
                "was written. (Run with --traceback for the details.)"
            ) from error
        elapsed = time.monotonic() - started
        if options["verbosity"] > 0:
            print_report(batch, self.stdout, limit=options["report_limit"])
        what = "Dry run" if batch.dry_run else "Import"
        self.stdout.write(
            f"{what} #{batch.pk} ({batch.get_format_display()} {batch.release}) "
            f"{batch.status} in {elapsed:.1f} s: {summary(batch)}"
        )
        if batch.status == "failed":
            raise CommandError(batch.failure_reason)
