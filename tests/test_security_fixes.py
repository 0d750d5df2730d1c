"""Fixes of docs/security.md's residual risks: the throttle and the lockout count a
client by one address (X-Forwarded-For only from trusted proxies), mandatory two-factor
authentication covers API sessions, and a published source file is served re-encoded
without metadata (EXIF GPS included), never as stored."""

from __future__ import annotations

import io
from http import HTTPStatus

import pytest
from django.conf import settings as django_settings
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client, override_settings
from django.urls import reverse
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from PIL import Image
from PIL.PngImagePlugin import PngInfo
from rest_framework import throttling as drf_throttling
from rest_framework.throttling import SimpleRateThrottle

from api import throttling as api_throttling
from civtrack.accounts import client_ip
from incidents import services
from incidents.models import Incident, SignInFailure
from tests.factories import (
    SourceFactory,
    approve_protection_requests,
    make_incident,
    researcher,
    reviewer,
)

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-test-password-1"  # the factories' password


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Throttle counters live in the (locmem) cache, which outlives each test's
    rolled-back database."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def anon_rate(monkeypatch):
    """Set the anonymous rate for one test. DRF reads DEFAULT_THROTTLE_RATES once, into
    SimpleRateThrottle.THROTTLE_RATES, when it is imported, so override_settings would
    not reach it: the class attribute is patched instead (as tests/api do)."""

    def set_rate(rate: str) -> None:
        # Every class on the way: other tests' patches (undone by setting the old value
        # back) leave a subclass with its own copy of the attribute.
        for cls in (
            SimpleRateThrottle,
            drf_throttling.AnonRateThrottle,
            drf_throttling.UserRateThrottle,
            api_throttling.AnonRateThrottle,
            api_throttling.UserRateThrottle,
        ):
            monkeypatch.setattr(
                cls, "THROTTLE_RATES", {**cls.THROTTLE_RATES, "anon": rate}
            )

    return set_rate


def behind_proxies(count: int):
    """The settings with DJANGO_NUM_PROXIES=count (DRF reloads its settings)."""
    return override_settings(
        REST_FRAMEWORK={**django_settings.REST_FRAMEWORK, "NUM_PROXIES": count}
    )


def sign_in(client, username, password=PASSWORD, token="", **extra):
    return client.post(
        reverse("admin:login"),
        {"username": username, "password": password, "otp_token": token},
        **extra,
    )


# ---------------------------------------------------------------------------------------
# 1. One client address for the throttles and the lockout
# ---------------------------------------------------------------------------------------


def test_forged_forwarded_for_headers_do_not_escape_the_anonymous_throttle(
    client, anon_rate, settings
):
    assert settings.REST_FRAMEWORK["NUM_PROXIES"] == 0  # the default
    anon_rate("3/min")

    answers = [
        client.get(
            reverse("api:vocabularies"),
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
            REMOTE_ADDR="198.51.100.7",
        )
        for n in range(5)
    ]

    assert [a.status_code for a in answers] == [200, 200, 200, 429, 429]
    assert int(answers[-1]["Retry-After"]) >= 1


def test_separate_addresses_are_throttled_separately(client, anon_rate):
    anon_rate("2/min")
    first = [
        client.get(reverse("api:vocabularies"), REMOTE_ADDR="198.51.100.7")
        for _ in range(3)
    ]

    other = client.get(reverse("api:vocabularies"), REMOTE_ADDR="198.51.100.8")

    assert [a.status_code for a in first] == [200, 200, 429]
    assert other.status_code == HTTPStatus.OK


def test_behind_one_trusted_proxy_the_address_it_appended_counts(client, anon_rate):
    anon_rate("2/min")
    with behind_proxies(1):
        # the client forges the left part; the proxy appends the real address
        same_client = [
            client.get(
                reverse("api:vocabularies"),
                HTTP_X_FORWARDED_FOR=f"10.9.9.{n}, 203.0.113.5",
                REMOTE_ADDR="10.0.0.2",
            ).status_code
            for n in range(3)
        ]
        another_client = client.get(
            reverse("api:vocabularies"),
            HTTP_X_FORWARDED_FOR="203.0.113.6",
            REMOTE_ADDR="10.0.0.2",
        ).status_code

    assert same_client == [200, 200, 429]
    assert another_client == HTTPStatus.OK


