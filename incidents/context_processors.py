"""Context every public page needs (settings.TEMPLATES): the language switch, the
synthetic-data banner and the instance name."""

from __future__ import annotations

from django.conf import settings
from django.utils.functional import SimpleLazyObject
from django.utils.translation import get_language

from incidents.selectors import public_incidents


def other_language_url(path: str, current: str) -> tuple[str, str]:
    """The same page under the other language prefix (a plain link, so that anonymous
    pages stay cacheable): /en/incidents/?q=x → /ar/incidents/?q=x."""
    other = "en" if current.startswith("ar") else "ar"
    for code, _name in settings.LANGUAGES:
        prefix = f"/{code}/"
        if path.startswith(prefix) or path == f"/{code}":
            return other, f"/{other}/" + path[len(prefix) :]
    return other, f"/{other}/"


def public_site(request):
    current = get_language() or settings.LANGUAGE_CODE
    other, other_url = other_language_url(request.get_full_path(), current)
    return {
        "other_language": other,
        "other_language_url": other_url,
        "instance_name": settings.CIVTRACK_INSTANCE_NAME,
        # One EXISTS query, only when a page renders the banner (base.html does).
        "synthetic_data": SimpleLazyObject(
            lambda: public_incidents().filter(synthetic=True).exists()
        ),
    }
