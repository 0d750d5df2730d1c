"""Small composable permission classes for the roles of DOMAIN.md "Workflow and roles".

The role tests themselves live in `incidents.services` (is_staff_member, is_reviewer,
is_admin, can_edit_incident), so the admin, the API and the services agree on one rule
set; these classes only translate them for DRF. Combine them with `|` and `&`:
`ReadOnly | IsStaffMember` lets the public read and staff write.

An anonymous caller (or an inactive user, whose session no longer authenticates, or an
expired or revoked token) is refused with 401 before these run: DRF answers
NotAuthenticated when no authenticator succeeded.
"""

from __future__ import annotations

from rest_framework.permissions import SAFE_METHODS, BasePermission

from incidents import services


class ReadOnly(BasePermission):
    """GET, HEAD and OPTIONS, for anyone (the public view)."""

    def has_permission(self, request, view) -> bool:
        return request.method in SAFE_METHODS


class IsStaffMember(BasePermission):
    """Researchers, reviewers and admins: create and edit drafts, submit, import."""

    message = "Only researchers, reviewers and admins can do this."

    def has_permission(self, request, view) -> bool:
        return services.is_staff_member(request.user)


class IsReviewer(BasePermission):
    """Reviewers and admins: edit in-review and published incidents, send back,
    publish, withdraw, merge, import with publish."""

    message = "Only reviewers and admins can do this."

    def has_permission(self, request, view) -> bool:
        return services.is_reviewer(request.user)


class IsAdmin(BasePermission):
    """Admins: vocabularies, users, tokens and settings."""

    message = "Only admins can do this."

    def has_permission(self, request, view) -> bool:
        return services.is_admin(request.user)


class CanEditIncident(BasePermission):
    """Object-level: drafts by any staff member; in-review and published incidents by
    reviewers; withdrawn and merged ones by nobody."""

    def has_permission(self, request, view) -> bool:
        return services.is_staff_member(request.user)

    def has_object_permission(self, request, view, obj) -> bool:
        if services.can_edit_incident(request.user, obj):
            return True
        self.message = (
            f"You cannot edit an incident that is {obj.get_status_display()}: "
            + (
                "withdrawn and merged incidents are closed."
                if obj.status in ("withdrawn", "merged")
                else "only reviewers and admins edit incidents in review or published."
            )
        )
        return False


StaffOrReadOnly = ReadOnly | IsStaffMember
