"""Token authentication (django-rest-knox): tokens are stored hashed, expire after
REST_KNOX["TOKEN_TTL"], and are revocable.

Tokens are issued to staff in the admin only (api/admin.py), behind the admin's login
and two-factor authentication; there is deliberately no password login endpoint, which
would bypass the second factor (DOMAIN.md "Workflow and roles"). A caller can revoke its
own token here.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from drf_spectacular.contrib.knox_auth_token import KnoxTokenScheme
from drf_spectacular.utils import OpenApiResponse, extend_schema
from knox.models import AuthToken
from knox.settings import knox_settings
from knox.views import LogoutView as KnoxLogoutView

from api.authentication import TokenAuthentication
from api.exceptions import api_exception_handler
from api.throttling import AnonRateThrottle, UserRateThrottle
from incidents import services

logger = logging.getLogger("civtrack.api")


class CivTrackTokenScheme(KnoxTokenScheme):
    """The schema's security scheme for api.authentication.TokenAuthentication
    (`Authorization: Token <key>`)."""

    target_class = "api.authentication.TokenAuthentication"


class LogoutView(KnoxLogoutView):
    """`POST /api/v1/auth/logout/`: revoke the token this request carries (knox only
    accepts token authentication here, so a session cannot revoke a token)."""

    authentication_classes = (TokenAuthentication,)
    throttle_classes = (AnonRateThrottle, UserRateThrottle)

    def get_exception_handler(self):
        return api_exception_handler

    @extend_schema(
        summary="Revoke the calling token",
        description="The token sent in `Authorization: Token <key>` stops working "
        "at once. Tokens are issued in the admin, never through the API.",
        request=None,
        responses={
            204: OpenApiResponse(description="The token is revoked."),
            401: OpenApiResponse(description="No valid token."),
        },
        tags=["auth"],
    )
    def post(self, request, format=None):
        return super().post(request, format=format)


# ---------------------------------------------------------------------------------------
# Issuing and revoking (called by the admin, api/admin.py)
# ---------------------------------------------------------------------------------------


def token_issue(*, user, by, ttl: timedelta) -> tuple[AuthToken, str]:
    """Issue an API token to a staff member; returns the row and the token, which is
    shown once and stored only as a hash. Only admins issue tokens (DOMAIN.md)."""
    if not services.is_admin(by):
        raise PermissionDenied("Only admins issue API tokens.")
    if not services.is_staff_member(user):
        raise ValidationError(
            {
                "user": "API tokens are issued to active researchers, reviewers and admins."
            }
        )
    if (
        not by.is_superuser
        and user.pk != by.pk
        and (user.is_superuser or services.is_admin(user))
    ):
        # A token acts as its holder: an admin holding a superuser's or another
        # admin's would be that person (DOMAIN.md "Accounts"; issue 12 §6).
        raise ValidationError(
            {
                "user": "Only a superuser issues a token for a superuser or another "
                "admin."
            }
        )
    if ttl <= timedelta(0):
        raise ValidationError({"days": "A token must expire in the future."})
    instance, token = AuthToken.objects.create(user=user, expiry=ttl)
    logger.info(
        "API token %s… issued to %s by %s, expires %s",
        instance.token_key[:8],
        user.get_username(),
        by.get_username(),
        instance.expiry,
    )
    return instance, token


def token_revoke(*, tokens, by) -> int:
    """Revoke tokens (knox keeps only live tokens: revoking deletes the row)."""
    if not services.is_admin(by):
        raise PermissionDenied("Only admins revoke other people's API tokens.")
    rows = list(tokens.select_related("user"))
    for row in rows:
        logger.info(
            "API token %s… of %s revoked by %s",
            row.token_key[:8],
            row.user.get_username(),
            by.get_username(),
        )
    AuthToken.objects.filter(pk__in=[row.pk for row in rows]).delete()
    return len(rows)


def default_token_days() -> int:
    ttl = knox_settings.TOKEN_TTL
    return max(1, ttl.days) if ttl else 90
