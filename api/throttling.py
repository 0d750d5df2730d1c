"""The API's throttles: DRF's, counting an anonymous caller against the same address as
the sign-in lockout (civtrack.accounts.client_ip, which honours DJANGO_NUM_PROXIES).

DRF's own `get_ident` keys on the whole X-Forwarded-For header when NUM_PROXIES is unset,
so a client sending a new value with each request was never throttled (docs/security.md).
"""

from __future__ import annotations

from rest_framework import throttling

from civtrack.accounts import client_ip


class _ClientIpIdent:
    def get_ident(self, request) -> str:
        return client_ip(request) or ""


class AnonRateThrottle(_ClientIpIdent, throttling.AnonRateThrottle):
    """Anonymous callers, per client address (`anon` rate)."""


class UserRateThrottle(_ClientIpIdent, throttling.UserRateThrottle):
    """Authenticated callers per user; anonymous ones per client address (`user`
    rate)."""
