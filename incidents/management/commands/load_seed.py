"""Load CivTrack's curated seed incidents (data/seed_incidents.json) through the services.

Idempotent: each seed incident carries an ExternalRef `other:civtrack-seed/<key>`, and a
file already loaded (same sha256, succeeded batch) is skipped at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone

from incidents import services
from incidents.models import (
    ActorName,
    ExternalRef,
    ImportBatch,
    IncidentType,
    Location,
    Source,
    TargetType,
    WeaponType,
)
from incidents.text import normalize_name

SEED_FILE = Path(settings.BASE_DIR) / "data" / "seed_incidents.json"


def _date(value: str | None) -> dt.date | None:
    return dt.date.fromisoformat(value) if value else None


class Command(BaseCommand):
    help = "Load the curated seed incidents (published) from data/seed_incidents.json."

    def add_arguments(self, parser):
        parser.add_argument("--file", default=str(SEED_FILE))

    def handle(self, *args, **options):
        path = Path(options["file"])
        raw = path.read_bytes()
        sha256 = hashlib.sha256(raw).hexdigest()
        if ImportBatch.objects.filter(
            format=ImportBatch.Format.SEED,
            sha256=sha256,
            status=ImportBatch.Status.SUCCEEDED,
        ).exists():
            self.stdout.write("Seed incidents already loaded.")
            return
        seed = json.loads(raw)
        created = self._load(seed, path.name, sha256)
        self.stdout.write(self.style.SUCCESS(f"Seed incidents: {created} created."))

    @transaction.atomic
    def _load(self, seed: dict, file_name: str, sha256: str) -> int:
        user = services.system_user()
        batch = ImportBatch.objects.create(
            file_name=file_name,
            sha256=sha256,
            format=ImportBatch.Format.SEED,
            release=sha256[:12],
            user=user,
            publish=True,
            four_eyes_waived=True,
            status=ImportBatch.Status.RUNNING,
            started_at=timezone.now(),
            note="CivTrack's curated seed incidents.",
        )
        sources = {item["key"]: self._source(item, user) for item in seed["sources"]}
        created = 0
        for item in seed["incidents"]:
            value = f"civtrack-seed/{item['key']}"
            if ExternalRef.objects.filter(system="other", value=value).exists():
                continue
            incident = services.incident_create(
                fields=self._fields(item),
                parts=self._parts(item, sources, batch, value),
                by=None,
                reason="curated seed incident",
                batch=batch,
            )
            services.incident_publish(
                incident=incident,
                expected_version=incident.version,
                by=None,
                batch=batch,
            )
            created += 1
        batch.status = ImportBatch.Status.SUCCEEDED
        batch.finished_at = timezone.now()
        batch.rows_read = len(seed["incidents"])
        batch.rows_created = created
        batch.rows_unchanged = len(seed["incidents"]) - created
        batch.save()
        return created

    def _source(self, item: dict, user) -> Source:
        data = {k: v for k, v in item.items() if k != "key"}
        data["published_on"] = _date(data.get("published_on"))
        if data.get("url"):
            existing = Source.objects.filter(url=data["url"]).first()
            if existing:
                return existing
        else:
            existing = Source.objects.filter(
                title=data["title"], kind=data["kind"]
            ).first()
            if existing:
                return existing
        return services.source_create(by=None, reason="curated seed source", **data)

    def _fields(self, item: dict) -> dict:
        location = Location.objects.filter(pcode=item["governorate_pcode"]).first()
        if location is None:
            raise CommandError(
                f"Governorate {item['governorate_pcode']} is missing: migrate first."
            )
        incident_type = IncidentType.objects.get(code=item["incident_type"])
        return {
            "title": item["title"],
            "title_ar": item["title_ar"],
            "summary": item["summary"],
            "summary_ar": item["summary_ar"],
            "internal_notes": item["internal_notes"],
            "date_start": _date(item["date_start"]),
            "date_end": _date(item["date_end"]),
            "date_precision": item["date_precision"],
            "time_of_day": item["time_of_day"],
            "location": location,
            "geo_precision": item["geo_precision"],
            "incident_type": incident_type,
            "grading": item["grading"],
        }

    def _parts(self, item, sources, batch, ref_value) -> services.IncidentParts:
        def actor(name: str):
            match = (
                ActorName.objects.filter(normalized=normalize_name(name))
                .select_related("actor")
                .first()
            )
            if match is None:
                raise CommandError(f"No actor is known as {name!r}: migrate first.")
            return match.actor

        return services.IncidentParts(
            casualty_rows=[
                services.CasualtyRowData(**row) for row in item["casualty_rows"]
            ],
            attributions=[
                services.AttributionData(
                    actor=actor(row["actor_name"]),
                    role=row["role"],
                    confidence=row["confidence"],
                    position=row["position"],
                    note=row.get("note", ""),
                )
                for row in item["attributions"]
            ],
            weapons=[
                services.WeaponData(
                    weapon=WeaponType.objects.get(code=row["weapon"]),
                    certainty=row["certainty"],
                )
                for row in item["weapons"]
            ],
            targets=[
                services.TargetData(
                    target_type=TargetType.objects.get(code=row["target_type"]),
                    damage=row["damage"],
                )
                for row in item["targets"]
            ],
            citations=[
                services.CitationData(
                    source=sources[row["source"]],
                    supports=row["supports"],
                    excerpt=row.get("excerpt", ""),
                    locator=row.get("locator", ""),
                )
                for row in item["citations"]
            ],
            external_refs=[
                services.ExternalRefData(
                    system="other", value=ref_value, batch=batch, raw=item
                )
            ],
        )
