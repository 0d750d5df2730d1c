"""CivTrack's domain model (../shared/spec/DOMAIN.md is the source of truth).

Integrity lives in the database: every range and order rule is a named CheckConstraint,
foreign keys that point at evidence are PROTECT, and every table is tracked by
django-pghistory triggers so that bulk updates, imports and raw SQL are recorded too.
Writes go through `incidents.services`; public reads through `incidents.selectors`.
"""

from __future__ import annotations

import pghistory
import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Coalesce, Upper
from django.utils.translation import gettext_lazy as _


# Every tracked table records inserts, updates and deletes with their context
# (user, reason, import batch) in its own event table.
def _all_events():
    # Fresh tracker objects per model: pghistory binds a tracker to the model it tracks.
    return (pghistory.InsertEvent(), pghistory.UpdateEvent(), pghistory.DeleteEvent())


LAT_VALIDATORS = [MinValueValidator(-90), MaxValueValidator(90)]
LON_VALIDATORS = [MinValueValidator(-180), MaxValueValidator(180)]


def _lat_lon_checks(prefix: str, lat: str = "latitude", lon: str = "longitude"):
    return [
        models.CheckConstraint(
            condition=Q(**{f"{lat}__isnull": True})
            | Q(**{f"{lat}__gte": -90, f"{lat}__lte": 90}),
            name=f"{prefix}_{lat}_range",
            violation_error_message="Latitude must be between -90 and 90.",
        ),
        models.CheckConstraint(
            condition=Q(**{f"{lon}__isnull": True})
            | Q(**{f"{lon}__gte": -180, f"{lon}__lte": 180}),
            name=f"{prefix}_{lon}_range",
            violation_error_message="Longitude must be between -180 and 180.",
        ),
        models.CheckConstraint(
            condition=Q(**{f"{lat}__isnull": True, f"{lon}__isnull": True})
            | Q(**{f"{lat}__isnull": False, f"{lon}__isnull": False}),
            name=f"{prefix}_{lat}_{lon}_together",
            violation_error_message="Give both latitude and longitude, or neither.",
        ),
    ]


# ---------------------------------------------------------------------------------------
# Reference vocabularies
# ---------------------------------------------------------------------------------------


class Vocabulary(models.Model):
    """An editable, bilingual, optionally hierarchical code list."""

    code = models.SlugField(max_length=64, unique=True)
    label = models.CharField(max_length=200)
    label_ar = models.CharField(max_length=200, blank=True)
    definition = models.TextField(blank=True)
    definition_ar = models.TextField(blank=True)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    active = models.BooleanField(default=True)
    sort_order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        abstract = True
        ordering = ["sort_order", "code"]

    def __str__(self) -> str:
        return self.label


@pghistory.track(*_all_events())
class IncidentType(Vocabulary):
    acled_sub_event_type = models.CharField(
        max_length=200,
        blank=True,
        help_text="ACLED sub_event_type values, ';'-separated.",
    )
    ucdp_type_of_violence = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta(Vocabulary.Meta):
        verbose_name = _("incident type")


@pghistory.track(*_all_events())
class WeaponType(Vocabulary):
    class Meta(Vocabulary.Meta):
        verbose_name = _("weapon type")


@pghistory.track(*_all_events())
class TargetType(Vocabulary):
    class Meta(Vocabulary.Meta):
        verbose_name = _("target type")


# ---------------------------------------------------------------------------------------
# Actors
# ---------------------------------------------------------------------------------------


class Bloc(models.TextChoices):
    SYRIAN_GOVERNMENT = "syrian_government", _("Syrian government")
    RUSSIA = "russia", _("Russia")
    IRAN_AND_AFFILIATED = "iran_and_affiliated", _("Iran and affiliated")
    ISIS = "isis", _("Islamic State")
    HTS = "hts", _("Hay'at Tahrir al-Sham")
    ARMED_OPPOSITION = "armed_opposition", _("Armed opposition")
    SDF = "sdf", _("SDF")
    US_LED_COALITION = "us_led_coalition", _("US-led coalition")
    TURKEY = "turkey", _("Turkey")
    OTHER = "other", _("Other")
    UNIDENTIFIED = "unidentified", _("Unidentified")


class Confidence(models.TextChoices):
    CONFIRMED = "confirmed", _("confirmed")
    LIKELY = "likely", _("likely")
    POSSIBLE = "possible", _("possible")
    CONTESTED = "contested", _("contested")


@pghistory.track(*_all_events())
class Actor(models.Model):
    class Kind(models.TextChoices):
        STATE_FORCE = "state_force", _("state force")
        STATE_UNIT = "state_unit", _("state unit")
        FOREIGN_STATE_FORCE = "foreign_state_force", _("foreign state force")
        MILITIA = "militia", _("militia")
        ARMED_GROUP = "armed_group", _("armed group")
        PERSON = "person", _("person")
        OTHER = "other", _("other")
        UNKNOWN = "unknown", _("unknown")

    slug = models.SlugField(max_length=120, unique=True)
    name = models.CharField(max_length=300)
    name_ar = models.CharField(max_length=300, blank=True)
    kind = models.CharField(max_length=32, choices=Kind.choices, default=Kind.UNKNOWN)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    bloc = models.CharField(
        max_length=32, choices=Bloc.choices, default=Bloc.UNIDENTIFIED
    )
    description = models.TextField(blank=True)
    description_ar = models.TextField(blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 alpha-2")
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_actors",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(parent=F("id")),
                name="incidents_actor_not_own_parent",
                violation_error_message="An actor cannot be its own parent.",
            ),
            models.CheckConstraint(
                condition=Q(country="") | Q(country__regex=r"^[A-Z]{2}$"),
                name="incidents_actor_country_iso2",
                violation_error_message="Country is an ISO 3166 alpha-2 code such as SY.",
            ),
        ]
        indexes = [
            # Actor search in the admin autocomplete and the API's ?q=.
            GinIndex(
                OpClass(Upper("name"), name="gin_trgm_ops"),
                name="incidents_actor_name_trgm",
            ),
        ]

    def __str__(self) -> str:
        return self.name


