"""Read queries, including the redaction layer (DOMAIN.md "What the public sees").

Every public output (page, API, CSV, GeoJSON, feed, search) starts from a `public_*`
selector here. Public code never starts from `Incident.objects`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db import connection
from django.db.models import Count, Prefetch, Q, QuerySet
from django.db.models.expressions import RawSQL

from incidents.models import (
    Actor,
    Attribution,
    Citation,
    Facility,
    Incident,
    IncidentTarget,
    Location,
    PublicChange,
    Source,
    Victim,
)
from incidents.services import PUBLIC_FIELDS, is_staff_member

PUBLIC_USER_NAME = (
    "CivTrack"  # workflow identities are restricted; the public sees this
)

# Fields never read for a public output (DOMAIN.md: restricted).
RESTRICTED_INCIDENT_FIELDS = (
    "internal_notes",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "created_by",
    "last_edited_by",
    "submitted_by",
    "reviewed_by",
)


# ---------------------------------------------------------------------------------------
# Incidents
# ---------------------------------------------------------------------------------------


def public_incidents() -> QuerySet[Incident]:
    """Published incidents, restricted columns deferred. Callers read the public place
    (`public_location`, `public_latitude`, …), never `location` or `latitude`."""
    return Incident.objects.filter(status=Incident.Status.PUBLISHED).defer(
        *RESTRICTED_INCIDENT_FIELDS
    )


def incidents_for(user) -> QuerySet[Incident]:
    """What `user` may read: staff see every incident, everyone else the public view."""
    if is_staff_member(user):
        return Incident.objects.all()
    return public_incidents()


@dataclass
class IncidentLookup:
    """The answer to "what is at this code?" for a public reader."""

    kind: str  # "found", "withdrawn", "merged", "missing"
    incident: Incident | None = None
    survivor_code: str | None = None


def public_incident_lookup(code: str) -> IncidentLookup:
    """Resolve a public code: published → found; withdrawn → its code and reason only;
    merged → the published survivor at the end of the chain; anything else → missing.

    A code that was never published is missing whatever became of it (issue 12 §6):
    a draft merged or withdrawn before publication answers exactly as an unknown code,
    so neither its existence nor its survivor leaks."""
    incident = (
        Incident.objects.filter(code=code)
        .only(
            "id",
            "code",
            "status",
            "withdrawn_reason",
            "merged_into",
            "version",
            "first_published_at",
        )
        .first()
    )
    if incident is None or incident.status in (
        Incident.Status.DRAFT,
        Incident.Status.IN_REVIEW,
    ):
        return IncidentLookup("missing")
    if incident.first_published_at is None:
        return IncidentLookup("missing")
    if incident.status == Incident.Status.WITHDRAWN:
        return IncidentLookup("withdrawn", incident=incident)
    if incident.status == Incident.Status.MERGED:
        survivor = incident
        for _hop in range(20):  # merge chains are short; guard against a cycle
            if (
                survivor.status != Incident.Status.MERGED
                or survivor.merged_into_id is None
            ):
                break
            survivor = Incident.objects.only("code", "status", "merged_into").get(
                pk=survivor.merged_into_id
            )
        if survivor.status != Incident.Status.PUBLISHED:
            return IncidentLookup("missing")
        return IncidentLookup("merged", incident=incident, survivor_code=survivor.code)
    return IncidentLookup("found", incident=public_incident_detail(code))


def public_incident_detail(code: str) -> Incident | None:
    """One published incident with everything a detail page shows, in a fixed number of
    queries (the parts are prefetched; restricted rows are filtered in the prefetch)."""
    return (
        public_incidents()
        .filter(code=code)
        .select_related(
            "incident_type", "public_location__parent__parent", "governorate"
        )
        .prefetch_related(*public_incident_prefetches())
        .first()
    )


def public_incident_prefetches() -> list[Any]:
    return [
        Prefetch(
            "attributions",
            queryset=Attribution.objects.select_related("actor").order_by(
                "role", "alternative", "id"
            ),
        ),
        Prefetch("weapons", queryset=_weapons()),
        Prefetch(
            "targets",
            queryset=IncidentTarget.objects.select_related(
                "target_type", "facility__target_type", "facility__location"
            ).order_by("id"),
        ),
        Prefetch("casualties"),
        Prefetch(
            "citations",
            queryset=Citation.objects.filter(source__confidential=False)
            .select_related("source")
            .order_by("id"),
            to_attr="public_citations",
        ),
        Prefetch("external_refs", queryset=_external_refs()),
        Prefetch("victims", queryset=Victim.objects.order_by("id")),
    ]


def _weapons():
    from incidents.models import IncidentWeapon

    return IncidentWeapon.objects.select_related("weapon").order_by("id")


def _external_refs():
    from incidents.models import ExternalRef

    return ExternalRef.objects.defer("raw").order_by("system", "value")


def confidential_source_counts(incident_ids: Iterable[int]) -> dict[int, int]:
    """incident id → number of confidential sources (the only thing the public learns
    about them)."""
    rows = (
        Citation.objects.filter(
            incident_id__in=list(incident_ids), source__confidential=True
        )
        .values("incident_id")
        .annotate(n=Count("source", distinct=True))
    )
    return {row["incident_id"]: row["n"] for row in rows}


def public_victim(victim: Victim) -> dict[str, Any]:
    """A victim as the public sees it: no name without consent, no age under 18."""
    return {
        "name": victim.name if victim.publish_name else None,
        "name_ar": victim.name_ar if victim.publish_name else None,
        "sex": victim.sex,
        "age": victim.age if victim.age is not None and victim.age >= 18 else None,
        "age_group": victim.age_group,
        "civilian_status": victim.civilian_status,
        "outcome": victim.outcome,
        "protected_role": victim.protected_role,
    }


def public_facility_summary(facility: Facility | None) -> dict[str, Any] | None:
    """A facility as the public sees it: a sensitive one only by ref (and type)."""
    if facility is None:
        return None
    return {
        "ref": facility.ref,
        "name": None if facility.sensitive else facility.name,
        "name_ar": None if facility.sensitive else facility.name_ar,
        "target_type": facility.target_type.code,
        "sensitive": facility.sensitive,
    }


def public_facilities() -> QuerySet[Facility]:
    return Facility.objects.select_related("target_type", "location")


def public_sources() -> QuerySet[Source]:
    """Sources the public may see: never a confidential one. The file itself is only
    served when `file_public` (`public_source_file`); the hash, size and type are
    always shown."""
    return Source.objects.filter(confidential=False).defer("created_by")


def public_source_file(pk: int | str) -> Source | None:
    """The source whose file the public may fetch (re-encoded, incidents/public_files.py):
    a public source (never a confidential one) that a reviewer published the file of
    (`file_public`). None otherwise, whatever the reason, so that the answer for a
    confidential source is the answer for an unknown id."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        return None
    return public_sources().filter(pk=pk, file_public=True).exclude(file="").first()


