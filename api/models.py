"""Derived data the API keeps to answer faster: never a source of truth, always
rebuilt from the incidents (api/export_snapshot.py)."""

from __future__ import annotations

from django.db import models


class ExportSnapshot(models.Model):
    """The current generation of one kind of prebuilt export text (`csv`,
    `geojson`), and the state of the public data it was built from."""

    kind = models.CharField(max_length=16, primary_key=True)
    generation = models.BigIntegerField()
    data_version = models.TextField(
        help_text="the lines' format digest / public_data_version() when built"
    )
    built_at = models.DateTimeField()
    rows = models.PositiveIntegerField()
    seconds = models.FloatField()

    def __str__(self) -> str:
        return f"{self.kind} #{self.generation} ({self.rows:,} rows)"


class ExportLine(models.Model):
    """One incident's export text in one generation. No foreign key: lines are
    written in bulk and read by id; an incident that goes away leaves its lines to
    the next generation, which drops them."""

    pk = models.CompositePrimaryKey("generation", "incident_id")
    generation = models.BigIntegerField()
    incident_id = models.BigIntegerField()
    # The text, or for GeoJSON its three pieces around the request's URL prefixes
    # (`text` + API prefix + `text2` + page prefix + `text3`), joined by the export.
    text = models.TextField()
    text2 = models.TextField(db_default="")
    text3 = models.TextField(db_default="")

    def __str__(self) -> str:
        return f"line of incident {self.incident_id}, generation {self.generation}"