@pghistory.track(*_all_events())
class ActorName(models.Model):
    """An alias or spelling of an actor; importers and search match against these."""

    actor = models.ForeignKey(Actor, on_delete=models.CASCADE, related_name="names")
    name = models.CharField(max_length=300)
    language = models.CharField(max_length=8, blank=True)
    normalized = models.CharField(max_length=300, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["actor", "normalized"],
                name="incidents_actorname_unique_per_actor",
            ),
        ]
        indexes = [
            # Importers' exact lookups by normalised name.
            models.Index(fields=["normalized"], name="incidents_actorname_norm"),
            # Fuzzy search over aliases.
            GinIndex(
                OpClass("normalized", name="gin_trgm_ops"),
                name="incidents_actorname_trgm",
            ),
        ]

    def __str__(self) -> str:
        return self.name


@pghistory.track(*_all_events())
class ActorRelation(models.Model):
    class Kind(models.TextChoices):
        COMMANDED_BY = "commanded_by", _("commanded by")
        SUPPORTED_BY = "supported_by", _("supported by")
        ALLIED_WITH = "allied_with", _("allied with")
        SUCCESSOR_OF = "successor_of", _("successor of")

    from_actor = models.ForeignKey(
        Actor, on_delete=models.PROTECT, related_name="relations_from"
    )
    to_actor = models.ForeignKey(
        Actor, on_delete=models.PROTECT, related_name="relations_to"
    )
    kind = models.CharField(max_length=32, choices=Kind.choices)
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    confidence = models.CharField(
        max_length=16, choices=Confidence.choices, default=Confidence.LIKELY
    )
    citations = models.ManyToManyField(
        "Source", blank=True, related_name="actor_relations"
    )
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["from_actor", "kind", "start_date"]
        constraints = [
            models.CheckConstraint(
                condition=Q(start_date__isnull=True)
                | Q(end_date__isnull=True)
                | Q(end_date__gte=F("start_date")),
                name="incidents_actorrelation_end_after_start",
                violation_error_message="The end date cannot be before the start date.",
            ),
            models.CheckConstraint(
                condition=~Q(from_actor=F("to_actor")),
                name="incidents_actorrelation_not_self",
                violation_error_message="An actor cannot be related to itself.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_actor} {self.get_kind_display()} {self.to_actor}"


# ---------------------------------------------------------------------------------------
# Places
# ---------------------------------------------------------------------------------------


@pghistory.track(*_all_events())
class Location(models.Model):
    class Level(models.TextChoices):
        COUNTRY = "country", _("country")
        GOVERNORATE = "governorate", _("governorate")
        DISTRICT = "district", _("district")
        SUBDISTRICT = "subdistrict", _("subdistrict")
        COMMUNITY = "community", _("community")
        NEIGHBOURHOOD = "neighbourhood", _("neighbourhood")
        SITE = "site", _("site")

    slug = models.SlugField(max_length=160, unique=True)
    name = models.CharField(max_length=300)
    name_ar = models.CharField(max_length=300, blank=True)
    level = models.CharField(max_length=16, choices=Level.choices)
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    pcode = models.CharField(max_length=32, null=True, blank=True, unique=True)
    latitude = models.FloatField(null=True, blank=True, validators=LAT_VALIDATORS)
    longitude = models.FloatField(null=True, blank=True, validators=LON_VALIDATORS)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_locations",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            *_lat_lon_checks("incidents_location"),
            models.CheckConstraint(
                condition=~Q(parent=F("id")),
                name="incidents_location_not_own_parent",
                violation_error_message="A place cannot be its own parent.",
            ),
            models.CheckConstraint(
                condition=Q(level="country") | Q(parent__isnull=False),
                name="incidents_location_parent_required",
                violation_error_message="Every place below country level needs a parent.",
            ),
        ]
        indexes = [
            # Place search in the admin autocomplete and the API's ?q=.
            GinIndex(
                OpClass(Upper("name"), name="gin_trgm_ops"),
                name="incidents_location_name_trgm",
            ),
            # Importers' "match by name within the parent".
            models.Index(
                fields=["parent", "level"], name="incidents_location_parent_lvl"
            ),
        ]

    def __str__(self) -> str:
        return self.name


@pghistory.track(*_all_events())
class LocationName(models.Model):
    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, related_name="names"
    )
    name = models.CharField(max_length=300)
    language = models.CharField(max_length=8, blank=True)
    normalized = models.CharField(max_length=300, editable=False)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["location", "normalized"], name="incidents_locationname_unique"
            ),
        ]
        indexes = [
            # Importers' lookups by normalised spelling.
            models.Index(fields=["normalized"], name="incidents_locationname_norm"),
            GinIndex(
                OpClass("normalized", name="gin_trgm_ops"),
                name="incidents_locationname_trgm",
            ),
        ]

    def __str__(self) -> str:
        return self.name


