"""Every write that spans rows or must be recorded (STYLE.md: `<entity>_<verb>`).

Admin, API and importers all call these, so they obey one set of rules: one validation
layer (`validate_incident`), denormalised totals recomputed exactly as DOMAIN.md defines
them, codes that are never reused, the workflow with its four-eyes rule, optimistic
locking, and the audit context (who, why, which import batch) on every row written.
"""

from __future__ import annotations

import contextvars
import hashlib
import mimetypes
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import pghistory
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from incidents.models import (
    CIVILIAN_SUBGROUPS,
    STATUS_GROUPS,
    Actor,
    ActorName,
    Attribution,
    CasualtyCount,
    Citation,
    Claim,
    ExternalRef,
    Facility,
    ImportBatch,
    Incident,
    IncidentTarget,
    IncidentWeapon,
    Location,
    LocationName,
    ProtectionRequest,
    PublicChange,
    Source,
    Victim,
    WriteConflict,
)
from incidents.text import normalize_name
from incidents.uploads import check_upload

# Serialises appends to the public changes feed (PublicChange), held to commit.
CHANGES_FEED_LOCK = 7_150_001

# Incident fields a caller may set directly; everything else is derived or workflow.
EDITABLE_FIELDS = (
    "title",
    "title_ar",
    "summary",
    "summary_ar",
    "internal_notes",
    "date_start",
    "date_end",
    "date_precision",
    "time_of_day",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "incident_type",
    "aggregate",
    "grading",
)

# Fields the public sees (DOMAIN.md, "What the public sees"); used by the public history.
PUBLIC_FIELDS = (
    "title",
    "title_ar",
    "summary",
    "summary_ar",
    "date_start",
    "date_end",
    "date_precision",
    "time_of_day",
    "public_location",
    "public_latitude",
    "public_longitude",
    "public_geo_precision",
    "incident_type",
    "aggregate",
    "grading",
    "status",
    "withdrawn_reason",
    "merged_into",
    "casualties_known",
    "civilians_killed_min",
    "civilians_killed_max",
    "civilians_injured_min",
    "civilians_injured_max",
    "children_killed_min",
    "children_killed_max",
    "medical_personnel_killed_min",
    "medical_personnel_killed_max",
    "total_killed_min",
    "total_killed_max",
    "total_injured_min",
    "total_injured_max",
)


# ---------------------------------------------------------------------------------------
# Errors
# ---------------------------------------------------------------------------------------


class IncidentValidationError(ValidationError):
    """A validation error with a nested, field-keyed `detail` (as the API returns it):
    `{"casualty_rows": [{}, {"max": ["must be >= min (3)"]}]}`. `message_dict` flattens it
    for forms ("casualty_rows[1].max")."""

    def __init__(self, detail: dict[str, Any]):
        self.detail = detail
        super().__init__(_flatten(detail))


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            out.update(_flatten(value, f"{prefix}.{key}" if prefix else str(key)))
    elif (
        isinstance(detail, list) and detail and all(isinstance(v, str) for v in detail)
    ):
        out[prefix or "__all__"] = list(detail)
    elif isinstance(detail, list):
        for index, value in enumerate(detail):
            if value:
                out.update(_flatten(value, f"{prefix}[{index}]"))
    else:
        out[prefix or "__all__"] = [str(detail)]
    return out


class StaleVersionError(Exception):
    """A write carried an older version than the database holds; nothing was written."""

    def __init__(
        self,
        *,
        incident: Incident,
        sent_version: int,
        current_version: int,
        changed_fields: list[str],
    ):
        self.incident = incident
        self.sent_version = sent_version
        self.current_version = current_version
        self.changed_fields = changed_fields
        super().__init__(
            f"{incident.code} was changed by someone else meanwhile (you edited version "
            f"{sent_version}, it is now version {current_version}; changed: "
            f"{', '.join(changed_fields) or 'related rows'})."
        )


class DuplicateSourceError(Exception):
    """The URL or file is already a source."""

    def __init__(self, existing: Source, what: str):
        self.existing = existing
        self.what = what
        super().__init__(
            f"This {what} is already source #{existing.pk}: {existing.title}"
        )


# ---------------------------------------------------------------------------------------
# Roles (DOMAIN.md "Workflow and roles")
# ---------------------------------------------------------------------------------------


def _groups(user) -> set[str]:
    if (
        user is None
        or not getattr(user, "is_authenticated", False)
        or not user.is_active
    ):
        return set()
    cached = getattr(user, "_civtrack_groups", None)
    if cached is None:
        cached = set(user.groups.values_list("name", flat=True))
        user._civtrack_groups = cached
    return cached


def is_staff_member(user) -> bool:
    """Researchers, reviewers and admins (and superusers)."""
    if (
        user is None
        or not getattr(user, "is_authenticated", False)
        or not user.is_active
    ):
        return False
    return user.is_superuser or bool(
        _groups(user) & {"researcher", "reviewer", "admin"}
    )


def is_reviewer(user) -> bool:
    """Reviewers and admins (admins are reviewers too)."""
    if (
        user is None
        or not getattr(user, "is_authenticated", False)
        or not user.is_active
    ):
        return False
    return user.is_superuser or bool(_groups(user) & {"reviewer", "admin"})


def is_admin(user) -> bool:
    if (
        user is None
        or not getattr(user, "is_authenticated", False)
        or not user.is_active
    ):
        return False
    return user.is_superuser or "admin" in _groups(user)


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise PermissionDenied(message)


def can_edit_incident(user, incident: Incident) -> bool:
    if incident.status in (Incident.Status.DRAFT,):
        return is_staff_member(user)
    if incident.status in (Incident.Status.IN_REVIEW, Incident.Status.PUBLISHED):
        return is_reviewer(user)
    return False  # withdrawn and merged incidents are closed


NEEDS_A_REVIEWER = "needs a reviewer"


def is_system_account(user) -> bool:
    """The `importer` system account (SYSTEM_USERNAME, no usable password, cannot log
    in). Batches run from the command line without --user are recorded under it, and
    whoever runs the command operates the server, so it imports with a reviewer's
    rights (IMPORTS.md). An account that can log in never counts as it."""
    return (
        user is not None
        and getattr(user, "pk", None) is not None
        and user.get_username() == SYSTEM_USERNAME
        and not user.is_active
        and not user.has_usable_password()
    )


def import_acts_as_reviewer(user) -> bool:
    """Whether a batch recorded under `user` may change incidents in review or
    published, and publish (a reviewer, an admin, or the system account)."""
    return is_reviewer(user) or is_system_account(user)


def import_change_problem(*, batch: ImportBatch, incident: Incident) -> str | None:
    """Why `batch` may not change `incident`, or None (DOMAIN.md role table).

    The same rule as can_edit_incident, applied to the batch's user: a researcher's
    import creates and updates drafts only, so an incident in review or published is
    left untouched and reported as "needs a reviewer"; and a batch without --publish
    never changes a published incident (IMPORTS.md), whoever runs it."""
    status = incident.status
    if status not in (Incident.Status.IN_REVIEW, Incident.Status.PUBLISHED):
        return None
    if not import_acts_as_reviewer(batch.user):
        return (
            f"{NEEDS_A_REVIEWER}: {incident.code} is {incident.get_status_display()}, "
            "and a researcher's import changes drafts only; left untouched (a reviewer "
            "re-running the file applies it)"
        )
    if status == Incident.Status.PUBLISHED and not batch.publish:
        return (
            f"{incident.code} is published: a batch without --publish never changes a "
            "published incident"
        )
    return None


# ---------------------------------------------------------------------------------------
# Inputs for an incident's parts
# ---------------------------------------------------------------------------------------


@dataclass
class CasualtyRowData:
    group: str
    outcome: str
    min: int
    max: int
    best: int | None = None
    note: str = ""


@dataclass
class AttributionData:
    actor: Actor
    role: str = Attribution.Role.PERPETRATOR
    confidence: str = "likely"
    alternative: int | None = None
    position: str = Attribution.Position.NO_STATEMENT
    conceded_killed: int | None = None
    note: str = ""


@dataclass
class WeaponData:
    weapon: Any
    certainty: str = IncidentWeapon.Certainty.REPORTED


@dataclass
class TargetData:
    target_type: Any
    facility: Facility | None = None
    damage: str = IncidentTarget.Damage.UNKNOWN


@dataclass
class CitationData:
    source: Source
    supports: list[str] = field(default_factory=list)
    excerpt: str = ""
    locator: str = ""


@dataclass
class ExternalRefData:
    system: str
    value: str
    url: str = ""
    release: str = ""
    release_date: date | None = None
    batch: ImportBatch | None = None
    raw: Any = None


@dataclass
class VictimData:
    outcome: str
    name: str = ""
    name_ar: str = ""
    sex: str = Victim.Sex.UNKNOWN
    age: int | None = None
    age_group: str = Victim.AgeGroup.UNKNOWN
    civilian_status: str = Victim.CivilianStatus.UNKNOWN
    protected_role: str = Victim.ProtectedRole.NONE
    consent_note: str = ""
    publish_name: bool = False


