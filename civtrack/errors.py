"""The last-resort error pages: never a database query, never an HTML page under /api/.

While the database is away (connection refused, server restarting) the answer is a 503
with Retry-After instead of a 500; Django reconnects on the next request, so the site
recovers by itself when the database is back.
"""

from __future__ import annotations

import logging
import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string

logger = logging.getLogger("civtrack")

UNAVAILABLE_TEXT = (
    "CivTrack's database cannot be reached right now. Nothing you sent was saved "
    "half-way; please try again in a minute."
)
_CONNECTION_HINTS = (
    "could not connect",
    "connection refused",
    "server closed the connection",
    "terminating connection",
    "connection already closed",
    "connection to server",
    "the database system is",
    "could not translate host",
    "no such file or directory",
)


def is_database_unavailable(exception: BaseException | None) -> bool:
    """True for errors that mean "the database is away", not "the query was wrong"."""
    if isinstance(exception, InterfaceError):
        return True
    if not isinstance(exception, OperationalError):
        return False
    text = str(exception).lower()
    return any(hint in text for hint in _CONNECTION_HINTS)


def database_unavailable_response(request) -> HttpResponse:
    if request.path.startswith("/api/"):
        response = JsonResponse({"detail": UNAVAILABLE_TEXT}, status=503)
    else:
        response = HttpResponse(
            render_to_string("503.html", {"message": UNAVAILABLE_TEXT}), status=503
        )
    response["Retry-After"] = "30"
    return response


def server_error(request) -> HttpResponse:
    """handler500: 503 while the database is away, otherwise a plain 500 (JSON under
    /api/). Rendered without a request context, so it cannot fail on a query."""
    exception = sys.exc_info()[1]
    if is_database_unavailable(exception):
        logger.error("database unavailable: %s", exception)
        return database_unavailable_response(request)
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": "Server error."}, status=500)
    return HttpResponse(render_to_string("500.html"), status=500)