@pghistory.track(*_all_events())
class Facility(models.Model):
    ref = models.CharField(max_length=16, unique=True, editable=False)
    slug = models.SlugField(max_length=160, unique=True)
    name = models.CharField(max_length=300)
    name_ar = models.CharField(max_length=300, blank=True)
    target_type = models.ForeignKey(TargetType, on_delete=models.PROTECT)
    location = models.ForeignKey(
        Location, on_delete=models.PROTECT, related_name="facilities"
    )
    latitude = models.FloatField(null=True, blank=True, validators=LAT_VALIDATORS)
    longitude = models.FloatField(null=True, blank=True, validators=LON_VALIDATORS)
    operator = models.CharField(max_length=300, blank=True)
    sensitive = models.BooleanField(
        default=False,
        help_text=_("Known to the public only by its ref, target type and district."),
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["ref"]
        verbose_name_plural = _("facilities")
        constraints = [
            *_lat_lon_checks("incidents_facility"),
            models.CheckConstraint(
                condition=Q(ref__regex=r"^F-[0-9]{6,}$"),
                name="incidents_facility_ref_format",
                violation_error_message="A facility ref looks like F-000123.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.ref} {self.name}"


# ---------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------


def source_upload_to(instance: Source, filename: str) -> str:
    # Stored under its hash, never under the uploader's file name (which can identify them).
    return f"sources/{instance.sha256[:2]}/{instance.sha256}"


@pghistory.track(*_all_events())
class Source(models.Model):
    class Kind(models.TextChoices):
        NEWS_REPORT = "news_report", _("news report")
        NGO_REPORT = "ngo_report", _("NGO report")
        UN_REPORT = "un_report", _("UN report")
        OFFICIAL_STATEMENT = "official_statement", _("official statement")
        BELLIGERENT_STATEMENT = "belligerent_statement", _("belligerent statement")
        WITNESS_TESTIMONY = "witness_testimony", _("witness testimony")
        PHOTO = "photo", _("photo")
        VIDEO = "video", _("video")
        SOCIAL_MEDIA_POST = "social_media_post", _("social media post")
        SATELLITE_IMAGERY = "satellite_imagery", _("satellite imagery")
        DATASET = "dataset", _("dataset")
        OTHER = "other", _("other")

    class Reliability(models.TextChoices):
        HIGHLY_RELIABLE = "highly_reliable", _("highly reliable")
        LIKELY_RELIABLE = "likely_reliable", _("likely reliable")
        UNSURE = "unsure", _("unsure")
        LIKELY_UNRELIABLE = "likely_unreliable", _("likely unreliable")
        HIGHLY_UNRELIABLE = "highly_unreliable", _("highly unreliable")
        UNKNOWN = "unknown", _("unknown")

    kind = models.CharField(max_length=32, choices=Kind.choices)
    title = models.CharField(max_length=500)
    publisher = models.CharField(max_length=300, blank=True)
    author = models.CharField(max_length=300, blank=True)
    url = models.URLField(max_length=1000, blank=True)
    archive_url = models.URLField(max_length=1000, blank=True)
    published_on = models.DateField(null=True, blank=True)
    accessed_on = models.DateField(null=True, blank=True)
    language = models.CharField(max_length=8, blank=True)
    release = models.CharField(max_length=100, blank=True)
    licence = models.CharField(max_length=300, blank=True)
    file = models.FileField(upload_to=source_upload_to, blank=True, max_length=300)
    sha256 = models.CharField(max_length=64, blank=True, editable=False)
    size = models.BigIntegerField(null=True, blank=True, editable=False)
    mime = models.CharField(max_length=100, blank=True, editable=False)
    file_public = models.BooleanField(default=False)
    reliability = models.CharField(
        max_length=32, choices=Reliability.choices, default=Reliability.UNKNOWN
    )
    confidential = models.BooleanField(
        default=False,
        help_text=_("Nothing about it is public; counted as 1 confidential source."),
    )
    graphic = models.BooleanField(
        default=False, help_text=_("Shown behind a content warning.")
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            # "This URL / file is already source #N": one source per URL and per file.
            models.UniqueConstraint(
                fields=["url"],
                condition=~Q(url=""),
                name="incidents_source_unique_url",
                violation_error_message="A source with this URL already exists.",
            ),
            models.UniqueConstraint(
                fields=["sha256"],
                condition=~Q(sha256=""),
                name="incidents_source_unique_sha256",
                violation_error_message="A source with this file already exists.",
            ),
            models.CheckConstraint(
                condition=Q(sha256="") | Q(sha256__regex=r"^[0-9a-f]{64}$"),
                name="incidents_source_sha256_hex",
            ),
            models.CheckConstraint(
                condition=Q(size__isnull=True) | Q(size__gte=0),
                name="incidents_source_size_nonnegative",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.title}"


# ---------------------------------------------------------------------------------------
# Imports
# ---------------------------------------------------------------------------------------


@pghistory.track(*_all_events(), exclude=["progress_done", "heartbeat_at"])
class ImportBatch(models.Model):
    class Format(models.TextChoices):
        UCDP_GED = "ucdp-ged", "UCDP GED"
        INSECURITY_INSIGHT = "insecurity-insight", "Insecurity Insight"
        ACLED = "acled", "ACLED"
        CIVTRACK = "civtrack", "CivTrack CSV"
        SEED = "seed", _("CivTrack curated seed")

    class Status(models.TextChoices):
        QUEUED = "queued", _("queued")
        RUNNING = "running", _("running")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")
        REVERTED = "reverted", _("reverted")

    file_name = models.CharField(max_length=300)
    file = models.FileField(upload_to="imports/", blank=True, max_length=300)
    sha256 = models.CharField(max_length=64, blank=True)
    format = models.CharField(max_length=32, choices=Format.choices)
    release = models.CharField(max_length=100, blank=True)
    release_date = models.DateField(null=True, blank=True)
    instance = models.CharField(max_length=100, blank=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField(blank=True)
    dry_run = models.BooleanField(default=False)
    skip_bad_rows = models.BooleanField(default=False)
    publish = models.BooleanField(default=False)
    four_eyes_waived = models.BooleanField(
        default=False,
        help_text=_("Published from a third-party dataset reviewed by its publisher."),
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    failure_reason = models.TextField(blank=True)
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    rows_read = models.PositiveIntegerField(default=0)
    rows_created = models.PositiveIntegerField(default=0)
    rows_updated = models.PositiveIntegerField(default=0)
    rows_unchanged = models.PositiveIntegerField(default=0)
    rows_skipped = models.PositiveIntegerField(default=0)
    rows_rejected = models.PositiveIntegerField(default=0)
    rows_warnings = models.PositiveIntegerField(default=0)
    report = models.JSONField(
        default=list,
        blank=True,
        help_text="Per-row report: line, external id, what happened, why.",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = _("import batches")
        constraints = [
            models.CheckConstraint(
                condition=Q(finished_at__isnull=True)
                | Q(started_at__isnull=True)
                | Q(finished_at__gte=F("started_at")),
                name="incidents_importbatch_finished_after_started",
            ),
        ]

    def __str__(self) -> str:
        return f"Import #{self.pk} {self.get_format_display()} {self.file_name}"


# ---------------------------------------------------------------------------------------
# Incidents
# ---------------------------------------------------------------------------------------


class IncidentQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=Incident.Status.PUBLISHED)


class DatePrecision(models.TextChoices):
    DAY = "day", _("day")
    DAYS = "days", _("2–6 days")
    WEEK = "week", _("week")
    MONTH = "month", _("month")
    YEAR = "year", _("year")


class GeoPrecision(models.TextChoices):
    EXACT = "exact", _("exact (within 100 m)")
    NEAR = "near", _("near (within 2 km)")
    COMMUNITY = "community", _("community")
    SUBDISTRICT = "subdistrict", _("subdistrict")
    DISTRICT = "district", _("district")
    GOVERNORATE = "governorate", _("governorate")
    COUNTRY = "country", _("country")


# Ordered from the most to the least precise (for "this precise or better" filters).
GEO_PRECISION_ORDER = [choice.value for choice in GeoPrecision]


def arabic_normalized(expression):
    """SQL: the IMMUTABLE civtrack_ar_normalize() created by migration 0001."""
    return models.Func(
        expression, function="civtrack_ar_normalize", output_field=models.TextField()
    )


SEARCH_VECTOR = (
    SearchVector("code", "search_names", config="simple", weight="A")
    + SearchVector("title", config="english", weight="A")
    + SearchVector("summary", config="english", weight="B")
    + SearchVector(
        arabic_normalized(Coalesce("title_ar", models.Value(""))),
        config="arabic",
        weight="A",
    )
    + SearchVector(
        arabic_normalized(Coalesce("summary_ar", models.Value(""))),
        config="arabic",
        weight="B",
    )
    + SearchVector(arabic_normalized("search_names"), config="arabic", weight="C")
)


@pghistory.track(*_all_events(), exclude=["search_vector"])
class Incident(models.Model):
    class TimeOfDay(models.TextChoices):
        UNKNOWN = "unknown", _("unknown")
        NIGHT = "night", _("night")
        MORNING = "morning", _("morning")
        AFTERNOON = "afternoon", _("afternoon")
        EVENING = "evening", _("evening")

    class Grading(models.TextChoices):
        CONFIRMED = "confirmed", _("confirmed")
        FAIR = "fair", _("fair")
        WEAK = "weak", _("weak")
        CONTESTED = "contested", _("contested")
        DISCOUNTED = "discounted", _("discounted")
        NOT_ASSESSED = "not_assessed", _("not assessed")

    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        IN_REVIEW = "in_review", _("in review")
        PUBLISHED = "published", _("published")
        WITHDRAWN = "withdrawn", _("withdrawn")
        MERGED = "merged", _("merged")

    code = models.CharField(max_length=20, unique=True, editable=False)
    title = models.CharField(max_length=500)
    title_ar = models.CharField(max_length=500, blank=True)
    summary = models.TextField(blank=True)
    summary_ar = models.TextField(blank=True)
    internal_notes = models.TextField(
        blank=True, help_text=_("Restricted: never public.")
    )

    date_start = models.DateField()
    date_end = models.DateField()
    date_precision = models.CharField(
        max_length=8, choices=DatePrecision.choices, default=DatePrecision.DAY
    )
    time_of_day = models.CharField(
        max_length=16, choices=TimeOfDay.choices, default=TimeOfDay.UNKNOWN
    )

    location = models.ForeignKey(
        Location,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
    )
    governorate = models.ForeignKey(
        Location,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    latitude = models.FloatField(null=True, blank=True, validators=LAT_VALIDATORS)
    longitude = models.FloatField(null=True, blank=True, validators=LON_VALIDATORS)
    geo_precision = models.CharField(
        max_length=16, choices=GeoPrecision.choices, default=GeoPrecision.COMMUNITY
    )
    # The redaction layer's public place (DOMAIN.md): equal to the fields above, except for
    # an incident that targets a sensitive facility, which the public sees at its
    # district's centroid. Kept in step by the services; every public filter, ordering,
    # facet, bbox and export reads these, so no public query can narrow the real place.
    public_location = models.ForeignKey(
        Location,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    public_latitude = models.FloatField(null=True, blank=True, editable=False)
    public_longitude = models.FloatField(null=True, blank=True, editable=False)
    public_geo_precision = models.CharField(
        max_length=16,
        choices=GeoPrecision.choices,
        default=GeoPrecision.COMMUNITY,
        editable=False,
    )

    incident_type = models.ForeignKey(IncidentType, on_delete=models.PROTECT)
    synthetic = models.BooleanField(default=False, editable=False)
    aggregate = models.BooleanField(
        default=False, help_text=_("Sums many events (e.g. a year at country level).")
    )
    grading = models.CharField(
        max_length=16, choices=Grading.choices, default=Grading.NOT_ASSESSED
    )
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.DRAFT, editable=False
    )
    withdrawn_reason = models.TextField(blank=True, editable=False)
    merged_into = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_incidents",
        editable=False,
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    last_edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    import_batch = models.ForeignKey(
        ImportBatch,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="incidents",
        editable=False,
        help_text=_("The batch that created it."),
    )
    first_published_at = models.DateTimeField(null=True, blank=True, editable=False)
    published_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1, editable=False)

    # Denormalised totals (DOMAIN.md), written only by services.recompute_totals().
    # Null means "not recorded" (DOMAIN.md, "Not recorded is not zero"): a measure the
    # incident has no row for is never 0. A null max with a set min is a floor.
    casualties_known = models.BooleanField(default=False, editable=False)
    civilians_killed_min = models.PositiveIntegerField(
        null=True, default=None, editable=False
    )
    civilians_killed_max = models.PositiveIntegerField(
        null=True, default=None, editable=False
    )
    civilians_injured_min = models.PositiveIntegerField(
        null=True, default=None, editable=False
    )
    civilians_injured_max = models.PositiveIntegerField(
        null=True, default=None, editable=False
    )
    children_killed_min = models.PositiveIntegerField(
        null=True, default=None, editable=False
    )
    children_killed_max = models.PositiveIntegerField(
        null=True, default=None, editable=False
    )
    medical_personnel_killed_min = models.PositiveIntegerField(
        null=True, default=None, editable=False
    )
    medical_personnel_killed_max = models.PositiveIntegerField(
        null=True, default=None, editable=False
    )
    total_killed_min = models.PositiveIntegerField(
        null=True, default=None, editable=False
    )
    total_killed_max = models.PositiveIntegerField(
        null=True, default=None, editable=False
    )
    total_injured_min = models.PositiveIntegerField(
        null=True, default=None, editable=False
    )
    total_injured_max = models.PositiveIntegerField(
        null=True, default=None, editable=False
    )

    # Names of the incident's place (with its parents) and actors, with their aliases,
    # kept in step by the services so the generated search column can see them.
    search_names = models.TextField(blank=True, default="", editable=False)
    search_vector = models.GeneratedField(
        expression=SEARCH_VECTOR,
        output_field=SearchVectorField(),
        db_persist=True,
    )

    objects = IncidentQuerySet.as_manager()

    class Meta:
        ordering = ["-date_start", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(date_end__gte=F("date_start")),
                name="incidents_incident_end_after_start",
                violation_error_message="The end of the date window cannot be before its start.",
            ),
            *_lat_lon_checks("incidents_incident"),
            models.CheckConstraint(
                condition=Q(code__regex=r"^SY-[0-9]{4}-[0-9]{5,}$"),
                name="incidents_incident_code_format",
                violation_error_message="An incident code looks like SY-2016-00042.",
            ),
            models.CheckConstraint(
                condition=~Q(status="withdrawn") | ~Q(withdrawn_reason=""),
                name="incidents_incident_withdrawn_has_reason",
                violation_error_message="A withdrawn incident needs a public reason.",
            ),
            models.CheckConstraint(
                condition=Q(status="merged", merged_into__isnull=False)
                | (~Q(status="merged") & Q(merged_into__isnull=True)),
                name="incidents_incident_merged_has_survivor",
                violation_error_message="A merged incident points at its survivor, and only then.",
            ),
            models.CheckConstraint(
                condition=~Q(merged_into=F("id")),
                name="incidents_incident_not_merged_into_self",
            ),
            *[
                models.CheckConstraint(
                    condition=Q(**{f"{name}_max__isnull": True})
                    | Q(**{f"{name}_max__gte": F(f"{name}_min")}),
                    name=f"incidents_incident_{name}_min_le_max",
                )
                for name in (
                    "civilians_killed",
                    "civilians_injured",
                    "children_killed",
                    "medical_personnel_killed",
                    "total_killed",
                    "total_injured",
                )
            ],
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="incidents_incident_published_has_date",
            ),
        ]
        indexes = [
            # Default list ordering (-date_start, -id) and its keyset pagination.
            models.Index(
                F("date_start").desc(), F("id").desc(), name="incidents_inc_date_id"
            ),
            # Date-window overlap filters (date_end >= date_from).
            models.Index(fields=["date_end"], name="incidents_inc_date_end"),
            # Public lists: published incidents by date (the common public query).
            models.Index(
                F("date_start").desc(),
                F("id").desc(),
                condition=Q(status="published"),
                name="incidents_inc_pub_date",
            ),
            # ?governorate= and statistics grouped by governorate.
            models.Index(
                fields=["governorate", "date_start"], name="incidents_inc_gov_date"
            ),
            # ?incident_type= filter and grouping.
            models.Index(
                fields=["incident_type", "date_start"], name="incidents_inc_type_date"
            ),
            # Ordering by civilians killed.
            models.Index(
                F("civilians_killed_max").desc(nulls_last=True),
                F("id").desc(),
                name="incidents_inc_ck_max",
            ),
            # Ordering by civilians killed, ascending: nulls ("not recorded", or a
            # floor with no ceiling) come last in both directions (api/pagination.py
            # Keyset), which the index above cannot serve read backwards.
            models.Index(
                F("civilians_killed_max").asc(nulls_last=True),
                F("id").asc(),
                name="incidents_inc_ck_max_asc",
            ),
            # ?updated_since= and ordering by updated_at.
            models.Index(fields=["updated_at", "id"], name="incidents_inc_updated"),
            # ?bbox= on the public point.
            models.Index(
                fields=["public_longitude", "public_latitude"],
                name="incidents_inc_pub_point",
            ),
            # ?location= (public place).
            models.Index(fields=["public_location"], name="incidents_inc_pub_location"),
            # ?q= full-text search.
            GinIndex(fields=["search_vector"], name="incidents_inc_search"),
            # Admin list filtered by status.
            models.Index(fields=["status", "-updated_at"], name="incidents_inc_status"),
            # Issue 8: aggregates over the public set read this small index alone
            # (index-only scans) instead of the wide table: the statistics' filtered
            # `f` (incidents/stats.py F_COLUMNS: stats_summary, stats_compare), the
            # facet counts of the pages (incidents/views.py build_facets: type,
            # governorate, grading, date and place precision), the exact `count` of
            # the API list (api/views.py exact_count) and the map's left-off counts
            # (stats.map_clusters). Keyed on date_start for the date filters.
            models.Index(
                fields=["date_start"],
                include=[
                    "id",
                    "governorate",
                    "incident_type",
                    "grading",
                    "date_precision",
                    "public_geo_precision",
                    "aggregate",
                    "public_latitude",
                    *[
                        f"{name}_{bound}"
                        for name in (
                            "civilians_killed",
                            "civilians_injured",
                            "children_killed",
                            "medical_personnel_killed",
                            "total_killed",
                            "total_injured",
                        )
                        for bound in ("min", "max")
                    ],
                ],
                condition=Q(status="published"),
                name="incidents_inc_pub_cover",
            ),
            # Issue 8: map clusters (incidents/stats.py map_clusters, public points):
            # the points on the map, by bbox, with what a cell sums, read from the
            # index alone (titles are fetched afterwards for one-incident cells).
            models.Index(
                fields=["public_longitude", "public_latitude"],
                include=[
                    "id",
                    "code",
                    "grading",
                    "date_start",
                    "civilians_killed_min",
                    "civilians_killed_max",
                ],
                condition=Q(status="published", aggregate=False)
                & Q(public_latitude__isnull=False),
                name="incidents_inc_pub_map",
            ),
            # Issue 8: the synthetic-data banner on every page asks whether any public
            # incident is synthetic (incidents/context_processors.py); without this
            # index a database with none scans every incident to say no.
            models.Index(
                fields=["id"],
                condition=Q(status="published", synthetic=True),
                name="incidents_inc_synthetic",
            ),
        ]
        triggers = [
            # Every update of the row, ORM save, bulk update() or raw SQL, bumps the
            # version (optimistic locking, ETags and the changes feed rely on it).
            pgtrigger.Trigger(
                name="incident_version_bump",
                operation=pgtrigger.Update,
                when=pgtrigger.Before,
                func="NEW.version := OLD.version + 1; NEW.updated_at := now(); RETURN NEW;",
            ),
            pgtrigger.Protect(
                name="incident_code_immutable",
                operation=pgtrigger.Update,
                condition=pgtrigger.Q(old__code__df=pgtrigger.F("new__code")),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"

    def get_absolute_url(self) -> str:
        return f"/en/incidents/{self.code}/"

    @property
    def is_public(self) -> bool:
        return self.status == self.Status.PUBLISHED


class IncidentCodeCounter(models.Model):
    """The per-year counter behind incident codes: numbers are never reused."""

    year = models.PositiveIntegerField(primary_key=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last_number}"


@pghistory.track(*_all_events())
class IncidentWeapon(models.Model):
    class Certainty(models.TextChoices):
        CONFIRMED = "confirmed", _("confirmed (remnants identified)")
        REPORTED = "reported", _("reported")
        SUSPECTED = "suspected", _("suspected")

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="weapons"
    )
    weapon = models.ForeignKey(WeaponType, on_delete=models.PROTECT, related_name="+")
    certainty = models.CharField(
        max_length=16, choices=Certainty.choices, default=Certainty.REPORTED
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "weapon"],
                name="incidents_incidentweapon_unique",
                violation_error_message="This weapon is already listed for the incident.",
            ),
        ]
        indexes = [
            # ?weapon= filter (incident ids by weapon).
            models.Index(fields=["weapon", "incident"], name="incidents_iw_weapon"),
        ]

    def __str__(self) -> str:
        return f"{self.weapon} ({self.certainty})"


@pghistory.track(*_all_events())
class IncidentTarget(models.Model):
    class Damage(models.TextChoices):
        DESTROYED = "destroyed", _("destroyed")
        DAMAGED = "damaged", _("damaged")
        VICINITY = "vicinity", _("hit in the vicinity")
        NONE = "none", _("no damage")
        UNKNOWN = "unknown", _("unknown")

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="targets"
    )
    target_type = models.ForeignKey(
        TargetType, on_delete=models.PROTECT, related_name="+"
    )
    facility = models.ForeignKey(
        Facility,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="targets",
    )
    damage = models.CharField(
        max_length=16, choices=Damage.choices, default=Damage.UNKNOWN
    )

    class Meta:
        ordering = ["id"]
        indexes = [
            # ?target_type= filter.
            models.Index(fields=["target_type", "incident"], name="incidents_it_type"),
            # ?facility= and the facility's attack history.
            models.Index(fields=["facility", "incident"], name="incidents_it_facility"),
        ]

    def __str__(self) -> str:
        return f"{self.target_type} ({self.damage})"


class CasualtyGroup(models.TextChoices):
    CIVILIANS = "civilians", _("civilians")
    COMBATANTS = "combatants", _("combatants")
    UNKNOWN_STATUS = "unknown_status", _("status unknown")
    CHILDREN = "children", _("children")
    WOMEN = "women", _("women")
    MEN = "men", _("men")
    ELDERLY = "elderly", _("elderly")
    MEDICAL_PERSONNEL = "medical_personnel", _("medical personnel")
    FIRST_RESPONDERS = "first_responders", _("first responders")
    AID_WORKERS = "aid_workers", _("aid workers")
    JOURNALISTS = "journalists", _("journalists")
    ALL = "all", _("everyone")


STATUS_GROUPS = ("civilians", "combatants", "unknown_status")
CIVILIAN_SUBGROUPS = (
    "children",
    "women",
    "men",
    "elderly",
    "medical_personnel",
    "first_responders",
    "aid_workers",
    "journalists",
)


class CasualtyOutcome(models.TextChoices):
    KILLED = "killed", _("killed")
    INJURED = "injured", _("injured")
    MISSING = "missing", _("missing")
    DETAINED = "detained", _("detained")
    ABDUCTED = "abducted", _("abducted")


@pghistory.track(*_all_events())
class CasualtyCount(models.Model):
    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="casualties"
    )
    group = models.CharField(max_length=32, choices=CasualtyGroup.choices)
    outcome = models.CharField(max_length=16, choices=CasualtyOutcome.choices)
    min = models.PositiveIntegerField()
    max = models.PositiveIntegerField()
    best = models.PositiveIntegerField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(min__gte=0) & Q(min__lte=F("max")),
                name="incidents_casualtycount_min_le_max",
                violation_error_message="The minimum cannot exceed the maximum.",
            ),
            models.CheckConstraint(
                condition=Q(best__isnull=True)
                | (Q(best__gte=F("min")) & Q(best__lte=F("max"))),
                name="incidents_casualtycount_best_in_range",
                violation_error_message="The best estimate must lie between min and max.",
            ),
            models.UniqueConstraint(
                fields=["incident", "group", "outcome"],
                name="incidents_casualtycount_unique_group_outcome",
                violation_error_message="There is already a row for this group and outcome.",
            ),
        ]
        indexes = [
            # Statistics' measure=<group>_<outcome> sums.
            models.Index(
                fields=["group", "outcome", "incident"], name="incidents_cc_group"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group} {self.outcome}: {self.min}–{self.max}"


@pghistory.track(*_all_events())
class Attribution(models.Model):
    class Role(models.TextChoices):
        PERPETRATOR = "perpetrator", _("perpetrator")
        ASSOCIATED = "associated", _("associated")
        TARGET = "target", _("target")

    class Position(models.TextChoices):
        NO_STATEMENT = "no_statement", _("no statement")
        ACKNOWLEDGED = "acknowledged", _("acknowledged")
        DENIED = "denied", _("denied")
        CLAIMED = "claimed", _("claimed")
        UNKNOWN = "unknown", _("unknown")

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="attributions"
    )
    actor = models.ForeignKey(
        Actor, on_delete=models.PROTECT, related_name="attributions"
    )
    role = models.CharField(
        max_length=16, choices=Role.choices, default=Role.PERPETRATOR
    )
    confidence = models.CharField(
        max_length=16, choices=Confidence.choices, default=Confidence.LIKELY
    )
    alternative = models.PositiveSmallIntegerField(
        null=True,
        blank=True,
        help_text=_(
            "Competing hypotheses: perpetrators sharing a number act jointly; "
            "exactly one numbered hypothesis is true. Empty = certain."
        ),
    )
    position = models.CharField(
        max_length=16, choices=Position.choices, default=Position.NO_STATEMENT
    )
    conceded_killed = models.PositiveIntegerField(null=True, blank=True)
    note = models.TextField(blank=True)

    class Meta:
        ordering = ["role", "alternative", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(alternative__isnull=True) | Q(role="perpetrator"),
                name="incidents_attribution_alternative_perpetrator_only",
                violation_error_message="Only perpetrators can form alternative hypotheses.",
            ),
            models.CheckConstraint(
                condition=Q(alternative__isnull=True) | ~Q(confidence="confirmed"),
                name="incidents_attribution_alternative_not_confirmed",
                violation_error_message="A confirmed perpetrator cannot be one of several "
                "alternatives.",
            ),
            models.CheckConstraint(
                condition=Q(alternative__isnull=True) | Q(alternative__gte=1),
                name="incidents_attribution_alternative_positive",
                violation_error_message="Alternatives are numbered from 1.",
            ),
            models.UniqueConstraint(
                fields=["incident", "actor", "role"],
                name="incidents_attribution_unique",
                violation_error_message="This actor already has this role in the incident.",
            ),
        ]
        indexes = [
            # ?actor= / ?bloc= filters and per-actor statistics.
            models.Index(
                fields=["actor", "role", "incident"], name="incidents_attr_actor"
            ),
            # Issue 8: perpetrator rows by incident with what "certainly involved"
            # needs, read from the index alone: the statistics' `cover`/`numbered`
            # CTEs (incidents/stats.py _unit_ctes), the bloc facet of the pages
            # (incidents/views.py build_facets) and the exports' perpetrators.
            models.Index(
                fields=["incident"],
                include=["actor", "confidence", "alternative"],
                condition=Q(role="perpetrator"),
                name="incidents_attr_perp",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.actor} ({self.role})"


class Claim(models.TextChoices):
    OCCURRENCE = "occurrence", _("occurrence")
    DATE = "date", _("date")
    LOCATION = "location", _("location")
    CASUALTIES = "casualties", _("casualties")
    ATTRIBUTION = "attribution", _("attribution")
    WEAPON = "weapon", _("weapon")
    TARGET = "target", _("target")


@pghistory.track(*_all_events())
class Citation(models.Model):
    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="citations"
    )
    source = models.ForeignKey(
        Source, on_delete=models.PROTECT, related_name="citations"
    )
    supports = ArrayField(
        models.CharField(max_length=16, choices=Claim.choices), default=list, blank=True
    )
    excerpt = models.TextField(blank=True)
    locator = models.CharField(
        max_length=200, blank=True, help_text=_("Page, timestamp…")
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["incident", "source", "locator"],
                name="incidents_citation_unique",
                violation_error_message="This source is already cited here with this locator.",
            ),
            models.CheckConstraint(
                condition=Q(supports__contained_by=[c.value for c in Claim]),
                name="incidents_citation_supports_known",
                violation_error_message="Unknown claim in supports.",
            ),
        ]
        indexes = [
            # ?source= filter: incidents citing a source.
            models.Index(
                fields=["source", "incident"], name="incidents_citation_source"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.source} → {self.incident_id}"


@pghistory.track(*_all_events())
class ExternalRef(models.Model):
    class System(models.TextChoices):
        UCDP_GED = "ucdp_ged", "UCDP GED"
        INSECURITY_INSIGHT = "insecurity_insight", "Insecurity Insight"
        ACLED = "acled", "ACLED"
        AIRWARS = "airwars", "Airwars"
        SNHR = "snhr", "SNHR"
        VDC = "vdc", "VDC"
        CIVTRACK = "civtrack", _("another CivTrack instance")
        OTHER = "other", _("other")

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="external_refs"
    )
    system = models.CharField(max_length=32, choices=System.choices)
    value = models.CharField(max_length=200)
    url = models.URLField(max_length=1000, blank=True)
    release = models.CharField(max_length=100, blank=True)
    release_date = models.DateField(null=True, blank=True)
    batch = models.ForeignKey(
        ImportBatch,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="external_refs",
    )
    raw = models.JSONField(
        null=True, blank=True, help_text=_("Restricted: the imported row.")
    )

    class Meta:
        ordering = ["system", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["system", "value"],
                name="incidents_externalref_unique",
                violation_error_message="This external reference already belongs to an incident.",
            ),
        ]
        indexes = [
            models.Index(fields=["incident"], name="incidents_extref_incident"),
        ]

    def __str__(self) -> str:
        return f"{self.system}:{self.value}"


