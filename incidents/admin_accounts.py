"""The admin's users and groups under DOMAIN.md "Accounts" (issue 12 §6).

Django's own UserAdmin let a user of the admin group (who may change users) tick
`is_superuser` on themselves, put anyone in the admin group, grant permissions one by
one and edit a superuser; its GroupAdmin let them give a role group any permission.
Here, for anyone but a superuser:

- the user form has no `is_superuser` or `user_permissions`, and offers the role
  groups only; what it saves passes incidents/accounts.py's rule (researchers and
  reviewers only; never a superuser, never another admin);
- superusers' and other admins' accounts (their password included) are read-only;
- groups are read-only (a group's permissions are the role table, set by migrations).

`is_staff` is never a choice, for superusers too: it follows the role groups
(`user_sync_staff`), which also lets a newcomer put in a role group sign in.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.forms import UserChangeForm
from django.contrib.auth.models import Group
from django_otp.plugins.otp_static.admin import StaticDeviceAdmin
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.admin import TOTPDeviceAdmin
from django_otp.plugins.otp_totp.models import TOTPDevice

from incidents.accounts import (
    ROLE_GROUPS,
    user_change_refusal,
    user_sync_staff,
)

User = get_user_model()

# Fields a superuser alone sets; `is_staff` nobody sets (it follows the role groups).
SUPERUSER_FIELDS = ("is_superuser", "user_permissions")
DERIVED_FIELDS = ("is_staff",)


class RoleUserChangeForm(UserChangeForm):
    """The user change form, checked against the accounts rule for the person
    saving it (`request_user`, set by `CivTrackUserAdmin.get_form`)."""

    request_user = None

    def clean(self):
        cleaned = super().clean()
        by = self.request_user
        if by is None:
            return cleaned
        current = self.instance
        groups = cleaned.get("groups")
        if groups is None:
            groups = current.groups.all() if current.pk else []
        refusal = user_change_refusal(
            by=by,
            user=current if current.pk else None,
            groups=groups,
            is_superuser=bool(cleaned.get("is_superuser", current.is_superuser))
            and not (by.is_superuser or current.is_superuser),
            direct_permissions=bool(cleaned.get("user_permissions"))
            and not by.is_superuser,
        )
        if refusal:
            raise forms.ValidationError(refusal, code="role_refused")
        return cleaned


class CivTrackUserAdmin(UserAdmin):
    form = RoleUserChangeForm

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        hidden = set(DERIVED_FIELDS)
        if not request.user.is_superuser:
            hidden |= set(SUPERUSER_FIELDS)
        result = []
        for name, options in fieldsets:
            fields = [f for f in options.get("fields", ()) if f not in hidden]
            if obj is not None and name is not None and "groups" in fields:
                fields.append("is_staff")  # shown, read-only: it follows the groups
            result.append((name, {**options, "fields": tuple(fields)}))
        return result

    def get_readonly_fields(self, request, obj=None):
        readonly = tuple(super().get_readonly_fields(request, obj))
        return readonly + DERIVED_FIELDS if obj is not None else readonly

    def get_form(self, request, obj=None, **kwargs):
        base = super().get_form(request, obj, **kwargs)
        return type(base.__name__, (base,), {"request_user": request.user})

    def formfield_for_manytomany(self, db_field, request=None, **kwargs):
        if db_field.name == "groups" and not request.user.is_superuser:
            kwargs["queryset"] = Group.objects.filter(name__in=ROLE_GROUPS)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _may_manage(self, request, obj) -> bool:
        if obj is None or request.user.is_superuser:
            return True
        refusal = user_change_refusal(
            by=request.user,
            user=obj,
            groups=obj.groups.all(),
            is_superuser=False,
            direct_permissions=False,
        )
        return refusal is None

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._may_manage(
            request, obj
        )

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._may_manage(
            request, obj
        )

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user_sync_staff(user=form.instance)


class CivTrackGroupAdmin(GroupAdmin):
    """Groups are the role table: a superuser's to change, everyone else's to read."""

    def has_add_permission(self, request):
        return request.user.is_superuser and super().has_add_permission(request)

    def has_change_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_superuser and super().has_delete_permission(request, obj)


def _managed_users(by):
    """The accounts whose two-factor devices `by` manages: a superuser's, everyone's;
    an admin's, their own and those of researchers and reviewers. A superuser's or
    another admin's device is not theirs to touch: deleting it locks that person out,
    adding one does too, and a TOTP device's configuration page shows its secret."""
    users = User.objects.all()
    if by.is_superuser:
        return users
    return users.filter(pk=by.pk) | users.exclude(is_superuser=True).exclude(
        groups__name="admin"
    )


class ManagedDeviceAdminMixin:
    """django-otp's device admins, narrowed to the accounts the user manages."""

    def get_queryset(self, request):
        return (
            super().get_queryset(request).filter(user__in=_managed_users(request.user))
        )

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "user":
            kwargs["queryset"] = _managed_users(request.user)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def _manages(self, request, obj) -> bool:
        return (
            obj is None or _managed_users(request.user).filter(pk=obj.user_id).exists()
        )

    def has_view_permission(self, request, obj=None):
        return super().has_view_permission(request, obj) and self._manages(request, obj)

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) and self._manages(
            request, obj
        )

    def has_delete_permission(self, request, obj=None):
        return super().has_delete_permission(request, obj) and self._manages(
            request, obj
        )


def _narrowed(model_admin: type[admin.ModelAdmin]) -> type[admin.ModelAdmin]:
    return type(
        f"Managed{model_admin.__name__}", (ManagedDeviceAdminMixin, model_admin), {}
    )


for model, model_admin in (
    (User, CivTrackUserAdmin),
    (Group, CivTrackGroupAdmin),
    (TOTPDevice, _narrowed(TOTPDeviceAdmin)),
    (StaticDevice, _narrowed(StaticDeviceAdmin)),
):
    if admin.site.is_registered(model):
        admin.site.unregister(model)
    admin.site.register(model, model_admin)
