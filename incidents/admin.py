"""The researchers' admin (PAGES.md "The admin"; DOMAIN.md "Workflow and roles").

Every save goes through `incidents.services`: the admin parses the forms, converts the
inlines into the services' dataclasses, calls the service, and maps the service's
errors back onto the form and inline fields. A refused save (invalid, not allowed, a
stale version, a possible duplicate) re-shows the form with the person's input kept and
the reason next to the field (see `ServiceSaveMixin`).

Permissions come from the role groups (researcher, reviewer, admin) through the
services' role helpers, not from Django's per-model permissions.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import get_user_model
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import router, transaction
from django.db.models import Case, Exists, F, OuterRef, Q, Subquery, When
from django.db.models.expressions import OrderBy
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpResponseRedirect, StreamingHttpResponse
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from incidents import selectors, services
from incidents.forms import (
    CasualtyInlineForm,
    CitationInlineForm,
    IncidentAdminForm,
    MergeActorForm,
    MergeIncidentForm,
    MergeLocationForm,
    PublishForm,
    ReasonForm,
    ServiceValidatedModelForm,
    SourceAdminForm,
    VictimInlineForm,
    rtl_widgets,
)
from incidents.models import (
    Actor,
    ActorName,
    ActorRelation,
    Attribution,
    CasualtyCount,
    Citation,
    ExternalRef,
    Facility,
    ImportBatch,
    Incident,
    IncidentTarget,
    IncidentType,
    IncidentWeapon,
    Location,
    LocationName,
    ProtectionRequest,
    Source,
    TargetType,
    Victim,
    WeaponType,
)
from incidents.spreadsheet import spreadsheet_cells
from incidents.templatetags.civtrack import range_words
from incidents.text import normalize_name

# ---------------------------------------------------------------------------------------
# Saving through the services, with their errors back on the form
# ---------------------------------------------------------------------------------------


class ServiceRefused(Exception):
    """A service refused a save; carries its errors keyed like the admin's forms.

    form_errors: {field name or "__all__": [messages]}
    inline_errors: {part name: {form index in the formset or "__all__": {field: [..]}}}
    """

    def __init__(
        self,
        form_errors: dict[str, list[str]] | None = None,
        inline_errors: dict[str, dict[Any, Any]] | None = None,
        **context: Any,
    ):
        self.form_errors = form_errors or {}
        self.inline_errors = inline_errors or {}
        self.context = context
        if not self.form_errors and not self.inline_errors:
            self.form_errors = {NON_FIELD_ERRORS: [str(_("The change was refused."))]}
        super().__init__(self.form_errors)


def _messages(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [f"{key}: {m}" for key, v in value.items() for m in _messages(v)]
    if isinstance(value, list | tuple):
        return [m for v in value for m in _messages(v)]
    return [str(value)]


def _form_errors_from(error: Exception, form) -> dict[str, list[str]]:
    """A service's PermissionDenied / ValidationError as {field: [messages]}."""
    if isinstance(error, PermissionDenied):
        return {NON_FIELD_ERRORS: [str(error) or str(_("You may not do this."))]}
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        detail: dict[str, Any] = error.message_dict
    elif isinstance(error, ValidationError):
        detail = {NON_FIELD_ERRORS: error.messages}
    else:
        detail = {NON_FIELD_ERRORS: [str(error)]}
    errors: dict[str, list[str]] = {}
    for key, value in detail.items():
        if key in form.fields:
            errors.setdefault(key, []).extend(_messages(value))
        elif key in (NON_FIELD_ERRORS, None, ""):
            errors.setdefault(NON_FIELD_ERRORS, []).extend(_messages(value))
        else:
            errors.setdefault(NON_FIELD_ERRORS, []).extend(
                f"{key}: {m}" for m in _messages(value)
            )
    return errors


class ServiceSaveMixin:
    """Run a ModelAdmin's POST in two passes when a service refuses the save.

    Pass one is Django's own change form: when the forms are valid, `save_model` calls
    the service. If the service refuses (raising `ServiceRefused`), nothing was written
    (services are atomic; a stale-version WriteConflict row is the only thing kept, on
    purpose), and pass two rebuilds the same forms from the same POST with the service's
    errors attached during validation, so Django re-renders them with every input kept.
    The exception is caught *inside* the atomic block Django would open, so the block
    commits: the WriteConflict the service logged survives.
    """

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        if request.method != "POST":
            return super().changeform_view(request, object_id, form_url, extra_context)
        with transaction.atomic(using=router.db_for_write(self.model)):
            try:
                return self._changeform_view(
                    request, object_id, form_url, extra_context
                )
            except ServiceRefused as refused:
                request._civtrack_refused = refused
            return self._changeform_view(request, object_id, form_url, extra_context)

    def get_form(self, request, obj=None, change=False, **kwargs):
        form = super().get_form(request, obj, change=change, **kwargs)
        refused = getattr(request, "_civtrack_refused", None)
        if refused is not None:
            form = type(form.__name__, (form,), {"service_errors": refused.form_errors})
        return form

    def _create_formsets(self, request, obj, change):
        # Django's private hook is the one place the bound formsets are visible before
        # save_model; the services need them there to save everything in one call.
        formsets, inline_instances = super()._create_formsets(request, obj, change)
        request._civtrack_formsets = list(zip(formsets, inline_instances, strict=True))
        return formsets, inline_instances

    def save_related(self, request, form, formsets, change):
        """The service saved the inlines with the object (in save_model)."""

    def construct_change_message(self, request, form, formsets, add=False):
        if add:
            return [{"added": {}}]
        return [{"changed": {"fields": list(form.changed_data)}}]

    def render_change_form(self, request, context, *args, **kwargs):
        refused = getattr(request, "_civtrack_refused", None)
        if refused is not None:
            context.update(refused.context)
        return super().render_change_form(request, context, *args, **kwargs)

    @staticmethod
    def model_data(form, exclude: tuple[str, ...] = ()) -> dict[str, Any]:
        """The cleaned values of the form's model fields."""
        names = {f.name for f in form._meta.model._meta.fields}
        return {
            name: value
            for name, value in form.cleaned_data.items()
            if name in names and name not in exclude
        }


def _tell_protection_requests(request, saved) -> None:
    """Say so when a save kept a protection and asked a reviewer to lower it instead
    (services: DOMAIN.md "Lowering protection"); the value shown stays protected."""
    for asked in getattr(saved, "protection_requests", None) or []:
        messages.warning(
            request,
            format_html(
                'Not changed yet: <a href="{}">request #{}</a> ({}) waits for a second '
                "person who is a reviewer; until approved it stays protected.",
                reverse("admin:incidents_protectionrequest_change", args=[asked.pk]),
                asked.pk,
                asked.get_target_display(),
            ),
        )


class ServiceErrorsFormSet(BaseInlineFormSet):
    """An inline formset that re-attaches the errors a service raised for its rows."""

    service_errors: dict[Any, dict[str, list[str]]] | None = None

    def clean(self):
        super().clean()
        errors = self.service_errors or {}
        for index, row in errors.items():
            if index == NON_FIELD_ERRORS:
                continue
            form = self.forms[index]
            for name, messages_ in row.items():
                for message in messages_:
                    form.add_error(name if name in form.fields else None, message)
        if errors.get(NON_FIELD_ERRORS):
            raise ValidationError(
                [m for row in errors[NON_FIELD_ERRORS].values() for m in row]
            )


# ---------------------------------------------------------------------------------------
# Permissions from the role groups
# ---------------------------------------------------------------------------------------


class StaffPermissions:
    """Researchers, reviewers and admins work on everything but vocabularies; nothing
    is deleted (DOMAIN.md: "Nothing is lost")."""

    def has_module_permission(self, request):
        return services.is_staff_member(request.user)

    def has_view_permission(self, request, obj=None):
        return services.is_staff_member(request.user)

    def has_add_permission(self, request, *args):
        return services.is_staff_member(request.user)

    def has_change_permission(self, request, obj=None):
        return services.is_staff_member(request.user)

    def has_delete_permission(self, request, obj=None):
        return False

    def has_merge_permission(self, request, obj=None):
        return services.is_reviewer(request.user)


class AdminOnlyEdits(StaffPermissions):
    """Vocabularies: everybody on the staff reads them, admins edit them."""

    def has_add_permission(self, request, *args):
        return services.is_admin(request.user)

    def has_change_permission(self, request, obj=None):
        return services.is_admin(request.user)