@pghistory.track(*_all_events())
class Victim(models.Model):
    class Sex(models.TextChoices):
        FEMALE = "female", _("female")
        MALE = "male", _("male")
        UNKNOWN = "unknown", _("unknown")

    class AgeGroup(models.TextChoices):
        CHILD = "child", _("child")
        ADULT = "adult", _("adult")
        ELDERLY = "elderly", _("elderly")
        UNKNOWN = "unknown", _("unknown")

    class CivilianStatus(models.TextChoices):
        CIVILIAN = "civilian", _("civilian")
        COMBATANT = "combatant", _("combatant")
        UNKNOWN = "unknown", _("unknown")

    class Outcome(models.TextChoices):
        KILLED = "killed", _("killed")
        INJURED = "injured", _("injured")
        MISSING = "missing", _("missing")
        DETAINED = "detained", _("detained")

    class ProtectedRole(models.TextChoices):
        NONE = "none", _("none")
        MEDICAL = "medical", _("medical")
        FIRST_RESPONDER = "first_responder", _("first responder")
        JOURNALIST = "journalist", _("journalist")
        AID_WORKER = "aid_worker", _("aid worker")
        TEACHER = "teacher", _("teacher")

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="victims"
    )
    name = models.CharField(
        max_length=300, blank=True, help_text=_("Restricted by default.")
    )
    name_ar = models.CharField(max_length=300, blank=True)
    sex = models.CharField(max_length=8, choices=Sex.choices, default=Sex.UNKNOWN)
    age = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MaxValueValidator(130)]
    )
    age_group = models.CharField(
        max_length=8, choices=AgeGroup.choices, default=AgeGroup.UNKNOWN
    )
    civilian_status = models.CharField(
        max_length=16, choices=CivilianStatus.choices, default=CivilianStatus.UNKNOWN
    )
    outcome = models.CharField(max_length=16, choices=Outcome.choices)
    protected_role = models.CharField(
        max_length=16, choices=ProtectedRole.choices, default=ProtectedRole.NONE
    )
    consent_note = models.TextField(
        blank=True, help_text=_("Restricted: who consented to publication, when, how.")
    )
    publish_name = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(publish_name=False) | ~Q(consent_note=""),
                name="incidents_victim_publish_name_needs_consent",
                violation_error_message="A name may be published only with a consent note.",
            ),
            models.CheckConstraint(
                condition=Q(age__isnull=True) | Q(age__lte=130),
                name="incidents_victim_age_range",
                violation_error_message="Age must be between 0 and 130.",
            ),
            models.CheckConstraint(
                condition=Q(age__isnull=True) | Q(age__gte=18) | ~Q(age_group="adult"),
                name="incidents_victim_child_not_adult",
                violation_error_message="A victim under 18 is a child, not an adult.",
            ),
        ]

    def __str__(self) -> str:
        return f"Victim #{self.pk}"