def test_the_lockout_counts_the_same_address_as_the_throttle(client, rf):
    researcher(username="rania")
    for n in range(5):
        sign_in(
            client,
            "rania",
            "wrong-guess",
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}",
            REMOTE_ADDR="198.51.100.7",
        )

    # A forged header neither spreads the failures over addresses nor escapes them.
    locked = sign_in(
        client,
        "someone-else",
        HTTP_X_FORWARDED_FOR="203.0.113.99",
        REMOTE_ADDR="198.51.100.7",
    )

    assert set(SignInFailure.objects.values_list("ip", flat=True)) == {"198.51.100.7"}
    assert "Too many failed sign-ins" in locked.content.decode()
    request = rf.get("/", HTTP_X_FORWARDED_FOR="203.0.113.5", REMOTE_ADDR="10.0.0.2")
    assert client_ip(request) == "10.0.0.2"
    with behind_proxies(1):
        assert client_ip(request) == "203.0.113.5"
        garbage = rf.get("/", HTTP_X_FORWARDED_FOR="<script>", REMOTE_ADDR="10.0.0.2")
        assert client_ip(garbage) == "10.0.0.2"  # never stored as an address


def test_behind_a_trusted_proxy_sign_in_failures_are_counted_per_client(client):
    researcher(username="rania")
    with behind_proxies(1):
        for _ in range(5):
            sign_in(
                client,
                "someone",
                "wrong-guess",
                HTTP_X_FORWARDED_FOR="203.0.113.5",
                REMOTE_ADDR="10.0.0.2",
            )
        other_client = sign_in(
            Client(),
            "rania",
            HTTP_X_FORWARDED_FOR="203.0.113.6",
            REMOTE_ADDR="10.0.0.2",
        )

    assert set(SignInFailure.objects.values_list("ip", flat=True)) == {"203.0.113.5"}
    assert other_client.status_code == HTTPStatus.FOUND  # signed in: not locked out


# ---------------------------------------------------------------------------------------
# 2. Mandatory two-factor authentication covers API sessions
# ---------------------------------------------------------------------------------------


@pytest.fixture
def draft():
    return make_incident(status=Incident.Status.DRAFT, title="Unreviewed draft")


def draft_url(incident) -> str:
    return reverse("api:incident-detail", kwargs={"code": incident.code})


def test_a_password_only_session_reads_no_draft_when_two_factor_is_mandatory(
    client, settings, draft
):
    settings.CIVTRACK_REQUIRE_2FA = True
    user = reviewer(username="rania")
    # The sign-in form no longer opens a password-only session when two-factor is
    # mandatory (it answers like a wrong password: tests/test_security.py); a session
    # opened before two-factor became mandatory still exists, and reads nothing.
    assert sign_in(Client(), "rania").status_code == HTTPStatus.OK
    client.force_login(user)

    detail = client.get(draft_url(draft))
    listed = client.get("/api/v1/incidents/?status=draft")
    write = client.post(
        "/api/v1/sources/",
        {"kind": "photo", "title": "Photo"},
        content_type="application/json",
    )

    assert "_auth_user_id" in client.session
    assert detail.status_code == HTTPStatus.NOT_FOUND  # as for the public
    assert "Unreviewed draft" not in detail.content.decode()
    assert listed.status_code == HTTPStatus.BAD_REQUEST  # status= is staff-only
    assert write.status_code in (HTTPStatus.UNAUTHORIZED, HTTPStatus.FORBIDDEN)
    assert client.get("/admin/").status_code == HTTPStatus.FOUND  # the admin agrees


def test_the_same_session_works_when_two_factor_is_optional(client, settings, draft):
    settings.CIVTRACK_REQUIRE_2FA = False
    reviewer(username="rania")
    sign_in(client, "rania")

    response = client.get(draft_url(draft))

    assert response.status_code == HTTPStatus.OK
    assert response.json()["status"] == "draft"


def test_a_session_verified_by_a_device_reads_drafts(client, settings, draft):
    settings.CIVTRACK_REQUIRE_2FA = True
    user = reviewer(username="rania")
    device = TOTPDevice.objects.create(user=user, name="phone", confirmed=True)
    assert (
        sign_in(client, "rania", token=f"{totp(device.bin_key):06d}").status_code
        == HTTPStatus.FOUND
    )

    response = client.get(draft_url(draft))

    assert response.status_code == HTTPStatus.OK
    assert response.json()["title"] == "Unreviewed draft"


# ---------------------------------------------------------------------------------------
# 3. Published files: re-encoded, without metadata
# ---------------------------------------------------------------------------------------

GPS_IFD = 0x8825
EXIF_IFD = 0x8769


