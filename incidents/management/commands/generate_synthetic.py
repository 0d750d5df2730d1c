"""Generate synthetic benchmark incidents (incidents.synthetic explains what and how).

    manage.py generate_synthetic --incidents 1000000 [--seed 1] [--batch-size 20000]
    manage.py generate_synthetic --delete

Every generated incident has synthetic=true and every page says so while one exists.
Not recorded in the audit trail. Meant for development and benchmark databases.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError

from incidents import synthetic


class Command(BaseCommand):
    help = (
        "Load N synthetic published incidents with PostgreSQL COPY (not in the audit "
        "trail), or --delete every synthetic row again."
    )

    def add_arguments(self, parser):
        parser.add_argument("--incidents", type=int, help="How many incidents to add.")
        parser.add_argument(
            "--seed", type=int, default=1, help="Random seed (default 1)."
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=20_000,
            help="Incidents per COPY chunk (default 20000).",
        )
        parser.add_argument(
            "--keep-indexes",
            action="store_true",
            help="Keep indexes and constraints during the load (slower; for comparison).",
        )
        parser.add_argument(
            "--delete", action="store_true", help="Remove every synthetic row instead."
        )
        parser.add_argument(
            "--no-progress", action="store_true", help="No progress bar."
        )

    def handle(self, *args, **options):
        show = not options["no_progress"] and options["verbosity"] > 0
        if options["delete"]:
            if options["incidents"]:
                raise CommandError("Give either --incidents or --delete, not both.")
            deleted = synthetic.synthetic_delete(
                progress=synthetic.Progress(0, enabled=show)
            )
            summary = ", ".join(f"{t}: {n:,}" for t, n in deleted.items() if n)
            self.stdout.write(
                self.style.SUCCESS(f"Synthetic data deleted ({summary or 'nothing'}).")
            )
            return
        count = options["incidents"]
        if not count or count < 1:
            raise CommandError("--incidents must be a whole number of 1 or more.")
        if options["batch_size"] < 1:
            raise CommandError("--batch-size must be 1 or more.")
        result = synthetic.synthetic_generate(
            incidents=count,
            seed=options["seed"],
            batch_size=options["batch_size"],
            rebuild_indexes=not options["keep_indexes"],
            progress=synthetic.Progress(count, enabled=show),
        )
        seconds = result.seconds
        slowest = ", ".join(
            f"{name} {secs:.1f}s"
            for name, secs in sorted(
                result.rebuild_seconds.items(), key=lambda item: -item[1]
            )[:6]
        )
        copies = ", ".join(
            f"{t.removeprefix('incidents_')} {v:.1f}s"
            for t, v in result.copy_seconds.items()
        )
        timings = ", ".join(f"{k} {v:.1f}s" for k, v in result.timings.items())
        rows = ", ".join(
            f"{t.removeprefix('incidents_')} {n:,}" for t, n in result.rows.items()
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"{result.incidents:,} synthetic incidents, {result.links:,} "
                f"attribution/citation links in {seconds:.1f}s "
                f"({result.incidents / seconds:,.0f} incidents/s).\n"
                f"Rows: {rows}.\nTimings: {timings}.\n"
                f"COPY per table: {copies}.\nSlowest rebuilds: {slowest}."
            )
        )
