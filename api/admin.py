"""API tokens in the admin: the only place tokens are issued (DOMAIN.md: never through a
password endpoint, which would bypass the admin's two-factor login).

Replaces knox's own AuthToken admin with a read-only list (who, since when, until
when), a "Revoke" action, and an "Issue an API token" page that shows the new token
once; the database keeps only its hash. Admins only.
"""

from __future__ import annotations

from datetime import timedelta

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from knox.models import AuthToken

from api.auth import default_token_days, token_issue, token_revoke
from incidents import services

STAFF_GROUPS = ("researcher", "reviewer", "admin")


def _staff_users():
    return (
        get_user_model()
        .objects.filter(is_active=True)
        .filter(Q(is_superuser=True) | Q(groups__name__in=STAFF_GROUPS))
        .distinct()
        .order_by("username")
    )


class IssueTokenForm(forms.Form):
    user = forms.ModelChoiceField(
        queryset=_staff_users(),
        help_text="Tokens are issued to active researchers, reviewers and admins.",
    )
    days = forms.IntegerField(
        min_value=1,
        max_value=366,
        label="Valid for (days)",
        help_text="The token stops working after this many days.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = _staff_users()
        self.fields["days"].initial = default_token_days()


if admin.site.is_registered(AuthToken):
    admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class AuthTokenAdmin(admin.ModelAdmin):
    list_display = ("key", "user", "created", "expiry", "state")
    list_select_related = ("user",)
    list_filter = ("created", "expiry")
    search_fields = ("user__username", "token_key")
    ordering = ("-created",)
    actions = ("revoke",)
    change_list_template = "admin/api/authtoken/change_list.html"
    # Read-only: nothing about a token is edited; it is issued or revoked.
    fields = ("key", "user", "created", "expiry", "state")
    readonly_fields = fields

    @admin.display(description="token starts with")
    def key(self, obj: AuthToken) -> str:
        return f"{obj.token_key[:8]}…"

    @admin.display(description="state")
    def state(self, obj: AuthToken) -> str:
        if obj.expiry is not None and obj.expiry <= timezone.now():
            return "expired"
        return "active"

    def has_module_permission(self, request) -> bool:
        return services.is_admin(request.user)

    def has_view_permission(self, request, obj=None) -> bool:
        return services.is_admin(request.user)

    def has_add_permission(self, request) -> bool:
        return False  # issued on the issue page, which shows the token once

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return services.is_admin(request.user)

    def get_actions(self, request):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)  # "Revoke" says what it means
        return actions

    @admin.action(description="Revoke the selected tokens", permissions=["delete"])
    def revoke(self, request, queryset):
        count = token_revoke(tokens=queryset, by=request.user)
        self.message_user(request, f"Revoked {count} token(s).", messages.SUCCESS)

    def delete_model(self, request, obj):
        token_revoke(tokens=AuthToken.objects.filter(pk=obj.pk), by=request.user)

    def get_urls(self):
        return [
            path(
                "issue/",
                self.admin_site.admin_view(self.issue_view),
                name="knox_authtoken_issue",
            ),
            *super().get_urls(),
        ]

    def issue_view(self, request):
        """Issue a token and show it once (the page is never cached)."""
        if not services.is_admin(request.user):
            raise PermissionDenied
        initial = {}
        if request.GET.get("user", "").isdigit():
            initial["user"] = int(request.GET["user"])
        form = IssueTokenForm(request.POST or None, initial=initial)
        token = None
        instance = None
        if request.method == "POST" and form.is_valid():
            try:
                instance, token = token_issue(
                    user=form.cleaned_data["user"],
                    by=request.user,
                    ttl=timedelta(days=form.cleaned_data["days"]),
                )
            except ValidationError as error:
                for field, errors in error.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Issue an API token",
            "form": form,
            "token": token,
            "instance": instance,
            "changelist_url": reverse("admin:knox_authtoken_changelist"),
        }
        response = TemplateResponse(request, "admin/api/authtoken/issue.html", context)
        response["Cache-Control"] = "no-store"
        return response

    def changelist_view(self, request, extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "issue_url": reverse("admin:knox_authtoken_issue"),
        }
        return super().changelist_view(request, extra_context)

    def response_delete(self, request, obj_display, obj_id):
        return HttpResponseRedirect(reverse("admin:knox_authtoken_changelist"))