# ---------------------------------------------------------------------------------------
# Incident inlines
# ---------------------------------------------------------------------------------------


class PartInline(admin.TabularInline):
    """An inline for one of the incident's parts (services.IncidentParts.<part>)."""

    part: str = ""
    formset = ServiceErrorsFormSet
    form = ServiceValidatedModelForm
    extra = 1

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        refused = getattr(request, "_civtrack_refused", None)
        if refused is not None and refused.inline_errors.get(self.part):
            formset = type(
                formset.__name__,
                (formset,),
                {"service_errors": refused.inline_errors[self.part]},
            )
        return formset

    def _can_edit(self, request, obj) -> bool:
        if obj is None:
            return services.is_staff_member(request.user)
        return services.can_edit_incident(request.user, obj)

    def has_view_permission(self, request, obj=None):
        return services.is_staff_member(request.user)

    def has_add_permission(self, request, obj=None):
        return self._can_edit(request, obj)

    def has_change_permission(self, request, obj=None):
        return self._can_edit(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self._can_edit(request, obj)

    def to_data(self, data: dict[str, Any], instance) -> Any:
        raise NotImplementedError


class CasualtyInline(PartInline):
    model = CasualtyCount
    part = "casualty_rows"
    form = CasualtyInlineForm
    fields = ("group", "outcome", "min", "max", "best", "note")
    verbose_name = _("casualty count")
    verbose_name_plural = _("casualties (ranges: min ≤ best ≤ max)")

    def to_data(self, data, instance):
        return services.CasualtyRowData(
            group=data["group"],
            outcome=data["outcome"],
            min=data["min"],
            max=data["max"],
            best=data.get("best"),
            note=data.get("note") or "",
        )


class AttributionInline(PartInline):
    model = Attribution
    part = "attributions"
    fields = (
        "actor",
        "role",
        "confidence",
        "alternative",
        "position",
        "conceded_killed",
        "note",
    )
    autocomplete_fields = ("actor",)

    def to_data(self, data, instance):
        return services.AttributionData(
            actor=data["actor"],
            role=data["role"],
            confidence=data["confidence"],
            alternative=data.get("alternative"),
            position=data["position"],
            conceded_killed=data.get("conceded_killed"),
            note=data.get("note") or "",
        )


class WeaponInline(PartInline):
    model = IncidentWeapon
    part = "weapons"
    fields = ("weapon", "certainty")
    autocomplete_fields = ("weapon",)

    def to_data(self, data, instance):
        return services.WeaponData(weapon=data["weapon"], certainty=data["certainty"])


class TargetInline(PartInline):
    model = IncidentTarget
    part = "targets"
    fields = ("target_type", "facility", "damage")
    autocomplete_fields = ("target_type", "facility")

    def to_data(self, data, instance):
        return services.TargetData(
            target_type=data["target_type"],
            facility=data.get("facility"),
            damage=data["damage"],
        )


class CitationInline(PartInline):
    model = Citation
    part = "citations"
    form = CitationInlineForm
    fields = ("source", "supports", "locator", "excerpt")
    autocomplete_fields = ("source",)

    def to_data(self, data, instance):
        return services.CitationData(
            source=data["source"],
            supports=list(data.get("supports") or []),
            excerpt=data.get("excerpt") or "",
            locator=data.get("locator") or "",
        )


class ExternalRefInline(PartInline):
    model = ExternalRef
    part = "external_refs"
    fields = ("system", "value", "url", "release", "release_date", "batch", "raw_json")
    readonly_fields = ("batch", "raw_json")
    extra = 0
    verbose_name_plural = _("external references")

    @admin.display(description=_("imported row (restricted)"))
    def raw_json(self, obj):
        if obj is None or obj.raw is None:
            return "–"
        import json

        return format_html(
            "<pre style='max-height:8em;overflow:auto'>{}</pre>",
            json.dumps(obj.raw, ensure_ascii=False, indent=1),
        )

    def to_data(self, data, instance):
        existing = instance if instance is not None and instance.pk else None
        return services.ExternalRefData(
            system=data["system"],
            value=data["value"],
            url=data.get("url") or "",
            release=data.get("release") or "",
            release_date=data.get("release_date"),
            batch=existing.batch if existing else None,
            raw=existing.raw if existing else None,
        )


class VictimInline(PartInline):
    model = Victim
    part = "victims"
    form = VictimInlineForm
    fields = (
        "name",
        "name_ar",
        "sex",
        "age",
        "age_group",
        "civilian_status",
        "outcome",
        "protected_role",
        "consent_note",
        "publish_name",
    )
    extra = 0
    verbose_name_plural = _("victims (names restricted)")

    def to_data(self, data, instance):
        return services.VictimData(
            outcome=data["outcome"],
            name=data.get("name") or "",
            name_ar=data.get("name_ar") or "",
            sex=data["sex"],
            age=data.get("age"),
            age_group=data["age_group"],
            civilian_status=data["civilian_status"],
            protected_role=data["protected_role"],
            consent_note=data.get("consent_note") or "",
            publish_name=bool(data.get("publish_name")),
        )


# ---------------------------------------------------------------------------------------
# Incident list filters
# ---------------------------------------------------------------------------------------


class GovernorateFilter(admin.SimpleListFilter):
    title = _("governorate")
    parameter_name = "governorate"

    def lookups(self, request, model_admin):
        governorates = Location.objects.filter(level=Location.Level.GOVERNORATE)
        return [(str(g.pk), g.name) for g in governorates.order_by("pcode", "name")]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(governorate__isnull=True)
        if self.value() and self.value().isdigit():
            return queryset.filter(governorate_id=int(self.value()))
        return queryset


class PerpetratorFilter(admin.SimpleListFilter):
    title = _("actor (perpetrator)")
    parameter_name = "perpetrator"

    def lookups(self, request, model_admin):
        actors = Actor.objects.filter(
            Exists(
                Attribution.objects.filter(
                    actor=OuterRef("pk"), role=Attribution.Role.PERPETRATOR
                )
            )
        ).order_by("name")
        return [(str(a.pk), a.name) for a in actors]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            ids = selectors.actor_descendant_ids([int(self.value())])
            return queryset.filter(
                Exists(
                    Attribution.objects.filter(
                        incident=OuterRef("pk"),
                        actor_id__in=ids,
                        role=Attribution.Role.PERPETRATOR,
                    )
                )
            )
        return queryset


class CreatedByFilter(admin.SimpleListFilter):
    title = _("created by")
    parameter_name = "created_by"

    def lookups(self, request, model_admin):
        users = get_user_model().objects.filter(is_staff=True).order_by("username")
        return [(str(u.pk), u.get_username()) for u in users]

    def queryset(self, request, queryset):
        if self.value() and self.value().isdigit():
            return queryset.filter(created_by_id=int(self.value()))
        return queryset


class ImportBatchFilter(admin.SimpleListFilter):
    title = _("import batch")
    parameter_name = "import_batch"

    def lookups(self, request, model_admin):
        batches = ImportBatch.objects.order_by("-id")[:50]
        return [("none", _("entered by hand"))] + [(str(b.pk), str(b)) for b in batches]

    def queryset(self, request, queryset):
        if self.value() == "none":
            return queryset.filter(import_batch__isnull=True)
        if self.value() and self.value().isdigit():
            return queryset.filter(import_batch_id=int(self.value()))
        return queryset


# ---------------------------------------------------------------------------------------
# Incidents
# ---------------------------------------------------------------------------------------


EXPORT_COLUMNS = (
    "code",
    "status",
    "title",
    "title_ar",
    "date_start",
    "date_end",
    "date_precision",
    "time_of_day",
    "incident_type",
    "governorate",
    "location",
    "latitude",
    "longitude",
    "geo_precision",
    "grading",
    "aggregate",
    "casualties_known",
    "civilians_killed_min",
    "civilians_killed_max",
    "civilians_injured_min",
    "civilians_injured_max",
    "children_killed_min",
    "children_killed_max",
    "total_killed_min",
    "total_killed_max",
    "total_injured_min",
    "total_injured_max",
)


class _Echo:
    def write(self, value: str) -> str:
        return value


def _posted_version(request, incident: Incident) -> int | None:
    """The version of `incident` the publish confirm page showed (None if absent or
    not a version)."""
    form = PublishForm({"version": request.POST.get(f"version_{incident.pk}")})
    return form.cleaned_data["version"] if form.is_valid() else None


def _stale_publish(conflict: services.StaleVersionError) -> str:
    return str(
        _(
            "not published: it changed since version %(sent)s, which you reviewed "
            "(it is now version %(current)s). Read it again before publishing."
        )
        % {"sent": conflict.sent_version, "current": conflict.current_version}
    )


class NullsLast(OrderBy):
    """An admin column ordering that keeps not-recorded counts (null) last in both
    directions, as the pages and the API do (DOMAIN.md): Django's admin reverses an
    OrderBy's null placement along with its direction."""

    def __init__(self, field: str):
        super().__init__(F(field), nulls_last=True)

    def reverse_ordering(self):
        self.descending = not self.descending
        return self


@admin.register(Incident)
class IncidentAdmin(ServiceSaveMixin, admin.ModelAdmin):
    form = IncidentAdminForm
    change_form_template = "admin/incidents/incident/change_form.html"
    inlines = [
        CasualtyInline,
        AttributionInline,
        WeaponInline,
        TargetInline,
        CitationInline,
        ExternalRefInline,
        VictimInline,
    ]
    list_display = (
        "code",
        "title",
        "date_window",
        "status",
        "grading",
        "incident_type",
        "governorate",
        "civilians_killed",
        "total_killed",
        "total_injured",
    )
    list_display_links = ("code", "title")
    list_select_related = ("incident_type", "governorate")
    list_filter = (
        "status",
        "grading",
        "incident_type",
        GovernorateFilter,
        PerpetratorFilter,
        CreatedByFilter,
        ImportBatchFilter,
    )
    search_fields = ("code", "title")  # widened in get_search_results
    search_help_text = _("Code, title, actor (any alias) or place (any spelling).")
    date_hierarchy = None
    list_per_page = 50
    autocomplete_fields = ("location", "incident_type")
    readonly_fields = (
        "code",
        "status",
        "version",
        "totals",
        "governorate",
        "created_by",
        "last_edited_by",
        "submitted_by",
        "reviewed_by",
        "import_batch",
        "first_published_at",
        "published_at",
        "created_at",
        "updated_at",
        "withdrawn_reason",
        "merged_into",
        "public_place",
        "duplicates_nearby",
    )
    actions = [
        "submit_selected",
        "send_back_selected",
        "publish_selected",
        "withdraw_selected",
        "merge_selected",
        "export_csv",
    ]

    # --- permissions (DOMAIN.md roles; services.can_edit_incident) --------------------

    def has_module_permission(self, request):
        return services.is_staff_member(request.user)

    def has_view_permission(self, request, obj=None):
        return services.is_staff_member(request.user)

    def has_add_permission(self, request):
        return services.is_staff_member(request.user)

    def has_change_permission(self, request, obj=None):
        if obj is None:
            return services.is_staff_member(request.user)
        return services.can_edit_incident(request.user, obj)

    def has_delete_permission(self, request, obj=None):
        return False  # incidents are withdrawn or merged, never deleted

    def has_review_permission(self, request, obj=None):
        return services.is_reviewer(request.user)

    # --- list --------------------------------------------------------------------------

    @admin.display(description=_("date"), ordering="date_start")
    def date_window(self, obj):
        if obj.date_start == obj.date_end:
            return obj.date_start.isoformat()
        return f"{obj.date_start.isoformat()} – {obj.date_end.isoformat()}"

    @admin.display(
        description=_("civilians killed"), ordering=NullsLast("civilians_killed_max")
    )
    def civilians_killed(self, obj):
        return range_words(obj.civilians_killed_min, obj.civilians_killed_max)

    @admin.display(
        description=_("killed (all)"), ordering=NullsLast("total_killed_max")
    )
    def total_killed(self, obj):
        return range_words(obj.total_killed_min, obj.total_killed_max)

    @admin.display(
        description=_("injured (all)"), ordering=NullsLast("total_injured_max")
    )
    def total_injured(self, obj):
        return range_words(obj.total_injured_min, obj.total_injured_max)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        normalized = normalize_name(term)
        condition = (
            Q(code__iexact=term)
            | Q(code__icontains=term)
            | Q(title__icontains=term)
            | Q(title_ar__icontains=term)
        )
        if normalized:
            condition |= Exists(
                Attribution.objects.filter(
                    incident=OuterRef("pk"),
                    actor__names__normalized__contains=normalized,
                )
            )
            condition |= Exists(
                LocationName.objects.filter(
                    location=OuterRef("location"), normalized__contains=normalized
                )
            )
        condition |= Q(location__name__icontains=term)
        return queryset.filter(condition), False

    # --- form --------------------------------------------------------------------------

    def get_fieldsets(self, request, obj=None):
        fieldsets = [
            (
                None,
                {"fields": (("code", "status", "version"), "expected_version")},
            ),
            (
                _("What happened"),
                {
                    "fields": (
                        "title",
                        "title_ar",
                        "summary",
                        "summary_ar",
                        ("incident_type", "grading", "aggregate"),
                        "internal_notes",
                    )
                },
            ),
            (
                _("When"),
                {
                    "fields": (
                        ("date_start", "date_end", "date_precision"),
                        "time_of_day",
                    )
                },
            ),
            (
                _("Where"),
                {
                    "fields": (
                        "location",
                        ("latitude", "longitude", "geo_precision"),
                    ),
                    "description": _(
                        "Decimal degrees (WGS 84), e.g. 35.93, 36.63. Give both or neither."
                    ),
                },
            ),
        ]
        if obj is None:
            fieldsets[0] = (None, {"fields": ("expected_version",)})
            fieldsets.append((_("Before saving"), {"fields": ("save_anyway",)}))
            return fieldsets
        fieldsets[3][1]["fields"] += ("governorate", "public_place")
        fieldsets += [
            (_("Totals (computed from the casualty rows)"), {"fields": ("totals",)}),
            (
                _("Workflow"),
                {
                    "classes": ("collapse",),
                    "fields": (
                        ("created_by", "created_at"),
                        ("last_edited_by", "updated_at"),
                        ("submitted_by", "reviewed_by"),
                        ("first_published_at", "published_at"),
                        "import_batch",
                        "withdrawn_reason",
                        "merged_into",
                    ),
                },
            ),
            (_("Possible duplicates"), {"fields": ("duplicates_nearby",)}),
            (
                _("This change"),
                {"fields": ("change_reason", "public_reason")},
            ),
        ]
        return fieldsets

    @admin.display(description=_("totals"))
    def totals(self, obj):
        if obj is None or obj.pk is None:
            return "–"
        if not obj.casualties_known:
            return _("No casualty figures recorded (not a claim of zero).")
        rows = [
            (_("civilians killed"), obj.civilians_killed_min, obj.civilians_killed_max),
            (_("children killed"), obj.children_killed_min, obj.children_killed_max),
            (
                _("medical personnel killed"),
                obj.medical_personnel_killed_min,
                obj.medical_personnel_killed_max,
            ),
            (_("killed (all)"), obj.total_killed_min, obj.total_killed_max),
            (
                _("civilians injured"),
                obj.civilians_injured_min,
                obj.civilians_injured_max,
            ),
            (_("injured (all)"), obj.total_injured_min, obj.total_injured_max),
        ]
        return format_html_join(
            mark_safe("<br>"),
            "{}: {}",
            ((label, range_words(a, b)) for label, a, b in rows),
        )

    @admin.display(description=_("public place"))
    def public_place(self, obj):
        if obj is None or obj.pk is None:
            return "–"
        place = obj.public_location.name if obj.public_location_id else "–"
        return f"{place} ({obj.public_latitude}, {obj.public_longitude}; {obj.public_geo_precision})"

    @admin.display(description=_("within 2 days and 5 km, same target type"))
    def duplicates_nearby(self, obj):
        if obj is None or obj.pk is None:
            return "–"
        found = list(
            selectors.possible_duplicates(
                date_start=obj.date_start,
                date_end=obj.date_end,
                latitude=obj.latitude,
                longitude=obj.longitude,
                target_type_ids=obj.targets.values_list("target_type_id", flat=True),
                exclude_pk=obj.pk,
            )[:10]
        )
        if not found:
            return _("None found.")
        return self._duplicate_links(found)

    def _duplicate_links(self, incidents) -> str:
        return format_html_join(
            mark_safe("<br>"),
            '<a href="{}" target="_blank">{}</a> {} ({}, {} km, {})',
            (
                (
                    reverse("admin:incidents_incident_change", args=[i.pk]),
                    i.code,
                    i.title,
                    i.date_start.isoformat(),
                    f"{i.distance_km:.1f}",
                    i.get_status_display(),
                )
                for i in incidents
            ),
        )

    # --- saving through the services ---------------------------------------------------

    def _parts(self, request, *, change: bool) -> tuple[services.IncidentParts, dict]:
        """The inlines as the services' dataclasses, and, per part, the formset index
        of each item (to put a service's row errors back on the right row). On change,
        only the parts whose inline changed are passed (the others stay as they are)."""
        parts = services.IncidentParts()
        positions: dict[str, list[int]] = {}
        for formset, inline in getattr(request, "_civtrack_formsets", []):
            if not isinstance(inline, PartInline):
                continue
            if change and not formset.has_changed():
                continue
            items, indexes = [], []
            for index, form in enumerate(formset.forms):
                if formset.can_delete and formset._should_delete_form(form):
                    continue  # a deleted row: left out, so the service removes it
                if form.instance.pk is None and not form.has_changed():
                    continue  # an empty extra row
                items.append(inline.to_data(form.cleaned_data, form.instance))
                indexes.append(index)
            setattr(parts, inline.part, items)
            positions[inline.part] = indexes
        return parts, positions

    def _refusal(self, error: Exception, form, positions: dict) -> ServiceRefused:
        detail = getattr(error, "detail", None)
        if not isinstance(detail, dict):
            return ServiceRefused(_form_errors_from(error, form))
        form_errors: dict[str, list[str]] = {}
        inline_errors: dict[str, dict[Any, Any]] = {}
        for key, value in detail.items():
            if key in positions and isinstance(value, list):
                rows = inline_errors.setdefault(key, {})
                for i, row in enumerate(value):
                    if not row:
                        continue
                    if isinstance(row, dict) and i < len(positions[key]):
                        target = rows.setdefault(positions[key][i], {})
                        for name, msgs in row.items():
                            target.setdefault(name, []).extend(_messages(msgs))
                    else:
                        rows.setdefault(NON_FIELD_ERRORS, {}).setdefault(
                            NON_FIELD_ERRORS, []
                        ).extend(_messages(row))
            elif key in form.fields:
                form_errors.setdefault(key, []).extend(_messages(value))
            else:
                prefix = "" if key == NON_FIELD_ERRORS else f"{key}: "
                form_errors.setdefault(NON_FIELD_ERRORS, []).extend(
                    prefix + m for m in _messages(value)
                )
        return ServiceRefused(form_errors, inline_errors)

    def save_model(self, request, obj, form, change):
        parts, positions = self._parts(request, change=change)
        fields = self.model_data(form)
        fields = {k: v for k, v in fields.items() if k in services.EDITABLE_FIELDS}
        if not change and not form.cleaned_data.get("save_anyway"):
            self._refuse_possible_duplicates(fields, parts)
        try:
            if change:
                saved = services.incident_update(
                    incident=obj,
                    expected_version=form.cleaned_data["expected_version"],
                    fields=fields,
                    parts=parts,
                    by=request.user,
                    reason=form.cleaned_data.get("change_reason")
                    or "edited in the admin",
                    public_reason=form.cleaned_data.get("public_reason") or "",
                )
            else:
                saved = services.incident_create(
                    fields=fields,
                    parts=parts,
                    by=request.user,
                    reason=form.cleaned_data.get("change_reason")
                    or "created in the admin",
                )
        except services.StaleVersionError as conflict:
            raise self._stale_refusal(request, conflict) from conflict
        except (PermissionDenied, ValidationError) as error:
            raise self._refusal(error, form, positions) from error
        vars(obj).update(vars(saved))
        _tell_protection_requests(request, saved)

    def _refuse_possible_duplicates(self, fields, parts) -> None:
        found = list(
            selectors.possible_duplicates(
                date_start=fields.get("date_start"),
                date_end=fields.get("date_end") or fields.get("date_start"),
                latitude=fields.get("latitude"),
                longitude=fields.get("longitude"),
                target_type_ids=[t.target_type.pk for t in parts.targets or []],
            ).select_related("incident_type")[:10]
        )
        if found:
            raise ServiceRefused(
                {
                    "save_anyway": [
                        format_html(
                            "{} possible duplicate(s) within 2 days and 5 km with the "
                            "same target type: {}. Check them; if this is a different "
                            "incident, tick “Save anyway” and save again.",
                            len(found),
                            self._duplicate_links(found),
                        )
                    ]
                },
                possible_duplicates=found,
            )

    def _stale_refusal(self, request, conflict) -> ServiceRefused:
        current = conflict.incident
        who = current.last_edited_by.get_username() if current.last_edited_by else "?"
        changed = conflict.changed_fields
        values = format_html_join(
            ", ",
            "{} (now: “{}”)",
            (
                (
                    Incident._meta.get_field(name).verbose_name,
                    getattr(current, name),
                )
                for name in changed
            ),
        )
        message = format_html(
            "Not saved: {} was changed by {} while you edited it (you loaded version {}, "
            "it is now version {}). Changed meanwhile: {}. Your input is kept below; "
            "<a href='{}' target='_blank'>open the current version</a> to compare, "
            "then reload this page and apply your edits again.",
            current.code,
            who,
            conflict.sent_version,
            conflict.current_version,
            values if changed else _("its casualty rows, actors or other related rows"),
            reverse("admin:incidents_incident_change", args=[current.pk]),
        )
        messages.error(request, message)
        return ServiceRefused(
            {NON_FIELD_ERRORS: [message]},
            stale_conflict=conflict,
        )

    # --- workflow: list actions --------------------------------------------------------

    def _run_each(self, request, queryset, verb: str, call) -> None:
        """Call a workflow service per incident; report each success and failure."""
        done: list[str] = []
        for incident in queryset.order_by("pk"):
            try:
                call(incident)
            except services.StaleVersionError as conflict:
                messages.error(request, f"{incident.code}: {_stale_publish(conflict)}")
            except PermissionDenied as error:
                messages.error(request, f"{incident.code}: {error}")
            except ValidationError as error:
                messages.error(request, f"{incident.code}: {' '.join(error.messages)}")
            else:
                done.append(incident.code)
        if done:
            messages.success(request, f"{verb}: {', '.join(done)}.")

    @admin.action(description=_("Submit for review"), permissions=["change"])
    def submit_selected(self, request, queryset):
        self._run_each(
            request,
            queryset,
            str(_("Submitted for review")),
            lambda i: services.incident_submit(incident=i, by=request.user),
        )

    @admin.action(description=_("Send back to draft…"), permissions=["review"])
    def send_back_selected(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            self._run_each(
                request,
                queryset,
                str(_("Sent back")),
                lambda i: services.incident_send_back(
                    incident=i, reason=reason, by=request.user
                ),
            )
            return None
        return self._action_page(
            request,
            queryset,
            form,
            action="send_back_selected",
            title=_("Send back to draft"),
            intro=_("Say why: the researchers see this reason in the history."),
        )

    @admin.action(description=_("Publish (four-eyes)"), permissions=["review"])
    def publish_selected(self, request, queryset):
        """A confirm page lists each incident with its version, and the form carries
        those versions: what changed after the reviewer saw the page is refused."""
        if "apply" not in request.POST:
            return self._action_page(
                request,
                queryset,
                None,
                action="publish_selected",
                title=_("Publish"),
                intro=_(
                    "You publish these incidents as they are in the versions listed; "
                    "one changed since this page was shown is not published."
                ),
                carry_versions=True,
            )

        def publish(incident):
            version = _posted_version(request, incident)
            if version is None:
                raise PermissionDenied(
                    _(
                        "not published: the version you reviewed was not sent; "
                        "open the confirm page again."
                    )
                )
            return services.incident_publish(
                incident=incident, expected_version=version, by=request.user
            )

        self._run_each(request, queryset, str(_("Published")), publish)

    @admin.action(description=_("Withdraw…"), permissions=["review"])
    def withdraw_selected(self, request, queryset):
        form = ReasonForm(request.POST if "apply" in request.POST else None)
        form.fields["reason"].label = _("Public reason")
        if form.is_bound and form.is_valid():
            reason = form.cleaned_data["reason"]
            self._run_each(
                request,
                queryset,
                str(_("Withdrawn")),
                lambda i: services.incident_withdraw(
                    incident=i, withdrawn_reason=reason, by=request.user
                ),
            )
            return None
        return self._action_page(
            request,
            queryset,
            form,
            action="withdraw_selected",
            title=_("Withdraw"),
            intro=_(
                "The code keeps answering with this public reason; say why it is "
                "withdrawn."
            ),
        )

    @admin.action(description=_("Merge into another incident…"), permissions=["review"])
    def merge_selected(self, request, queryset):
        form = MergeIncidentForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            survivor = form.cleaned_data["into"]
            reason = form.cleaned_data.get("reason") or ""
            self._run_each(
                request,
                queryset.exclude(pk=survivor.pk),
                str(_("Merged into %(code)s") % {"code": survivor.code}),
                lambda i: services.incident_merge(
                    incident=i, into=survivor, by=request.user, reason=reason
                ),
            )
            return None
        return self._action_page(
            request,
            queryset,
            form,
            action="merge_selected",
            title=_("Merge incidents"),
            intro=_(
                "The selected incidents are merged into the survivor: their external "
                "references move there and their codes redirect to it."
            ),
        )

    def _action_page(
        self, request, queryset, form, *, action, title, intro, carry_versions=False
    ):
        context = {
            **self.admin_site.each_context(request),
            "title": title,
            "intro": intro,
            "form": form,
            "carry_versions": carry_versions,
            "queryset": queryset.order_by("pk"),
            "action": action,
            "opts": self.opts,
            "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
            "select_across": request.POST.get("select_across", "0"),
        }
        return TemplateResponse(
            request, "admin/incidents/incident/action_form.html", context
        )

    @admin.action(description=_("Export selected as CSV"), permissions=["view"])
    def export_csv(self, request, queryset):
        rows = queryset.select_related(
            "incident_type", "governorate", "public_location"
        ).order_by("-date_start", "-id")

        def stream() -> Iterator[str]:
            writer = csv.writer(_Echo())
            yield writer.writerow(EXPORT_COLUMNS)
            for incident in rows.iterator(chunk_size=500):
                yield writer.writerow(self._export_row(incident))

        response = StreamingHttpResponse(stream(), content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="incidents.csv"'
        return response

    @staticmethod
    def _export_row(incident: Incident) -> list[Any]:
        """Public columns only: the public place, never the real one."""
        values = {
            "incident_type": incident.incident_type.code,
            "governorate": incident.governorate.name if incident.governorate else "",
            "location": incident.public_location.name
            if incident.public_location
            else "",
            "latitude": incident.public_latitude,
            "longitude": incident.public_longitude,
            "geo_precision": incident.public_geo_precision,
        }
        row = []
        for column in EXPORT_COLUMNS:
            value = values[column] if column in values else getattr(incident, column)
            row.append("" if value is None else value)
        # Text cells spreadsheet-safe (API.md): numbers, dates, booleans keep their type.
        return spreadsheet_cells(row)

    # --- workflow: buttons on the change page ------------------------------------------

    WORKFLOW = {
        "submit": _("Submit for review"),
        "send_back": _("Send back to draft"),
        "publish": _("Publish"),
        "withdraw": _("Withdraw"),
        "merge": _("Merge into another incident"),
    }

    def get_urls(self):
        urls = super().get_urls()
        custom = [
            path(
                "<path:object_id>/workflow/<str:step>/",
                self.admin_site.admin_view(self.workflow_view),
                name="incidents_incident_workflow",
            ),
        ]
        return custom + urls

    def workflow_steps(self, request, obj) -> list[tuple[str, str]]:
        user = request.user
        steps = []
        status = obj.status
        if status == Incident.Status.DRAFT and services.is_staff_member(user):
            steps.append("submit")
        if services.is_reviewer(user):
            if status == Incident.Status.IN_REVIEW:
                steps += ["send_back", "publish"]
            if status == Incident.Status.PUBLISHED:
                steps.append("withdraw")
            if status not in (Incident.Status.MERGED, Incident.Status.WITHDRAWN):
                steps.append("merge")
        return [(step, self.WORKFLOW[step]) for step in steps]

    def workflow_view(self, request, object_id, step):
        incident = get_object_or_404(Incident, pk=unquote(object_id))
        if step not in self.WORKFLOW:
            raise Http404
        if step not in dict(self.workflow_steps(request, incident)):
            messages.error(
                request,
                _("%(step)s is not possible for this %(status)s incident.")
                % {
                    "step": self.WORKFLOW[step],
                    "status": incident.get_status_display(),
                },
            )
            return HttpResponseRedirect(
                reverse("admin:incidents_incident_change", args=[incident.pk])
            )
        form_class = {
            "send_back": ReasonForm,
            "withdraw": ReasonForm,
            "merge": MergeIncidentForm,
            "publish": PublishForm,
        }.get(step)
        form = None
        if form_class is not None:
            form = form_class(
                request.POST if request.method == "POST" else None,
                initial={"version": incident.version},
            )
            if step == "withdraw":
                form.fields["reason"].label = _("Public reason")
        if request.method == "POST" and step == "publish" and not form.is_valid():
            messages.error(
                request,
                _(
                    "%(code)s: not published: the version you reviewed was not sent; "
                    "open the confirm page again."
                )
                % {"code": incident.code},
            )
            return HttpResponseRedirect(
                reverse("admin:incidents_incident_change", args=[incident.pk])
            )
        if request.method == "POST" and (form is None or form.is_valid()):
            data = form.cleaned_data if form is not None else {}
            call = {
                "submit": lambda: services.incident_submit(
                    incident=incident, by=request.user
                ),
                "send_back": lambda: services.incident_send_back(
                    incident=incident, reason=data["reason"], by=request.user
                ),
                "publish": lambda: services.incident_publish(
                    incident=incident,
                    expected_version=data["version"],
                    by=request.user,
                ),
                "withdraw": lambda: services.incident_withdraw(
                    incident=incident,
                    withdrawn_reason=data["reason"],
                    by=request.user,
                ),
                "merge": lambda: services.incident_merge(
                    incident=incident,
                    into=data["into"],
                    by=request.user,
                    reason=data.get("reason") or "",
                ),
            }[step]
            try:
                call()
            except services.StaleVersionError as conflict:
                messages.error(request, f"{incident.code}: {_stale_publish(conflict)}")
                return HttpResponseRedirect(
                    reverse("admin:incidents_incident_change", args=[incident.pk])
                )
            except (PermissionDenied, ValidationError) as error:
                text = (
                    str(error)
                    if isinstance(error, PermissionDenied)
                    else " ".join(error.messages)
                )
                messages.error(request, f"{incident.code}: {text}")
            else:
                messages.success(
                    request, f"{incident.code}: {self.WORKFLOW[step]} – done."
                )
                return HttpResponseRedirect(
                    reverse("admin:incidents_incident_change", args=[incident.pk])
                )
        context = {
            **self.admin_site.each_context(request),
            "title": f"{self.WORKFLOW[step]}: {incident.code}",
            "incident": incident,
            "step": step,
            "form": form,
            "opts": self.opts,
            "original": incident,
        }
        return TemplateResponse(
            request, "admin/incidents/incident/workflow.html", context
        )

    def render_change_form(self, request, context, add=False, change=False, **kwargs):
        obj = kwargs.get("obj")
        if obj is not None:
            context["workflow_steps"] = self.workflow_steps(request, obj)
        return super().render_change_form(
            request, context, add=add, change=change, **kwargs
        )

    # --- history -----------------------------------------------------------------------

    def history_view(self, request, object_id, extra_context=None):
        incident = self.get_object(request, unquote(object_id))
        if incident is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.has_view_permission(request, incident):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": _("History: %(code)s") % {"code": incident.code},
            "subtitle": None,
            "entries": incident_history(incident),
            "module_name": str(self.opts.verbose_name_plural).capitalize(),
            "object": incident,
            "opts": self.opts,
            "preserved_filters": self.get_preserved_filters(request),
            **(extra_context or {}),
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(
            request, "admin/incidents/incident/history.html", context
        )


# ---------------------------------------------------------------------------------------
# History (from the pghistory audit trail)
# ---------------------------------------------------------------------------------------

# The incident's own events and those of its parts, in one query.
HISTORY_EVENT_MODELS = (
    "IncidentEvent",
    "CasualtyCountEvent",
    "AttributionEvent",
    "IncidentWeaponEvent",
    "IncidentTargetEvent",
    "CitationEvent",
    "ExternalRefEvent",
    "VictimEvent",
    "WriteConflictEvent",
)
# Bookkeeping columns that change on every save and say nothing to a reader.
HISTORY_QUIET_FIELDS = {"version", "updated_at", "search_names", "search_vector"}
# Foreign keys shown by name: column → model.
HISTORY_REFERENCES = {
    "location_id": Location,
    "governorate_id": Location,
    "public_location_id": Location,
    "incident_type_id": IncidentType,
    "actor_id": Actor,
    "weapon_id": WeaponType,
    "target_type_id": TargetType,
    "facility_id": Facility,
    "source_id": Source,
    "merged_into_id": Incident,
    "import_batch_id": ImportBatch,
    "batch_id": ImportBatch,
}
HISTORY_PART_LABELS = {
    "incidents.CasualtyCountEvent": _("casualty row"),
    "incidents.AttributionEvent": _("attribution"),
    "incidents.IncidentWeaponEvent": _("weapon"),
    "incidents.IncidentTargetEvent": _("target"),
    "incidents.CitationEvent": _("citation"),
    "incidents.ExternalRefEvent": _("external reference"),
    "incidents.VictimEvent": _("victim"),
    "incidents.WriteConflictEvent": _("stale save refused"),
}
HISTORY_ROW_IGNORED = {"id", "incident_id", "raw"}


def incident_history(incident: Incident) -> list[dict[str, Any]]:
    """Who changed what, when and why, newest first: one entry per audit context (one
    service call or request), with the field changes of the incident row (diff of
    consecutive snapshots) and the rows of its parts added or removed. A part list
    replaced with identical rows shows nothing. Queries: the events (one UNION over
    the event tables), then one per kind of name shown (users, batches, places, …)."""
    from django.apps import apps
    from pghistory.models import Events

    event_models = [apps.get_model("incidents", name) for name in HISTORY_EVENT_MODELS]
    events = list(
        Events.objects.references(incident)
        .across(*event_models)
        .exclude(
            Q(pgh_model="incidents.IncidentEvent") & ~Q(pgh_obj_id=str(incident.pk))
        )
        .order_by("pgh_created_at", "pgh_id")
        .values(
            "pgh_id",
            "pgh_model",
            "pgh_label",
            "pgh_created_at",
            "pgh_data",
            "pgh_diff",
            "pgh_context",
            "pgh_context_id",
        )
    )
    names = _history_names(events)
    # One entry per audit context. Events of one transaction share a timestamp and each
    # event table has its own id sequence, so entries are ordered by time, then by the
    # incident row's own event id (monotonic), then by the first event id.
    groups: dict[Any, dict[str, Any]] = {}
    for event in events:
        key = event["pgh_context_id"] or f"{event['pgh_model']}:{event['pgh_id']}"
        group = groups.get(key)
        if group is None:
            context = event["pgh_context"] or {}
            group = groups[key] = {
                "key": key,
                "at": event["pgh_created_at"],
                "user": names["user"].get(_as_int(context.get("user"))),
                "reason": context.get("reason", ""),
                "public_reason": context.get("public_reason", ""),
                "batch": names["batch"].get(_as_int(context.get("import_batch"))),
                "order": (event["pgh_created_at"], float("inf"), event["pgh_id"]),
                "events": [],
            }
        if event["pgh_model"] == "incidents.IncidentEvent":
            at, own, first = group["order"]
            group["order"] = (at, min(own, event["pgh_id"]), first)
        group["events"].append(event)
    groups = sorted(groups.values(), key=lambda g: g["order"])
    entries = [_history_entry(group, names) for group in groups]
    return [entry for entry in reversed(entries) if entry["changes"]]


def _as_int(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _history_names(events) -> dict[str, dict[Any, str]]:
    wanted: dict[Any, set[int]] = {}
    users: set[int] = set()
    batches: set[int] = set()
    for event in events:
        context = event["pgh_context"] or {}
        if _as_int(context.get("user")) is not None:
            users.add(_as_int(context["user"]))
        if _as_int(context.get("import_batch")) is not None:
            batches.add(_as_int(context["import_batch"]))
        for column, model in HISTORY_REFERENCES.items():
            value = _as_int((event["pgh_data"] or {}).get(column))
            if value is not None:
                wanted.setdefault(model, set()).add(value)
    names: dict[Any, dict[Any, str]] = {
        "user": {
            u.pk: u.get_username()
            for u in get_user_model().objects.filter(pk__in=users)
        },
        "batch": {b.pk: str(b) for b in ImportBatch.objects.filter(pk__in=batches)},
    }
    for model, ids in wanted.items():
        if model is ImportBatch:
            names[model] = {pk: f"import #{pk}" for pk in ids}
        elif model is Incident:
            names[model] = dict(
                Incident.objects.filter(pk__in=ids).values_list("pk", "code")
            )
        else:
            names[model] = {
                obj.pk: str(obj) for obj in model.objects.filter(pk__in=ids)
            }
    return names


def _history_value(column: str, value: Any, names) -> str:
    if value is None or value == "":
        return "–"
    model = HISTORY_REFERENCES.get(column)
    if model is not None:
        return names.get(model, {}).get(_as_int(value), f"#{value}")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "–"
    return str(value)


def _history_row(model: str, data: dict[str, Any], names) -> str:
    parts = [
        f"{column.removesuffix('_id')}={_history_value(column, value, names)}"
        for column, value in data.items()
        if column not in HISTORY_ROW_IGNORED and value not in (None, "", [])
    ]
    return f"{HISTORY_PART_LABELS.get(model, model)}: {', '.join(parts)}"


def _history_entry(group: dict[str, Any], names) -> dict[str, Any]:
    changes: list[str] = []
    added: list[str] = []
    removed: list[str] = []
    for event in group["events"]:
        model, label, data = event["pgh_model"], event["pgh_label"], event["pgh_data"]
        if model == "incidents.IncidentEvent":
            if label == "insert":
                changes.append(str(_("created")))
                continue
            for column, (old, new) in sorted((event["pgh_diff"] or {}).items()):
                if column in HISTORY_QUIET_FIELDS:
                    continue
                changes.append(
                    f"{column.removesuffix('_id')}: "
                    f"{_history_value(column, old, names)} → "
                    f"{_history_value(column, new, names)}"
                )
            continue
        if model == "incidents.WriteConflictEvent":
            changes.append(
                f"{_('stale save refused')}: sent v{data.get('sent_version')}, "
                f"current v{data.get('current_version')}; changed meanwhile: "
                f"{', '.join(data.get('changed_fields') or []) or '–'}"
            )
            continue
        row = _history_row(model, data, names)
        if label == "insert":
            added.append(row)
        elif label == "delete":
            removed.append(row)
        else:
            for column, (old, new) in sorted((event["pgh_diff"] or {}).items()):
                if column not in HISTORY_ROW_IGNORED:
                    changes.append(
                        f"{HISTORY_PART_LABELS.get(model, model)} "
                        f"{column.removesuffix('_id')}: "
                        f"{_history_value(column, old, names)} → "
                        f"{_history_value(column, new, names)}"
                    )
    # A part list replaced with the same rows is deleted and re-inserted: no change.
    for row in list(removed):
        if row in added:
            removed.remove(row)
            added.remove(row)
    changes += [f"+ {row}" for row in added] + [f"− {row}" for row in removed]
    return {**group, "changes": changes}


# ---------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------


@admin.register(Source)
class SourceAdmin(StaffPermissions, ServiceSaveMixin, admin.ModelAdmin):
    form = SourceAdminForm
    list_display = (
        "id",
        "title",
        "kind",
        "publisher",
        "reliability",
        "confidential",
        "has_file",
        "published_on",
    )
    list_display_links = ("id", "title")
    list_filter = ("kind", "reliability", "confidential", "graphic", "file_public")
    search_fields = ("title", "publisher", "author", "url", "sha256")
    list_per_page = 50
    fieldsets = (
        (None, {"fields": ("kind", "title", "publisher", "author", "language")}),
        (
            _("Where it is"),
            {"fields": ("url", "archive_url", ("published_on", "accessed_on"))},
        ),
        (
            _("File"),
            {
                "fields": ("file", ("sha256", "size", "mime"), "file_public"),
                "description": _(
                    "The hash, size and type are computed on upload and never change."
                ),
            },
        ),
        (_("Datasets"), {"fields": ("release", "licence")}),
        (_("Assessment"), {"fields": ("reliability", "confidential", "graphic")}),
        (_("Record"), {"fields": ("created_by", "created_at", "updated_at")}),
    )

    @admin.display(boolean=True, description=_("file"))
    def has_file(self, obj):
        return bool(obj.sha256)

    def get_readonly_fields(self, request, obj=None):
        fields = ["sha256", "size", "mime", "created_by", "created_at", "updated_at"]
        if obj is not None:
            fields.append("file")
        return fields

    def save_model(self, request, obj, form, change):
        data = self.model_data(form, exclude=("file",))
        try:
            if change:
                changed = {k: v for k, v in data.items() if k in form.changed_data}
                saved = services.source_update(source=obj, by=request.user, **changed)
            else:
                saved = services.source_create(
                    by=request.user, file=form.cleaned_data.get("file") or None, **data
                )
        except services.DuplicateSourceError as duplicate:
            field = "url" if duplicate.what == "URL" else "file"
            existing = duplicate.existing
            raise ServiceRefused(
                {
                    field: [
                        format_html(
                            'This {} is already source <a href="{}">#{}</a>: {}',
                            duplicate.what,
                            reverse(
                                "admin:incidents_source_change", args=[existing.pk]
                            ),
                            existing.pk,
                            existing.title,
                        )
                    ]
                }
            ) from duplicate
        except (PermissionDenied, ValidationError) as error:
            raise ServiceRefused(_form_errors_from(error, form)) from error
        vars(obj).update(vars(saved))
        _tell_protection_requests(request, saved)


# ---------------------------------------------------------------------------------------
# Actors
# ---------------------------------------------------------------------------------------


class NameInline(admin.TabularInline):
    """Aliases and spellings; added and removed through the services."""

    fields = ("name", "language", "normalized")
    readonly_fields = ("normalized",)
    extra = 1

    def has_view_permission(self, request, obj=None):
        return services.is_staff_member(request.user)

    def has_add_permission(self, request, obj=None):
        return services.is_staff_member(request.user)

    def has_change_permission(self, request, obj=None):
        return services.is_staff_member(request.user)

    def has_delete_permission(self, request, obj=None):
        return services.is_staff_member(request.user)


class ActorNameInline(NameInline):
    model = ActorName


class LocationNameInline(NameInline):
    model = LocationName


class NamesFormsetMixin:
    """Saves a names inline through `<owner>_name_add` / `<owner>_name_remove`; an
    edited spelling is the old one removed and the new one added."""

    name_add = None
    name_remove = None
    owner_field = ""

    def save_formset(self, request, form, formset, change):
        owner = form.instance
        for row in formset.forms:
            if not row.has_changed() and not formset._should_delete_form(row):
                continue
            old = row.instance if row.instance.pk else None
            if old is not None:
                type(self).name_remove(name=old, by=request.user)
            if formset._should_delete_form(row):
                continue
            data = row.cleaned_data
            if data.get("name"):
                type(self).name_add(
                    **{self.owner_field: owner},
                    name=data["name"],
                    language=data.get("language") or "",
                    by=request.user,
                )

    def save_related(self, request, form, formsets, change):
        for formset in formsets:
            self.save_formset(request, form, formset, change)

    def construct_change_message(self, request, form, formsets, add=False):
        if add:
            return [{"added": {}}]
        return [{"changed": {"fields": list(form.changed_data)}}]


class ActorAdmin(NamesFormsetMixin, StaffPermissions, admin.ModelAdmin):
    inlines = [ActorNameInline]
    list_display = (
        "name",
        "name_ar",
        "kind",
        "bloc",
        "parent",
        "country",
        "merged_into",
    )
    list_select_related = ("parent", "merged_into")
    list_filter = ("kind", "bloc")
    search_fields = ("name", "name_ar", "slug")
    search_help_text = _("Name or any alias, in any spelling.")
    autocomplete_fields = ("parent",)
    readonly_fields = ("merged_into", "created_at", "updated_at")
    prepopulated_fields = {"slug": ("name",)}
    actions = ["merge_selected"]
    owner_field = "actor"
    name_add = staticmethod(services.actor_name_add)
    name_remove = staticmethod(services.actor_name_remove)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"__init__": _rtl_init(form)})

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if "/autocomplete/" in request.path:
            queryset = queryset.filter(merged_into__isnull=True)
        if not term:
            return queryset, False
        normalized = normalize_name(term)
        condition = Q(name__icontains=term) | Q(name_ar__icontains=term)
        condition |= Q(slug__icontains=term)
        if normalized:
            condition |= Exists(
                ActorName.objects.filter(
                    actor=OuterRef("pk"), normalized__contains=normalized
                )
            )
        return queryset.filter(condition), False

    def save_model(self, request, obj, form, change):
        services.actor_save(actor=obj, by=request.user)

    @admin.action(description=_("Merge into another actor…"), permissions=["merge"])
    def merge_selected(self, request, queryset):
        form = MergeActorForm(
            request.POST if "apply" in request.POST else None,
            admin_site=self.admin_site,
        )
        if form.is_bound and form.is_valid():
            survivor = form.cleaned_data["into"]
            for actor in queryset.exclude(pk=survivor.pk):
                try:
                    services.actor_merge(actor=actor, into=survivor, by=request.user)
                except (PermissionDenied, ValidationError) as error:
                    messages.error(request, f"{actor.name}: {_error_text(error)}")
                else:
                    messages.success(
                        request, f"{actor.name} merged into {survivor.name}."
                    )
            return None
        return _merge_page(self, request, queryset, form, _("Merge actors"))


def _error_text(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


def _rtl_init(form_class):
    def __init__(self, *args, **kwargs):
        form_class.__init__(self, *args, **kwargs)
        rtl_widgets(self)

    return __init__


def _merge_page(model_admin, request, queryset, form, title):
    context = {
        **model_admin.admin_site.each_context(request),
        "title": title,
        "intro": _("Everything attached to the selected rows moves to the survivor."),
        "form": form,
        "queryset": queryset,
        "action": "merge_selected",
        "opts": model_admin.opts,
        "action_checkbox_name": admin.helpers.ACTION_CHECKBOX_NAME,
        "select_across": request.POST.get("select_across", "0"),
        "media": model_admin.media + form.media,
    }
    return TemplateResponse(
        request, "admin/incidents/incident/action_form.html", context
    )


admin.site.register(Actor, ActorAdmin)


@admin.register(ActorRelation)
class ActorRelationAdmin(StaffPermissions, admin.ModelAdmin):
    list_display = (
        "from_actor",
        "kind",
        "to_actor",
        "start_date",
        "end_date",
        "confidence",
    )
    list_select_related = ("from_actor", "to_actor")
    list_filter = ("kind", "confidence")
    search_fields = ("from_actor__name", "to_actor__name", "note")
    autocomplete_fields = ("from_actor", "to_actor", "citations")

    def save_model(self, request, obj, form, change):
        """Saved with its citations in save_related (one service call)."""

    def save_related(self, request, form, formsets, change):
        services.actor_relation_save(
            relation=form.instance,
            citations=form.cleaned_data.get("citations"),
            by=request.user,
        )


# ---------------------------------------------------------------------------------------
# Places and facilities
# ---------------------------------------------------------------------------------------


class LocationAdmin(NamesFormsetMixin, StaffPermissions, admin.ModelAdmin):
    inlines = [LocationNameInline]
    list_display = ("name", "name_ar", "level", "parent", "pcode", "merged_into")
    list_select_related = ("parent", "merged_into")
    list_filter = ("level",)
    search_fields = ("name", "name_ar", "pcode", "slug")
    search_help_text = _("Name or any spelling, or the OCHA pcode.")
    autocomplete_fields = ("parent",)
    readonly_fields = ("merged_into", "created_at", "updated_at")
    prepopulated_fields = {"slug": ("name",)}
    actions = ["merge_selected"]
    owner_field = "location"
    name_add = staticmethod(services.location_name_add)
    name_remove = staticmethod(services.location_name_remove)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"__init__": _rtl_init(form)})

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if "/autocomplete/" in request.path:
            queryset = queryset.filter(merged_into__isnull=True)
        if not term:
            return queryset, False
        normalized = normalize_name(term)
        condition = (
            Q(name__icontains=term)
            | Q(name_ar__icontains=term)
            | Q(pcode__iexact=term)
            | Q(slug__icontains=term)
        )
        if normalized:
            condition |= Exists(
                LocationName.objects.filter(
                    location=OuterRef("pk"), normalized__contains=normalized
                )
            )
        return queryset.filter(condition), False

    def save_model(self, request, obj, form, change):
        services.location_save(location=obj, by=request.user)

    @admin.action(description=_("Merge into another place…"), permissions=["merge"])
    def merge_selected(self, request, queryset):
        form = MergeLocationForm(
            request.POST if "apply" in request.POST else None,
            admin_site=self.admin_site,
        )
        if form.is_bound and form.is_valid():
            survivor = form.cleaned_data["into"]
            for location in queryset.exclude(pk=survivor.pk):
                try:
                    services.location_merge(
                        location=location, into=survivor, by=request.user
                    )
                except (PermissionDenied, ValidationError) as error:
                    messages.error(request, f"{location.name}: {_error_text(error)}")
                else:
                    messages.success(
                        request, f"{location.name} merged into {survivor.name}."
                    )
            return None
        return _merge_page(self, request, queryset, form, _("Merge places"))


admin.site.register(Location, LocationAdmin)


@admin.register(Facility)
class FacilityAdmin(StaffPermissions, admin.ModelAdmin):
    list_display = ("ref", "name", "target_type", "location", "sensitive", "operator")
    list_select_related = ("target_type", "location")
    list_filter = ("sensitive", "target_type")
    search_fields = ("ref", "name", "name_ar", "operator", "location__name")
    autocomplete_fields = ("target_type", "location")
    readonly_fields = ("ref", "created_at", "updated_at")
    prepopulated_fields = {"slug": ("name",)}

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"__init__": _rtl_init(form)})

    def save_model(self, request, obj, form, change):
        saved = services.facility_save(facility=obj, by=request.user)
        _tell_protection_requests(request, saved)


