"""Request guards that apply to every URL before any view runs."""

from __future__ import annotations

from django.http import HttpResponseBadRequest, JsonResponse

NUL_PATH_TEXT = (
    "The address contains a NUL character (%00), which no CivTrack address or value "
    "can hold."
)


class RefuseNulInPathMiddleware:
    """A NUL byte in the path is a 400, never a 500: PostgreSQL cannot compare text
    holding one, so a view looking up a code, slug or ref with it would fail. (Query
    parameters and request bodies are checked where they are read, with errors naming
    the parameter or field.) JSON under /api/, like every API error."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path:
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": NUL_PATH_TEXT}, status=400)
            return HttpResponseBadRequest(
                NUL_PATH_TEXT, content_type="text/plain; charset=utf-8"
            )
        return self.get_response(request)