@dataclass
class IncidentParts:
    """An incident's dependent rows; None on update means "leave as they are"."""

    casualty_rows: list[CasualtyRowData] | None = None
    attributions: list[AttributionData] | None = None
    weapons: list[WeaponData] | None = None
    targets: list[TargetData] | None = None
    citations: list[CitationData] | None = None
    external_refs: list[ExternalRefData] | None = None
    victims: list[VictimData] | None = None


PART_MODELS = {
    "casualty_rows": (CasualtyCount, CasualtyRowData),
    "attributions": (Attribution, AttributionData),
    "weapons": (IncidentWeapon, WeaponData),
    "targets": (IncidentTarget, TargetData),
    "citations": (Citation, CitationData),
    "external_refs": (ExternalRef, ExternalRefData),
    "victims": (Victim, VictimData),
}
PART_RELATED_NAME = {
    "casualty_rows": "casualties",
    "attributions": "attributions",
    "weapons": "weapons",
    "targets": "targets",
    "citations": "citations",
    "external_refs": "external_refs",
    "victims": "victims",
}


# ---------------------------------------------------------------------------------------
# Validation: one layer for admin, API and importers
# ---------------------------------------------------------------------------------------


def _choices(model, name: str) -> set[str]:
    return {value for value, _label in model._meta.get_field(name).choices}


def validate_incident(fields: dict[str, Any], parts: IncidentParts) -> None:
    """Check an incident's fields and parts together; raise IncidentValidationError.

    The database enforces the same rules as CheckConstraints; this layer finds every
    problem at once and words it for the person who entered it.
    """
    errors: dict[str, Any] = {}
    start, end = fields.get("date_start"), fields.get("date_end")
    if not fields.get("title", "").strip():
        errors["title"] = ["Give the incident a title."]
    if start is None:
        errors["date_start"] = ["Enter the first day of the window (YYYY-MM-DD)."]
    if end is None:
        errors["date_end"] = ["Enter the last day of the window (YYYY-MM-DD)."]
    if start and end and end < start:
        errors["date_end"] = [
            f"The window cannot end ({end}) before it starts ({start})."
        ]
    if fields.get("incident_type") is None:
        errors["incident_type"] = ["Choose an incident type."]
    lat, lon = fields.get("latitude"), fields.get("longitude")
    if (lat is None) != (lon is None):
        errors["latitude" if lat is None else "longitude"] = [
            "Give both latitude and longitude, or neither."
        ]
    if lat is not None and not -90 <= lat <= 90:
        errors["latitude"] = [f"Latitude must be between -90 and 90 (got {lat})."]
    if lon is not None and not -180 <= lon <= 180:
        errors["longitude"] = [f"Longitude must be between -180 and 180 (got {lon})."]
    for name, model_field in (
        ("date_precision", "date_precision"),
        ("time_of_day", "time_of_day"),
        ("geo_precision", "geo_precision"),
        ("grading", "grading"),
    ):
        value = fields.get(name)
        if value is not None and value not in _choices(Incident, model_field):
            allowed = ", ".join(sorted(_choices(Incident, model_field)))
            errors[name] = [f"'{value}' is not one of: {allowed}."]

    if parts.casualty_rows is not None:
        row_errors = _validate_casualty_rows(parts.casualty_rows)
        if row_errors:
            errors["casualty_rows"] = row_errors
    if parts.attributions is not None:
        attribution_errors = _validate_attributions(parts.attributions)
        if attribution_errors:
            errors["attributions"] = attribution_errors
    if parts.weapons is not None:
        seen: set[int] = set()
        weapon_errors: list[dict] = []
        for weapon in parts.weapons:
            problem: dict[str, list[str]] = {}
            if weapon.certainty not in _choices(IncidentWeapon, "certainty"):
                problem["certainty"] = [f"'{weapon.certainty}' is not a certainty."]
            if weapon.weapon.pk in seen:
                problem["weapon"] = [f"{weapon.weapon.code} is listed twice."]
            seen.add(weapon.weapon.pk)
            weapon_errors.append(problem)
        if any(weapon_errors):
            errors["weapons"] = weapon_errors
    if parts.targets is not None:
        target_errors = []
        for target in parts.targets:
            problem = {}
            if target.damage not in _choices(IncidentTarget, "damage"):
                problem["damage"] = [f"'{target.damage}' is not a damage level."]
            target_errors.append(problem)
        if any(target_errors):
            errors["targets"] = target_errors
    if parts.citations is not None:
        citation_errors = []
        seen_citations: set[tuple] = set()
        claims = {c.value for c in Claim}
        for citation in parts.citations:
            problem = {}
            unknown = [s for s in citation.supports if s not in claims]
            if unknown:
                problem["supports"] = [
                    f"Unknown claim(s) {', '.join(unknown)}; allowed: {', '.join(sorted(claims))}."
                ]
            key = (citation.source.pk, citation.locator)
            if key in seen_citations:
                problem["source"] = [
                    "This source is cited twice with the same locator."
                ]
            seen_citations.add(key)
            citation_errors.append(problem)
        if any(citation_errors):
            errors["citations"] = citation_errors
    if parts.external_refs is not None:
        ref_errors = []
        seen_refs: set[tuple] = set()
        for ref in parts.external_refs:
            problem = {}
            if ref.system not in _choices(ExternalRef, "system"):
                problem["system"] = [f"'{ref.system}' is not a known system."]
            if not ref.value:
                problem["value"] = ["Give the reference's value."]
            if (ref.system, ref.value) in seen_refs:
                problem["value"] = [f"{ref.system}:{ref.value} is listed twice."]
            seen_refs.add((ref.system, ref.value))
            ref_errors.append(problem)
        if any(ref_errors):
            errors["external_refs"] = ref_errors
    if parts.victims is not None:
        victim_errors = []
        for victim in parts.victims:
            problem = {}
            if victim.publish_name and not victim.consent_note.strip():
                problem["publish_name"] = [
                    "A name may be published only when the consent note says who consented."
                ]
            if victim.age is not None and not 0 <= victim.age <= 130:
                problem["age"] = ["Age must be between 0 and 130."]
            if (
                victim.age is not None
                and victim.age < 18
                and victim.age_group == "adult"
            ):
                problem["age_group"] = ["A victim under 18 is a child, not an adult."]
            if victim.outcome not in _choices(Victim, "outcome"):
                problem["outcome"] = [f"'{victim.outcome}' is not an outcome."]
            victim_errors.append(problem)
        if any(victim_errors):
            errors["victims"] = victim_errors
    if errors:
        raise IncidentValidationError(errors)


def _validate_casualty_rows(rows: Sequence[CasualtyRowData]) -> list[dict]:
    groups = _choices(CasualtyCount, "group")
    outcomes = _choices(CasualtyCount, "outcome")
    row_errors: list[dict[str, list[str]]] = [{} for _ in rows]
    seen: dict[tuple[str, str], int] = {}
    by_key: dict[tuple[str, str], CasualtyRowData] = {}
    for index, row in enumerate(rows):
        problem = row_errors[index]
        if row.group not in groups:
            problem["group"] = [
                f"'{row.group}' is not a group; allowed: {', '.join(sorted(groups))}."
            ]
        if row.outcome not in outcomes:
            problem["outcome"] = [
                f"'{row.outcome}' is not an outcome; allowed: {', '.join(sorted(outcomes))}."
            ]
        for name in ("min", "max", "best"):
            value = getattr(row, name)
            if value is None and name != "best":
                problem[name] = ["This number is required."]
            elif value is not None and (not isinstance(value, int) or value < 0):
                problem[name] = ["Must be a whole number, 0 or more."]
        if not problem:
            if row.min > row.max:
                problem["max"] = [f"must be >= min ({row.min})"]
            if row.best is not None and not row.min <= row.best <= row.max:
                problem["best"] = [
                    f"must lie between min ({row.min}) and max ({row.max})"
                ]
        key = (row.group, row.outcome)
        if key in seen:
            problem["group"] = [
                f"There is already a row for {row.group} {row.outcome}."
            ]
        seen[key] = index
        by_key[key] = row
    for index, row in enumerate(rows):
        if row_errors[index]:
            continue
        civilians = by_key.get(("civilians", row.outcome))
        if (
            row.group in CIVILIAN_SUBGROUPS
            and civilians is not None
            and not row_errors[seen[("civilians", row.outcome)]]
            and row.min > civilians.max
        ):
            row_errors[index]["min"] = [
                f"{row.group} {row.outcome} ({row.min}) cannot exceed the civilians' maximum "
                f"({civilians.max})."
            ]
    for outcome in outcomes:
        everyone = by_key.get(("all", outcome))
        if everyone is None or row_errors[seen[("all", outcome)]]:
            continue
        status_min = sum(
            by_key[(g, outcome)].min
            for g in STATUS_GROUPS
            if (g, outcome) in by_key and not row_errors[seen[(g, outcome)]]
        )
        if status_min > everyone.max:
            row_errors[seen[("all", outcome)]]["max"] = [
                f"The status groups' minimums add up to {status_min}, more than everyone's "
                f"maximum ({everyone.max})."
            ]
    return row_errors if any(row_errors) else []


