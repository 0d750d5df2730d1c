"""DRF authentication classes (named in REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]).

Kept apart from api/auth.py: DRF imports these while `rest_framework.views` is still
loading, so this module must not import any view.
"""

from __future__ import annotations

import logging

from django.conf import settings
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import authentication, exceptions

logger = logging.getLogger("civtrack.security")


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's token authentication (hashed, expiring, revocable tokens), answering 401
    rather than 500 to a token that is not ASCII: knox decodes the header as UTF-8 and
    lets the UnicodeDecodeError escape."""

    def authenticate_credentials(self, token: bytes):
        try:
            token.decode("ascii")
        except UnicodeDecodeError:
            raise exceptions.AuthenticationFailed("Invalid token.") from None
        return super().authenticate_credentials(token)


class SessionAuthentication(authentication.SessionAuthentication):
    """DRF's session authentication, except that with CIVTRACK_REQUIRE_2FA a session that
    no two-factor device verified does not authenticate: the caller is anonymous (public
    view, writes refused), as the admin treats such a session as not signed in
    (CivTrackAdminSite.has_permission sends it back to the sign-in page). Without this,
    a password alone gave staff read and write access through the API.

    Anonymous rather than a 403, so that the public pages' own API calls keep working in
    the browser of a staff member who is signed in without a code. Tokens (knox) are
    another path: only admins issue them, in the admin, which already needs 2FA."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None or not settings.CIVTRACK_REQUIRE_2FA:
            return result
        user = result[0]
        is_verified = getattr(user, "is_verified", None)  # django_otp.middleware
        if callable(is_verified) and is_verified():
            return result
        logger.info(
            "API session of %r ignored: not verified by a two-factor device",
            user.get_username(),
        )
        return None