# ---------------------------------------------------------------------------------------
# Vocabularies (admins edit; everybody on the staff reads)
# ---------------------------------------------------------------------------------------


class VocabularyAdmin(AdminOnlyEdits, admin.ModelAdmin):
    list_display = ("code", "label", "label_ar", "parent", "active", "sort_order")
    list_select_related = ("parent",)
    list_filter = ("active",)
    search_fields = ("code", "label", "label_ar")
    autocomplete_fields = ("parent",)

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        return type(form.__name__, (form,), {"__init__": _rtl_init(form)})

    def get_search_results(self, request, queryset, search_term):
        if "/autocomplete/" in request.path:
            queryset = queryset.filter(active=True)
        return super().get_search_results(request, queryset, search_term)

    def save_model(self, request, obj, form, change):
        services.vocabulary_save(item=obj, by=request.user)


admin.site.register(IncidentType, VocabularyAdmin)
admin.site.register(WeaponType, VocabularyAdmin)
admin.site.register(TargetType, VocabularyAdmin)


# ---------------------------------------------------------------------------------------
# Lowering protection: reviewers decide the pending requests (DOMAIN.md)
# ---------------------------------------------------------------------------------------


class ProtectionStatusFilter(admin.SimpleListFilter):
    """Pending first: the list opens on the requests waiting for a decision."""

    title = _("status")
    parameter_name = "status"

    def lookups(self, request, model_admin):
        return [*ProtectionRequest.Status.choices, ("all", _("all"))]

    def choices(self, changelist):
        for value, label in self.lookup_choices:
            yield {
                "selected": (self.value() or "pending") == value,
                "query_string": changelist.get_query_string(
                    {self.parameter_name: value}
                ),
                "display": label,
            }

    def queryset(self, request, queryset):
        value = self.value() or ProtectionRequest.Status.PENDING
        if value == "all":
            return queryset
        if value not in ProtectionRequest.Status.values:
            return queryset.none()
        return queryset.filter(status=value)


