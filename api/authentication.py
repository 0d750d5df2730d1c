"""DRF authentication classes (named in REST_FRAMEWORK["DEFAULT_AUTHENTICATION_CLASSES"]).

Kept apart from api/auth.py: DRF imports these while `rest_framework.views` is still
loading, so this module must not import any view.
"""

from __future__ import annotations

from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import exceptions


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
