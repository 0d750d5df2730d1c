"""What a source's uploaded file may be (issue 7: hostile uploads).

Evidence files are kept, hashed and (when a reviewer allows it) published, so an upload
is checked before anything is stored:

- its size: at most settings.CIVTRACK_MAX_UPLOAD_MB megabytes (default 50);
- its type, read from the content's own first bytes ("magic bytes"), never from the
  name or the Content-Type the client sent, which it chooses freely. Allowed: images
  (JPEG, PNG, GIF, WebP, TIFF, HEIC), PDF, video (MP4/MOV/3GP, WebM/MKV, AVI), audio
  (MP3, M4A, Ogg/Opus, WAV, FLAC, AMR), plain text and CSV, and office documents
  (Word, Excel, PowerPoint and OpenDocument, old and new formats; RTF). The sniffed type
  is the one stored in `Source.mime`;
- refused: archives (ZIP, gzip, 7z, RAR, tar), executables, HTML, SVG, XML and any other
  markup (an SVG or HTML file can carry a script that runs when opened in a browser),
  and anything not recognised;
- office documents that are ZIP containers (docx, xlsx, pptx, odt, …) are read as
  archives without extracting anything: the sum of their members' declared sizes must
  stay under CIVTRACK_MAX_UNZIPPED_MB (default 10 × the upload limit) and no member may
  expand more than MAX_RATIO times (a "zip bomb" expands a few kilobytes to gigabytes).

`check_upload(file)` returns the sniffed MIME type or raises a Django ValidationError
keyed on `file` whose message says what is allowed.
"""

from __future__ import annotations

import zipfile
from typing import IO

from django.conf import settings
from django.core.exceptions import ValidationError

ALLOWED_DESCRIPTION = (
    "images (JPEG, PNG, GIF, WebP, TIFF, HEIC), PDF, video (MP4, MOV, WebM, MKV, AVI), "
    "audio (MP3, M4A, Ogg, WAV, FLAC, AMR), plain text or CSV, and office documents "
    "(Word, Excel, PowerPoint, OpenDocument, RTF)"
)
# A member of an office document may expand at most this many times.
MAX_RATIO = 200
HEAD_BYTES = 8192
# MPEG audio layer III frame headers (MPEG 1, 2 and 2.5), without and with CRC.
MP3_FRAME_SYNC = {
    b"\xff\xfb",
    b"\xff\xfa",
    b"\xff\xf3",
    b"\xff\xf2",
    b"\xff\xe3",
    b"\xff\xe2",
}

