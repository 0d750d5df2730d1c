"""The redaction canary (issue 7, DOMAIN.md "What the public sees").

A fixture plants a unique canary in every restricted place DOMAIN.md names — internal
notes, victims' names without consent, a minor's name and age, consent notes, every
field of a confidential source and its citation, sensitive facilities' names, slugs,
operators, places and exact points, researchers' user names, names and e-mails, draft and
in-review incidents, withdrawn and merged incidents' content, ExternalRef.raw, internal
change reasons, import batches — and changes some public things into restricted ones
after publication (a facility made sensitive, a source made confidential), so that
history is checked against *today's* rules.

Then an anonymous client crawls every public output: every page in both languages,
every API endpoint and format, error pages, and every same-site link those outputs
point at (breadth first, within a budget), and no canary may appear anywhere — in a
body or a header. Searches and lookups *for* a canary are compared with the same request
for a decoy that exists nowhere: the two answers must be the same but for the echoed
input, so no search or filter can be used as an oracle either.

`test_every_url_pattern_is_crawled` fails when a URL pattern exists that the crawl does
not cover: add new endpoints to PAGE_URLS / API_URLS (or, with a reason, to NOT_CRAWLED).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import html
import io
import json
import re
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from PIL import Image
from rest_framework.throttling import AnonRateThrottle

from incidents import services
from incidents.models import (
    ActorRelation,
    Facility,
    ImportBatch,
    Incident,
    Location,
)
from incidents.stats import GROUP_KEYS  # every grouping the statistics offer
from tests.factories import (
    ActorFactory,
    IncidentTypeFactory,
    SourceFactory,
    TargetTypeFactory,
    UserFactory,
    WeaponTypeFactory,
    approve_protection_requests,
    make_incident,
)

pytestmark = pytest.mark.django_db

# ---------------------------------------------------------------------------------------
# The canaries
# ---------------------------------------------------------------------------------------

# Restricted values: none may appear in any anonymous output. Plain tokens (letters and
# digits) so that they survive HTML escaping, JSON, CSV and URL encoding unchanged.
CANARIES: dict[str, str] = {
    # Incident content
    "internal_notes": "Kx9InternalNotes",
    "later_internal_notes": "Kx9LaterNotes",
    "internal_reason": "Kx9InternalReason",
    "send_back_reason": "Kx9SendBackReason",
    "pre_publication_title": "Kx9PrePublicationTitle",
    "draft_title": "Kx9DraftTitle",
    "draft_title_ar": "كناريمسودة",
    "draft_summary": "Kx9DraftSummary",
    "review_title": "Kx9ReviewTitle",
    "review_summary": "Kx9ReviewSummary",
    "withdrawn_title": "Kx9WithdrawnTitle",
    "withdrawn_title_ar": "كناريمسحوب",
    "withdrawn_summary": "Kx9WithdrawnSummary",
    "merged_title": "Kx9MergedTitle",
    "merged_summary": "Kx9MergedSummary",
    "raw": "Kx9RawImported",
    "raw_ref_url": "kx9-raw-ref",
    # Victims
    "victim_name": "Kx9VictimName",
    "victim_name_ar": "كناريضحية",
    "minor_name": "Kx9MinorName",
    "consent_note": "Kx9ConsentNote",
    # A confidential source (made confidential after publication) and a second one
    "conf_title": "Kx9ConfTitle",
    "conf_url": "kx9-conf-url",
    "conf_archive": "kx9-conf-archive",
    "conf_publisher": "Kx9ConfPublisher",
    "conf_author": "Kx9ConfAuthor",
    "conf_excerpt": "Kx9ConfExcerpt",
    "conf_locator": "Kx9ConfLocator",
    "conf2_title": "Kx9SecondConfTitle",
    "conf2_url": "kx9-second-conf-url",
    "conf2_excerpt": "Kx9SecondConfExcerpt",
    # Sensitive facilities, their places and points
    "facility_name": "Kx9FacilityName",
    "facility_name_ar": "كناريمستشفى",
    "facility_slug": "kx9-facility-slug",
    "facility_operator": "Kx9FacilityOperator",
    "site_name": "Kx9SiteName",
    "site_name_ar": "كناريشارع",
    "site_slug": "kx9-site-slug",
    "site_alias": "Kx9SiteAlias",
    "facility2_name": "Kx9VillageClinicName",
    "facility2_slug": "kx9-village-clinic",
    # (The village that holds the second sensitive facility is *not* restricted: a
    # community is never hidden because a sensitive facility lies in it, DOMAIN.md
    # "Nothing may be inferred from what is hidden"; tests/test_redaction_difference.py.)
    # Researchers' identities
    "researcher_username": "kx9researcher",
    "researcher_email": "kx9.researcher.mail",
    "researcher_first_name": "Kx9FirstName",
    "researcher_last_name": "Kx9LastName",
    "reviewer_username": "kx9reviewer",
    "reviewer_email": "kx9.reviewer.mail",
    # Imports
    "batch_note": "Kx9BatchNote",
    "batch_file": "kx9-batch-file",
    # Metadata in a published photo (EXIF, XMP, comment): the public copy is re-encoded
    # without it (incidents/public_files.py)
    "photo_artist": "Kx9PhotoArtist",
    "photo_camera": "Kx9PhotoCamera",
    "photo_xmp": "Kx9PhotoXmp",
    "photo_comment": "Kx9PhotoComment",
}

# Exact points that are restricted: the sensitive facilities', their places' and the
# real point of the incidents that hit them. Matched on 4 decimals, in any decimal
# separator ('.', ',' or the Arabic '٫'), so rounded or localised copies count too.
SECRET_POINTS: dict[str, float] = {
    "facility_lat": 34.917263,
    "facility_lon": 38.482915,
    "site_lat": 34.917301,
    "site_lon": 38.482977,
    "incident_lat": 34.917288,
    "incident_lon": 38.482941,
    "village_strike_lat": 34.731846,
    "village_strike_lon": 38.219573,
    "facility2_lat": 34.731877,
    "facility2_lon": 38.219611,
}
# The public district the sensitive incidents are shown at.
DISTRICT_POINT = (34.55, 38.05)

# Same length, same alphabet, exists nowhere: the control for every probe.
DECOY_TOKEN = "Zq4DecoyProbe"

CANARY_PATTERNS: dict[str, re.Pattern] = {
    **{name: re.compile(re.escape(value)) for name, value in CANARIES.items()},
    **{
        name: re.compile(
            re.escape(f"{value:.4f}").replace(r"\.", "[.,٫]"),
        )
        for name, value in SECRET_POINTS.items()
    },
}


def leaks_in(text: str) -> list[str]:
    return [name for name, pattern in CANARY_PATTERNS.items() if pattern.search(text)]


# ---------------------------------------------------------------------------------------
# The world with the canaries planted
# ---------------------------------------------------------------------------------------


@dataclass
class Planted:
    values: dict[str, str] = field(default_factory=dict)
    # restricted codes (draft, in review): must never be output
    secret_codes: dict[str, str] = field(default_factory=dict)
    confidential_ids: list[int] = field(default_factory=list)
    batch_id: int = 0

    def fill(self, template: str, **extra: str) -> str:
        return template.format(**self.values, **extra)


def _photo(colour: tuple[int, int, int]) -> SimpleUploadedFile:
    """A JPEG carrying what a phone writes: the photographer, the camera, the GPS position
    (a secret point), XMP and a comment."""
    image = Image.new("RGB", (24, 16), colour)
    exif = Image.Exif()
    exif[0x013B] = CANARIES["photo_artist"]  # Artist
    exif[0x010F] = CANARIES["photo_camera"]  # Make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (34.0, 55.0, 2.1468)
    gps[3], gps[4] = "E", (38.0, 28.0, 58.494)
    out = io.BytesIO()
    image.save(
        out,
        format="JPEG",
        exif=exif.tobytes(),
        xmp=f"<x:xmpmeta>{CANARIES['photo_xmp']}</x:xmpmeta>".encode(),
        comment=CANARIES["photo_comment"].encode(),
    )
    return SimpleUploadedFile("IMG_0001.jpg", out.getvalue())


def _place(slug: str, **fields) -> Location:
    place, _ = Location.objects.update_or_create(slug=slug, defaults=fields)
    return place


@pytest.fixture
def planted(db) -> Planted:
    cache.clear()
    syria = Location.objects.filter(level="country").first() or _place(
        "syria", name="Syria", level="country", pcode="SY", latitude=35, longitude=38
    )
    homs = Location.objects.filter(pcode="SY04").first() or _place(
        "homs", name="Homs", level="governorate", parent=syria, pcode="SY04"
    )
    district = _place(
        "palmyra-district",
        name="Palmyra District",
        name_ar="منطقة تدمر",
        level="district",
        parent=homs,
        latitude=DISTRICT_POINT[0],
        longitude=DISTRICT_POINT[1],
    )
    town = _place(
        "test-town",
        name="Test Town",
        name_ar="بلدة الاختبار",
        level="community",
        parent=district,
        latitude=34.6,
        longitude=38.1,
    )
    site = services.location_save(
        location=Location(
            slug=CANARIES["site_slug"],
            name=CANARIES["site_name"],
            name_ar=CANARIES["site_name_ar"],
            level="site",
            parent=town,
            latitude=SECRET_POINTS["site_lat"],
            longitude=SECRET_POINTS["site_lon"],
        )
    )
    services.location_name_add(location=site, name=CANARIES["site_alias"])
    village = services.location_save(
        location=Location(
            slug="test-village",
            name="Test Village",
            level="community",
            parent=district,
            latitude=34.7301,
            longitude=38.2188,
        )
    )

    airstrike = IncidentTypeFactory(code="airstrike", label="Air strike")
    shelling = IncidentTypeFactory(code="shelling", label="Shelling")
    barrel = WeaponTypeFactory(code="barrel-bomb", label="Barrel bomb")
    hospital = TargetTypeFactory(code="hospital", label="Hospital")
    market = TargetTypeFactory(code="market", label="Market")

    author = UserFactory(
        role="researcher",
        username=CANARIES["researcher_username"],
        email=f"{CANARIES['researcher_email']}@example.org",
        first_name=CANARIES["researcher_first_name"],
        last_name=CANARIES["researcher_last_name"],
    )
    checker = UserFactory(
        role="reviewer",
        username=CANARIES["reviewer_username"],
        email=f"{CANARIES['reviewer_email']}@example.org",
    )

    government = services.actor_save(
        actor=ActorFactory.build(
            slug="test-army", name="Test Army", bloc="syrian_government"
        )
    )
    commander = services.actor_save(
        actor=ActorFactory.build(
            slug="test-commander", name="Test Commander", kind="person"
        )
    )
    militia = services.actor_save(
        actor=ActorFactory.build(slug="test-militia", name="Test Militia", bloc="isis")
    )

    # Source ids are compared with an unknown id's answer by swapping the echoed id
    # (test_confidential_sources_answer_like_unknown_ids): keep them long enough that no
    # other number in an answer contains them (a fresh test database starts at 1).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('incidents_source', 'id'), "
            "GREATEST(nextval(pg_get_serial_sequence('incidents_source', 'id')), "
            "4817000))"
        )
    # A source public at first, made confidential after publication, with a photo that
    # was published: confidentiality wins over file_public.
    witness = services.source_create(
        by=checker,
        kind="witness_testimony",
        title=CANARIES["conf_title"],
        url=f"https://{CANARIES['conf_url']}.example.org/w",
        archive_url=f"https://archive.example.org/{CANARIES['conf_archive']}",
        publisher=CANARIES["conf_publisher"],
        author=CANARIES["conf_author"],
        file=_photo((10, 10, 200)),
        file_public=True,
    )
    approve_protection_requests(witness)  # a second reviewer approved its file
    # A public source whose photo a reviewer published: served re-encoded.
    photo_source = services.source_create(
        by=checker,
        kind="photo",
        title="Photo of the market",
        file=_photo((200, 10, 10)),
        file_public=True,
    )
    approve_protection_requests(photo_source)
    # Confidential from the start.
    testimony = services.source_create(
        by=author,
        kind="witness_testimony",
        title=CANARIES["conf2_title"],
        url=f"https://{CANARIES['conf2_url']}.example.org/t",
        confidential=True,
    )
    public_source = SourceFactory(title="Public news report", created_by=author)
    relation = ActorRelation(
        from_actor=government, to_actor=commander, kind="commanded_by"
    )
    services.actor_relation_save(
        relation=relation, citations=[public_source, testimony], by=author
    )

    # Sensitive facilities: one public at first, made sensitive after publication.
    facility = services.facility_save(
        facility=Facility(
            slug=CANARIES["facility_slug"],
            name=CANARIES["facility_name"],
            name_ar=CANARIES["facility_name_ar"],
            operator=CANARIES["facility_operator"],
            target_type=hospital,
            location=site,
            latitude=SECRET_POINTS["facility_lat"],
            longitude=SECRET_POINTS["facility_lon"],
        ),
        by=author,
    )
    clinic = services.facility_save(
        facility=Facility(
            slug=CANARIES["facility2_slug"],
            name=CANARIES["facility2_name"],
            target_type=hospital,
            location=village,
            latitude=SECRET_POINTS["facility2_lat"],
            longitude=SECRET_POINTS["facility2_lon"],
            sensitive=True,
        ),
        by=author,
    )

    batch = ImportBatch.objects.create(
        file_name=f"{CANARIES['batch_file']}.csv",
        format="civtrack",
        user=author,
        note=CANARIES["batch_note"],
        status="succeeded",
    )

    P = services
    # The main published incident: pre-publication title, internal notes, victims,
    # a raw external reference, a source later made confidential, a facility later
    # made sensitive, and an internal reason on a later edit.
    main = services.incident_create(
        fields={
            "title": CANARIES["pre_publication_title"],
            "summary": "A hospital was hit.",
            "internal_notes": CANARIES["internal_notes"],
            "date_start": dt.date(2016, 3, 4),
            "incident_type": airstrike,
            "location": site,
            "latitude": SECRET_POINTS["incident_lat"],
            "longitude": SECRET_POINTS["incident_lon"],
            "geo_precision": "exact",
            "grading": "fair",
        },
        parts=P.IncidentParts(
            casualty_rows=[
                P.CasualtyRowData("civilians", "killed", 5, 7),
                P.CasualtyRowData("children", "killed", 1, 2),
            ],
            attributions=[P.AttributionData(government, confidence="likely")],
            weapons=[P.WeaponData(barrel)],
            targets=[P.TargetData(hospital, facility=facility, damage="destroyed")],
            citations=[
                P.CitationData(
                    witness,
                    supports=["occurrence"],
                    excerpt=CANARIES["conf_excerpt"],
                    locator=CANARIES["conf_locator"],
                ),
                P.CitationData(
                    testimony,
                    supports=["attribution"],
                    excerpt=CANARIES["conf2_excerpt"],
                ),
                P.CitationData(public_source, supports=["casualties"]),
            ],
            external_refs=[
                P.ExternalRefData(
                    "other",
                    "KX-1",
                    url=f"https://refs.example.org/{CANARIES['raw_ref_url']}",
                    batch=batch,
                    raw={"row": CANARIES["raw"]},
                )
            ],
            victims=[
                P.VictimData(
                    "killed",
                    name=CANARIES["victim_name"],
                    name_ar=CANARIES["victim_name_ar"],
                    age=41,
                    age_group="adult",
                    civilian_status="civilian",
                ),
                P.VictimData(
                    "killed",
                    name=CANARIES["minor_name"],
                    age=13,
                    age_group="child",
                    civilian_status="civilian",
                ),
                P.VictimData(
                    "injured",
                    name="Named With Consent",
                    age=35,
                    age_group="adult",
                    publish_name=True,
                    consent_note=CANARIES["consent_note"],
                ),
            ],
        ),
        by=author,
    )
    main = services.incident_update(
        incident=main,
        expected_version=main.version,
        fields={"title": "Air strike on a hospital"},
        by=author,
        reason="title before review",
    )
    main = services.incident_submit(incident=main, by=author)
    main = services.incident_publish(
        incident=main, expected_version=main.version, by=checker
    )
    main = services.incident_update(
        incident=main,
        expected_version=main.version,
        fields={
            "summary": "A hospital was hit by an air strike.",
            "internal_notes": CANARIES["later_internal_notes"],
        },
        by=checker,
        reason=CANARIES["internal_reason"],
        public_reason="Summary corrected.",
    )
    services.source_update(source=witness, confidential=True, by=author)
    services.facility_save(facility=_sensitive(facility), by=author)

    # A published incident at a village holding a sensitive facility from the start.
    village_strike = make_incident(
        status="published",
        by=author,
        title="Strike on a clinic",
        date_start=dt.date(2017, 8, 9),
        incident_type=shelling,
        location=village,
        latitude=SECRET_POINTS["village_strike_lat"],
        longitude=SECRET_POINTS["village_strike_lon"],
        geo_precision="exact",
        grading="confirmed",
        parts=P.IncidentParts(
            casualty_rows=[P.CasualtyRowData("medical_personnel", "killed", 2, 2)],
            attributions=[P.AttributionData(militia, confidence="confirmed")],
            targets=[P.TargetData(hospital, facility=clinic, damage="damaged")],
        ),
    )
    # A plain public incident in the town (so lists, stats and the map have company).
    plain = make_incident(
        status="published",
        title="Shelling of the town market",
        date_start=dt.date(2017, 8, 10),
        incident_type=shelling,
        location=town,
        parts=P.IncidentParts(
            casualty_rows=[P.CasualtyRowData("civilians", "killed", 1, 3)],
            attributions=[P.AttributionData(militia, confidence="likely")],
            targets=[P.TargetData(market)],
            citations=[
                P.CitationData(public_source, supports=["occurrence"]),
                P.CitationData(photo_source, supports=["target"]),
            ],
        ),
    )
    # Not public: a draft (sent back once, with an internal reason) and one in review.
    draft = make_incident(
        status="in_review",
        by=author,
        title=CANARIES["draft_title"],
        title_ar=CANARIES["draft_title_ar"],
        summary=CANARIES["draft_summary"],
        date_start=dt.date(2012, 1, 5),
        location=town,
        incident_type=airstrike,
    )
    draft = services.incident_send_back(
        incident=draft, reason=CANARIES["send_back_reason"], by=checker
    )
    in_review = make_incident(
        status="in_review",
        by=author,
        title=CANARIES["review_title"],
        summary=CANARIES["review_summary"],
        date_start=dt.date(2012, 2, 6),
        location=town,
        incident_type=airstrike,
    )
    # Withdrawn: only its code, status and public reason are public.
    withdrawn = make_incident(
        status="withdrawn",
        by=author,
        title=CANARIES["withdrawn_title"],
        title_ar=CANARIES["withdrawn_title_ar"],
        summary=CANARIES["withdrawn_summary"],
        date_start=dt.date(2018, 4, 4),
        location=town,
        incident_type=airstrike,
    )
    # Merged into the plain incident: it only points at the survivor.
    merged = make_incident(
        status="published",
        by=author,
        title=CANARIES["merged_title"],
        summary=CANARIES["merged_summary"],
        date_start=dt.date(2017, 8, 10),
        location=town,
        incident_type=shelling,
    )
    merged = services.incident_merge(incident=merged, into=plain, by=checker)

    values = {
        "main": main.code,
        "village_strike": village_strike.code,
        "plain": plain.code,
        "withdrawn": withdrawn.code,
        "merged": merged.code,
        "facility_ref": facility.ref,
        "clinic_ref": clinic.ref,
        "public_source": str(public_source.pk),
        "photo_source": str(photo_source.pk),
        "district": district.slug,
        "town": town.slug,
        "governorate": homs.slug,
        "government": government.slug,
        "commander": commander.slug,
        "militia": militia.slug,
        "batch": str(batch.pk),
        "zoom": "9",
        "bbox": "35,33,40,37",
    }
    return Planted(
        values=values,
        secret_codes={"draft_code": draft.code, "review_code": in_review.code},
        confidential_ids=[witness.pk, testimony.pk],
        batch_id=batch.pk,
    )


def _sensitive(facility: Facility) -> Facility:
    facility = Facility.objects.get(pk=facility.pk)
    facility.sensitive = True
    return facility


# ---------------------------------------------------------------------------------------
# What the crawl requests
# ---------------------------------------------------------------------------------------

LANGS = ("en", "ar")

# Every public page, once per language ({lang}). Placeholders are the fixture's values.
PAGE_URLS = [
    "/",
    "/{lang}/",
    "/{lang}/incidents/",
    "/{lang}/incidents/?ordering=code",
    "/{lang}/incidents/?ordering=-civilians_killed_max",
    "/{lang}/incidents/?ordering=updated_at",
    "/{lang}/incidents/?location={district}",
    "/{lang}/incidents/?location={town}",
    "/{lang}/incidents/?governorate={governorate}",
    "/{lang}/incidents/?facility={facility_ref}",
    "/{lang}/incidents/?facility={clinic_ref}",
    "/{lang}/incidents/?actor={government}",
    "/{lang}/incidents/?bbox={bbox}",
    "/{lang}/incidents/?geo_precision=exact",
    "/{lang}/incidents/?geo_precision_max=community",
    "/{lang}/incidents/?health_care=true",
    "/{lang}/incidents/?source={public_source}",
    "/{lang}/incidents/?grading=discounted,fair,confirmed,weak,contested,not_assessed",
    "/{lang}/incidents/?q=hospital",
    "/{lang}/incidents/?q=Palmyra",
    "/{lang}/incidents/?date_from=not-a-date",  # a 400 page
    "/{lang}/incidents/{main}/",
    "/{lang}/incidents/{village_strike}/",
    "/{lang}/incidents/{plain}/",
    "/{lang}/incidents/{withdrawn}/",  # 410
    "/{lang}/incidents/{merged}/",  # redirect
    "/{lang}/actors/{government}/",
    "/{lang}/actors/{commander}/",
    "/{lang}/actors/{militia}/",
    "/{lang}/places/{district}/",
    "/{lang}/places/{town}/",
    "/{lang}/places/{governorate}/",
    "/{lang}/facilities/{facility_ref}/",
    "/{lang}/facilities/{clinic_ref}/",
    "/{lang}/stats/",
    *[
        f"/{{lang}}/stats/?group_by={key}"
        for key in (
            "year",
            "month",
            "governorate",
            "incident_type",
            "weapon",
            "target_type",
            "actor",
            "bloc",
            "grading",
        )
    ],
    "/{lang}/stats/?group_by=governorate&location={district}",
    "/{lang}/stats/?group_by=target_type&facility={facility_ref}",
    "/{lang}/map/",
    "/{lang}/map/?facility={facility_ref}",
    "/{lang}/methodology/",
    "/{lang}/changes/",
    "/{lang}/changes/feed/",
    "/{lang}/no-such-page/",  # the 404 page
]

# Every API endpoint and format.
API_URLS = [
    "/api/v1/incidents/",
    "/api/v1/incidents/?page_size=1000",
    "/api/v1/incidents/?lang=ar",
    "/api/v1/incidents/?fields=code,title,location,latitude,longitude,targets",
    "/api/v1/incidents/?ordering=code",
    "/api/v1/incidents/?ordering=-civilians_killed_max",
    "/api/v1/incidents/?ordering=updated_at",
    "/api/v1/incidents/?location={district}",
    "/api/v1/incidents/?location={town}",
    "/api/v1/incidents/?governorate={governorate}",
    "/api/v1/incidents/?facility={facility_ref}",
    "/api/v1/incidents/?facility={clinic_ref}",
    "/api/v1/incidents/?actor={government}",
    "/api/v1/incidents/?bbox={bbox}",
    "/api/v1/incidents/?geo_precision=exact",
    "/api/v1/incidents/?geo_precision_max=community",
    "/api/v1/incidents/?has_coordinates=true",
    "/api/v1/incidents/?external_ref=other",
    "/api/v1/incidents/?external_ref=other:KX-1",
    "/api/v1/incidents/?health_care=true",
    "/api/v1/incidents/?source={public_source}",
    "/api/v1/incidents/?status=draft",  # 400 for the public
    "/api/v1/incidents/?updated_since=2000-01-01T00:00:00Z",
    "/api/v1/incidents/?format=csv",
    "/api/v1/incidents/?format=csv&bom=1&lang=ar",
    "/api/v1/incidents/?format=csv&facility={facility_ref}",
    "/api/v1/incidents/?format=geojson",
    "/api/v1/incidents/?format=geojson&facility={facility_ref}",
    "/api/v1/incidents/?format=geojson&bbox={bbox}",
    "/api/v1/incidents/{main}/",
    "/api/v1/incidents/{main}/?lang=ar",
    "/api/v1/incidents/{village_strike}/",
    "/api/v1/incidents/{plain}/",
    "/api/v1/incidents/{withdrawn}/",  # 410
    "/api/v1/incidents/{merged}/",  # 301
    "/api/v1/incidents/{main}/history/",
    "/api/v1/incidents/{village_strike}/history/",
    "/api/v1/incidents/{plain}/history/",
    "/api/v1/incidents/{withdrawn}/history/",
    "/api/v1/incidents/{merged}/history/",
    # Write-only actions answer GET from the public too (401/405, JSON): no canary.
    "/api/v1/incidents/{main}/submit/",
    "/api/v1/incidents/{main}/send-back/",
    "/api/v1/incidents/{main}/publish/",
    "/api/v1/incidents/{main}/withdraw/",
    "/api/v1/incidents/{main}/merge/",
    "/api/v1/auth/logout/",
    "/api/v1/protection-requests/",  # staff only: 401
    "/api/v1/protection-requests/1/",
    "/api/v1/protection-requests/1/approve/",
    "/api/v1/protection-requests/1/reject/",
    "/api/v1/imports/",
    "/api/v1/imports/{batch}/",
    "/api/v1/actors/",
    "/api/v1/actors/?q=Test",
    "/api/v1/actors/?lang=ar",
    "/api/v1/actors/{government}/",
    "/api/v1/actors/{commander}/",
    "/api/v1/actors/{militia}/",
    "/api/v1/locations/",
    "/api/v1/locations/?page_size=1000",
    "/api/v1/locations/?level=site",
    "/api/v1/locations/?level=community",
    "/api/v1/locations/?parent={town}",
    "/api/v1/locations/?parent={district}",
    "/api/v1/locations/?q=Test",
    "/api/v1/locations/{district}/",
    "/api/v1/locations/{town}/",
    "/api/v1/locations/{governorate}/",
    "/api/v1/facilities/",
    "/api/v1/facilities/?lang=ar",
    "/api/v1/facilities/?target_type=hospital",
    "/api/v1/facilities/{facility_ref}/",
    "/api/v1/facilities/{clinic_ref}/",
    "/api/v1/sources/",
    "/api/v1/sources/?page_size=1000",
    "/api/v1/sources/{public_source}/",
    "/api/v1/sources/{public_source}/file/",  # no file: 404
    "/api/v1/sources/{photo_source}/",
    "/api/v1/sources/{photo_source}/file/",  # the photo, re-encoded without metadata
    "/api/v1/vocabularies/",
    "/api/",  # the index of versions, schema and docs
    "/api/v1/",  # the index of v1's resources
    "/robots.txt",
    "/favicon.ico",
    "/api/v1/stats/summary/?group_by=year",
    *[f"/api/v1/stats/summary/?group_by={key}" for key in GROUP_KEYS],
    *[f"/api/v1/stats/summary/?group_by={key}&format=csv" for key in GROUP_KEYS],
    "/api/v1/stats/summary/?group_by=governorate,year&measure=medical_personnel_killed",
    "/api/v1/stats/summary/?group_by=actor&actor={government}",
    "/api/v1/stats/summary/?group_by=target_type&facility={facility_ref}",
    "/api/v1/stats/summary/?group_by=governorate&location={district}",
    "/api/v1/stats/summary/",  # 400: group_by missing
    "/api/v1/stats/compare/?bloc=syrian_government,isis",
    "/api/v1/stats/compare/?actor={government},{militia}",
    "/api/v1/stats/compare/?bloc=syrian_government,isis&format=csv",
    *[f"/api/v1/map/clusters/?zoom={z}" for z in (0, 3, 6, 9, 12, 15, 18)],
    *[f"/api/v1/map/clusters/?zoom={z}&bbox={{bbox}}" for z in (6, 12, 18)],
    "/api/v1/map/clusters/?zoom=18&facility={facility_ref}",
    "/api/v1/map/clusters/?zoom=18&facility={clinic_ref}",
    "/api/v1/changes/",
    "/api/v1/changes/?since=0",
    "/api/schema/",
    "/api/schema/?format=json",
    "/api/docs/",
    "/api/no-such-endpoint/",  # the JSON 404 catch-all
    "/api/v1/no-such-endpoint/",
]

# Lookups and searches *for* a restricted value: answered exactly as for a value that
# exists nowhere (the decoy), but for the echoed input. "{probe}" is the canary.
TEXT_CANARIES = (
    "internal_notes",
    "later_internal_notes",
    "internal_reason",
    "pre_publication_title",
    "draft_title",
    "draft_title_ar",
    "draft_summary",
    "review_title",
    "withdrawn_title",
    "withdrawn_title_ar",
    "withdrawn_summary",
    "merged_title",
    "victim_name",
    "victim_name_ar",
    "minor_name",
    "consent_note",
    "conf_title",
    "conf_publisher",
    "conf_excerpt",
    "conf2_title",
    "facility_name",
    "facility_name_ar",
    "facility_operator",
    "site_name",
    "site_name_ar",
    "site_alias",
    "researcher_username",
    "researcher_last_name",
    "raw",
    "batch_note",
)
PLACE_CANARIES = (
    "site_name",
    "site_slug",
    "site_alias",
)
FACILITY_CANARIES = ("facility_name", "facility_slug", "facility2_slug")
PROBES: list[tuple[str, tuple[str, ...]]] = [
    # full-text and name searches, with every text canary
    ("/en/incidents/?q={probe}", TEXT_CANARIES),
    ("/ar/incidents/?q={probe}", TEXT_CANARIES),
    ("/api/v1/incidents/?q={probe}", TEXT_CANARIES),
    ("/api/v1/actors/?q={probe}", TEXT_CANARIES),
    ("/api/v1/locations/?q={probe}", TEXT_CANARIES),
    ("/api/v1/facilities/?q={probe}", TEXT_CANARIES),
    # the same search through every other output that takes the filter
    ("/api/v1/incidents/?q={probe}&format=csv", TEXT_CANARIES[:8]),
    ("/api/v1/incidents/?q={probe}&format=geojson", TEXT_CANARIES[:8]),
    ("/api/v1/stats/summary/?group_by=year&q={probe}", TEXT_CANARIES[:8]),
    ("/api/v1/map/clusters/?zoom=9&q={probe}", TEXT_CANARIES[:8]),
    ("/en/stats/?group_by=year&q={probe}", TEXT_CANARIES[:8]),
    ("/en/map/?q={probe}", TEXT_CANARIES[:4]),
    # a sensitive facility's own place, by slug or name
    ("/en/incidents/?location={probe}", PLACE_CANARIES),
    ("/ar/places/{probe}/", PLACE_CANARIES),
    ("/en/places/{probe}/", PLACE_CANARIES),
    ("/en/stats/?group_by=year&location={probe}", PLACE_CANARIES),
    ("/api/v1/incidents/?location={probe}", PLACE_CANARIES),
    ("/api/v1/map/clusters/?zoom=12&location={probe}", PLACE_CANARIES),
    ("/api/v1/locations/{probe}/", PLACE_CANARIES),
    ("/api/v1/locations/?parent={probe}", PLACE_CANARIES),
    ("/api/v1/locations/?pcode={probe}", PLACE_CANARIES),
    # a sensitive facility by its name or slug (only its ref is public)
    ("/en/facilities/{probe}/", FACILITY_CANARIES),
    ("/en/incidents/?facility={probe}", FACILITY_CANARIES),
    ("/api/v1/incidents/?facility={probe}", FACILITY_CANARIES),
    ("/api/v1/facilities/{probe}/", FACILITY_CANARIES),
    # restricted text where a code, a slug or an id is expected
    ("/en/incidents/{probe}/", ("draft_title", "researcher_username")),
    ("/api/v1/incidents/{probe}/", ("draft_title", "researcher_username")),
    ("/api/v1/incidents/{probe}/history/", ("draft_title",)),
    ("/en/actors/{probe}/", ("researcher_username",)),
    ("/api/v1/actors/{probe}/", ("researcher_username",)),
]

# Patterns the crawl deliberately does not request, with the reason. Keep this short.
NOT_CRAWLED: dict[str, str] = {
    # (none: every pattern outside the admin is requested above; the admin and static
    # files are outside the public site and skipped by the walk itself)
}


# ---------------------------------------------------------------------------------------
# The client and the checks
# ---------------------------------------------------------------------------------------


@pytest.fixture
def anonymous(monkeypatch) -> Client:
    # The crawl makes hundreds of API calls: lift the anonymous throttle for it.
    monkeypatch.setattr(
        AnonRateThrottle,
        "THROTTLE_RATES",
        {**AnonRateThrottle.THROTTLE_RATES, "anon": "100000/min"},
    )
    return Client()


@dataclass
class Answer:
    url: str
    status: int
    text: str
    headers: str
    content_type: str


def fetch(client: Client, url: str) -> Answer:
    response = client.get(url)
    if response.streaming:
        body = b"".join(response.streaming_content)
    else:
        body = response.content
    headers = "\n".join(f"{k}: {v}" for k, v in response.items())
    return Answer(
        url=url,
        status=response.status_code,
        text=body.decode("utf-8", errors="replace"),
        headers=headers,
        content_type=response.get("Content-Type", ""),
    )


LINK_RE = re.compile(r"""(?:href|src|action)\s*=\s*["']([^"'#]+)""")
SITE_PREFIXES = ("/en/", "/ar/", "/api/")
SKIPPED_PREFIXES = ("/static/", "/admin/", "/media/")


def links_in(answer: Answer) -> list[str]:
    """Same-site links an output points at: HTML/Atom hrefs, Location headers, and
    every URL inside JSON."""
    found: list[str] = []
    if "json" in answer.content_type and answer.text.lstrip().startswith(("{", "[")):
        with contextlib.suppress(ValueError):
            found += list(_json_strings(json.loads(answer.text)))
    else:
        found += [html.unescape(m) for m in LINK_RE.findall(answer.text)]
    location = re.search(r"^Location: (.+)$", answer.headers, re.M)
    if location:
        found.append(location.group(1))
    links = []
    for link in found:
        parts = urlsplit(link)
        if parts.netloc not in ("", "testserver"):
            continue
        if parts.scheme not in ("", "http", "https"):
            continue
        path = parts.path
        if not path.startswith(SITE_PREFIXES) or path.startswith(SKIPPED_PREFIXES):
            continue
        links.append(path + (f"?{parts.query}" if parts.query else ""))
    return links


def _json_strings(value: Any):
    if isinstance(value, str):
        if value.startswith(("http://testserver/", "/en/", "/ar/", "/api/")):
            yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _json_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _json_strings(item)


def _all_strings(value: Any):
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from _all_strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _all_strings(item)


def restricted_json_keys(answer: Answer) -> list[str]:
    """Keys that only staff answers carry; and a minor's age."""
    if "json" not in answer.content_type or answer.url.startswith("/api/schema/"):
        return []  # the schema describes the staff fields; it holds no data
    try:
        data = json.loads(answer.text)
    except ValueError:
        return []
    problems = []
    for key, value in _all_strings(data):
        if key in {
            "restricted",
            "internal_notes",
            "consent_note",
            "confidential",
            "created_by",
            "submitted_by",
            "reviewed_by",
            "last_edited_by",
            "raw",
            "user",
            "email",
            "file_public",
        }:
            problems.append(key)
        if key == "victims" and isinstance(value, list):
            for victim in value:
                age = victim.get("age")
                if age is not None and age < 18:
                    problems.append(f"victim age {age}")
                if victim.get("age_group") == "child" and age is not None:
                    problems.append("a child's age")
    return problems


CRAWL_BUDGET = 700
# Links found in the outputs are followed to this depth from the seeds. Links that
# differ only in their parameters' values (a facet link per code, a sort link per
# column, a cursor per page) are sampled: one per shape (path and parameter names), and
# links combining more than MAX_PARAMS parameters are left to the seeds.
MAX_DEPTH = 2
MAX_PARAMS = 1


def _shape(url: str) -> tuple[str, frozenset[str]]:
    parts = urlsplit(url)
    path = re.sub(r"^/(en|ar)/", "/{lang}/", parts.path)
    path = re.sub(r"/SY-\d{4}-\d+/", "/{code}/", path)
    names = frozenset(re.findall(r"(?:^|&)([^=&]+)", parts.query))
    return path, names


def crawl(client: Client, seeds: list[str]) -> tuple[dict[str, Answer], list[str]]:
    """Fetch the seeds and, breadth first, the same-site links they point at."""
    seen: dict[str, Answer] = {}
    shapes: set[tuple] = set()
    queue = deque((url, 0) for url in seeds)
    skipped: list[str] = []
    while queue:
        url, depth = queue.popleft()
        if url in seen:
            continue
        shape = _shape(url)
        if depth and (shape in shapes or len(shape[1]) > MAX_PARAMS):
            continue
        if len(seen) >= CRAWL_BUDGET:
            skipped.append(url)
            continue
        shapes.add(shape)
        answer = fetch(client, url)
        seen[url] = answer
        if depth < MAX_DEPTH:
            queue.extend((link, depth + 1) for link in links_in(answer))
    return seen, skipped


def seed_urls(planted: Planted) -> list[str]:
    urls = [
        planted.fill(template, lang=lang)
        for template in PAGE_URLS
        for lang in LANGS
        if "{lang}" in template or lang == "en"
    ]
    urls += [planted.fill(template) for template in API_URLS]
    return list(dict.fromkeys(urls))


# ---------------------------------------------------------------------------------------
# The tests
# ---------------------------------------------------------------------------------------


def test_it_plants_every_canary_where_staff_can_see_it(planted):
    """The fixture really wrote the restricted values (else the crawl proves nothing)."""
    from incidents.models import Citation, ExternalRef, Source, Victim

    main = Incident.objects.get(code=planted.values["main"])
    assert main.internal_notes == CANARIES["later_internal_notes"]
    assert main.created_by.username == CANARIES["researcher_username"]
    assert main.reviewed_by.username == CANARIES["reviewer_username"]
    assert main.public_geo_precision == "district"
    assert (main.public_latitude, main.public_longitude) == DISTRICT_POINT
    assert main.latitude == SECRET_POINTS["incident_lat"]
    assert set(Victim.objects.filter(incident=main).values_list("name", flat=True)) >= {
        CANARIES["victim_name"],
        CANARIES["minor_name"],
    }
    assert ExternalRef.objects.get(incident=main).raw == {"row": CANARIES["raw"]}
    assert Citation.objects.filter(excerpt=CANARIES["conf_excerpt"]).exists()
    assert set(
        Source.objects.filter(pk__in=planted.confidential_ids).values_list(
            "confidential", flat=True
        )
    ) == {True}
    assert Facility.objects.filter(sensitive=True).count() == 2
    witness = Source.objects.get(pk=planted.confidential_ids[0])
    photo = Source.objects.get(pk=planted.values["photo_source"])
    assert witness.file_public
    assert photo.file_public
    for source in (witness, photo):
        with source.file.open("rb") as stored:
            content = stored.read().decode("latin-1")
        assert leaks_in(content) == [
            "photo_artist",
            "photo_camera",
            "photo_xmp",
            "photo_comment",
        ]
    assert Incident.objects.get(code=planted.secret_codes["draft_code"]).status == (
        "draft"
    )


def test_no_canary_reaches_any_public_output(planted, anonymous):
    answers, skipped = crawl(anonymous, seed_urls(planted))

    leaks = {url: leaks_in(a.text + "\n" + a.headers) for url, a in answers.items()}
    leaks = {url: found for url, found in leaks.items() if found}
    codes = {
        url: [n for n, code in planted.secret_codes.items() if code in a.text]
        for url, a in answers.items()
    }
    codes = {url: found for url, found in codes.items() if found}
    staff_keys = {url: restricted_json_keys(a) for url, a in answers.items()}
    staff_keys = {url: found for url, found in staff_keys.items() if found}
    server_errors = [url for url, a in answers.items() if a.status >= 500]

    assert leaks == {}
    assert codes == {}
    assert staff_keys == {}
    assert server_errors == []
    assert skipped == [], f"raise CRAWL_BUDGET: {len(skipped)} links not fetched"
    # The crawl really reached the outputs (not a wall of 404s).
    ok = [url for url, a in answers.items() if a.status == 200]
    assert len(ok) > 250
    for kind in ("text/html", "application/json", "text/csv", "geo+json", "atom"):
        assert any(kind in a.content_type for a in answers.values()), kind
    # The published photo was fetched, re-encoded (its metadata canaries are checked
    # above, in the raw bytes).
    photo = answers[planted.fill("/api/v1/sources/{photo_source}/file/")]
    assert (photo.status, photo.content_type) == (200, "image/jpeg")


def test_searching_for_a_canary_finds_nothing_and_says_nothing(planted, anonymous):
    problems = []
    for template, names in PROBES:
        decoy = fetch(anonymous, template.format(probe=DECOY_TOKEN))
        for name in names:
            canary = CANARIES[name]
            # percent-encoded, as a browser sends it
            secret = fetch(anonymous, template.format(probe=quote(canary)))
            echoed = _echo_replaced(secret.text, canary)
            if secret.status != decoy.status:
                problems.append((template, name, secret.status, decoy.status))
            elif _normalised(echoed) != _normalised(decoy.text):
                problems.append((template, name, "the answer differs from the decoy's"))
            others = leaks_in(echoed)
            if others:
                problems.append((template, name, others))

    assert problems == [], "\n".join(map(str, problems))


@pytest.mark.parametrize("lang", LANGS)
def test_unpublished_codes_answer_like_unknown_ones(planted, anonymous, lang):
    unknown = "SY-2012-99999"
    templates = [
        "/{lang}/incidents/{code}/",
        "/api/v1/incidents/{code}/",
        "/api/v1/incidents/{code}/history/",
        "/api/v1/incidents/?q={code}",
        "/{lang}/incidents/?q={code}",
    ]
    problems = []
    for name, code in planted.secret_codes.items():
        for template in templates:
            secret = fetch(anonymous, template.format(lang=lang, code=code))
            control = fetch(anonymous, template.format(lang=lang, code=unknown))
            if secret.status != control.status or _normalised(
                _echo_replaced(secret.text, code, unknown)
            ) != _normalised(control.text):
                problems.append((template, name))

    assert problems == [], "\n".join(map(str, problems))


def test_confidential_sources_answer_like_unknown_ids(planted, anonymous):
    unknown = "987654321"
    templates = [
        "/api/v1/sources/{id}/",
        "/api/v1/sources/{id}/file/",
        "/api/v1/incidents/?source={id}",
        "/api/v1/incidents/?source={id}&format=csv",
        "/api/v1/stats/summary/?group_by=year&source={id}",
        "/en/incidents/?source={id}",
    ]
    problems = []
    for source_id in planted.confidential_ids:
        for template in templates:
            secret = fetch(anonymous, template.format(id=source_id))
            control = fetch(anonymous, template.format(id=unknown))
            if secret.status != control.status or _normalised(
                _echo_replaced(secret.text, str(source_id), unknown)
            ) != _normalised(control.text):
                problems.append((template, source_id, secret.status, control.status))

    assert problems == [], "\n".join(map(str, problems))


def test_the_server_error_page_carries_nothing_restricted(planted, rf):
    from civtrack.errors import server_error

    for path in ("/en/incidents/", "/api/v1/incidents/"):
        response = server_error(rf.get(path))
        text = response.content.decode()

        assert response.status_code == 500
        assert leaks_in(text) == []


def _echo_replaced(text: str, secret: str, control: str = DECOY_TOKEN) -> str:
    """The answer with the echoed input (raw or percent-encoded) swapped for the
    control's, so that it can be compared with the control's answer."""
    for encode in (str, quote, quote_plus):
        text = text.replace(encode(secret), encode(control))
    return text


_VOLATILE = [
    re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?"),
    re.compile(r"(?<=cursor=)[\w\-.:%]+"),
]


def _normalised(text: str) -> str:
    for pattern in _VOLATILE:
        text = pattern.sub("…", text)
    return text


# ---------------------------------------------------------------------------------------
# The crawl covers every URL pattern
# ---------------------------------------------------------------------------------------

# Values that make every template resolvable without a database.
_DUMMY = {
    "lang": "en",
    "main": "SY-2016-00001",
    "village_strike": "SY-2017-00001",
    "plain": "SY-2017-00002",
    "withdrawn": "SY-2018-00001",
    "merged": "SY-2017-00003",
    "facility_ref": "F-000001",
    "clinic_ref": "F-000002",
    "public_source": "1",
    "photo_source": "2",
    "district": "palmyra-district",
    "town": "test-town",
    "governorate": "homs",
    "government": "test-army",
    "commander": "test-commander",
    "militia": "test-militia",
    "batch": "1",
    "zoom": "9",
    "bbox": "35,33,40,37",
    "probe": DECOY_TOKEN,
}


def _pattern_key(namespace: str, pattern: URLPattern) -> str:
    if pattern.name:
        return f"{namespace}:{pattern.name}" if namespace else pattern.name
    return pattern.lookup_str  # an unnamed pattern: its view's dotted path


def url_pattern_keys() -> set[str]:
    """Every URL pattern outside the admin, as `namespace:name` (an unnamed one by its
    view's dotted path)."""
    keys: set[str] = set()

    def walk(resolver: URLResolver, prefix: str, namespace: str) -> None:
        for entry in resolver.url_patterns:
            route = prefix + str(entry.pattern)
            if route.startswith(("admin/", "static/", "media/")):
                continue
            if isinstance(entry, URLResolver):
                inner = namespace
                if entry.namespace:
                    inner = (
                        f"{namespace}:{entry.namespace}"
                        if namespace
                        else (entry.namespace)
                    )
                walk(entry, route, inner)
            else:
                keys.add(_pattern_key(namespace, entry))

    walk(get_resolver(), "", "")
    return keys


def crawled_keys() -> set[str]:
    keys: set[str] = set()
    templates = [*PAGE_URLS, *API_URLS, *(template for template, _names in PROBES)]
    for template in templates:
        path = urlsplit(template.format(**_DUMMY)).path
        try:
            match = resolve(path)
        except Exception:  # noqa: S112 — "/" is answered by the locale middleware
            continue
        keys.add(match.view_name if match.url_name else match._func_path)
    return keys


def test_every_url_pattern_is_crawled():
    uncovered = url_pattern_keys() - crawled_keys() - set(NOT_CRAWLED)

    assert uncovered == set(), (
        "These URL patterns are not in the redaction crawl: add them to PAGE_URLS or "
        "API_URLS in tests/test_redaction_canary.py (or, with a reason, to NOT_CRAWLED)."
    )


def test_the_coverage_check_sees_every_public_and_api_pattern():
    keys = url_pattern_keys()

    assert {"incidents:list", "incidents:changes-feed", "api:incident-history"} <= keys
    assert {"api:stats-compare", "api:map-clusters", "api:schema", "api:docs"} <= keys
    assert not any(key.startswith("admin") for key in keys)
    assert "api.exceptions.api_not_found" in keys  # the JSON 404 catch-all (unnamed)
    assert NOT_CRAWLED.keys() <= keys  # no stale exclusions
