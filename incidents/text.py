"""Text normalisation shared by name matching (ActorName, LocationName) and search."""

from __future__ import annotations

import re
import unicodedata

# Alef wasla and the letters NFKD does not unify: alef maqsura → ya, ta marbuta → ha.
_ARABIC_MAP = str.maketrans({"ٱ": "ا", "ى": "ي", "ة": "ه", "ـ": ""})
_ARABIC_ARTICLE = re.compile(r"(?:(?<=\s)|^)[وبكف]?ال(?=\w)")
_PUNCTUATION = re.compile(r"[\W_]+", re.UNICODE)


def normalize_name(value: str) -> str:
    """Lower-case, without diacritics or punctuation, Arabic letter variants unified.

    NFKD splits hamza and madda off alef (أ إ آ → ا) and accents off Latin letters; the
    combining marks (including Arabic tashkeel) are then dropped.
    """
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    text = stripped.translate(_ARABIC_MAP).casefold()
    text = _ARABIC_ARTICLE.sub("", text)
    text = _PUNCTUATION.sub(" ", text)
    return " ".join(text.split())