OOXML_TYPES = {
    "word/": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xl/": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ppt/": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
ODF_TYPES = {
    "application/vnd.oasis.opendocument.text",
    "application/vnd.oasis.opendocument.spreadsheet",
    "application/vnd.oasis.opendocument.presentation",
}
# ISO base media (MP4 family): the brand at bytes 8–12 of an `ftyp` box.
FTYP_BRANDS = {
    b"heic": "image/heic",
    b"heix": "image/heic",
    b"mif1": "image/heif",
    b"M4A ": "audio/mp4",
    b"M4B ": "audio/mp4",
    b"qt  ": "video/quicktime",
    b"3gp4": "video/3gpp",
    b"3gp5": "video/3gpp",
    b"3g2a": "video/3gpp2",
}


def max_upload_bytes() -> int:
    return int(getattr(settings, "CIVTRACK_MAX_UPLOAD_MB", 50)) * 1024 * 1024


def max_unzipped_bytes() -> int:
    default = 10 * int(getattr(settings, "CIVTRACK_MAX_UPLOAD_MB", 50))
    return int(getattr(settings, "CIVTRACK_MAX_UNZIPPED_MB", default)) * 1024 * 1024


def _refuse(message: str) -> ValidationError:
    return ValidationError({"file": [message]})


def _size(upload: IO[bytes]) -> int:
    size = getattr(upload, "size", None)
    if size is None:
        upload.seek(0, 2)
        size = upload.tell()
    return int(size)


def _head(upload: IO[bytes]) -> bytes:
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    return head


def _text_type(head: bytes, name: str) -> str | None:
    """text/plain or text/csv for text that is not markup; None otherwise."""
    for bom, encoding in (
        (b"\xef\xbb\xbf", "utf-8"),
        (b"\xff\xfe", "utf-16-le"),
        (b"\xfe\xff", "utf-16-be"),
    ):
        if head.startswith(bom):
            head, text_encoding = head[len(bom) :], encoding
            break
    else:
        text_encoding = "utf-8"
    if text_encoding == "utf-8" and b"\x00" in head:
        return None
    try:
        # The head may end inside a multi-byte character: ignore only that tail.
        text = head.decode(text_encoding, errors="strict")
    except UnicodeDecodeError as error:
        if error.start < len(head) - 4:
            return None
        text = head[: error.start].decode(text_encoding)
    stripped = text.lstrip()
    if stripped.startswith("<") or "<script" in text.lower() or "<svg" in text.lower():
        return None  # HTML, SVG, XML: markup that a browser would run
    if any(ord(c) < 32 and c not in "\t\n\r\f\v" for c in text):
        return None
    return "text/csv" if name.lower().endswith(".csv") else "text/plain"


def _ole_type(name: str) -> str:
    lower = name.lower()
    if lower.endswith((".xls", ".xlt")):
        return "application/vnd.ms-excel"
    if lower.endswith((".ppt", ".pps", ".pot")):
        return "application/vnd.ms-powerpoint"
    return "application/msword"


def _zip_container_type(upload: IO[bytes]) -> str:
    """The office type of a ZIP container, after the zip-bomb checks; archives that
    are not office documents are refused."""
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            members = archive.infolist()
            total = 0
            for member in members:
                total += member.file_size
                if total > max_unzipped_bytes():
                    raise _refuse(
                        "This document would expand to more than "
                        f"{max_unzipped_bytes() // (1024 * 1024)} MB when opened: "
                        "refused (a compressed archive bomb?)."
                    )
                ratio = member.file_size / max(member.compress_size, 1)
                if member.file_size > 1024 * 1024 and ratio > MAX_RATIO:
                    raise _refuse(
                        f"A part of this document expands {ratio:.0f} times when "
                        "opened: refused (a compressed archive bomb?)."
                    )
            names = {member.filename for member in members}
            if "mimetype" in names:
                with archive.open("mimetype") as member:
                    declared = member.read(100).decode("ascii", "replace")
                if declared.strip() in ODF_TYPES:
                    return declared.strip()
            if "[Content_Types].xml" in names:
                for prefix, mime in OOXML_TYPES.items():
                    if any(n.startswith(prefix) for n in names):
                        return mime
    except zipfile.BadZipFile:
        raise _refuse("This file looks like a damaged ZIP archive: refused.") from None
    finally:
        upload.seek(0)
    raise _refuse(
        "Archives (ZIP and the like) are not accepted: upload the files inside one by "
        f"one. Allowed: {ALLOWED_DESCRIPTION}."
    )


def sniff(upload: IO[bytes], name: str = "") -> str | None:
    """The MIME type of the content's first bytes, among the allowed types; None when
    it is not one of them."""
    head = _head(upload)
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return "image/tiff"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head.startswith(b"RIFF"):
        return {
            b"WEBP": "image/webp",
            b"AVI ": "video/x-msvideo",
            b"WAVE": "audio/wav",
        }.get(head[8:12])
    if head[4:8] == b"ftyp":
        return FTYP_BRANDS.get(head[8:12], "video/mp4")
    if head.startswith(b"\x1aE\xdf\xa3"):
        return "video/webm"
    if head.startswith(b"ID3") or head[:2] in MP3_FRAME_SYNC:
        return "audio/mpeg"
    if head[:2] in (b"\xff\xf1", b"\xff\xf9"):
        return "audio/aac"
    if head.startswith(b"OggS"):
        return "audio/ogg"
    if head.startswith(b"fLaC"):
        return "audio/flac"
    if head.startswith(b"#!AMR"):
        return "audio/amr"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return _ole_type(name)
    if head.startswith(b"{\\rtf"):
        return "application/rtf"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return _zip_container_type(upload)
    return _text_type(head, name)


def check_upload(upload) -> str:
    """Refuse an upload that is too large or not an allowed type; return its sniffed
    MIME type (what `Source.mime` records)."""
    size = _size(upload)
    limit = max_upload_bytes()
    if size > limit:
        raise _refuse(
            f"This file is {size / (1024 * 1024):.1f} MB; files of at most "
            f"{limit // (1024 * 1024)} MB are accepted."
        )
    name = getattr(upload, "name", "") or ""
    mime = sniff(upload, name)
    if mime is None:
        raise _refuse(
            "This type of file is not accepted (its content was checked, not its "
            f"name). Allowed: {ALLOWED_DESCRIPTION}. Archives, programs, HTML and SVG "
            "are refused."
        )
    return mime