def _validate_attributions(rows: Sequence[AttributionData]) -> list[dict]:
    errors: list[dict[str, list[str]]] = []
    seen: set[tuple[int, str]] = set()
    for row in rows:
        problem: dict[str, list[str]] = {}
        if row.role not in _choices(Attribution, "role"):
            problem["role"] = [f"'{row.role}' is not a role."]
        if row.confidence not in _choices(Attribution, "confidence"):
            problem["confidence"] = [f"'{row.confidence}' is not a confidence level."]
        if row.position not in _choices(Attribution, "position"):
            problem["position"] = [f"'{row.position}' is not a position."]
        if row.alternative is not None:
            if row.role != Attribution.Role.PERPETRATOR:
                problem["alternative"] = [
                    "Only perpetrators can form alternative hypotheses."
                ]
            elif row.confidence == "confirmed":
                problem["alternative"] = [
                    "A confirmed perpetrator cannot be one of several alternatives."
                ]
            elif row.alternative < 1:
                problem["alternative"] = ["Alternatives are numbered from 1."]
        if row.conceded_killed is not None and row.conceded_killed < 0:
            problem["conceded_killed"] = ["Must be 0 or more."]
        key = (row.actor.pk, row.role)
        if key in seen:
            problem["actor"] = [f"{row.actor.name} already has the role {row.role}."]
        seen.add(key)
        errors.append(problem)
    numbered = {row.alternative for row in rows if row.alternative is not None}
    if len(numbered) == 1:
        # A single numbered hypothesis is not an alternative to anything.
        for index, row in enumerate(rows):
            if row.alternative is not None and not errors[index]:
                errors[index]["alternative"] = [
                    "A single hypothesis is not an alternative: number at least two, or "
                    "leave the number empty for certain perpetrators."
                ]
    return errors if any(errors) else []


# ---------------------------------------------------------------------------------------
# Derived values
# ---------------------------------------------------------------------------------------


def compute_totals(rows: Iterable[CasualtyRowData | CasualtyCount]) -> dict[str, Any]:
    """The denormalised totals of DOMAIN.md ("Not recorded is not zero") from an
    incident's CasualtyCount rows.

    A group with no row is *not recorded* (None/None), never 0: a 0 is a source's claim
    and exists only as a row. Migration 0011 and `TOTALS_SQL` below apply the same rules
    in SQL; tests/incidents/test_totals.py holds both to them."""
    by_key = {(row.group, row.outcome): row for row in rows}
    totals: dict[str, Any] = {"casualties_known": bool(by_key)}
    for outcome in ("killed", "injured"):
        civilians = by_key.get(("civilians", outcome))
        if civilians is not None:
            civ_min, civ_max = civilians.min, civilians.max
        else:
            # The civilians fallback: a subgroup count is only a floor ("at least N");
            # with no civilian subgroup either, civilians are not recorded.
            subgroup_mins = [
                by_key[(g, outcome)].min
                for g in CIVILIAN_SUBGROUPS
                if (g, outcome) in by_key
            ]
            civ_min = max(subgroup_mins) if subgroup_mins else None
            civ_max = None
        totals[f"civilians_{outcome}_min"] = civ_min
        totals[f"civilians_{outcome}_max"] = civ_max
        everyone = by_key.get(("all", outcome))
        if everyone is not None:
            totals[f"total_{outcome}_min"] = everyone.min
            totals[f"total_{outcome}_max"] = everyone.max
        else:
            # Sums of the status groups: an absent group adds nothing to the minimum and
            # leaves the maximum unknown; no status group at all is not recorded.
            parts = [(civ_min, civ_max)] + [
                (row.min, row.max)
                for row in (
                    by_key.get((group, outcome))
                    for group in ("combatants", "unknown_status")
                )
                if row is not None
            ]
            recorded = [(low, high) for low, high in parts if low is not None]
            if not recorded:
                total_min, total_max = None, None
            else:
                total_min = sum(low for low, _ in recorded)
                complete = len(recorded) == len(STATUS_GROUPS)
                highs = [high for _, high in recorded]
                total_max = sum(highs) if complete and None not in highs else None
            totals[f"total_{outcome}_min"] = total_min
            totals[f"total_{outcome}_max"] = total_max
    for group in ("children", "medical_personnel"):
        row = by_key.get((group, "killed"))
        totals[f"{group}_killed_min"] = row.min if row else None
        totals[f"{group}_killed_max"] = row.max if row else None
    return totals


def location_ancestors(location: Location | None) -> list[Location]:
    """The place and its parents, most specific first (one query per level)."""
    chain: list[Location] = []
    seen: set[int] = set()
    while location is not None and location.pk not in seen:
        chain.append(location)
        seen.add(location.pk)
        location = location.parent
    return chain


def governorate_of(location: Location | None) -> Location | None:
    for place in location_ancestors(location):
        if place.level == Location.Level.GOVERNORATE:
            return place
    return None


def _district_or_coarser(location: Location | None) -> Location | None:
    for place in location_ancestors(location):
        if place.level in (
            Location.Level.DISTRICT,
            Location.Level.GOVERNORATE,
            Location.Level.COUNTRY,
        ):
            return place
    return None


def _public_place(
    fields: dict[str, Any], targets: Sequence[TargetData]
) -> dict[str, Any]:
    """The redaction layer's place: a sensitive facility hides the real place behind its
    district (DOMAIN.md), so every public filter, map and export reads these values.
    An incident placed at (or under) a sensitive facility's own site is generalised too,
    whatever it targets: the site hides with the facility, and showing it as an
    incident's place would name it."""
    sensitive = [
        t.facility for t in targets if t.facility is not None and t.facility.sensitive
    ] or _sensitive_facilities_at_site(fields.get("location"))
    if not sensitive:
        return {
            "public_location": fields.get("location"),
            "public_latitude": fields.get("latitude"),
            "public_longitude": fields.get("longitude"),
            "public_geo_precision": fields.get("geo_precision") or "community",
        }
    district = _district_or_coarser(sensitive[0].location) or _district_or_coarser(
        fields.get("location")
    )
    precision = district.level if district is not None else "country"
    if precision not in ("district", "governorate", "country"):
        precision = "district"
    return {
        "public_location": district,
        "public_latitude": district.latitude if district else None,
        "public_longitude": district.longitude if district else None,
        "public_geo_precision": precision,
    }


def _sensitive_facilities_at_site(location: Location | None) -> list[Facility]:
    """The sensitive facility whose own `site` the place is or lies under (one query,
    and only when the place's chain holds a site)."""
    sites = [
        p.pk for p in location_ancestors(location) if p.level == Location.Level.SITE
    ]
    if not sites:
        return []
    return list(
        Facility.objects.filter(location_id__in=sites, sensitive=True)
        .select_related("location")
        .order_by("pk")[:1]
    )


def _site_ids(*location_ids: int | None) -> list[int]:
    """Those of the places that are sites (what a facility's sensitivity hides)."""
    ids = [pk for pk in location_ids if pk]
    if not ids:
        return []
    return list(
        Location.objects.filter(pk__in=ids, level=Location.Level.SITE).values_list(
            "pk", flat=True
        )
    )


def _search_names(public_location: Location | None, actors: Iterable[Actor]) -> str:
    """Public names that full-text search should find the incident by: its public place
    and parents, its actors, with their aliases. Never the real place of a sensitive
    facility (the public place is used)."""
    places = location_ancestors(public_location)
    actor_list = [a for a in actors if a is not None]
    names: list[str] = []
    for place in places:
        names += [place.name, place.name_ar]
    for actor in actor_list:
        names += [actor.name, actor.name_ar]
    if places:
        names += list(
            LocationName.objects.filter(location__in=places).values_list(
                "name", flat=True
            )
        )
    if actor_list:
        names += list(
            ActorName.objects.filter(actor__in=actor_list).values_list(
                "name", flat=True
            )
        )
    unique: list[str] = []
    for name in names:
        if name and name not in unique:
            unique.append(name)
    return " ".join(unique)


def _derived(
    fields: dict[str, Any], parts: IncidentParts, *, existing: Incident | None
):
    """Everything the services compute: totals, governorate, public place, search names."""
    derived: dict[str, Any] = {}
    rows = parts.casualty_rows
    if rows is None and existing is not None:
        rows = list(existing.casualties.all())
    derived.update(compute_totals(rows or []))
    derived["governorate"] = governorate_of(fields.get("location"))
    targets = parts.targets
    if targets is None and existing is not None:
        targets = [
            TargetData(target_type=t.target_type, facility=t.facility, damage=t.damage)
            for t in existing.targets.select_related("facility__location")
        ]
    derived.update(_public_place(fields, targets or []))
    attributions = parts.attributions
    if attributions is None and existing is not None:
        actors = [a.actor for a in existing.attributions.select_related("actor")]
    else:
        actors = [a.actor for a in attributions or []]
    derived["search_names"] = _search_names(derived["public_location"], actors)
    return derived


def _audit(
    *,
    by: AbstractBaseUser | None,
    reason: str,
    public_reason: str = "",
    batch: ImportBatch | None = None,
):
    """The pghistory context attached to every audit row written inside it."""
    context: dict[str, Any] = {"reason": reason}
    if by is not None and getattr(by, "pk", None) is not None:
        context["user"] = by.pk
    if public_reason:
        context["public_reason"] = public_reason
    if batch is not None:
        context["import_batch"] = batch.pk
    return pghistory.context(**context)


