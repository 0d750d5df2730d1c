"""The importers' own mapping tables for the methodology fragment
(templates/incidents/_import_mappings.html), so the page shows what the code does."""

from __future__ import annotations

from django import template

register = template.Library()


@register.simple_tag
def insecurity_insight_weapons() -> list[dict[str, object]]:
    """Insecurity Insight's weapon texts grouped by the weapon code and the incident type
    they give (explosive weapons before the event columns, the others after them;
    "other" when none maps)."""
    from incidents.importers.insecurity_insight import WEAPON_INCIDENT_TYPES, WEAPONS

    rows: dict[tuple[str, str], list[str]] = {}
    for text, weapon in WEAPONS.items():
        incident_type = WEAPON_INCIDENT_TYPES.get(text, "other")
        rows.setdefault((weapon, incident_type), []).append(text)
    return [
        {"texts": texts, "weapon": weapon, "incident_type": incident_type}
        for (weapon, incident_type), texts in rows.items()
    ]


@register.simple_tag
def insecurity_insight_no_weapon() -> list[str]:
    """The weapon texts that record no weapon."""
    from incidents.importers.insecurity_insight import NO_WEAPON_PREFIXES

    return [p for p in NO_WEAPON_PREFIXES if p != "Sticks and Gravel"]
