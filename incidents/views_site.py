"""Files a browser or a crawler asks for at the site's root: /favicon.ico, /robots.txt.

Both live outside the /en/ and /ar/ prefixes (browsers and crawlers ask for exactly these
paths) and answer the same bytes to everyone.
"""

from __future__ import annotations

from functools import lru_cache

from django.contrib.staticfiles import finders
from django.http import HttpResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_safe

FAVICON = "img/favicon.svg"

# What crawlers may fetch. The public pages are there to be found (a journalist searching
# for an attack should reach its page), so they are allowed, and so are their static
# files. Disallowed: the admin (staff only; nothing for an index), the API (its lists,
# statistics and exports are for programs: a crawler following every filter combination
# or the uncapped CSV/GeoJSON exports would only load the server; the pages show the same
# records), and the filtered forms of the list, map and statistics pages (every query
# string is another URL of the same records: endless for a crawler, while each incident
# keeps its own page, linked from the unfiltered list, places and actors).
ROBOTS_TXT = """\
User-agent: *
Disallow: /admin/
Disallow: /api/
Disallow: /en/incidents/?
Disallow: /ar/incidents/?
Disallow: /en/map/?
Disallow: /ar/map/?
Disallow: /en/stats/?
Disallow: /ar/stats/?
Allow: /
"""


@lru_cache(maxsize=1)
def _favicon_bytes() -> bytes:
    path = finders.find(FAVICON)
    with open(path, "rb") as handle:
        return handle.read()


@require_safe
@cache_control(public=True, max_age=86400)
def favicon(request):
    """The site's icon for browsers that ask for /favicon.ico (pages link the SVG)."""
    return HttpResponse(_favicon_bytes(), content_type="image/svg+xml")


@require_safe
@cache_control(public=True, max_age=86400)
def robots_txt(request):
    """What crawlers may fetch (see ROBOTS_TXT for why)."""
    return HttpResponse(ROBOTS_TXT, content_type="text/plain; charset=utf-8")
