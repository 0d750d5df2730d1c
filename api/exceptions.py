"""Every error under /api/ is JSON (API.md "Limits and errors"): `{"detail": …}` or a
field-keyed dict, never an HTML page and never a 5xx for bad input.

- `api_exception_handler` is the DRF exception handler of every API view (the views'
  base class returns it from `get_exception_handler`, so it works without a setting; it
  can also be set as REST_FRAMEWORK["EXCEPTION_HANDLER"]).
- `api_not_found` is the last route of api/urls.py: any unknown /api/ path answers a JSON
  404 (or the slash-appended URL, as APPEND_SLASH would).
- `handler404` / `handler500` answer JSON for /api/ paths and delegate to Django's pages
  elsewhere; the root URLconf can point its handler404/handler500 at them.
"""

from __future__ import annotations

import logging
import math

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import (
    RequestDataTooBig,
    SuspiciousOperation,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import (
    Http404,
    HttpResponsePermanentRedirect,
    JsonResponse,
    UnreadablePostError,
)
from django.http.multipartparser import MultiPartParserError
from django.urls import Resolver404, resolve
from django.views import defaults
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from civtrack.errors import UNAVAILABLE_TEXT, is_database_unavailable

logger = logging.getLogger("civtrack.api")

API_PREFIX = "/api/"


def _django_validation_detail(error: DjangoValidationError):
    detail = getattr(
        error, "detail", None
    )  # incidents.services.IncidentValidationError
    if isinstance(detail, dict):
        return detail
    if hasattr(error, "error_dict"):
        return error.message_dict
    return {"detail": error.messages}


class RequestTooLarge(exceptions.APIException):
    status_code = 413
    default_code = "payload_too_large"


def _client_mistake(exc, request=None) -> exceptions.APIException | None:
    """What Django raises for a request's own faults (a body over
    DATA_UPLOAD_MAX_MEMORY_SIZE, too many form fields or files, a malformed
    multipart body, a body nested past the interpreter's recursion limit), as the
    4xx that names it: the catch-all 500 below is never the answer to a client's
    mistake."""
    if isinstance(exc, RequestDataTooBig):
        content_type = getattr(request, "content_type", "") or ""
        if "json" in content_type:  # refused before the JSON parser saw it
            from api.parsers import max_json_bytes, too_large

            return too_large(max_json_bytes())
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        return RequestTooLarge(
            f"The request body is too large: at most {limit} bytes "
            f"({limit / (1024 * 1024):g} MiB) outside a file upload."
        )
    if isinstance(exc, TooManyFieldsSent | TooManyFilesSent):
        return exceptions.ParseError(f"Too many form fields or files: {exc}")
    if isinstance(exc, MultiPartParserError | UnreadablePostError):
        return exceptions.ParseError(f"The request body could not be read: {exc}")
    if isinstance(exc, SuspiciousOperation):
        return exceptions.ParseError("The request was refused as malformed.")
    if isinstance(exc, RecursionError):
        return exceptions.ParseError("The request is nested too deeply.")
    return None


def api_exception_handler(exc, context):
    """DRF's handler, plus: Django ValidationError → 400 field-keyed; Retry-After rounded
    up; anything unexpected → a logged JSON 500 instead of an HTML page."""
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_validation_detail(exc))
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(*(exc.args or ("Permission denied.",)))
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    else:
        exc = _client_mistake(exc, context.get("request")) or exc
    response = drf_exception_handler(exc, context)
    if response is not None:
        wait = getattr(exc, "wait", None)
        if wait is not None:
            response["Retry-After"] = str(max(1, math.ceil(wait)))
        return response
    if is_database_unavailable(exc):
        logger.error("database unavailable: %s", exc)
        set_rollback()
        return Response(
            {"detail": UNAVAILABLE_TEXT}, status=503, headers={"Retry-After": "30"}
        )
    view = context.get("view")
    logger.exception(
        "Unhandled error in %s",
        type(view).__name__ if view else "API view",
        exc_info=exc,
    )
    set_rollback()
    return Response({"detail": "Server error."}, status=500)


def _is_api(request) -> bool:
    return request.path.startswith(API_PREFIX)


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    """The JSON 404 of every /api/ path no route matched. CSRF-exempt (it writes
    nothing): a POST or PATCH to a path no route matches, such as an id that is not a
    number, is a JSON 404 too, never the CSRF middleware's HTML 403."""
    if not request.path.endswith("/") and request.method in ("GET", "HEAD"):
        try:
            resolved = resolve(request.path + "/")
        except Resolver404:
            resolved = None
        if resolved is not None and resolved.func is not api_not_found:
            query = request.META.get("QUERY_STRING", "")
            return HttpResponsePermanentRedirect(
                request.path + "/" + (f"?{query}" if query else "")
            )
    return JsonResponse({"detail": "Not found."}, status=404)


def handler404(request, exception=None):
    if _is_api(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def handler500(request):
    if _is_api(request):
        return JsonResponse({"detail": "Server error."}, status=500)
    return defaults.server_error(request)