def _next_code(year: int) -> str:
    """The next code of `year`'s own counter; one atomic upsert, safe under concurrency,
    and numbers are never handed out twice."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO incidents_incidentcodecounter (year, last_number) VALUES (%s, 1)
            ON CONFLICT (year) DO UPDATE
              SET last_number = incidents_incidentcodecounter.last_number + 1
            RETURNING last_number
            """,
            [year],
        )
        number = cursor.fetchone()[0]
    return f"SY-{year:04d}-{number:05d}"


def _record_change(incident: Incident, action: str, public_reason: str = "") -> None:
    """Append to the public changes feed in commit order (advisory lock held to commit)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CHANGES_FEED_LOCK])
    PublicChange.objects.create(
        incident=incident,
        code=incident.code,
        action=action,
        version=incident.version,
        public_reason=public_reason,
    )


def _write_parts(incident: Incident, parts: IncidentParts, *, replace: bool) -> None:
    for name, (model, _data_class) in PART_MODELS.items():
        items = getattr(parts, name)
        if items is None:
            continue
        if replace:
            if name == "external_refs":
                _replace_external_refs(incident, items)
                continue
            model.objects.filter(incident=incident).delete()
        objects = [model(incident=incident, **vars(item)) for item in items]
        model.objects.bulk_create(objects)


def _replace_external_refs(
    incident: Incident, items: Sequence[ExternalRefData]
) -> None:
    # Existing rows keep their raw row and batch (evidence an editor never supplies);
    # their editable description (url, release, release date) is updated in place.
    existing = {(r.system, r.value): r for r in incident.external_refs.all()}
    wanted = {(i.system, i.value): i for i in items}
    ExternalRef.objects.filter(
        pk__in=[r.pk for key, r in existing.items() if key not in wanted]
    ).delete()
    for key, ref in existing.items():
        item = wanted.get(key)
        if item is None:
            continue
        changed = [
            name
            for name in ("url", "release", "release_date")
            if getattr(item, name) != getattr(ref, name)
        ]
        if changed:
            for name in changed:
                setattr(ref, name, getattr(item, name))
            ref.save(update_fields=changed)
    new = [
        ExternalRef(incident=incident, **vars(i))
        for key, i in wanted.items()
        if key not in existing
    ]
    ExternalRef.objects.bulk_create(new)


def _integrity_to_validation(error: IntegrityError) -> IncidentValidationError:
    """A constraint that slipped past validation, worded like a validation error."""
    message = str(error).splitlines()[0]
    for model in (
        Incident,
        CasualtyCount,
        Attribution,
        Citation,
        ExternalRef,
        Victim,
        IncidentWeapon,
        IncidentTarget,
    ):
        for constraint in model._meta.constraints:
            if constraint.name in message:
                text = constraint.violation_error_message or constraint.name
                return IncidentValidationError(
                    {
                        "__all__": [
                            str(text) % {"name": constraint.name}
                            if "%(" in str(text)
                            else str(text)
                        ]
                    }
                )
    return IncidentValidationError(
        {"__all__": [f"The database refused the change: {message}"]}
    )


# ---------------------------------------------------------------------------------------
# Incidents
# ---------------------------------------------------------------------------------------


def _clean_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(EDITABLE_FIELDS)
    if unknown:
        raise IncidentValidationError(
            {name: ["This field cannot be set here."] for name in sorted(unknown)}
        )
    return dict(fields)


def incident_create(
    *,
    fields: dict[str, Any],
    parts: IncidentParts | None = None,
    by: AbstractBaseUser | None,
    reason: str = "created",
    batch: ImportBatch | None = None,
    synthetic: bool = False,
) -> Incident:
    """Create a draft incident with its parts, all or nothing; assigns its code."""
    if by is not None:
        _require(
            is_staff_member(by),
            "Only researchers, reviewers and admins create incidents.",
        )
    parts = parts or IncidentParts()
    fields = _clean_fields(fields)
    fields.setdefault("date_end", fields.get("date_start"))
    validate_incident(fields, parts)
    try:
        with transaction.atomic(), _audit(by=by, reason=reason, batch=batch):
            incident = Incident(
                **fields,
                **_derived(fields, parts, existing=None),
                code=_next_code(fields["date_start"].year),
                created_by=by,
                last_edited_by=by,
                import_batch=batch,
                synthetic=synthetic,
            )
            incident.full_clean(exclude=["search_vector"], validate_unique=False)
            incident.save(force_insert=True)
            held = _names_held_back(parts, None)
            _write_parts(incident, parts, replace=False)
            incident.protection_requests = _ask_for_names(
                incident, held, by=by, reason=reason
            )
    except IntegrityError as error:
        raise _integrity_to_validation(error) from error
    except ValidationError as error:
        if isinstance(error, IncidentValidationError):
            raise
        raise IncidentValidationError(error.message_dict) from error
    return incident


def changed_fields_since(incident: Incident, version: int) -> list[str]:
    """Fields of the incident row that differ between `version` (read from the audit
    trail) and now; empty when the trail has no snapshot of that version."""
    from pghistory.models import Events

    snapshot = (
        Events.objects.tracks(incident)
        .filter(pgh_data__version=version)
        .order_by("-pgh_created_at")
        .values_list("pgh_data", flat=True)
        .first()
    )
    if snapshot is None:
        return []
    current = (
        Incident.objects.filter(pk=incident.pk).values(*EDITABLE_FIELDS_DB).first()
        or {}
    )
    return [
        name.removesuffix("_id")
        for name in EDITABLE_FIELDS_DB
        if _as_text(snapshot.get(name)) != _as_text(current.get(name))
    ]


EDITABLE_FIELDS_DB = tuple(
    f"{name}_id" if name in ("location", "incident_type") else name
    for name in EDITABLE_FIELDS
)


def _as_text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, float):
        return repr(round(value, 7))
    if isinstance(value, str):
        try:
            return repr(round(float(value), 7)) if "." in value else value
        except ValueError:
            return value
    return str(value)


def _lock_and_check(incident: Incident, expected_version: int | None, by) -> Incident:
    current = Incident.objects.select_for_update().get(pk=incident.pk)
    if expected_version is not None and current.version != expected_version:
        raise StaleVersionError(
            incident=current,
            sent_version=expected_version,
            current_version=current.version,
            changed_fields=changed_fields_since(current, expected_version),
        )
    return current


def _write_conflict_record(
    *, conflict: StaleVersionError, by: AbstractBaseUser | None, reason: str
) -> None:
    """Log a refused stale write (DOMAIN.md WriteConflict: who, when, which version
    was sent, which was current), outside the refused write's own rollback."""
    with _audit(by=by, reason=reason):
        WriteConflict.objects.create(
            incident=conflict.incident,
            user=by if getattr(by, "pk", None) else None,
            sent_version=conflict.sent_version,
            current_version=conflict.current_version,
            changed_fields=conflict.changed_fields,
        )


def incident_update(
    *,
    incident: Incident,
    expected_version: int | None,
    fields: dict[str, Any] | None = None,
    parts: IncidentParts | None = None,
    by: AbstractBaseUser | None,
    reason: str = "edited",
    public_reason: str = "",
    batch: ImportBatch | None = None,
) -> Incident:
    """Change an incident and/or replace some of its part lists, all or nothing.

    `expected_version` is the version the editor saw: when the row has moved on, nothing
    is written, a WriteConflict is logged and StaleVersionError raised. Editing a
    published incident keeps it published and appends to the public changes feed.
    """
    try:
        return _incident_update(
            incident=incident,
            expected_version=expected_version,
            fields=fields or {},
            parts=parts or IncidentParts(),
            by=by,
            reason=reason,
            public_reason=public_reason,
            batch=batch,
        )
    except StaleVersionError as conflict:
        _write_conflict_record(conflict=conflict, by=by, reason="stale write refused")
        raise


def _incident_update(
    *, incident, expected_version, fields, parts, by, reason, public_reason, batch
) -> Incident:
    fields = _clean_fields(fields)
    try:
        with (
            transaction.atomic(),
            _audit(by=by, reason=reason, public_reason=public_reason, batch=batch),
        ):
            current = _lock_and_check(incident, expected_version, by)
            if batch is not None and (by is None or by.pk == batch.user_id):
                # An import writes with its batch's user's rights, checked on the
                # locked row (the importer also checks first, to report the row). A
                # reviewer reverting someone's batch writes with their own rights.
                problem = import_change_problem(batch=batch, incident=current)
                if problem:
                    raise PermissionDenied(problem)
            if by is not None:
                _require(
                    can_edit_incident(by, current),
                    f"You cannot edit a {current.get_status_display()} incident.",
                )
            elif current.status in (Incident.Status.WITHDRAWN, Incident.Status.MERGED):
                raise PermissionDenied(
                    "A withdrawn or merged incident cannot be edited."
                )
            merged = {name: getattr(current, name) for name in EDITABLE_FIELDS}
            merged.update(fields)
            validate_incident(merged, parts)
            held = _names_held_back(parts, current)
            _write_parts(current, parts, replace=True)
            for name, value in {
                **merged,
                **_derived(merged, parts, existing=current),
            }.items():
                setattr(current, name, value)
            current.last_edited_by = by if by is not None else current.last_edited_by
            current.full_clean(exclude=["search_vector"], validate_unique=False)
            current.save()
            current.refresh_from_db(fields=["version", "updated_at"])
            if current.status == Incident.Status.PUBLISHED:
                _record_change(current, PublicChange.Action.UPDATED, public_reason)
            current.protection_requests = _ask_for_names(
                current, held, by=by, reason=reason
            )
    except IntegrityError as error:
        raise _integrity_to_validation(error) from error
    except ValidationError as error:
        if isinstance(error, IncidentValidationError):
            raise
        raise IncidentValidationError(error.message_dict) from error
    return current


