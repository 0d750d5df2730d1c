"""The read side of API v1 (API.md "Reading"): incidents (list, exports, detail,
history), actors, locations, facilities, sources and vocabularies.

Every view starts from an `incidents.selectors` query for the caller (`incidents_for`,
`public_*`), filters incidents only through api/filters.py, and builds its JSON with the
fast dict builders of api/serializers.py. `ApiViewMixin` sets what every API view shares:
orjson rendering, JSON errors, throttles, strict parameters and CORS for reads.
"""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.db.models import Q
from django.http import HttpResponse, StreamingHttpResponse
from django.urls import NoReverseMatch, reverse
from django.utils import timezone, translation
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from django.utils.text import slugify
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status as http
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from api import exports
from api import serializers as s
from api.exceptions import api_exception_handler
from api.filters import (
    LANGS,
    PARAMETER_DOCS,
    FilterResult,
    clean_query_params,
    run_incident_filter,
)
from api.pagination import (
    PAGINATION_PARAMS,
    Keyset,
    paginate,
    read_cursor,
    read_page_size,
    single,
)
from api.protection import FacilityProtectionMixin, SourceProtectionMixin
from api.renderers import ApiContentNegotiation, ORJSONRenderer
from api.throttling import AnonRateThrottle, UserRateThrottle
from api.views_write import IncidentWriteMixin, SourceWriteMixin
from incidents import public_cache, public_files, selectors
from incidents.models import (
    Actor,
    ActorName,
    ActorRelation,
    Attribution,
    Bloc,
    CasualtyGroup,
    CasualtyOutcome,
    Claim,
    Confidence,
    DatePrecision,
    ExternalRef,
    GeoPrecision,
    Incident,
    IncidentTarget,
    IncidentType,
    IncidentWeapon,
    Location,
    LocationName,
    Source,
    TargetType,
    WeaponType,
)
from incidents.services import is_staff_member
from incidents.text import normalize_name

# Headers a browser script on another origin may read from our answers.
EXPOSED_HEADERS = (
    "ETag, Link, Location, Retry-After, Content-Disposition, X-CivTrack-Query, "
    "X-CivTrack-Generated-At, X-CivTrack-Citation"
)
SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


