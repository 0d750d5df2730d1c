"""Published source files (DOMAIN.md "Source": a reviewer may publish an image or a
document, "which is then served re-encoded without metadata such as EXIF GPS").

Uploaded files are never served as stored: a photo's EXIF can hold the GPS position,
time and camera serial number that identify the person who took it. The public gets a
copy re-encoded from the pixels alone, by `reencode()`:

- JPEG, PNG and WebP come back in their own format, GIF as PNG (first frame of an
  animation only). The pixels are copied into a new image, so nothing of the original
  file travels with them: no EXIF (GPS included), XMP, IPTC, ICC profile, comments or
  text chunks. The EXIF orientation is applied to the pixels first, so the copy is the
  right way up;
- the decoder is restricted to the stored (sniffed) type, and an image over Pillow's
  decompression-bomb limit is refused;
- everything else (PDF, TIFF, HEIC, video, audio, office documents, text) is not served:
  stripping their metadata reliably needs a tool per format, and a PDF's can sit in many
  places (document info, XMP streams, embedded images). Their hash, size and type stay
  public; the original is kept by CivTrack.

Which sources are servable at all is the redaction layer's call
(`incidents.selectors.public_source_file`): not confidential, and `file_public`.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps

from incidents.models import Source


@dataclass(frozen=True)
class PublicFormat:
    pillow_format: str  # the decoder allowed for the stored file
    output_format: str  # what the public copy is written as
    content_type: str
    extension: str
    options: tuple[tuple[str, object], ...] = ()


# Stored MIME type (sniffed on upload, incidents/uploads.py) → how it is published.
PUBLIC_FORMATS: dict[str, PublicFormat] = {
    "image/jpeg": PublicFormat(
        "JPEG", "JPEG", "image/jpeg", "jpg", (("quality", 92), ("optimize", True))
    ),
    "image/png": PublicFormat("PNG", "PNG", "image/png", "png", (("optimize", True),)),
    "image/webp": PublicFormat(
        "WEBP", "WEBP", "image/webp", "webp", (("quality", 92), ("method", 4))
    ),
    "image/gif": PublicFormat("GIF", "PNG", "image/png", "png", (("optimize", True),)),
}


class NotPublishable(Exception):
    """The file cannot be published (its type is not served, or it does not decode)."""


def servable(source: Source) -> bool:
    """Whether a public copy of this source's file can be made (the redaction rules,
    confidential and file_public, are checked by the caller: see
    `selectors.public_source_file` and `public_file_available`)."""
    return bool(source.file) and source.mime in PUBLIC_FORMATS


def public_file_available(source: Source) -> bool:
    """The public may fetch this source's file: not confidential, published by a
    reviewer (`file_public`) and of a type that is re-encoded."""
    return not source.confidential and source.file_public and servable(source)


def public_filename(source: Source) -> str:
    """A download name that says nothing about the uploader (never the uploaded
    name): civtrack-source-<id>.<ext>."""
    return f"civtrack-source-{source.pk}.{PUBLIC_FORMATS[source.mime].extension}"


def _pixels_only(image: Image.Image) -> Image.Image:
    """A new image holding the pixels of `image` and nothing else (empty `info`)."""
    image = ImageOps.exif_transpose(image) or image
    has_alpha = image.mode in {"RGBA", "LA", "PA", "RGBa", "La"} or (
        "transparency" in image.info
    )
    mode = "RGBA" if has_alpha else "L" if image.mode in {"1", "L"} else "RGB"
    converted = image.convert(mode)
    return Image.frombytes(mode, converted.size, converted.tobytes())


def reencode(source: Source) -> tuple[bytes, str]:
    """The public copy of the source's file, and its content type. Raises
    NotPublishable for a type that is not served or a file that does not decode."""
    if not servable(source):
        raise NotPublishable(
            f"Files of type {source.mime or 'unknown'} are not served."
        )
    fmt = PUBLIC_FORMATS[source.mime]
    with warnings.catch_warnings():
        # Pillow warns past MAX_IMAGE_PIXELS and raises past twice that: refuse both.
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            with (
                source.file.open("rb") as stored,
                Image.open(stored, formats=[fmt.pillow_format]) as image,
            ):
                image.seek(0)
                image.load()
                clean = _pixels_only(image)
        except (Image.DecompressionBombWarning, Image.DecompressionBombError) as e:
            raise NotPublishable("The image is too large to re-encode.") from e
        except Exception as e:  # a missing, truncated or malformed file
            raise NotPublishable("The file cannot be re-encoded.") from e
    out = io.BytesIO()
    clean.save(out, format=fmt.output_format, **dict(fmt.options))
    return out.getvalue(), fmt.content_type