def photo_with_gps(fmt: str = "JPEG", size=(40, 30), orientation: int = 1) -> bytes:
    """A photo carrying what a phone writes: GPS position, camera, owner, and a comment
    (and an ICC profile and XMP for JPEG)."""
    image = Image.new("RGB", size, (200, 30, 30))
    for x in range(size[0] // 2):  # left half blue, to check orientation below
        for y in range(size[1]):
            image.putpixel((x, y), (20, 40, 220))
    exif = Image.Exif()
    exif[0x010F] = "Kx9CameraMaker"  # Make
    exif[0x013B] = "Kx9PhotographerName"  # Artist
    exif[0x0112] = orientation
    exif.get_ifd(EXIF_IFD)[0xA431] = "Kx9BodySerial"  # BodySerialNumber
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (34.0, 55.0, 2.1234)
    gps[3] = "E"
    gps[4] = (38.0, 28.0, 58.4321)
    out = io.BytesIO()
    options = {"exif": exif.tobytes()}
    if fmt in ("JPEG", "WEBP"):
        options["icc_profile"] = b"Kx9IccProfile" + b"\0" * 64
        options["xmp"] = b"<x:xmpmeta>Kx9XmpPacket</x:xmpmeta>"
    if fmt in ("JPEG", "GIF"):
        options["comment"] = b"Kx9Comment"
    if fmt == "PNG":
        text = PngInfo()
        text.add_text("Author", "Kx9PngText")
        text.add_itxt("XML:com.adobe.xmp", "<x:xmpmeta>Kx9XmpPacket</x:xmpmeta>")
        options["pnginfo"] = text
    image.save(out, format=fmt, **options)
    return out.getvalue()


METADATA_MARKERS = (
    b"Kx9CameraMaker",
    b"Kx9PhotographerName",
    b"Kx9BodySerial",
    b"Kx9IccProfile",
    b"Kx9Comment",
    b"Kx9PngText",
    b"Kx9XmpPacket",
    b"Exif",
    b"EXIF",
    b"eXIf",
    b"iCCP",
    b"ICCP",
    b"XMP",
    b"tEXt",
    b"iTXt",
)


def add_source(content: bytes, name: str = "IMG_0001.jpg", **fields):
    # Publishing a file is asked for and approved by a second reviewer (issue 12 §2).
    source = services.source_create(
        by=reviewer(),
        kind="photo",
        title="Photo of the strike",
        file=SimpleUploadedFile(name, content),
        **fields,
    )
    return approve_protection_requests(source)


def file_url(source) -> str:
    return reverse("api:source-file", kwargs={"pk": source.pk})


def test_the_stored_photo_really_carries_gps(settings):
    source = add_source(photo_with_gps())

    with source.file.open("rb") as stored:
        image = Image.open(stored)
        gps = image.getexif().get_ifd(GPS_IFD)

    assert gps[1] == "N"
    assert float(gps[2][0]) == 34.0


def test_a_published_photo_is_served_without_any_metadata(client):
    source = add_source(photo_with_gps(orientation=1), file_public=True)

    response = client.get(file_url(source))

    body = response.content
    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "image/jpeg"
    assert response["Content-Disposition"] == (
        f'inline; filename="civtrack-source-{source.pk}.jpg"'
    )
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert int(response["Content-Length"]) == len(body)
    served = Image.open(io.BytesIO(body))
    assert served.format == "JPEG"
    assert served.size == (40, 30)
    assert dict(served.getexif()) == {}
    assert served.getexif().get_ifd(GPS_IFD) == {}
    assert not {"exif", "icc_profile", "xmp", "comment"} & set(served.info)
    assert [marker for marker in METADATA_MARKERS if marker in body] == []
    # still the same picture
    assert served.convert("RGB").getpixel((5, 5))[2] > 150
    assert served.convert("RGB").getpixel((35, 5))[0] > 150


def test_a_rotated_photo_is_served_the_right_way_up(client):
    # EXIF orientation 6: the camera was turned; viewers rotate 90° clockwise.
    source = add_source(photo_with_gps(orientation=6), file_public=True)

    served = Image.open(io.BytesIO(client.get(file_url(source)).content))

    assert served.size == (30, 40)
    assert dict(served.getexif()) == {}


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [("PNG", "image/png"), ("WEBP", "image/webp"), ("GIF", "image/png")],
)
def test_png_webp_and_gif_are_re_encoded_without_metadata(client, fmt, content_type):
    original = photo_with_gps(fmt)
    source = add_source(original, name=f"x.{fmt.lower()}", file_public=True)

    response = client.get(file_url(source))

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == content_type
    served = Image.open(io.BytesIO(response.content))
    assert dict(served.getexif()) == {}
    assert [m for m in METADATA_MARKERS if m in original]  # there was some
    assert [m for m in METADATA_MARKERS if m in response.content] == []