class ApiViewMixin:
    """What every API view shares (readthedocs' api/v3 style): orjson + browsable API,
    JSON errors, throttles (anonymous 120/min by default, `anon`/`user` rates in
    settings), 400 for unknown parameters, and CORS for reads from any origin (GET only:
    write endpoints send no CORS header, so browsers refuse cross-origin writes)."""

    renderer_classes = [ORJSONRenderer, BrowsableAPIRenderer]
    content_negotiation_class = ApiContentNegotiation
    throttle_classes = [AnonRateThrottle, UserRateThrottle]
    allowed_params: frozenset[str] = frozenset()

    def get_exception_handler(self):
        return api_exception_handler

    def params(self) -> dict[str, list[str]]:
        return clean_query_params(self.request.query_params, for_pages=False)

    def check_params(
        self, allowed: frozenset[str] | None = None
    ) -> dict[str, list[str]]:
        allowed = (allowed if allowed is not None else self.allowed_params) | {"format"}
        params = self.params()
        unknown = sorted(set(params) - allowed)
        if unknown:
            message = "Unknown parameter. Allowed: " + ", ".join(sorted(allowed)) + "."
            raise ValidationError({name: [message] for name in unknown})
        for name, values in params.items():
            if len(values) > 1:
                raise ValidationError({name: ["Give this parameter once."]})
            if "\x00" in values[0]:
                raise ValidationError({name: ["Contains a NUL character."]})
        return params

    def lang(self, params: dict[str, list[str]]) -> str:
        value = single(params, "lang") or "en"
        if value not in LANGS:
            raise ValidationError({"lang": ["Choose en or ar."]})
        return value

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if request.method in SAFE_METHODS:
            response["Access-Control-Allow-Origin"] = "*"
            response["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
            if request.method == "OPTIONS":
                response["Access-Control-Allow-Methods"] = "GET, HEAD, OPTIONS"
                response["Access-Control-Allow-Headers"] = (
                    "Accept, Accept-Language, If-None-Match, Content-Type"
                )
                response["Access-Control-Max-Age"] = "86400"
        # Staff and the public get different answers at the same URL.
        patch_vary_headers(response, ("Accept", "Authorization", "Cookie"))
        return response


def _abs(request, name: str, **kwargs) -> str:
    return request.build_absolute_uri(reverse(name, kwargs=kwargs or None))


def _page_url(request, name: str, fallback: str, **kwargs) -> str:
    """An absolute URL of a public page (in English), or `fallback` if the pages are
    not installed."""
    try:
        with translation.override("en"):
            path = reverse(name, kwargs=kwargs or None)
    except NoReverseMatch:
        path = fallback
    return request.build_absolute_uri(path)


def _list_response(count: int, page, results: list[Any]) -> dict[str, Any]:
    return {
        "count": count,
        "next": page.next_url,
        "previous": page.previous_url,
        "results": results,
    }


# ---------------------------------------------------------------------------------------
# Incidents
# ---------------------------------------------------------------------------------------

LIST_EXTRA_PARAMS = PAGINATION_PARAMS | {"format", "bom"}


def exact_count(result: FilterResult) -> int:
    """The exact size of the filtered set. For the public it is cached per normalised
    filter until public data changes (incidents/public_cache.py: the changes feed's
    last seq and the audit trail's last events, so an actor's new bloc counts too)."""
    return public_cache.cached(
        "count",
        result.count_key,
        result.queryset.count,
        enabled=not result.staff,
    )


PARAMETER_TYPES = {
    "str": OpenApiTypes.STR,
    "int": OpenApiTypes.INT,
    "bool": OpenApiTypes.BOOL,
    "date": OpenApiTypes.DATE,
    "datetime": OpenApiTypes.DATETIME,
}


def _filter_parameters() -> list[OpenApiParameter]:
    return [
        OpenApiParameter(
            name, type=PARAMETER_TYPES[kind], description=text, required=False
        )
        for name, kind, text in PARAMETER_DOCS
    ]


LIST_PARAMETERS = [
    *_filter_parameters(),
    OpenApiParameter(
        "cursor", OpenApiTypes.STR, description="Opaque cursor from `next`/`previous`."
    ),
    OpenApiParameter(
        "page_size", OpenApiTypes.INT, description="1–1000, default 50 (above: 400)."
    ),
    OpenApiParameter(
        "format",
        OpenApiTypes.STR,
        enum=["json", "csv", "geojson"],
        description="json (default); csv and geojson are streamed, uncapped exports.",
    ),
    OpenApiParameter(
        "bom", OpenApiTypes.BOOL, description="CSV only: start with a UTF-8 BOM."
    ),
]
LANG_PARAMETER = OpenApiParameter(
    "lang", OpenApiTypes.STR, enum=list(LANGS), description="Names in this language."
)
BAD_REQUEST = OpenApiResponse(
    description="A parameter is unknown or malformed: `{param: [what is allowed]}`."
)


@extend_schema_view(
    list=extend_schema(
        summary="List incidents",
        operation_id="v1_incidents_list",
        description="Cursor-paginated, exact `count`, every filter below. "
        "`format=csv` / `format=geojson` stream the whole filtered set.",
        parameters=LIST_PARAMETERS,
        responses={
            (200, "application/json"): s.IncidentListResponseSerializer,
            (200, "text/csv"): OpenApiTypes.STR,
            (200, "application/geo+json"): OpenApiTypes.OBJECT,
            400: BAD_REQUEST,
            429: s.ErrorSerializer,
        },
    ),
    retrieve=extend_schema(
        summary="One incident",
        description="The full record: everything in the list form plus its sources "
        "(public ones), casualty rows, attributions with their hypotheses, weapons, "
        "targets and external references. The ETag is the incident's version. A "
        "withdrawn incident answers 410 with its public reason; a merged one 301 to "
        "its survivor; an unpublished or unknown code 404.",
        parameters=[LANG_PARAMETER],
        responses={
            200: s.IncidentDetailSerializer,
            301: s.IncidentGoneSerializer,
            304: OpenApiResponse(description="Not modified (If-None-Match)."),
            400: BAD_REQUEST,
            404: s.ErrorSerializer,
            410: s.IncidentGoneSerializer,
        },
    ),
)
class IncidentViewSet(IncidentWriteMixin, ApiViewMixin, viewsets.GenericViewSet):
    """`/api/v1/incidents/`: the list (with its exports), the detail and the public
    history; IncidentWriteMixin (api/views_write.py) adds the writes."""

    lookup_field = "code"
    lookup_value_regex = "[^/]+"
    serializer_class = s.IncidentListItemSerializer
    export_formats = ("csv", "geojson")

    def get_queryset(self):
        return selectors.incidents_for(self.request.user)

    # -- list and exports ------------------------------------------------------------

    def list(self, request, *args, **kwargs):
        result = run_incident_filter(
            request.query_params,
            user=request.user,
            extra_params=LIST_EXTRA_PARAMS,
            request=request,
        )
        fmt = single(result.extra, "format") or "json"
        bom = single(result.extra, "bom")
        if bom is not None and (fmt != "csv" or bom not in ("1", "0", "true", "false")):
            raise ValidationError({"bom": ["Only with format=csv: bom=1 or bom=0."]})
        if fmt == "csv":
            return self._csv(result, bom=bom in ("1", "true"))
        if fmt == "geojson":
            return self._geojson(result)
        page_size = read_page_size(single(result.extra, "page_size"))
        cursor = read_cursor(single(result.extra, "cursor"), result.keyset)
        ctx = s.IncidentContext(
            request,
            staff=result.staff,
            lang=result.cleaned.get("lang") or "en",
            fields=result.cleaned.get("fields"),
        )
        count = exact_count(result)
        page = paginate(
            request,
            result.queryset,
            result.keyset,
            values=s.incident_values(staff=result.staff),
            page_size=page_size,
            cursor=cursor,
        )
        return Response(
            _list_response(count, page, s.build_incident_items(page.rows, ctx))
        )

    def _export_headers(self, response, result: FilterResult, extension: str):
        now = timezone.now()
        name = slugify(result.normalized.replace("=", "-").replace("&", "-"))[:80]
        filename = (
            f"civtrack-incidents-{name or 'all'}-{now.date().isoformat()}.{extension}"
        )
        site = self.request.build_absolute_uri("/")
        methodology = _page_url(
            self.request, "incidents:methodology", "/en/methodology/"
        )
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["X-CivTrack-Query"] = result.normalized
        response["X-CivTrack-Generated-At"] = now.isoformat().replace("+00:00", "Z")
        response["Link"] = f'<{methodology}>; rel="describedby"'
        response["X-CivTrack-Citation"] = (
            f"CivTrack ({site}), incidents export of {now.date().isoformat()}, filter "
            f"'{result.normalized or 'all'}'. Cite the incident codes and this date; "
            f"licences and how to cite: {methodology}#licences"
        )
        response["Cache-Control"] = "no-store"
        return response

    def _csv(self, result: FilterResult, *, bom: bool):
        response = StreamingHttpResponse(
            exports.csv_stream(result, bom=bom),
            content_type="text/csv; charset=utf-8",
        )
        return self._export_headers(response, result, "csv")

    def _geojson(self, result: FilterResult):
        ctx = s.IncidentContext(
            self.request,
            staff=result.staff,
            lang=result.cleaned.get("lang") or "en",
            fields=result.cleaned.get("fields"),
        )
        response = StreamingHttpResponse(
            exports.geojson_stream(result, ctx), content_type="application/geo+json"
        )
        return self._export_headers(response, result, "geojson")

    # -- detail, lifecycle and history --------------------------------------------------

    def _resolve(self, code: str) -> tuple[dict[str, Any] | None, Response | None]:
        """The incident row the caller may read at `code`, or the answer to give
        instead: 404 unknown / unpublished, 410 withdrawn, 301 merged."""
        staff = is_staff_member(self.request.user)
        if staff:
            row = (
                Incident.objects.filter(code=code)
                .values("id", "code", "status", "version", "withdrawn_reason")
                .first()
            )
            if row is None:
                raise NotFound(f"No incident {code}.")
            if row["status"] == Incident.Status.WITHDRAWN:
                return None, self._gone(row["code"], row["withdrawn_reason"])
            if row["status"] == Incident.Status.MERGED:
                return None, self._moved(code, _survivor_code(row["id"]))
            return row, None
        row = (
            selectors.public_incidents()
            .filter(code=code)
            .values("id", "code", "status", "version")
            .first()
        )
        if row is not None:
            return row, None
        lookup = selectors.public_incident_lookup(code)
        if lookup.kind == "withdrawn":
            return None, self._gone(
                lookup.incident.code, lookup.incident.withdrawn_reason
            )
        if lookup.kind == "merged":
            return None, self._moved(lookup.incident.code, lookup.survivor_code)
        raise NotFound(f"No published incident {code}.")

    def _gone(self, code: str, reason: str) -> Response:
        return Response(
            {"code": code, "status": "withdrawn", "withdrawn_reason": reason},
            status=http.HTTP_410_GONE,
        )

    def _moved(self, code: str, survivor: str) -> Response:
        url = _abs(self.request, f"api:incident-{self.action_suffix()}", code=survivor)
        query = self.request.META.get("QUERY_STRING", "")
        response = Response(
            {"code": code, "status": "merged", "merged_into": survivor},
            status=http.HTTP_301_MOVED_PERMANENTLY,
        )
        response["Location"] = url + (f"?{query}" if query else "")
        return response

    def action_suffix(self) -> str:
        return "history" if self.action == "history" else "detail"

    def retrieve(self, request, code=None, *args, **kwargs):
        params = self.check_params(frozenset({"lang"}))
        lang = self.lang(params)
        row, answer = self._resolve(code)
        if answer is not None:
            return answer
        etag = f'"{row["version"]}"'
        if _etag_matches(request.headers.get("If-None-Match"), etag):
            response = Response(status=http.HTTP_304_NOT_MODIFIED)
        else:
            ctx = s.IncidentContext(
                request, staff=is_staff_member(request.user), lang=lang
            )
            response = Response(s.build_incident_detail(row["id"], ctx))
        response["ETag"] = etag
        return response

    def incident_write_body(self, incident: Incident) -> dict[str, Any]:
        """The write side answers with the detail representation (staff view)."""
        ctx = s.IncidentContext(self.request, staff=True)
        return s.build_incident_detail(incident.pk, ctx)

    @extend_schema(
        summary="An incident's change log",
        description="Public: from first publication, public fields only, with the "
        "public reason. Staff: every version, every field, who and the internal reason.",
        parameters=[],
        responses={
            200: s.IncidentHistorySerializer,
            301: s.IncidentGoneSerializer,
            404: s.ErrorSerializer,
            410: s.IncidentGoneSerializer,
        },
    )
    @action(detail=True, methods=["get"], url_path="history", url_name="history")
    def history(self, request, code=None, *args, **kwargs):
        self.check_params(frozenset())
        row, answer = self._resolve(code)
        if answer is not None:
            return answer
        incident = Incident.objects.only(
            "id", "code", "first_published_at", "status"
        ).get(pk=row["id"])
        if is_staff_member(request.user):
            entries = _staff_history(incident)
        else:
            entries = _readable_public_history(selectors.public_history(incident))
        return Response({"code": row["code"], "history": entries})


def _etag_matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    if header.strip() == "*":
        return True
    tags = [t.strip().removeprefix("W/") for t in header.split(",")]
    return etag in tags


def _survivor_code(incident_id: int) -> str:
    current = incident_id
    code = None
    for _hop in range(20):  # merge chains are short; guard against a cycle
        row = Incident.objects.filter(pk=current).values("code", "merged_into_id").get()
        code = row["code"]
        if row["merged_into_id"] is None:
            break
        current = row["merged_into_id"]
    return code


def _readable_public_history(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Public history with place and type ids shown as slugs and codes (2 queries)."""
    location_ids, type_ids = set(), set()
    for entry in entries:
        for name, change in entry["changes"].items():
            target = {"public_location": location_ids, "incident_type": type_ids}.get(
                name
            )
            if target is not None:
                target.update(
                    v for v in (change["old"], change["new"]) if v is not None
                )
    locations = (
        dict(Location.objects.filter(pk__in=location_ids).values_list("id", "slug"))
        if location_ids
        else {}
    )
    types = (
        dict(IncidentType.objects.filter(pk__in=type_ids).values_list("id", "code"))
        if type_ids
        else {}
    )
    renamed = {
        "public_location": "location",
        "public_latitude": "latitude",
        "public_longitude": "longitude",
        "public_geo_precision": "geo_precision",
    }
    out = []
    for entry in entries:
        changes = {}
        for name, change in entry["changes"].items():
            mapping = {"public_location": locations, "incident_type": types}.get(name)
            if mapping is not None:
                change = {
                    "old": mapping.get(change["old"], change["old"]),
                    "new": mapping.get(change["new"], change["new"]),
                }
            changes[renamed.get(name, name)] = change
        out.append({**entry, "changes": changes})
    return out


STAFF_HISTORY_SKIP = frozenset(
    {"search_vector", "search_names", "updated_at", "version"}
)


def _staff_history(incident: Incident) -> list[dict[str, Any]]:
    """Every recorded version of the incident row, all fields, with who and why."""
    from django.contrib.auth import get_user_model
    from pghistory.models import Events

    events = list(
        Events.objects.tracks(incident)
        .filter(pgh_model="incidents.IncidentEvent")
        .order_by("pgh_created_at", "pgh_id")
        .values("pgh_created_at", "pgh_data", "pgh_context", "pgh_label")
    )
    user_ids = {
        (e["pgh_context"] or {}).get("user")
        for e in events
        if isinstance((e["pgh_context"] or {}).get("user"), int)
    }
    users = (
        dict(
            get_user_model()
            .objects.filter(pk__in=user_ids)
            .values_list("pk", "username")
        )
        if user_ids
        else {}
    )
    entries = []
    previous: dict[str, Any] | None = None
    for event in events:
        data = event["pgh_data"] or {}
        context = event["pgh_context"] or {}
        changes = {
            name: {"old": (previous or {}).get(name), "new": value}
            for name, value in data.items()
            if name not in STAFF_HISTORY_SKIP
            and (previous is None or previous.get(name) != value)
        }
        entries.append(
            {
                "version": data.get("version"),
                "at": event["pgh_created_at"],
                "action": event["pgh_label"],
                "changes": changes if previous is not None else {},
                "public_reason": context.get("public_reason", ""),
                "reason": context.get("reason", ""),
                "user": users.get(context.get("user")),
            }
        )
        previous = data
    return entries


# ---------------------------------------------------------------------------------------
# Actors
# ---------------------------------------------------------------------------------------

SLUG_KEYSET = Keyset("slug", "slug", False, "str")


def _incidents_url(request, **params: str) -> str:
    return _abs(request, "api:incident-list") + "?" + urlencode(params)


def _read_list_params(view, allowed: set[str]) -> tuple[dict[str, list[str]], int, Any]:
    params = view.check_params(frozenset(allowed) | PAGINATION_PARAMS)
    return params, read_page_size(single(params, "page_size")), single(params, "cursor")


@extend_schema_view(
    list=extend_schema(
        summary="List actors",
        description="Armed forces, units and groups, with their bloc and parent. "
        "`q` matches any name or alias (in English or Arabic).",
        operation_id="v1_actors_list",
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="Name or alias."),
            OpenApiParameter(
                "kind", OpenApiTypes.STR, enum=[c.value for c in Actor.Kind]
            ),
            OpenApiParameter(
                "bloc", OpenApiTypes.STR, description="Blocs, comma separated."
            ),
            OpenApiParameter(
                "parent", OpenApiTypes.STR, description="Parent actor slug."
            ),
            OpenApiParameter("cursor", OpenApiTypes.STR),
            OpenApiParameter("page_size", OpenApiTypes.INT),
            LANG_PARAMETER,
        ],
        responses={200: s.ActorListResponseSerializer, 400: BAD_REQUEST},
    ),
    retrieve=extend_schema(
        summary="One actor",
        description="An actor with its hierarchy (parent and children), bloc, "
        "aliases in both languages and relations to other actors.",
        parameters=[LANG_PARAMETER],
        responses={
            200: s.ActorDetailSerializer,
            301: OpenApiTypes.OBJECT,
            404: s.ErrorSerializer,
        },
    ),
)
class ActorViewSet(ApiViewMixin, viewsets.GenericViewSet):
    lookup_field = "slug"
    lookup_value_regex = "[^/]+"
    serializer_class = s.ActorSerializer

    def get_queryset(self):
        return selectors.live_actors()

    def _item(self, actor: dict[str, Any], lang: str) -> dict[str, Any]:
        def name(en, ar):
            return ar if lang == "ar" and ar else en

        return {
            "slug": actor["slug"],
            "url": _abs(self.request, "api:actor-detail", slug=actor["slug"]),
            "name": name(actor["name"], actor["name_ar"]),
            "name_ar": actor["name_ar"],
            "kind": actor["kind"],
            "bloc": actor["bloc"],
            "country": actor["country"],
            "parent": None
            if actor["parent__slug"] is None
            else {
                "slug": actor["parent__slug"],
                "name": name(actor["parent__name"], actor["parent__name_ar"]),
            },
            "incidents_url": _incidents_url(self.request, actor=actor["slug"]),
        }

    VALUES = (
        "id",
        "slug",
        "name",
        "name_ar",
        "kind",
        "bloc",
        "country",
        "parent__slug",
        "parent__name",
        "parent__name_ar",
    )

    def list(self, request, *args, **kwargs):
        params, page_size, raw_cursor = _read_list_params(
            self, {"q", "kind", "bloc", "parent", "lang"}
        )
        lang = self.lang(params)
        queryset = self.get_queryset()
        q = (single(params, "q") or "").strip()
        if q:
            normalized = normalize_name(q)
            queryset = queryset.filter(
                Q(name__icontains=q)
                | Q(name_ar__icontains=q)
                | Q(slug=q)
                | Q(
                    pk__in=ActorName.objects.filter(
                        normalized__contains=normalized
                    ).values("actor_id")
                    if normalized
                    else []
                )
            )
        kind = single(params, "kind")
        if kind:
            if kind not in Actor.Kind.values:
                raise ValidationError(
                    {"kind": [f"Choose one of: {', '.join(Actor.Kind.values)}."]}
                )
            queryset = queryset.filter(kind=kind)
        bloc = single(params, "bloc")
        if bloc:
            blocs = [b.strip() for b in bloc.split(",") if b.strip()]
            unknown = [b for b in blocs if b not in Bloc.values]
            if unknown:
                raise ValidationError(
                    {
                        "bloc": [
                            f"Unknown bloc(s) {', '.join(unknown)}; choose from: "
                            f"{', '.join(Bloc.values)}."
                        ]
                    }
                )
            queryset = queryset.filter(bloc__in=blocs)
        parent = single(params, "parent")
        if parent:
            if not Actor.objects.filter(slug=parent).exists():
                raise ValidationError({"parent": [f"Unknown actor slug {parent}."]})
            queryset = queryset.filter(parent__slug=parent)
        cursor = read_cursor(raw_cursor, SLUG_KEYSET)
        count = queryset.count()
        page = paginate(
            request,
            queryset,
            SLUG_KEYSET,
            values=self.VALUES,
            page_size=page_size,
            cursor=cursor,
        )
        return Response(
            _list_response(count, page, [self._item(a, lang) for a in page.rows])
        )

    def retrieve(self, request, slug=None, *args, **kwargs):
        params = self.check_params(frozenset({"lang"}))
        lang = self.lang(params)
        actor = Actor.objects.filter(slug=slug).select_related("parent").first()
        if actor is None:
            raise NotFound(f"No actor {slug}.")
        if actor.merged_into_id is not None:
            survivor = actor
            for _hop in range(20):
                if survivor.merged_into_id is None:
                    break
                survivor = Actor.objects.get(pk=survivor.merged_into_id)
            response = Response(
                {"slug": actor.slug, "merged_into": survivor.slug},
                status=http.HTTP_301_MOVED_PERMANENTLY,
            )
            response["Location"] = _abs(request, "api:actor-detail", slug=survivor.slug)
            return response
        row = Actor.objects.filter(pk=actor.pk).values(*self.VALUES).get()
        item = self._item(row, lang)

        def ref(a) -> dict[str, str]:
            return {
                "slug": a.slug,
                "name": a.name_ar if lang == "ar" and a.name_ar else a.name,
            }

        ancestors = []
        current, seen = actor.parent, {actor.pk}
        while current is not None and current.pk not in seen:
            ancestors.append(ref(current))
            seen.add(current.pk)
            current = current.parent
        staff = is_staff_member(request.user)
        relations = (
            ActorRelation.objects.filter(Q(from_actor=actor) | Q(to_actor=actor))
            .select_related("from_actor", "to_actor")
            .prefetch_related("citations")
            .order_by("start_date", "id")
        )
        relation_items = []
        for relation in relations:
            outgoing = relation.from_actor_id == actor.pk
            other = relation.to_actor if outgoing else relation.from_actor
            relation_items.append(
                {
                    "kind": relation.kind,
                    "direction": "from" if outgoing else "to",
                    "actor": ref(other),
                    "start_date": relation.start_date,
                    "end_date": relation.end_date,
                    "confidence": relation.confidence,
                    "note": relation.note,
                    "sources": [
                        {
                            "id": src.pk,
                            "title": src.title,
                            "url": src.url,
                            "api_url": _abs(request, "api:source-detail", pk=src.pk),
                        }
                        for src in relation.citations.all()
                        if staff or not src.confidential
                    ],
                }
            )
        incidents = run_incident_filter({"actor": actor.slug}, user=request.user)
        possible = run_incident_filter(
            {"actor": actor.slug, "actor_involvement": "possible"}, user=request.user
        )
        item.update(
            {
                "description": actor.description,
                "description_ar": actor.description_ar,
                "aliases": list(
                    actor.names.order_by("name").values("name", "language")
                ),
                "ancestors": ancestors,
                "children": [
                    ref(child)
                    for child in selectors.live_actors()
                    .filter(parent=actor)
                    .order_by("name")
                ],
                "relations": relation_items,
                "statistics": {
                    "incidents": incidents.queryset.count(),
                    "incidents_possible": possible.queryset.count(),
                    "incidents_url": item["incidents_url"],
                    "incidents_possible_url": _incidents_url(
                        request, actor=actor.slug, actor_involvement="possible"
                    ),
                    "stats_url": _stats_url(request, actor.slug),
                },
            }
        )
        return Response(item)


def _stats_url(request, slug: str) -> str | None:
    try:
        base = _abs(request, "api:stats-summary")
    except NoReverseMatch:
        return None
    return base + "?" + urlencode({"group_by": "year", "actor": slug})


# ---------------------------------------------------------------------------------------
# Locations
# ---------------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary="List places (gazetteer)",
        description="Governorates, districts, subdistricts and communities with their "
        "pcode, level and parent. `q` matches any name or spelling.",
        operation_id="v1_locations_list",
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="Name or spelling."),
            OpenApiParameter(
                "level", OpenApiTypes.STR, enum=[c.value for c in Location.Level]
            ),
            OpenApiParameter(
                "parent", OpenApiTypes.STR, description="Parent slug or pcode."
            ),
            OpenApiParameter("pcode", OpenApiTypes.STR),
            OpenApiParameter("cursor", OpenApiTypes.STR),
            OpenApiParameter("page_size", OpenApiTypes.INT),
            LANG_PARAMETER,
        ],
        responses={200: s.LocationListResponseSerializer, 400: BAD_REQUEST},
    ),
    retrieve=extend_schema(
        summary="One place",
        description="A place with its pcode, level, parent chain, point and names in "
        "both languages.",
        parameters=[LANG_PARAMETER],
        responses={
            200: s.LocationDetailSerializer,
            301: OpenApiTypes.OBJECT,
            404: s.ErrorSerializer,
        },
    ),
)
class LocationViewSet(ApiViewMixin, viewsets.GenericViewSet):
    lookup_field = "slug"
    lookup_value_regex = "[^/]+"
    serializer_class = s.LocationSerializer
    VALUES = (
        "id",
        "slug",
        "name",
        "name_ar",
        "level",
        "pcode",
        "latitude",
        "longitude",
        "parent__slug",
        "parent__name",
        "parent__name_ar",
        "parent__pcode",
    )

    def get_queryset(self):
        if is_staff_member(self.request.user):
            return selectors.live_locations()
        return selectors.public_locations()

    def _known_places(self):
        """Places a slug or pcode may name: the public never learns that a sensitive
        facility's own site exists (it answers as an unknown slug); any other place
        answers as if no facility were sensitive."""
        if is_staff_member(self.request.user):
            return Location.objects.all()
        return Location.objects.exclude(selectors.sensitive_facility_site())

    def _item(self, row: dict[str, Any], lang: str) -> dict[str, Any]:
        def name(en, ar):
            return ar if lang == "ar" and ar else en

        return {
            "slug": row["slug"],
            "url": _abs(self.request, "api:location-detail", slug=row["slug"]),
            "name": name(row["name"], row["name_ar"]),
            "name_ar": row["name_ar"],
            "level": row["level"],
            "pcode": row["pcode"],
            "parent": None
            if row["parent__slug"] is None
            else {
                "slug": row["parent__slug"],
                "name": name(row["parent__name"], row["parent__name_ar"]),
                "pcode": row["parent__pcode"],
            },
            "latitude": row["latitude"],
            "longitude": row["longitude"],
            "incidents_url": _incidents_url(self.request, location=row["slug"]),
        }

    def list(self, request, *args, **kwargs):
        params, page_size, raw_cursor = _read_list_params(
            self, {"q", "level", "parent", "pcode", "lang"}
        )
        lang = self.lang(params)
        queryset = self.get_queryset()
        q = (single(params, "q") or "").strip()
        if q:
            normalized = normalize_name(q)
            queryset = queryset.filter(
                Q(name__icontains=q)
                | Q(name_ar__icontains=q)
                | Q(slug=q)
                | Q(pcode=q)
                | Q(
                    pk__in=LocationName.objects.filter(
                        normalized__contains=normalized
                    ).values("location_id")
                    if normalized
                    else []
                )
            )
        level = single(params, "level")
        if level:
            if level not in Location.Level.values:
                raise ValidationError(
                    {"level": [f"Choose one of: {', '.join(Location.Level.values)}."]}
                )
            queryset = queryset.filter(level=level)
        parent = single(params, "parent")
        if parent:
            parent_id = (
                self._known_places()
                .filter(Q(slug=parent) | Q(pcode=parent))
                .values_list("id", flat=True)
                .first()
            )
            if parent_id is None:
                raise ValidationError(
                    {"parent": [f"Unknown place slug or pcode {parent}."]}
                )
            queryset = queryset.filter(parent_id=parent_id)
        pcode = single(params, "pcode")
        if pcode:
            queryset = queryset.filter(pcode=pcode)
        cursor = read_cursor(raw_cursor, SLUG_KEYSET)
        count = queryset.count()
        page = paginate(
            request,
            queryset,
            SLUG_KEYSET,
            values=self.VALUES,
            page_size=page_size,
            cursor=cursor,
        )
        return Response(
            _list_response(count, page, [self._item(r, lang) for r in page.rows])
        )

    def retrieve(self, request, slug=None, *args, **kwargs):
        params = self.check_params(frozenset({"lang"}))
        lang = self.lang(params)
        location = self._known_places().filter(Q(slug=slug) | Q(pcode=slug)).first()
        if location is None:
            raise NotFound(f"No place {slug}.")
        if location.merged_into_id is not None:
            survivor = location
            for _hop in range(20):
                if survivor.merged_into_id is None:
                    break
                survivor = Location.objects.get(pk=survivor.merged_into_id)
            response = Response(
                {"slug": location.slug, "merged_into": survivor.slug},
                status=http.HTTP_301_MOVED_PERMANENTLY,
            )
            response["Location"] = _abs(
                request, "api:location-detail", slug=survivor.slug
            )
            return response
        row = Location.objects.filter(pk=location.pk).values(*self.VALUES).get()
        item = self._item(row, lang)

        def ref(place) -> dict[str, Any]:
            return {
                "slug": place.slug,
                "name": place.name_ar if lang == "ar" and place.name_ar else place.name,
                "pcode": place.pcode,
            }

        ancestors = []
        current, seen = location.parent, {location.pk}
        while current is not None and current.pk not in seen:
            ancestors.append(ref(current))
            seen.add(current.pk)
            current = current.parent
        item.update(
            {
                "ancestors": ancestors,
                "children": [
                    ref(child)
                    for child in self.get_queryset()
                    .filter(parent=location)
                    .order_by("name")[:1000]
                ],
                "aliases": list(
                    location.names.order_by("name").values("name", "language")
                ),
            }
        )
        return Response(item)


# ---------------------------------------------------------------------------------------
# Facilities
# ---------------------------------------------------------------------------------------

REF_KEYSET = Keyset("ref", "ref", False, "str")


def _districts(location_ids: list[int]) -> dict[int, dict[str, Any]]:
    """location id → its district (or the nearest coarser place): what the public
    learns about where a sensitive facility is. One recursive query."""
    if not location_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            """
            WITH RECURSIVE up(start_id, id, parent_id, level, depth) AS (
                SELECT l.id, l.id, l.parent_id, l.level, 0
                FROM incidents_location l WHERE l.id = ANY(%s)
                UNION ALL
                SELECT up.start_id, p.id, p.parent_id, p.level, up.depth + 1
                FROM incidents_location p JOIN up ON p.id = up.parent_id
                WHERE up.level NOT IN ('district', 'governorate', 'country')
                  AND up.depth < 20
            )
            SELECT DISTINCT ON (up.start_id) up.start_id, l.slug, l.name, l.name_ar,
                   l.pcode
            FROM up JOIN incidents_location l ON l.id = up.id
            WHERE up.level IN ('district', 'governorate', 'country')
            ORDER BY up.start_id, up.depth
            """,
            [list(location_ids)],
        )
        return {
            row[0]: {"slug": row[1], "name": row[2], "name_ar": row[3], "pcode": row[4]}
            for row in cursor.fetchall()
        }


@extend_schema_view(
    list=extend_schema(
        summary="List facilities",
        description="Hospitals, schools and other facilities that incidents hit. A "
        "sensitive facility is known to the public only by its ref, target type and "
        "district: no name, operator, place or point.",
        operation_id="v1_facilities_list",
        parameters=[
            OpenApiParameter(
                "q",
                OpenApiTypes.STR,
                description="Ref, or name (not of sensitive facilities).",
            ),
            OpenApiParameter("target_type", OpenApiTypes.STR),
            OpenApiParameter("cursor", OpenApiTypes.STR),
            OpenApiParameter("page_size", OpenApiTypes.INT),
            LANG_PARAMETER,
        ],
        responses={200: s.FacilityListResponseSerializer, 400: BAD_REQUEST},
    ),
    retrieve=extend_schema(
        summary="One facility and the incidents that hit it",
        description="The facility and the list of published incidents that hit it. A "
        "sensitive facility is known to the public only by its ref, target type and "
        "district: no name, operator, place or point.",
        parameters=[LANG_PARAMETER],
        responses={200: s.FacilityDetailSerializer, 404: s.ErrorSerializer},
    ),
)
class FacilityViewSet(FacilityProtectionMixin, ApiViewMixin, viewsets.GenericViewSet):
    """A sensitive facility is known to the public only by its ref, target type and
    district (DOMAIN.md): no name, operator, place or point."""

    lookup_field = "ref"
    lookup_value_regex = "[^/]+"
    serializer_class = s.FacilitySerializer
    VALUES = (
        "id",
        "ref",
        "name",
        "name_ar",
        "operator",
        "sensitive",
        "latitude",
        "longitude",
        "target_type__code",
        "location_id",
        "location__slug",
        "location__name",
        "location__name_ar",
        "location__pcode",
    )

    def get_queryset(self):
        return selectors.public_facilities()

    def _items(self, rows: list[dict[str, Any]], lang: str) -> list[dict[str, Any]]:
        staff = is_staff_member(self.request.user)
        districts = _districts([r["location_id"] for r in rows])

        def name(en, ar):
            return ar if lang == "ar" and ar else en

        items = []
        for row in rows:
            district = districts.get(row["location_id"])
            item = {
                "ref": row["ref"],
                "url": _abs(self.request, "api:facility-detail", ref=row["ref"]),
                "target_type": row["target_type__code"],
                "district": None
                if district is None
                else {
                    "slug": district["slug"],
                    "name": name(district["name"], district["name_ar"]),
                    "pcode": district["pcode"],
                },
                "sensitive": row["sensitive"],
                "incidents_url": _incidents_url(self.request, facility=row["ref"]),
            }
            if staff or not row["sensitive"]:
                item.update(
                    {
                        "name": name(row["name"], row["name_ar"]),
                        "name_ar": row["name_ar"],
                        "operator": row["operator"],
                        "location": {
                            "slug": row["location__slug"],
                            "name": name(
                                row["location__name"], row["location__name_ar"]
                            ),
                            "pcode": row["location__pcode"],
                        },
                        "latitude": row["latitude"],
                        "longitude": row["longitude"],
                    }
                )
            items.append(item)
        return items

    def list(self, request, *args, **kwargs):
        params, page_size, raw_cursor = _read_list_params(
            self, {"q", "target_type", "lang"}
        )
        lang = self.lang(params)
        queryset = self.get_queryset()
        q = (single(params, "q") or "").strip()
        if q:
            condition = Q(ref=q)
            name_match = Q(name__icontains=q) | Q(name_ar__icontains=q)
            if not is_staff_member(request.user):
                name_match &= Q(sensitive=False)
            queryset = queryset.filter(condition | name_match)
        target_type = single(params, "target_type")
        if target_type:
            if not TargetType.objects.filter(code=target_type).exists():
                raise ValidationError(
                    {
                        "target_type": [
                            f"Unknown target type {target_type}; see /api/v1/vocabularies/."
                        ]
                    }
                )
            queryset = queryset.filter(target_type__code=target_type)
        cursor = read_cursor(raw_cursor, REF_KEYSET)
        count = queryset.count()
        page = paginate(
            request,
            queryset,
            REF_KEYSET,
            values=self.VALUES,
            page_size=page_size,
            cursor=cursor,
        )
        return Response(_list_response(count, page, self._items(page.rows, lang)))

    def retrieve(self, request, ref=None, *args, **kwargs):
        params = self.check_params(frozenset({"lang"}))
        lang = self.lang(params)
        rows = list(self.get_queryset().filter(ref=ref).values(*self.VALUES))
        if not rows:
            raise NotFound(f"No facility {ref}.")
        item = self._items(rows, lang)[0]
        visible = selectors.incidents_for(request.user).values("id")
        item["incidents"] = [
            {
                "code": t["incident__code"],
                "url": _abs(request, "api:incident-detail", code=t["incident__code"]),
                "title": t["incident__title"],
                "date_start": t["incident__date_start"],
                "date_end": t["incident__date_end"],
                "damage": t["damage"],
            }
            for t in IncidentTarget.objects.filter(
                facility_id=rows[0]["id"], incident_id__in=visible
            )
            .order_by("incident__date_start", "incident_id")
            .values(
                "incident__code",
                "incident__title",
                "incident__date_start",
                "incident__date_end",
                "damage",
            )
        ]
        return Response(item)


# ---------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------

SOURCE_KEYSET = Keyset("-id", "id", True, "int")


@extend_schema_view(
    list=extend_schema(
        summary="List sources (public ones only)",
        description="The sources cited by published incidents. A confidential source "
        "is never listed.",
        operation_id="v1_sources_list",
        parameters=[
            OpenApiParameter("q", OpenApiTypes.STR, description="Title or publisher."),
            OpenApiParameter(
                "kind", OpenApiTypes.STR, enum=[c.value for c in Source.Kind]
            ),
            OpenApiParameter("cursor", OpenApiTypes.STR),
            OpenApiParameter("page_size", OpenApiTypes.INT),
        ],
        responses={200: s.SourceListResponseSerializer, 400: BAD_REQUEST},
    ),
    retrieve=extend_schema(
        summary="One source",
        description="A public source. A confidential source answers 404, exactly "
        "like an unknown id.",
        responses={200: s.SourceSerializer, 404: s.ErrorSerializer},
    ),
)
class SourceViewSet(
    SourceProtectionMixin, SourceWriteMixin, ApiViewMixin, viewsets.GenericViewSet
):
    """Public sources only: a confidential source answers 404, exactly like an unknown
    id (DOMAIN.md). SourceWriteMixin (api/views_write.py) adds POST. `file/` serves a
    published image re-encoded without metadata (incidents/public_files.py)."""

    serializer_class = s.SourceSerializer
    lookup_value_regex = "[0-9]+"

    def get_queryset(self):
        if is_staff_member(self.request.user):
            return Source.objects.all()
        return selectors.public_sources()

    def _item(self, source) -> dict[str, Any]:
        staff = is_staff_member(self.request.user)
        item = s.source_item(source, self.request, staff=staff)
        item["incidents_url"] = _incidents_url(self.request, source=str(source.pk))
        return item

    def list(self, request, *args, **kwargs):
        params, page_size, raw_cursor = _read_list_params(self, {"q", "kind"})
        queryset = self.get_queryset()
        q = (single(params, "q") or "").strip()
        if q:
            queryset = queryset.filter(
                Q(title__icontains=q) | Q(publisher__icontains=q)
            )
        kind = single(params, "kind")
        if kind:
            if kind not in Source.Kind.values:
                raise ValidationError(
                    {"kind": [f"Choose one of: {', '.join(Source.Kind.values)}."]}
                )
            queryset = queryset.filter(kind=kind)
        cursor = read_cursor(raw_cursor, SOURCE_KEYSET)
        count = queryset.count()
        # Page over ids, then load the page's sources as objects (for file URLs).
        page = paginate(
            request,
            queryset,
            SOURCE_KEYSET,
            values=("id",),
            page_size=page_size,
            cursor=cursor,
        )
        by_id = {
            src.pk: src
            for src in Source.objects.filter(pk__in=[r["id"] for r in page.rows])
        }
        return Response(
            _list_response(count, page, [self._item(by_id[r["id"]]) for r in page.rows])
        )

    def retrieve(self, request, pk=None, *args, **kwargs):
        self.check_params(frozenset())
        source = self.get_queryset().filter(pk=pk).first()
        if source is None:
            raise NotFound(f"No source {pk}.")
        return Response(self._item(source))

    def perform_content_negotiation(self, request, force=False):
        # The file answers an image whatever the caller accepts (an <img> asks for
        # image/*); its errors are JSON.
        return super().perform_content_negotiation(
            request, force=force or self.action == "public_file"
        )

    @extend_schema(
        summary="A source's published file",
        description="The file of a public source that a reviewer published "
        "(`file_public`), re-encoded from its pixels alone: no EXIF (GPS included), "
        "XMP, ICC profile or comments. Images only: JPEG, PNG and WebP in their own "
        "format, GIF as PNG (first frame). Any other file (PDF included), an "
        "unpublished file and a confidential source answer 404. `file_url` in a "
        "source points here when the file is served. Always the same for staff and "
        "the public.",
        parameters=[],
        responses={
            (200, "image/jpeg"): OpenApiTypes.BINARY,
            (200, "image/png"): OpenApiTypes.BINARY,
            (200, "image/webp"): OpenApiTypes.BINARY,
            404: s.ErrorSerializer,
        },
    )
    @action(detail=True, methods=["get"], url_path="file", url_name="file")
    def public_file(self, request, pk=None, *args, **kwargs):
        self.check_params(frozenset())
        # The redaction layer decides (never confidential, only `file_public`), for
        # staff too: this is the public copy, and the same answer for everyone.
        source = selectors.public_source_file(pk)
        if source is None:
            raise NotFound(f"No published file for source {pk}.")
        if not public_files.servable(source):
            raise NotFound(
                f"Source {pk}'s file ({source.mime}) is not served: only images "
                "(JPEG, PNG, WebP, GIF) are published, re-encoded without metadata. "
                "Its hash, size and type are public."
            )
        try:
            body, content_type = public_files.reencode(source)
        except public_files.NotPublishable as error:
            raise NotFound(f"Source {pk}'s file is not served: {error}") from None
        response = HttpResponse(body, content_type=content_type)
        response["Content-Length"] = str(len(body))
        response["Content-Disposition"] = (
            f'inline; filename="{public_files.public_filename(source)}"'
        )
        response["X-Content-Type-Options"] = "nosniff"
        # Opened on its own, the file gets no script, no plugin, no same-origin rights.
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        return response


# ---------------------------------------------------------------------------------------
# Vocabularies
# ---------------------------------------------------------------------------------------

GRADING_DEFINITIONS = {
    "confirmed": "Established by multiple credible sources, including evidence of who "
    "was responsible.",
    "fair": "Reported by two or more credible sources; the event and its attribution "
    "are plausible.",
    "weak": "A single source, or sources that give little detail.",
    "contested": "Credible sources disagree about what happened or who did it.",
    "discounted": "Shown not to have happened as reported, or not by the actors "
    "named; kept for the record and left out of public lists by default.",
    "not_assessed": "Not yet graded (e.g. imported from a dataset).",
}


def _choice_items(choices, definitions: dict[str, str] | None = None) -> list[dict]:
    items = []
    for value, label in choices.choices:
        with translation.override("ar"):
            label_ar = str(label)
        items.append(
            {
                "code": value,
                "label": str(label),
                "label_ar": label_ar if label_ar != str(label) else "",
                "definition": (definitions or {}).get(value, ""),
            }
        )
    return items


def _table_items(model) -> list[dict]:
    return [
        {
            "code": row["code"],
            "label": row["label"],
            "label_ar": row["label_ar"],
            "definition": row["definition"],
            "definition_ar": row["definition_ar"],
            "parent": row["parent__code"],
            "active": row["active"],
        }
        for row in model.objects.order_by("sort_order", "code").values(
            "code",
            "label",
            "label_ar",
            "definition",
            "definition_ar",
            "parent__code",
            "active",
        )
    ]


class VocabularyView(ApiViewMixin, APIView):
    """Every code list a tool needs to render or validate CivTrack data."""

    @extend_schema(
        summary="Every code list, with labels in English and Arabic and definitions",
        description="Every code list a tool needs to render or validate CivTrack "
        "data: incident types, weapons, target types, gradings, statuses, precisions, "
        "casualty groups and outcomes, blocs and the other choices.",
        responses={200: s.VocabulariesSerializer},
    )
    def get(self, request, *args, **kwargs):
        self.check_params(frozenset())
        with translation.override("en"):
            data = {
                "incident_types": _table_items(IncidentType),
                "weapons": _table_items(WeaponType),
                "target_types": _table_items(TargetType),
                "gradings": _choice_items(Incident.Grading, GRADING_DEFINITIONS),
                "statuses": _choice_items(Incident.Status),
                "date_precisions": _choice_items(DatePrecision),
                "geo_precisions": _choice_items(GeoPrecision),
                "times_of_day": _choice_items(Incident.TimeOfDay),
                "casualty_groups": _choice_items(CasualtyGroup),
                "casualty_outcomes": _choice_items(CasualtyOutcome),
                "blocs": _choice_items(Bloc),
                "confidences": _choice_items(Confidence),
                "roles": _choice_items(Attribution.Role),
                "positions": _choice_items(Attribution.Position),
                "weapon_certainties": _choice_items(IncidentWeapon.Certainty),
                "damages": _choice_items(IncidentTarget.Damage),
                "actor_kinds": _choice_items(Actor.Kind),
                "location_levels": _choice_items(Location.Level),
                "source_kinds": _choice_items(Source.Kind),
                "source_reliabilities": _choice_items(Source.Reliability),
                "external_ref_systems": _choice_items(ExternalRef.System),
                "claims": _choice_items(Claim),
            }
        return Response(data)