# ---------------------------------------------------------------------------------------
# Actors and places
# ---------------------------------------------------------------------------------------


def actor_descendant_ids(actor_ids: Iterable[int]) -> list[int]:
    """The actors and all their subunits (one recursive query)."""
    ids = list(actor_ids)
    if not ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH RECURSIVE tree(id) AS (
                SELECT id FROM incidents_actor WHERE id = ANY(%s)
                UNION
                SELECT a.id FROM incidents_actor a JOIN tree t ON a.parent_id = t.id
            )
            SELECT id FROM tree
            """,
            [ids],
        )
        return [row[0] for row in cursor.fetchall()]


def location_descendant_ids(location_ids: Iterable[int]) -> list[int]:
    """The places and everything under them (one recursive query)."""
    ids = list(location_ids)
    if not ids:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH RECURSIVE tree(id) AS (
                SELECT id FROM incidents_location WHERE id = ANY(%s)
                UNION
                SELECT l.id FROM incidents_location l JOIN tree t ON l.parent_id = t.id
            )
            SELECT id FROM tree
            """,
            [ids],
        )
        return [row[0] for row in cursor.fetchall()]


def live_actors() -> QuerySet[Actor]:
    """Actors that were not merged away."""
    return Actor.objects.filter(merged_into__isnull=True)


def live_locations() -> QuerySet[Location]:
    return Location.objects.filter(merged_into__isnull=True)