class ProtectionDecisionForm(ServiceValidatedModelForm):
    """Approve or reject, carrying the version of the object the reviewer was shown
    (a change since then is refused: services.protection_request_approve)."""

    decision = forms.ChoiceField(
        choices=[
            ("approve", _("approve: lower the protection")),
            ("reject", _("reject")),
        ],
        widget=forms.RadioSelect,
    )
    object_version_seen = forms.CharField(widget=forms.HiddenInput, max_length=40)
    note = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)

    class Meta:
        model = ProtectionRequest
        fields: list[str] = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk and not self.is_bound:
            obj = services.protection_object(self.instance)
            self.initial["object_version_seen"] = (
                services.protection_object_version(obj) if obj is not None else ""
            )


@admin.register(ProtectionRequest)
class ProtectionRequestAdmin(ServiceSaveMixin, admin.ModelAdmin):
    form = ProtectionDecisionForm
    list_display = (
        "id",
        "target",
        "protected_object",
        "requested_by",
        "status",
        "decided_by",
        "created_at",
    )
    list_filter = (ProtectionStatusFilter, "target")
    list_select_related = ("requested_by", "decided_by")
    readonly_fields = (
        "target",
        "protected_object",
        "value",
        "object_version",
        "reason",
        "status",
        "requested_by",
        "decided_by",
        "decided_at",
        "decision_note",
        "created_at",
    )
    fieldsets = (
        (None, {"fields": readonly_fields}),
        (_("Decision"), {"fields": ("decision", "note", "object_version_seen")}),
    )

    def has_module_permission(self, request):
        return services.is_staff_member(request.user)

    def has_view_permission(self, request, obj=None):
        return services.is_staff_member(request.user)

    def has_add_permission(self, request):
        return False  # asked for by editing the object itself

    def has_change_permission(self, request, obj=None):
        # Deciding is a reviewer's; the four-eyes rule is the service's.
        if obj is not None and obj.status != ProtectionRequest.Status.PENDING:
            return False
        return services.is_reviewer(request.user)

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # A victim is shown through its incident's page: its incident id is read with
        # the list, in the same query (no query per row).
        queryset = (
            super()
            .get_queryset(request)
            .annotate(
                victim_incident_id=Case(
                    When(
                        target=ProtectionRequest.Target.VICTIM_PUBLISH_NAME,
                        then=Subquery(
                            Victim.objects.filter(pk=OuterRef("object_id")).values(
                                "incident_id"
                            )[:1]
                        ),
                    ),
                    default=None,
                )
            )
        )
        if not services.is_reviewer(request.user):
            queryset = queryset.filter(requested_by=request.user)
        return queryset

    @admin.display(description=_("object"))
    def protected_object(self, obj):
        model = services.PROTECTIONS[obj.target][0]
        name = model._meta.model_name
        if model is Victim:
            incident_id = getattr(obj, "victim_incident_id", None)
            if incident_id is None:
                return _("(no longer exists)")
            return format_html(
                '<a href="{}">{} #{}</a>',
                reverse("admin:incidents_incident_change", args=[incident_id]),
                _("victim"),
                obj.object_id,
            )
        return format_html(
            '<a href="{}">{} #{}</a>',
            reverse(f"admin:incidents_{name}_change", args=[obj.object_id]),
            model._meta.verbose_name,
            obj.object_id,
        )

    def save_model(self, request, obj, form, change):
        decide = (
            services.protection_request_approve
            if form.cleaned_data["decision"] == "approve"
            else services.protection_request_reject
        )
        try:
            decided = decide(
                request=obj,
                by=request.user,
                expected_version=form.cleaned_data["object_version_seen"],
                note=form.cleaned_data.get("note") or "",
            )
        except services.StaleProtectionVersion as stale:
            raise ServiceRefused({NON_FIELD_ERRORS: [str(stale)]}) from stale
        except (PermissionDenied, ValidationError) as error:
            raise ServiceRefused(_form_errors_from(error, form)) from error
        vars(obj).update(vars(decided))


# The import page and the ImportBatch admin (incidents/admin_imports.py); users and
# groups under DOMAIN.md "Accounts" (incidents/admin_accounts.py).
from incidents import admin_accounts, admin_imports  # noqa: E402, F401