@pghistory.track(*_all_events())
class ProtectionRequest(models.Model):
    """A request to lower a protection, waiting for a second person who is a reviewer
    (DOMAIN.md "Lowering protection"). Until it is approved the value stays protected.

    The object is named by `target` and `object_id` rather than a foreign key: a victim
    row is replaced when its incident's victim list is edited, and the request must
    outlive it (approving a request whose object is gone is refused like a stale one).
    `object_version` is the object's version when the request was made: the id of its
    latest audit event (services.protection_object_version), since sources, facilities
    and victims carry no version column of their own.
    """

    class Target(models.TextChoices):
        SOURCE_CONFIDENTIAL = "source.confidential", _("source: not confidential")
        SOURCE_FILE_PUBLIC = "source.file_public", _("source: file public")
        FACILITY_SENSITIVE = "facility.sensitive", _("facility: not sensitive")
        VICTIM_PUBLISH_NAME = "victim.publish_name", _("victim: name public")

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")

    target = models.CharField(max_length=32, choices=Target.choices)
    object_id = models.PositiveBigIntegerField()
    value = models.BooleanField(
        help_text=_("The value asked for (always the less protected one).")
    )
    object_version = models.CharField(max_length=40)
    reason = models.TextField()
    status = models.CharField(
        max_length=16, choices=Status.choices, default=Status.PENDING
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_note = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Reviewers' queue (pending, newest first) and "is this already asked?".
            models.Index(
                fields=["target", "object_id"],
                condition=Q(status="pending"),
                name="incidents_protreq_pending",
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status="pending", decided_by__isnull=True)
                | (~Q(status="pending") & Q(decided_by__isnull=False)),
                name="incidents_protectionrequest_decided_by_status",
                violation_error_message="A decided request names who decided it.",
            ),
            models.CheckConstraint(
                condition=Q(decided_by__isnull=True) | ~Q(decided_by=F("requested_by")),
                name="incidents_protectionrequest_four_eyes",
                violation_error_message="The person who asked cannot decide.",
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.target} {self.object_id} ({self.status})"