def sensitive_facility_site() -> Q:
    """Places hidden from the public: a `site` that is a sensitive facility's own place
    (it *is* the facility, and hides with it), anything recorded under such a site, and
    a place merged into one (its redirect would name the site).

    Nothing else, ever: a community, neighbourhood or district is never hidden, refused
    or answered differently because a sensitive facility lies in it (DOMAIN.md "Nothing
    may be inferred from what is hidden"): hiding it would let anyone subtract the place
    list from the places in an export and learn where the facility is. One subquery, so
    callers keep their query counts."""
    return Q(
        pk__in=RawSQL(
            """
            WITH RECURSIVE hidden(id) AS (
                SELECT l.id FROM incidents_location l
                JOIN incidents_facility f ON f.location_id = l.id
                WHERE f.sensitive AND l.level = 'site'
                UNION
                SELECT c.id FROM incidents_location c
                JOIN hidden h ON c.parent_id = h.id OR c.merged_into_id = h.id
            )
            SELECT id FROM hidden
            """,
            [],
        )
    )


def public_locations() -> QuerySet[Location]:
    """The gazetteer the public sees: live places, without sensitive facilities' own
    sites."""
    return live_locations().exclude(sensitive_facility_site())


def involvement_condition(actor_ids_sql: str = "%s") -> str:
    """SQL over an incident `i`: the actor set is *certainly involved* (DOMAIN.md): one
    of its perpetrator rows is unnumbered, or every numbered hypothesis contains one of
    its rows. Certainty is computed over all perpetrator rows, whatever confidences a
    query counts. The placeholder takes an array of actor ids."""
    return f"""(
        EXISTS (SELECT 1 FROM incidents_attribution a
                WHERE a.incident_id = i.id AND a.role = 'perpetrator'
                  AND a.alternative IS NULL AND a.actor_id = ANY({actor_ids_sql}))
        OR (
            EXISTS (SELECT 1 FROM incidents_attribution a
                    WHERE a.incident_id = i.id AND a.role = 'perpetrator'
                      AND a.alternative IS NOT NULL)
            AND NOT EXISTS (
                SELECT 1 FROM incidents_attribution h
                WHERE h.incident_id = i.id AND h.role = 'perpetrator'
                  AND h.alternative IS NOT NULL
                  AND NOT EXISTS (
                      SELECT 1 FROM incidents_attribution m
                      WHERE m.incident_id = i.id AND m.role = 'perpetrator'
                        AND m.alternative = h.alternative
                        AND m.actor_id = ANY({actor_ids_sql})))
        )
    )"""


def incident_is_certain_for(incident: Incident, actor_ids: set[int]) -> bool:
    """Python twin of involvement_condition() for one incident's prefetched rows."""
    perpetrators = [
        a for a in incident.attributions.all() if a.role == Attribution.Role.PERPETRATOR
    ]
    if any(a.alternative is None and a.actor_id in actor_ids for a in perpetrators):
        return True
    hypotheses: dict[int, set[int]] = {}
    for a in perpetrators:
        if a.alternative is not None:
            hypotheses.setdefault(a.alternative, set()).add(a.actor_id)
    return bool(hypotheses) and all(
        members & actor_ids for members in hypotheses.values()
    )


# ---------------------------------------------------------------------------------------
# History and changes
# ---------------------------------------------------------------------------------------


def public_history(incident: Incident) -> list[dict[str, Any]]:
    """The public change log: from first publication, public fields only, values passed
    through today's rules (the public place, never the real one), with the public
    reason. One query over the incident's own audit rows."""
    from pghistory.models import Events

    if incident.first_published_at is None:
        return []
    events = list(
        Events.objects.tracks(incident)
        .filter(pgh_model="incidents.IncidentEvent")
        .order_by("pgh_created_at", "pgh_id")
        .values("pgh_created_at", "pgh_data", "pgh_context")
    )
    # Today's rules: if the incident now targets a sensitive facility, no past value of
    # its place may show either (they could give the real place away).
    hide_place = IncidentTarget.objects.filter(
        incident=incident, facility__sensitive=True
    ).exists()
    fields = [f for f in PUBLIC_FIELDS if not (hide_place and f in PLACE_FIELDS)]
    entries: list[dict[str, Any]] = []
    previous: dict[str, Any] | None = None
    for event in events:
        data = event["pgh_data"]
        context = event["pgh_context"] or {}
        public_now = {name: _public_value(name, data) for name in fields}
        status = data.get("status")
        if entries and previous is not None:
            changes = {
                name: {"old": previous.get(name), "new": value}
                for name, value in public_now.items()
                if previous.get(name) != value
            }
            if changes:
                entries.append(
                    {
                        "version": data.get("version"),
                        "at": event["pgh_created_at"],
                        "action": status
                        if status != previous.get("status")
                        else "updated",
                        "changes": changes,
                        "public_reason": context.get("public_reason", ""),
                    }
                )
        elif status == "published":
            entries.append(
                {
                    "version": data.get("version"),
                    "at": event["pgh_created_at"],
                    "action": "published",
                    "changes": {},
                    "public_reason": context.get("public_reason", ""),
                }
            )
        previous = public_now
    return entries