def incident_touch(
    *, incident: Incident, by=None, reason: str, public_reason: str = ""
) -> None:
    """Recompute an incident's derived values after a shared row it shows changed
    (a source, facility, actor or place), bumping its version for ETags and the feed."""
    current = Incident.objects.select_for_update().get(pk=incident.pk)
    fields = {name: getattr(current, name) for name in EDITABLE_FIELDS}
    for name, value in _derived(fields, IncidentParts(), existing=current).items():
        setattr(current, name, value)
    with _audit(by=by, reason=reason, public_reason=public_reason):
        current.save()
        current.refresh_from_db(fields=["version", "updated_at"])
        if current.status == Incident.Status.PUBLISHED:
            _record_change(current, PublicChange.Action.UPDATED, public_reason)


def _touch_published(incidents, *, by, reason: str) -> int:
    count = 0
    for incident in incidents.filter(status=Incident.Status.PUBLISHED).order_by("pk"):
        incident_touch(incident=incident, by=by, reason=reason)
        count += 1
    return count


@transaction.atomic
def incident_submit(*, incident: Incident, by: AbstractBaseUser) -> Incident:
    """draft → in_review."""
    current = _lock_and_check(incident, None, by)
    _require(
        is_staff_member(by), "Only researchers, reviewers and admins submit incidents."
    )
    if current.status != Incident.Status.DRAFT:
        raise ValidationError({"status": "Only a draft can be submitted for review."})
    current.status = Incident.Status.IN_REVIEW
    current.submitted_by = by
    with _audit(by=by, reason="submitted for review"):
        current.save(update_fields=["status", "submitted_by", "updated_at"])
    current.refresh_from_db(fields=["version"])
    return current


@transaction.atomic
def incident_send_back(
    *, incident: Incident, reason: str, by: AbstractBaseUser
) -> Incident:
    """in_review → draft, with the reviewer's reason recorded."""
    current = _lock_and_check(incident, None, by)
    _require(is_reviewer(by), "Only reviewers and admins send incidents back.")
    if current.status != Incident.Status.IN_REVIEW:
        raise ValidationError(
            {"status": "Only an incident in review can be sent back."}
        )
    if not reason.strip():
        raise ValidationError({"reason": "Say why it is sent back."})
    current.status = Incident.Status.DRAFT
    with _audit(by=by, reason=f"sent back: {reason}"):
        current.save(update_fields=["status", "updated_at"])
    current.refresh_from_db(fields=["version"])
    return current


def four_eyes_problem(incident: Incident, by) -> str | None:
    """Why `by` may not publish `incident` (DOMAIN.md four-eyes rule), or None."""
    if incident.created_by_id is not None and incident.created_by_id == by.pk:
        return "You created this incident: another reviewer must publish it (four-eyes rule)."
    if incident.last_edited_by_id is not None and incident.last_edited_by_id == by.pk:
        return (
            "You edited this incident last: another reviewer must publish it "
            "(four-eyes rule)."
        )
    return None


def incident_publish(
    *,
    incident: Incident,
    expected_version: int | None,
    by: AbstractBaseUser | None,
    batch: ImportBatch | None = None,
    public_reason: str = "",
) -> Incident:
    """in_review → published by a reviewer who neither created nor last edited it.

    `expected_version` is the version the reviewer read (DOMAIN.md "publishes the
    version they reviewed"): when the incident changed since, nothing is published, a
    WriteConflict is logged and StaleVersionError raised, so no path publishes a text
    nobody reviewed. Only an import's own publish (`batch`, which publishes what that
    batch just wrote) may pass None.

    With `batch` (an import run with --publish) a draft is published from a third-party
    dataset, and the batch records the four-eyes waiver instead.
    """
    if expected_version is None and batch is None:
        raise TypeError("incident_publish needs the version the reviewer read.")
    try:
        return _incident_publish(
            incident=incident,
            expected_version=expected_version,
            by=by,
            batch=batch,
            public_reason=public_reason,
        )
    except StaleVersionError as conflict:
        _write_conflict_record(conflict=conflict, by=by, reason="stale publish refused")
        raise


@transaction.atomic
def _incident_publish(*, incident, expected_version, by, batch, public_reason):
    current = _lock_and_check(incident, expected_version, by)
    if batch is not None and batch.publish:
        _require(
            import_acts_as_reviewer(batch.user),
            "Only reviewers and admins import with publish.",
        )
        allowed_from = (Incident.Status.DRAFT, Incident.Status.IN_REVIEW)
        reason = f"published from dataset {batch.get_format_display()} {batch.release}".strip()
        if not batch.four_eyes_waived:
            batch.four_eyes_waived = True
            batch.save(update_fields=["four_eyes_waived"])
    else:
        _require(
            by is not None and is_reviewer(by), "Only reviewers and admins publish."
        )
        problem = four_eyes_problem(current, by)
        if problem:
            raise PermissionDenied(problem)
        allowed_from = (Incident.Status.IN_REVIEW,)
        reason = "published"
    if current.status not in allowed_from:
        raise ValidationError(
            {"status": "Only an incident in review can be published."}
        )
    now = timezone.now()
    current.status = Incident.Status.PUBLISHED
    current.reviewed_by = by
    current.published_at = now
    current.first_published_at = current.first_published_at or now
    with _audit(by=by, reason=reason, public_reason=public_reason, batch=batch):
        current.save(
            update_fields=[
                "status",
                "reviewed_by",
                "published_at",
                "first_published_at",
                "updated_at",
            ]
        )
        current.refresh_from_db(fields=["version"])
        _record_change(current, PublicChange.Action.PUBLISHED, public_reason)
    return current


@transaction.atomic
def incident_withdraw(
    *, incident: Incident, withdrawn_reason: str, by: AbstractBaseUser | None
) -> Incident:
    """Withdraw a published incident; its code keeps answering with the reason."""
    current = _lock_and_check(incident, None, by)
    if by is not None:
        _require(is_reviewer(by), "Only reviewers and admins withdraw incidents.")
    if current.status != Incident.Status.PUBLISHED:
        raise ValidationError({"status": "Only a published incident can be withdrawn."})
    if not withdrawn_reason.strip():
        raise ValidationError({"withdrawn_reason": "Say publicly why it is withdrawn."})
    current.status = Incident.Status.WITHDRAWN
    current.withdrawn_reason = withdrawn_reason
    with _audit(by=by, reason="withdrawn", public_reason=withdrawn_reason):
        current.save(update_fields=["status", "withdrawn_reason", "updated_at"])
        current.refresh_from_db(fields=["version"])
        _record_change(current, PublicChange.Action.WITHDRAWN, withdrawn_reason)
    return current


@transaction.atomic
def incident_merge(
    *, incident: Incident, into: Incident, by: AbstractBaseUser | None, reason: str = ""
) -> Incident:
    """Merge `incident` into the survivor `into`: its external references move to the
    survivor and its code redirects there. A once-public incident can only merge into a
    published survivor (so a public redirect never ends in a 404)."""
    if by is not None:
        _require(is_reviewer(by), "Only reviewers and admins merge incidents.")
    first, second = sorted([incident.pk, into.pk])
    locked = {
        i.pk: i
        for i in Incident.objects.select_for_update().filter(pk__in=[first, second])
    }
    current, survivor = locked[incident.pk], locked.get(into.pk)
    if survivor is None or current.pk == survivor.pk:
        raise ValidationError({"into": "Choose another incident to merge into."})
    if current.status == Incident.Status.MERGED:
        raise ValidationError({"status": "This incident is already merged."})
    if survivor.status in (Incident.Status.MERGED, Incident.Status.WITHDRAWN):
        raise ValidationError(
            {
                "into": f"{survivor.code} is {survivor.status}: choose its "
                "survivor or a live incident."
            }
        )
    if (
        current.first_published_at is not None
        and survivor.status != Incident.Status.PUBLISHED
    ):
        raise ValidationError(
            {
                "into": "This incident has been public, so it can only be "
                "merged into a published incident."
            }
        )
    was_public = current.status == Incident.Status.PUBLISHED
    with _audit(by=by, reason=f"merged into {survivor.code}. {reason}".strip()):
        ExternalRef.objects.filter(incident=current).update(incident=survivor)
        Incident.objects.filter(merged_into=current).update(merged_into=survivor)
        current.status = Incident.Status.MERGED
        current.merged_into = survivor
        current.save(update_fields=["status", "merged_into", "updated_at"])
        current.refresh_from_db(fields=["version"])
        if was_public or current.first_published_at is not None:
            _record_change(
                current, PublicChange.Action.MERGED, f"merged into {survivor.code}"
            )
    incident_touch(incident=survivor, by=by, reason=f"absorbed {current.code}")
    return current


