"""Accounts: who may give whom which role (DOMAIN.md "Accounts"; issue 12 §6).

The admin group creates researchers and reviewers; it never makes a superuser, never
makes or edits another admin, never edits a superuser and never grants permissions
directly (a permission given to one user, or a group of one's own making, would be a
role outside the role table). Only a superuser makes admins. Staff status (what lets a
person sign in to the admin) is not chosen: it follows membership of a role group, so
a newcomer put in the researcher group can sign in, and one taken out of every role
group cannot.

One rule here, used by the admin's user form (incidents/admin_accounts.py) and by
anything else that changes a user's roles.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractUser, Group
from django.core.exceptions import PermissionDenied
from django.db import transaction

from incidents.services import is_admin

ROLE_GROUPS = ("researcher", "reviewer", "admin")
# The roles the admin group gives; "admin" only a superuser gives.
ADMIN_GIVES = ("researcher", "reviewer")


def _group_names(groups: Iterable[Group | str]) -> set[str]:
    return {g if isinstance(g, str) else g.name for g in groups}


def user_change_refusal(
    *,
    by: AbstractUser,
    user: AbstractUser | None,
    groups: Iterable[Group | str],
    is_superuser: bool,
    direct_permissions: bool,
) -> str | None:
    """Why `by` may not give `user` (None: a new user) these roles, or None when it
    may. Superusers may do anything; an admin manages researchers and reviewers
    only, and keeps the role it has."""
    if by.is_superuser:
        return None
    if not is_admin(by):
        return "Only admins manage users."
    if user is not None and user.pk is not None:
        if user.is_superuser:
            return "Only a superuser changes a superuser's account."
        current = set(user.groups.values_list("name", flat=True))
        if "admin" in current and user.pk != by.pk:
            return "Only a superuser changes another admin's account."
    else:
        current = set()
    if is_superuser:
        return "Only a superuser makes a superuser."
    if direct_permissions:
        return (
            "Permissions are given through the role groups (researcher, reviewer), "
            "never to one user directly."
        )
    wanted = _group_names(groups)
    # An admin editing their own account keeps "admin"; nobody else gains it here.
    allowed = set(ADMIN_GIVES) | (current & {"admin"})
    if wanted - allowed:
        extra = ", ".join(sorted(wanted - allowed))
        if "admin" in wanted - allowed:
            return "Only a superuser makes admins."
        return f"Admins give the researcher and reviewer roles only (not: {extra})."
    if current & {"admin"} and "admin" not in wanted:
        return "Only a superuser takes the admin role away."
    return None


def user_staff_status(*, user: AbstractUser) -> bool:
    """Staff status as it follows from the role groups (or being a superuser)."""
    return bool(user.is_superuser) or user.groups.filter(name__in=ROLE_GROUPS).exists()


@transaction.atomic
def user_sync_staff(*, user: AbstractUser) -> AbstractUser:
    """Set `user.is_staff` from their role groups, after a change of roles: staff
    status is never chosen by hand (a person in a role group could otherwise be
    unable to sign in, or one without a role keep the admin)."""
    staff = user_staff_status(user=user)
    if user.is_staff != staff:
        user.is_staff = staff
        user.save(update_fields=["is_staff"])
    return user


@transaction.atomic
def user_set_roles(
    *,
    by: AbstractUser,
    user: AbstractUser,
    groups: Iterable[Group | str],
    is_superuser: bool = False,
) -> AbstractUser:
    """Give `user` exactly the role `groups` (and superuser status, for a superuser
    `by` only), refusing what `by` may not do; staff status follows."""
    names = _group_names(groups)
    refusal = user_change_refusal(
        by=by,
        user=user,
        groups=names,
        is_superuser=is_superuser and not user.is_superuser,
        direct_permissions=False,
    )
    if refusal:
        raise PermissionDenied(refusal)
    if by.is_superuser and user.is_superuser != is_superuser:
        user.is_superuser = is_superuser
        user.save(update_fields=["is_superuser"])
    user.groups.set(Group.objects.filter(name__in=names))
    return user_sync_staff(user=user)
