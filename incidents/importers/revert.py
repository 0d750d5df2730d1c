"""Reverting an import batch as a whole (IMPORTS.md, "Reverting a batch")."""

from __future__ import annotations

from datetime import date
from typing import Any

import pghistory
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from incidents import services
from incidents.importers.base import REVERTED_REASON, incident_snapshot, label
from incidents.models import (
    Actor,
    Attribution,
    CasualtyCount,
    Citation,
    ExternalRef,
    ImportBatch,
    Incident,
    IncidentTarget,
    IncidentType,
    IncidentWeapon,
    Location,
    TargetType,
    Victim,
    WeaponType,
)


def _field_value(key: str, value: Any) -> Any:
    if value is None:
        return None
    if key == "location":
        return Location.objects.get(pk=value)
    if key == "incident_type":
        return IncidentType.objects.get(pk=value)
    if key in ("date_start", "date_end"):
        return date.fromisoformat(value)
    return value


def _restore_parts(
    incident: Incident, restore: dict[str, Any]
) -> services.IncidentParts:
    parts = services.IncidentParts()
    casualty_keys = [k for k in restore if k.startswith("casualties:")]
    if casualty_keys:
        rows = {
            (c.group, c.outcome): services.CasualtyRowData(
                group=c.group,
                outcome=c.outcome,
                min=c.min,
                max=c.max,
                best=c.best,
                note=c.note,
            )
            for c in incident.casualties.all()
        }
        for key in casualty_keys:
            group, outcome = key.split(":", 1)[1].split("/")
            value = restore[key]
            if value is None:
                rows.pop((group, outcome), None)
            else:
                rows[(group, outcome)] = services.CasualtyRowData(
                    group=group,
                    outcome=outcome,
                    min=value[0],
                    max=value[1],
                    best=value[2],
                )
        parts.casualty_rows = list(rows.values())
    if "attributions" in restore:
        others = [
            services.AttributionData(
                actor=a.actor,
                role=a.role,
                confidence=a.confidence,
                alternative=a.alternative,
                position=a.position,
                conceded_killed=a.conceded_killed,
                note=a.note,
            )
            for a in incident.attributions.all()
            if a.role != Attribution.Role.PERPETRATOR
        ]
        parts.attributions = others + [
            services.AttributionData(
                actor=Actor.objects.get(pk=actor_id),
                alternative=alternative or None,
                confidence=confidence,
            )
            for actor_id, alternative, confidence in restore["attributions"] or []
        ]
    if "weapons" in restore:
        parts.weapons = [
            services.WeaponData(
                weapon=WeaponType.objects.get(pk=pk), certainty=certainty
            )
            for pk, certainty in restore["weapons"] or []
        ]
    if "targets" in restore:
        parts.targets = [
            services.TargetData(
                target_type=TargetType.objects.get(pk=pk), damage=damage
            )
            for pk, damage in restore["targets"] or []
        ]
    return parts


@transaction.atomic
def import_batch_revert(*, batch: ImportBatch, by) -> ImportBatch:
    """Restore the fields the batch changed (unless edited since, which is reported),
    withdraw the published incidents it created ("import reverted"), delete the drafts
    it created that nobody touched since, and record the revert on the batch."""
    if by is not None and not services.is_reviewer(by):
        raise PermissionDenied("Only reviewers and admins revert imports.")
    batch = ImportBatch.objects.select_for_update().get(pk=batch.pk)
    if batch.dry_run or batch.status != ImportBatch.Status.SUCCEEDED:
        raise ValidationError(
            {
                "status": f"Only a succeeded, real import can be reverted (this one is "
                f"{'a dry run' if batch.dry_run else batch.status})."
            }
        )
    user_id = by.pk if getattr(by, "pk", None) else batch.user_id
    reason = f"import #{batch.pk} reverted"
    messages: list[str] = []
    restored = withdrawn = deleted = kept = 0
    with pghistory.context(user=user_id, import_batch=batch.pk, reason=reason):
        for entry in batch.report:
            if entry.get("action") != "updated" or not entry.get("changes"):
                continue
            incident = (
                Incident.objects.prefetch_related("casualties", "attributions")
                .filter(pk=entry.get("incident_id"))
                .first()
            )
            if incident is None or incident.status in (
                Incident.Status.WITHDRAWN,
                Incident.Status.MERGED,
            ):
                continue
            current = incident_snapshot(incident)
            restore = {}
            for key, change in entry["changes"].items():
                if current.get(key) == change["new"]:
                    restore[key] = change["old"]
                else:
                    messages.append(
                        f"{incident.code}: kept the edit of {label(key)} made since the import"
                    )
                    kept += 1
            if restore:
                fields = {
                    k: _field_value(k, v)
                    for k, v in restore.items()
                    if not k.startswith("casualties:")
                    and k not in ("attributions", "weapons", "targets")
                }
                services.incident_update(
                    incident=incident,
                    expected_version=incident.version,
                    fields=fields,
                    parts=_restore_parts(incident, restore),
                    by=by,
                    reason=reason,
                    batch=batch,
                )
                restored += 1
            before = entry.get("ref_before")
            if before:
                ExternalRef.objects.filter(
                    system=_system(batch), value=entry["external_id"], batch=batch
                ).update(
                    release=before.get("release") or "",
                    release_date=before.get("release_date"),
                    batch_id=before.get("batch"),
                    raw=before.get("raw"),
                )
        created = Incident.objects.filter(import_batch=batch).order_by("pk")
        drafts: list[int] = []
        for incident in created:
            if incident.status == Incident.Status.PUBLISHED:
                services.incident_withdraw(
                    incident=incident, withdrawn_reason=REVERTED_REASON, by=by
                )
                withdrawn += 1
            elif incident.status == Incident.Status.DRAFT and incident.version == 1:
                drafts.append(incident.pk)
            elif incident.status not in (
                Incident.Status.WITHDRAWN,
                Incident.Status.MERGED,
            ):
                messages.append(
                    f"{incident.code}: kept ({incident.status}, edited since the import)"
                )
                kept += 1
        if drafts:
            for model in (
                CasualtyCount,
                Attribution,
                IncidentWeapon,
                IncidentTarget,
                Citation,
                ExternalRef,
                Victim,
            ):
                model.objects.filter(incident_id__in=drafts).delete()
            Incident.objects.filter(pk__in=drafts).delete()
            deleted = len(drafts)
        summary = (
            f"reverted by {getattr(by, 'username', 'the system')} at "
            f"{timezone.now():%Y-%m-%d %H:%M} UTC: {restored} incident(s) restored, "
            f"{withdrawn} withdrawn, {deleted} draft(s) deleted, {kept} edit(s) kept"
        )
        batch.report = [
            {
                "line": None,
                "external_id": "",
                "action": "reverted",
                "messages": [summary, *messages],
            },
            *batch.report,
        ]
        batch.status = ImportBatch.Status.REVERTED
        batch.save(update_fields=["report", "status"])
    return batch


def _system(batch: ImportBatch) -> str:
    from incidents.importers import importer_for

    return importer_for(batch.format).system