# ---------------------------------------------------------------------------------------
# Sources, actors, places, facilities
# ---------------------------------------------------------------------------------------


def file_fingerprint(upload) -> tuple[str, int, str]:
    """sha256, size and MIME type of an uploaded file, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    upload.seek(0)
    for chunk in (
        upload.chunks()
        if hasattr(upload, "chunks")
        else iter(lambda: upload.read(1 << 20), b"")
    ):
        digest.update(chunk)
        size += len(chunk)
    upload.seek(0)
    mime = (
        getattr(upload, "content_type", "")
        or mimetypes.guess_type(getattr(upload, "name", "") or "")[0]
        or "application/octet-stream"
    )
    return digest.hexdigest(), size, mime


def source_find_duplicate(
    *, url: str = "", sha256: str = "", exclude_pk: int | None = None
) -> tuple[Source, str] | None:
    """The existing source with this URL or file hash, and which of the two matched."""
    candidates = Source.objects.all()
    if exclude_pk is not None:
        candidates = candidates.exclude(pk=exclude_pk)
    if url:
        existing = candidates.filter(url=url).first()
        if existing:
            return existing, "URL"
    if sha256:
        existing = candidates.filter(sha256=sha256).first()
        if existing:
            return existing, "file"
    return None


FILE_PUBLIC_REFUSED = "Only reviewers and admins make a source's file public."


@transaction.atomic
def source_create(
    *, by: AbstractBaseUser | None, file=None, reason: str = "source added", **data: Any
) -> Source:
    """Add a source; sha256/size/mime are computed from the upload and never change.
    A URL or file already present raises DuplicateSourceError naming the existing one.
    A file that is too large or not an allowed type (sniffed from its content:
    incidents/uploads.py) raises ValidationError on `file`; its MIME type is the
    sniffed one, never the type the client claimed.

    A new file starts protected (DOMAIN.md "Lowering protection"): `file_public` asked
    for is filed as a ProtectionRequest for a second person to approve (an import,
    without a person, simply leaves it protected). The requests made are on the
    returned source as `protection_requests`."""
    ask_file_public = bool(data.pop("file_public", False))
    source = Source(**data, created_by=by if getattr(by, "pk", None) else None)
    if file is not None:
        mime = check_upload(file)
        source.sha256, source.size, _claimed = file_fingerprint(file)
        source.mime = mime
    duplicate = source_find_duplicate(url=source.url, sha256=source.sha256)
    if duplicate:
        raise DuplicateSourceError(*duplicate)
    source.full_clean(exclude=["file"])
    with _audit(by=by, reason=reason):
        if file is not None:
            source.file.save(source.sha256, file, save=False)
        source.save()
    source.protection_requests = []
    if ask_file_public and getattr(by, "pk", None) is not None:
        source.protection_requests = _ask_for(
            source,
            [ProtectionRequest.Target.SOURCE_FILE_PUBLIC],
            by=by,
            reason=f"{reason}: publish its file",
        )
    return source


@transaction.atomic
def source_update(
    *,
    source: Source,
    by: AbstractBaseUser | None,
    reason: str = "source edited",
    **data: Any,
) -> Source:
    """Edit a source's description (its file and hash never change). Published incidents
    citing it are touched so their ETags and the changes feed follow. Making it not
    confidential or its file public is not done here but asked for (a ProtectionRequest,
    on the returned source as `protection_requests`; protection_request_approve)."""
    for name in ("file", "sha256", "size", "mime"):
        if name in data:
            raise ValidationError(
                {
                    name: "A source's file and its hash never change; add a "
                    "new source instead."
                }
            )
    # Compared with the stored values: a ModelForm has already copied its input onto
    # `source`. A lowering is held back (the value stays protected) and asked for.
    stored = (
        Source.objects.filter(pk=source.pk)
        .values("confidential", "file_public")
        .first()
        or {}
    )
    held = _hold_lowering(source, data, stored)
    for name, value in data.items():
        setattr(source, name, value)
    duplicate = source_find_duplicate(url=source.url, exclude_pk=source.pk)
    if duplicate:
        raise DuplicateSourceError(*duplicate)
    source.full_clean(exclude=["file"])
    if data or not held:  # a write that only asks for a lowering changes nothing
        with _audit(by=by, reason=reason):
            source.save()
            _touch_published(
                Incident.objects.filter(citations__source=source).distinct(),
                by=by,
                reason=f"source #{source.pk} changed",
            )
    source.protection_requests = _ask_for(source, held, by=by, reason=reason)
    return source


def actor_name_add(
    *, actor: Actor, name: str, language: str = "", by=None
) -> ActorName | None:
    """Add an alias unless the actor already has it (normalised). Returns the new row."""
    normalized = normalize_name(name)
    if (
        not normalized
        or ActorName.objects.filter(actor=actor, normalized=normalized).exists()
    ):
        return None
    with _audit(by=by, reason="alias added"):
        return ActorName.objects.create(
            actor=actor, name=name, language=language, normalized=normalized
        )


def location_name_add(
    *, location: Location, name: str, language: str = "", by=None
) -> LocationName | None:
    normalized = normalize_name(name)
    if (
        not normalized
        or LocationName.objects.filter(
            location=location, normalized=normalized
        ).exists()
    ):
        return None
    with _audit(by=by, reason="alternative name added"):
        return LocationName.objects.create(
            location=location, name=name, language=language, normalized=normalized
        )


@transaction.atomic
def actor_save(*, actor: Actor, by=None, reason: str = "actor edited") -> Actor:
    """Create or edit an actor; a new child defaults to its parent's bloc; its own name is
    kept as an alias; published incidents showing it are touched when renamed."""
    renamed = False
    if actor.pk:
        old = Actor.objects.get(pk=actor.pk)
        renamed = (old.name, old.name_ar) != (actor.name, actor.name_ar)
    elif actor.parent_id and actor.bloc == Actor._meta.get_field("bloc").default:
        actor.bloc = actor.parent.bloc
    actor.full_clean()
    with _audit(by=by, reason=reason):
        actor.save()
        actor_name_add(actor=actor, name=actor.name, language="en", by=by)
        if actor.name_ar:
            actor_name_add(actor=actor, name=actor.name_ar, language="ar", by=by)
        if renamed:
            _touch_published(
                Incident.objects.filter(attributions__actor=actor).distinct(),
                by=by,
                reason=f"actor {actor.slug} renamed",
            )
    return actor


@transaction.atomic
def actor_merge(*, actor: Actor, into: Actor, by: AbstractBaseUser | None) -> Actor:
    """Merge `actor` into `into`: attributions, relations, names and subunits move to the
    survivor, and the merged slug redirects there (merged_into)."""
    if by is not None:
        _require(is_reviewer(by), "Only reviewers and admins merge actors.")
    if actor.pk == into.pk:
        raise ValidationError({"into": "Choose another actor."})
    if into.merged_into_id:
        raise ValidationError(
            {"into": f"{into.name} was itself merged; choose its survivor."}
        )
    ancestors = []
    node = into
    while node is not None:
        ancestors.append(node.pk)
        node = node.parent
    if actor.pk in ancestors:
        raise ValidationError(
            {"into": "An actor cannot be merged into its own subunit."}
        )
    with _audit(by=by, reason=f"actor {actor.slug} merged into {into.slug}"):
        affected = list(
            Incident.objects.filter(attributions__actor=actor)
            .distinct()
            .values_list("pk", flat=True)
        )
        for attribution in Attribution.objects.filter(actor=actor):
            clash = Attribution.objects.filter(
                incident_id=attribution.incident_id, actor=into, role=attribution.role
            ).first()
            if clash:
                attribution.delete()  # the survivor already holds this role here
            else:
                attribution.actor = into
                attribution.save(update_fields=["actor"])
        from incidents.models import ActorRelation

        ActorRelation.objects.filter(from_actor=actor).exclude(to_actor=into).update(
            from_actor=into
        )
        ActorRelation.objects.filter(to_actor=actor).exclude(from_actor=into).update(
            to_actor=into
        )
        Actor.objects.filter(parent=actor).exclude(pk=into.pk).update(parent=into)
        for alias in ActorName.objects.filter(actor=actor):
            if ActorName.objects.filter(
                actor=into, normalized=alias.normalized
            ).exists():
                alias.delete()
            else:
                alias.actor = into
                alias.save(update_fields=["actor"])
        Actor.objects.filter(merged_into=actor).update(merged_into=into)
        actor.merged_into = into
        actor.save(update_fields=["merged_into", "updated_at"])
        for incident in Incident.objects.filter(pk__in=affected):
            incident_touch(
                incident=incident, by=by, reason=f"actor {actor.slug} merged"
            )
    return actor


@transaction.atomic
def location_merge(
    *, location: Location, into: Location, by: AbstractBaseUser | None
) -> Location:
    """Merge a place into another: incidents, facilities, sub-places and names move."""
    if by is not None:
        _require(is_reviewer(by), "Only reviewers and admins merge places.")
    if location.pk == into.pk:
        raise ValidationError({"into": "Choose another place."})
    if location.level in (Location.Level.COUNTRY, Location.Level.GOVERNORATE):
        raise ValidationError(
            {"location": "Countries and governorates are not merged."}
        )
    with _audit(by=by, reason=f"place {location.slug} merged into {into.slug}"):
        affected = list(
            Incident.objects.filter(
                Q(location=location) | Q(public_location=location)
            ).values_list("pk", flat=True)
        )
        Incident.objects.filter(location=location).update(location=into)
        Facility.objects.filter(location=location).update(location=into)
        Location.objects.filter(parent=location).update(parent=into)
        for alias in LocationName.objects.filter(location=location):
            if LocationName.objects.filter(
                location=into, normalized=alias.normalized
            ).exists():
                alias.delete()
            else:
                alias.location = into
                alias.save(update_fields=["location"])
        location_name_add(location=into, name=location.name, by=by)
        location.merged_into = into
        location.pcode = None
        location.save(update_fields=["merged_into", "pcode", "updated_at"])
        for incident in Incident.objects.filter(pk__in=affected):
            incident_touch(
                incident=incident, by=by, reason=f"place {location.slug} merged"
            )
    return location


def _next_facility_ref() -> str:
    with connection.cursor() as cursor:
        cursor.execute("CREATE SEQUENCE IF NOT EXISTS incidents_facility_ref_seq")
        cursor.execute("SELECT nextval('incidents_facility_ref_seq')")
        number = cursor.fetchone()[0]
    return f"F-{number:06d}"


@transaction.atomic
def facility_save(
    *, facility: Facility, by=None, reason: str = "facility edited"
) -> Facility:
    """Create or edit a facility; an opaque ref is assigned on creation. Making it
    sensitive moves the public place of every incident that targets it at once; making
    it not sensitive is asked for instead (a ProtectionRequest, on the returned
    facility as `protection_requests`) and only protection_request_approve does it.
    A facility created not sensitive is simply what it is."""
    changed_public = False
    held: list[str] = []
    changed_other = True
    if facility.pk:
        old = Facility.objects.get(pk=facility.pk)
        held = _hold_lowering(
            facility, {"sensitive": facility.sensitive}, {"sensitive": old.sensitive}
        )
        changed_public = (old.sensitive, old.name, old.location_id) != (
            facility.sensitive,
            facility.name,
            facility.location_id,
        )
        changed_other = any(
            getattr(old, f.attname) != getattr(facility, f.attname)
            for f in Facility._meta.concrete_fields
            if f.name not in ("updated_at", "sensitive")
        )
    else:
        facility.ref = _next_facility_ref()
    facility.full_clean()
    if changed_other or changed_public or not held:
        with _audit(by=by, reason=reason):
            facility.save()
            if changed_public:
                # Those that target it, and those placed at its own site (old or new).
                sites = _site_ids(old.location_id, facility.location_id)
                for incident in Incident.objects.filter(
                    Q(targets__facility=facility) | Q(location_id__in=sites)
                ).distinct():
                    incident_touch(
                        incident=incident,
                        by=by,
                        reason=f"facility {facility.ref} changed",
                    )
    facility.protection_requests = _ask_for(facility, held, by=by, reason=reason)
    return facility


SYSTEM_USERNAME = "importer"


def system_user():
    """The system account that imports and seeds are recorded under (cannot log in)."""
    from django.contrib.auth import get_user_model

    user, created = get_user_model().objects.get_or_create(
        username=SYSTEM_USERNAME,
        defaults={
            "is_active": False,
            "first_name": "CivTrack",
            "last_name": "importer",
        },
    )
    if created or user.is_active or user.has_usable_password():
        # Never an account anyone can log in to: it imports with a reviewer's rights
        # (is_system_account), which only the server's operator may use.
        user.set_unusable_password()
        user.is_active = False
        user.save(update_fields=["password", "is_active"])
    return user


# ---------------------------------------------------------------------------------------
# Small writes behind the admin's gazetteer, actor and vocabulary forms
# ---------------------------------------------------------------------------------------


@transaction.atomic
def actor_name_remove(*, name: ActorName, by=None) -> None:
    """Remove an alias (the audit trail keeps it)."""
    with _audit(by=by, reason=f"alias '{name.name}' removed"):
        name.delete()


@transaction.atomic
def location_name_remove(*, name: LocationName, by=None) -> None:
    """Remove an alternative spelling of a place (the audit trail keeps it)."""
    with _audit(by=by, reason=f"alternative name '{name.name}' removed"):
        name.delete()


@transaction.atomic
def location_save(
    *, location: Location, by=None, reason: str = "place edited"
) -> Location:
    """Create or edit a place; its names are kept as spellings; published incidents
    showing it are touched when it is renamed or moved."""
    changed_public = False
    if location.pk:
        old = Location.objects.get(pk=location.pk)
        changed_public = (
            old.name,
            old.name_ar,
            old.parent_id,
            old.latitude,
            old.longitude,
        ) != (
            location.name,
            location.name_ar,
            location.parent_id,
            location.latitude,
            location.longitude,
        )
    location.full_clean()
    with _audit(by=by, reason=reason):
        location.save()
        location_name_add(location=location, name=location.name, by=by)
        if location.name_ar:
            location_name_add(
                location=location, name=location.name_ar, language="ar", by=by
            )
        if changed_public:
            _touch_published(
                Incident.objects.filter(
                    Q(location=location) | Q(public_location=location)
                ).distinct(),
                by=by,
                reason=f"place {location.slug} changed",
            )
    return location


@transaction.atomic
def actor_relation_save(
    *, relation, citations: Iterable[Source] | None = None, by=None
):
    """Create or edit a dated, sourced relation between two actors."""
    relation.full_clean()
    with _audit(by=by, reason="actor relation edited"):
        relation.save()
        if citations is not None:
            relation.citations.set(citations)
    return relation


@transaction.atomic
def vocabulary_save(*, item, by=None):
    """Create or edit an entry of a vocabulary (incident, weapon or target type)."""
    item.full_clean()
    with _audit(by=by, reason=f"{item._meta.verbose_name} edited"):
        item.save()
    return item


# ---------------------------------------------------------------------------------------
# Protections (DOMAIN.md "Lowering protection")
# ---------------------------------------------------------------------------------------
#
# Raising a protection (confidential source, sensitive facility, non-public name or file)
# is anyone's and immediate. Lowering one is a reviewer's decision: every service that
# could lower one (source_create/source_update, facility_save, the victims of
# incident_create/incident_update) keeps the protected value and files a
# ProtectionRequest instead, and only protection_request_approve, by a reviewer who is not
# the requester, applies it. Admin, API, importers and bulk actions all write through
# these services, so none of them goes around the rule.

# (model, field, the protected value) for each kind of request.
PROTECTIONS: dict[str, tuple[type, str, bool]] = {
    ProtectionRequest.Target.SOURCE_CONFIDENTIAL: (Source, "confidential", True),
    ProtectionRequest.Target.SOURCE_FILE_PUBLIC: (Source, "file_public", False),
    ProtectionRequest.Target.FACILITY_SENSITIVE: (Facility, "sensitive", True),
    ProtectionRequest.Target.VICTIM_PUBLISH_NAME: (Victim, "publish_name", False),
}

# Set only inside protection_request_approve: the one (target, object id) whose
# protection the services may lower while it is set.
_APPROVED_LOWERING: contextvars.ContextVar[tuple[str, int] | None] = (
    contextvars.ContextVar("civtrack_approved_lowering", default=None)
)

LOWERING_NEEDS_REVIEW = (
    "Lowering this protection needs a second person: a reviewer approves the request."
)


class StaleProtectionVersion(Exception):
    """An approval or rejection carried a version the object no longer has (or the
    object changed since the request was made); nothing was decided."""

    def __init__(self, *, request: ProtectionRequest, current_version: str | None):
        self.request = request
        self.current_version = current_version
        if current_version is None:
            message = (
                "The object of this request no longer exists; the requester asks again."
            )
        elif current_version != request.object_version:
            message = (
                f"The object changed since the request was made (version "
                f"{request.object_version}, now {current_version}); the requester "
                f"asks again."
            )
        else:
            message = (
                f"The object is at version {current_version}: read it again before "
                f"deciding."
            )
        super().__init__(message)


def protection_target(obj: Any, field_name: str) -> str:
    """The ProtectionRequest.Target of `field_name` on `obj` (ValueError if none)."""
    for target, (model, name, _protected) in PROTECTIONS.items():
        if isinstance(obj, model) and name == field_name:
            return target
    raise ValueError(f"{type(obj).__name__}.{field_name} is not a protection")


def protection_object(request: ProtectionRequest, *, lock: bool = False):
    """The object a request is about, or None when it no longer exists."""
    model = PROTECTIONS[request.target][0]
    queryset = model.objects.select_for_update() if lock else model.objects
    return queryset.filter(pk=request.object_id).first()


def protection_object_version(obj: Any) -> str:
    """The object's version, for If-Match: the id of its latest audit event.

    Sources, facilities and victims have no version column; every write to their rows
    (raw SQL and bulk updates included) appends a pghistory event with a growing id, so
    the latest id changes exactly when the row does. "0" when the row has no event.
    Runs one query.
    """
    latest = (
        type(obj)
        .pgh_event_model.objects.filter(pgh_obj_id=obj.pk)
        .order_by("-pgh_id")
        .values_list("pgh_id", flat=True)
        .first()
    )
    return str(latest or 0)


def _lowering_approved(target: str, object_id: int | None) -> bool:
    return object_id is not None and _APPROVED_LOWERING.get() == (target, object_id)


def _hold_lowering(obj: Any, data: dict[str, Any], stored: dict[str, Any]) -> list[str]:
    """Take out of `data` (and put back on `obj`) every protection it would lower;
    returns the targets held. `stored` holds the values in the database."""
    held = []
    for target, (model, name, protected) in PROTECTIONS.items():
        if not isinstance(obj, model) or name not in data:
            continue
        if stored.get(name) == protected and bool(data[name]) != protected:
            if _lowering_approved(target, obj.pk):
                continue
            data.pop(name)
            setattr(obj, name, protected)
            held.append(target)
    return held


def _ask_for(
    obj: Any, targets: Sequence[str], *, by: AbstractBaseUser | None, reason: str
) -> list[ProtectionRequest]:
    """File the requests for the lowerings held back; a write without a person (an
    import, a seed) may not ask, and is refused."""
    if not targets:
        return []
    if by is None or getattr(by, "pk", None) is None:
        raise PermissionDenied(LOWERING_NEEDS_REVIEW)
    return [
        protection_request_create(target=target, obj=obj, by=by, reason=reason)
        for target in targets
    ]


@transaction.atomic
def protection_request_create(
    *, target: str, obj: Any, by: AbstractBaseUser, reason: str
) -> ProtectionRequest:
    """Ask for a protection of `obj` to be lowered; changes nothing else.

    Anyone on the staff may ask (a reviewer too: their own lowering needs a second
    person). One pending request per object and protection: asking again while one is
    pending returns it.
    """
    _require(
        is_staff_member(by), "Only researchers, reviewers and admins ask for this."
    )
    if target not in PROTECTIONS:
        raise ValidationError({"target": f"Unknown protection {target!r}."})
    model, name, protected = PROTECTIONS[target]
    if not isinstance(obj, model) or obj.pk is None:
        raise ValidationError({"object_id": f"Not a saved {model.__name__.lower()}."})
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the protection may be lowered."})
    current = model.objects.select_for_update().get(pk=obj.pk)
    if getattr(current, name) != protected:
        raise ValidationError({name: "This is not protected: there is nothing to ask."})
    if target == ProtectionRequest.Target.VICTIM_PUBLISH_NAME and not (
        current.consent_note.strip()
    ):
        raise ValidationError(
            {"publish_name": "A name may be published only with a consent note."}
        )
    pending = ProtectionRequest.objects.filter(
        target=target, object_id=obj.pk, status=ProtectionRequest.Status.PENDING
    ).first()
    if pending is not None:
        return pending
    request = ProtectionRequest(
        target=target,
        object_id=obj.pk,
        value=not protected,
        object_version=protection_object_version(current),
        reason=reason,
        requested_by=by,
    )
    request.full_clean()
    # Its own key, not `reason`: pghistory merges nested contexts into one, and this
    # often runs inside the write that asked (an incident created with a victim's name
    # to publish), whose audit reason ("created") must stay what it was.
    with pghistory.context(
        user=by.pk, protection_request=f"asked to lower {target} #{obj.pk}"
    ):
        request.save()
    return request


def _check_decider(request: ProtectionRequest, by: AbstractBaseUser) -> None:
    _require(
        is_reviewer(by), "Only reviewers and admins decide on lowering a protection."
    )
    if request.requested_by_id == by.pk:
        raise PermissionDenied(
            "You asked for this: another reviewer must decide it (four-eyes rule)."
        )


def _lock_pending(request: ProtectionRequest) -> ProtectionRequest:
    current = ProtectionRequest.objects.select_for_update().get(pk=request.pk)
    if current.status != ProtectionRequest.Status.PENDING:
        raise ValidationError(
            {"status": f"This request was already {current.get_status_display()}."}
        )
    return current


@transaction.atomic
def protection_request_approve(
    *,
    request: ProtectionRequest,
    by: AbstractBaseUser,
    expected_version: str,
    note: str = "",
) -> ProtectionRequest:
    """Lower the protection, in one transaction, through the object's own service (so
    every published incident showing it is bumped and reaches the changes feed), audited
    with both names. `expected_version` is the object's version the reviewer read: it
    must be the current one and the one the request was made on (StaleProtectionVersion
    otherwise: the requester asks again)."""
    current = _lock_pending(request)
    _check_decider(current, by)
    obj = protection_object(current, lock=True)
    version = protection_object_version(obj) if obj is not None else None
    if (
        version is None
        or version != current.object_version
        or (str(expected_version).strip() != version)
    ):
        raise StaleProtectionVersion(request=current, current_version=version)
    _model, name, protected = PROTECTIONS[current.target]
    requester = current.requested_by
    why = (
        f"protection lowered ({current.target} #{obj.pk}): asked by "
        f"{requester.get_username()}, approved by {by.get_username()}"
    )
    token = _APPROVED_LOWERING.set((current.target, obj.pk))
    try:
        with pghistory.context(
            requested_by=requester.pk, approved_by=by.pk, protection_request=current.pk
        ):
            if isinstance(obj, Source):
                source_update(source=obj, by=by, reason=why, **{name: not protected})
            elif isinstance(obj, Facility):
                setattr(obj, name, not protected)
                facility_save(facility=obj, by=by, reason=why)
            else:
                victim_name_publish(victim=obj, by=by, reason=why)
            current.status = ProtectionRequest.Status.APPROVED
            current.decided_by = by
            current.decided_at = timezone.now()
            current.decision_note = note
            current.full_clean()
            with _audit(by=by, reason=why):
                current.save()
    finally:
        _APPROVED_LOWERING.reset(token)
    return current


@transaction.atomic
def protection_request_reject(
    *,
    request: ProtectionRequest,
    by: AbstractBaseUser,
    expected_version: str,
    note: str = "",
) -> ProtectionRequest:
    """Refuse a request; the object stays protected. `expected_version` is the object's
    version the reviewer read (StaleProtectionVersion when it moved on since)."""
    current = _lock_pending(request)
    _check_decider(current, by)
    obj = protection_object(current, lock=True)
    version = protection_object_version(obj) if obj is not None else None
    if version is not None and str(expected_version).strip() != version:
        raise StaleProtectionVersion(request=current, current_version=version)
    current.status = ProtectionRequest.Status.REJECTED
    current.decided_by = by
    current.decided_at = timezone.now()
    current.decision_note = note
    current.full_clean()
    with (
        pghistory.context(requested_by=current.requested_by_id, rejected_by=by.pk),
        _audit(by=by, reason=f"refused to lower a protection: {current.target}"),
    ):
        current.save()
    return current


@transaction.atomic
def victim_name_publish(*, victim: Victim, by: AbstractBaseUser, reason: str) -> Victim:
    """Make a victim's name public: only inside protection_request_approve. The
    victim's incident, when published, is bumped so mirrors pick the name up."""
    if not _lowering_approved(ProtectionRequest.Target.VICTIM_PUBLISH_NAME, victim.pk):
        raise PermissionDenied(LOWERING_NEEDS_REVIEW)
    victim.publish_name = True
    victim.full_clean()
    with _audit(by=by, reason=reason):
        victim.save(update_fields=["publish_name"])
        incident = Incident.objects.get(pk=victim.incident_id)
        if incident.status == Incident.Status.PUBLISHED:
            incident_touch(incident=incident, by=by, reason=reason)
    return victim


