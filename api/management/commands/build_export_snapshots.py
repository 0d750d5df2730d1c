"""`manage.py build_export_snapshots`: prebuild the public's export lines now (after a
large import, or from cron), instead of waiting for the first export to ask the
background worker for them."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from api import export_snapshot


class Command(BaseCommand):
    help = (
        "Build the prebuilt lines of the public's CSV and GeoJSON exports from the "
        "current data (exports use them while the data stays the same)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--kind",
            choices=export_snapshot.KINDS,
            action="append",
            help="only this kind (repeatable); default: all",
        )
        parser.add_argument(
            "--clear", action="store_true", help="drop every snapshot and build none"
        )
        parser.add_argument(
            "--force",
            action="store_true",
            help="build even when the current lines are of the same data and format",
        )

    def handle(self, *args, kind=None, clear=False, force=False, **options):
        if clear:
            export_snapshot.clear()
            self.stdout.write("Dropped every export snapshot.")
            return
        for name in kind or export_snapshot.KINDS:
            snapshot = export_snapshot.build(name, force=force)
            if snapshot is None:
                self.stdout.write(f"{name}: another build is running; skipped.")
            else:
                self.stdout.write(
                    f"{name}: generation {snapshot.generation}, {snapshot.rows:,} rows "
                    f"in {snapshot.seconds:.1f} s."
                )