@pghistory.track(pghistory.InsertEvent())
class WriteConflict(models.Model):
    """A save refused because it carried a stale version (nothing was overwritten)."""

    incident = models.ForeignKey(
        Incident, on_delete=models.PROTECT, related_name="conflicts"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    sent_version = models.PositiveIntegerField()
    current_version = models.PositiveIntegerField()
    changed_fields = ArrayField(
        models.CharField(max_length=64), default=list, blank=True
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]

    def __str__(self) -> str:
        return f"{self.incident_id}: sent v{self.sent_version}, current v{self.current_version}"


class PublicChange(models.Model):
    """The public changes feed: one row per change to public data, in commit order.

    Rows are appended under a transaction-level advisory lock (services._record_change),
    so a later seq never becomes visible before an earlier one.
    """

    class Action(models.TextChoices):
        PUBLISHED = "published", _("published")
        UPDATED = "updated", _("updated")
        WITHDRAWN = "withdrawn", _("withdrawn")
        MERGED = "merged", _("merged")

    seq = models.BigAutoField(primary_key=True)
    at = models.DateTimeField(auto_now_add=True)
    incident = models.ForeignKey(Incident, on_delete=models.PROTECT, related_name="+")
    code = models.CharField(max_length=20)
    action = models.CharField(max_length=16, choices=Action.choices)
    version = models.PositiveIntegerField()
    public_reason = models.TextField(blank=True)

    class Meta:
        ordering = ["seq"]

    def __str__(self) -> str:
        return f"{self.seq} {self.code} {self.action}"


class SignInFailure(models.Model):
    """A failed staff sign-in, kept to lock out password guessing (civtrack/accounts.py)."""

    username = models.CharField(max_length=150)
    ip = models.GenericIPAddressField(null=True, blank=True)
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at"]
        indexes = [
            # The lockout check: recent failures for one user name or one address.
            models.Index(fields=["username", "at"], name="incidents_signin_user_at"),
            models.Index(fields=["ip", "at"], name="incidents_signin_ip_at"),
        ]

    def __str__(self) -> str:
        return f"{self.username} from {self.ip} at {self.at:%Y-%m-%d %H:%M}"