def _names_held_back(parts: IncidentParts, existing: Incident | None) -> list[int]:
    """A new victim's name starts protected (DOMAIN.md): every victim item asking for
    a public name that is not already public on this incident (the same name and
    Arabic name) is written with `publish_name` off; returns their positions, for
    `_ask_for_names` once the rows exist."""
    if not parts.victims:
        return []
    public = set()
    if existing is not None:
        public = {
            (name.strip(), name_ar.strip())
            for name, name_ar in existing.victims.filter(publish_name=True).values_list(
                "name", "name_ar"
            )
        }
    held = []
    for index, item in enumerate(parts.victims):
        if (
            item.publish_name
            and (item.name.strip(), item.name_ar.strip()) not in public
        ):
            item.publish_name = False
            held.append(index)
    return held


def _ask_for_names(
    incident: Incident, held: list[int], *, by: AbstractBaseUser | None, reason: str
) -> list[ProtectionRequest]:
    """The requests for the names `_names_held_back` kept protected (an import or
    another write without a person simply leaves them protected)."""
    if not held or by is None or getattr(by, "pk", None) is None:
        return []
    victims = list(Victim.objects.filter(incident=incident).order_by("pk"))
    return [
        protection_request_create(
            target=ProtectionRequest.Target.VICTIM_PUBLISH_NAME,
            obj=victims[index],
            by=by,
            reason=f"{reason} ({incident.code}): publish the victim's name",
        )
        for index in held
        if index < len(victims)
    ]