PLACE_FIELDS = (
    "public_location",
    "public_latitude",
    "public_longitude",
    "public_geo_precision",
)


def _public_value(name: str, data: dict[str, Any]) -> Any:
    key = (
        f"{name}_id"
        if name in ("public_location", "incident_type", "merged_into")
        else name
    )
    return data.get(key)


def public_changes(after_seq: int = 0, limit: int = 100) -> QuerySet[PublicChange]:
    """The public changes feed after `after_seq`, in order."""
    return PublicChange.objects.filter(seq__gt=after_seq).order_by("seq")[:limit]


def actors_with_counts() -> QuerySet[Actor]:
    """Live actors with their number of published incidents as perpetrator."""
    return live_actors().annotate(
        incidents_count=Count(
            "attributions__incident",
            filter=Q(
                attributions__role=Attribution.Role.PERPETRATOR,
                attributions__incident__status=Incident.Status.PUBLISHED,
            ),
            distinct=True,
        )
    )


# ---------------------------------------------------------------------------------------
# Data entry
# ---------------------------------------------------------------------------------------

DUPLICATE_DAYS = 2
DUPLICATE_KM = 5.0
_KM_PER_DEGREE = 111.195  # mean Earth radius 6371.0 km × π / 180


def possible_duplicates(
    *,
    date_start,
    date_end,
    latitude: float | None,
    longitude: float | None,
    target_type_ids: Iterable[int],
    exclude_pk: int | None = None,
) -> QuerySet[Incident]:
    """Incidents that may record the same event (PAGES.md, the admin): date windows
    within 2 days of each other, points within 5 km, and (when target types are given)
    one of the same target types. Merged incidents are left out. Annotates `distance_km`.

    A bounding box on (latitude, longitude) narrows the rows before the haversine
    distance is computed in SQL."""
    from datetime import timedelta
    from math import cos, radians

    from django.db.models import Exists, FloatField, OuterRef
    from django.db.models.expressions import RawSQL

    if latitude is None or longitude is None or date_start is None:
        return Incident.objects.none()
    date_end = date_end or date_start
    lat_delta = DUPLICATE_KM / _KM_PER_DEGREE
    lon_delta = DUPLICATE_KM / (_KM_PER_DEGREE * max(cos(radians(latitude)), 0.01))
    distance = RawSQL(
        "2 * 6371.0 * asin(sqrt("
        "power(sin(radians(incidents_incident.latitude - %s) / 2), 2) + "
        "cos(radians(%s)) * cos(radians(incidents_incident.latitude)) * "
        "power(sin(radians(incidents_incident.longitude - %s) / 2), 2)))",
        (latitude, latitude, longitude),
        output_field=FloatField(),
    )
    candidates = (
        Incident.objects.exclude(status=Incident.Status.MERGED)
        .filter(
            date_start__lte=date_end + timedelta(days=DUPLICATE_DAYS),
            date_end__gte=date_start - timedelta(days=DUPLICATE_DAYS),
            latitude__range=(latitude - lat_delta, latitude + lat_delta),
            longitude__range=(longitude - lon_delta, longitude + lon_delta),
        )
        .annotate(distance_km=distance)
        .filter(distance_km__lte=DUPLICATE_KM)
    )
    target_type_ids = [pk for pk in target_type_ids if pk is not None]
    if target_type_ids:
        candidates = candidates.filter(
            Exists(
                IncidentTarget.objects.filter(
                    incident=OuterRef("pk"), target_type_id__in=target_type_ids
                )
            )
        )
    if exclude_pk is not None:
        candidates = candidates.exclude(pk=exclude_pk)
    return candidates.order_by("distance_km", "date_start")