def test_the_api_points_file_url_at_the_public_copy(client):
    public = add_source(photo_with_gps(), file_public=True)
    kept = add_source(photo_with_gps(size=(41, 30)), name="b.jpg")

    public_body = client.get(
        reverse("api:source-detail", kwargs={"pk": public.pk})
    ).json()
    kept_body = client.get(reverse("api:source-detail", kwargs={"pk": kept.pk})).json()

    assert public_body["file_url"] == f"http://testserver{file_url(public)}"
    assert "/media/" not in public_body["file_url"]
    assert kept_body["file_url"] is None
    assert kept_body["sha256"] == kept.sha256  # the hash stays public


def test_the_incident_page_links_the_public_copy_only(client):
    public = add_source(photo_with_gps(), file_public=True)
    kept = add_source(photo_with_gps(size=(41, 30)), name="b.jpg")
    incident = make_incident(
        status=Incident.Status.PUBLISHED,
        parts=services.IncidentParts(
            citations=[services.CitationData(public), services.CitationData(kept)]
        ),
    )

    page = client.get(f"/en/incidents/{incident.code}/").content.decode()

    assert f'href="{file_url(public)}"' in page
    assert file_url(kept) not in page
    assert "/media/" not in page
    assert page.count("kept by CivTrack, not published") == 1


@pytest.mark.parametrize("case", ["not_public", "confidential", "made_confidential"])
def test_an_unpublished_or_confidential_file_answers_like_an_unknown_id(client, case):
    source = add_source(
        photo_with_gps(),
        file_public=case != "not_public",
        confidential=case == "confidential",
    )
    if case == "made_confidential":
        assert client.get(file_url(source)).status_code == HTTPStatus.OK
        services.source_update(source=source, confidential=True, by=researcher())
    unknown = 987654321

    response = client.get(file_url(source))
    control = client.get(reverse("api:source-file", kwargs={"pk": unknown}))

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert control.status_code == HTTPStatus.NOT_FOUND
    assert response.json() == {
        "detail": control.json()["detail"].replace(str(unknown), str(source.pk))
    }


def test_staff_get_the_same_public_copy_and_nothing_more(settings):
    public = add_source(photo_with_gps(), file_public=True)
    kept = add_source(photo_with_gps(size=(41, 30)), name="b.jpg")
    staff = Client()
    staff.force_login(reviewer())

    served = staff.get(file_url(public))
    refused = staff.get(file_url(kept))
    kept_body = staff.get(reverse("api:source-detail", kwargs={"pk": kept.pk})).json()

    assert served.status_code == HTTPStatus.OK
    assert b"Kx9PhotographerName" not in served.content
    assert refused.status_code == HTTPStatus.NOT_FOUND
    assert kept_body["file_url"] is None
    assert kept_body["file_public"] is False


def test_a_published_pdf_is_not_served(client):
    pdf = (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        b"3 0 obj<</Author(Kx9PdfAuthor)>>endobj\n"
        b"trailer<</Root 1 0 R/Info 3 0 R>>\n%%EOF\n"
    )
    source = services.source_create(
        by=reviewer(),
        kind="ngo_report",
        title="Report",
        file=SimpleUploadedFile("r.pdf", pdf),
        file_public=True,
    )
    approve_protection_requests(source)

    response = client.get(file_url(source))
    detail = client.get(reverse("api:source-detail", kwargs={"pk": source.pk})).json()

    assert source.mime == "application/pdf"
    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "only images" in response.json()["detail"]
    assert b"Kx9PdfAuthor" not in response.content
    assert detail["file_url"] is None
    assert detail["mime"] == "application/pdf"


def test_a_damaged_image_is_a_404_not_a_500(client):
    truncated = photo_with_gps()[:200]
    source = SourceFactory(file_public=True, mime="image/jpeg", sha256="ab" * 32)
    source.file.save("x" * 64, SimpleUploadedFile("x.jpg", truncated))

    response = client.get(file_url(source))

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "cannot be re-encoded" in response.json()["detail"]


def test_an_image_over_the_pixel_limit_is_refused(client, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)
    source = add_source(photo_with_gps(), file_public=True)

    response = client.get(file_url(source))

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert "too large" in response.json()["detail"]


def test_an_img_request_gets_the_image_whatever_it_accepts(client):
    source = add_source(photo_with_gps(fmt="PNG"), name="a.png", file_public=True)

    response = client.get(file_url(source), HTTP_ACCEPT="image/avif,image/webp")
    head = client.head(file_url(source))

    assert response.status_code == HTTPStatus.OK
    assert response["Content-Type"] == "image/png"
    assert head.status_code == HTTPStatus.OK
