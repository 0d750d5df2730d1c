"""Staff sign-in: lockout against password guessing, and TOTP two-factor authentication.

- After CIVTRACK_LOGIN_MAX_FAILURES failed sign-ins (default 5) for one user name or from
  one address within CIVTRACK_LOGIN_LOCKOUT_MINUTES (default 15), further attempts are
  refused with a clear message, whatever the password, until the window has passed. Each
  failure and each refusal is logged (logger `civtrack.security`).
- Staff may add a TOTP device (django-otp); a user with a device must give its code to
  sign in. CIVTRACK_REQUIRE_2FA=1 makes two-factor authentication mandatory for the admin.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import logging
import math

from django.conf import settings
from django.contrib.admin import AdminSite
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max, Q
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django_otp import devices_for_user, user_has_device
from django_otp.admin import OTPAdminAuthenticationForm
from rest_framework.settings import api_settings

logger = logging.getLogger("civtrack.security")


def client_ip(request) -> str | None:
    """The address a request is counted against, by the sign-in lockout and by the API
    throttles (api/throttling.py): one rule for both.

    REST_FRAMEWORK["NUM_PROXIES"] (DJANGO_NUM_PROXIES, default 0) says how many trusted
    proxies append to X-Forwarded-For. With 0 the header, which any client can forge, is
    ignored and the client is REMOTE_ADDR. With N it is the N-th address from the right
    of the header (the one the outermost trusted proxy wrote), as DRF reads it; an
    address that does not parse falls back to REMOTE_ADDR."""
    if request is None:
        return None
    meta = getattr(request, "META", None) or {}
    remote_addr = meta.get("REMOTE_ADDR") or None
    num_proxies = api_settings.NUM_PROXIES or 0
    forwarded = meta.get("HTTP_X_FORWARDED_FOR")
    if num_proxies <= 0 or not forwarded:
        return remote_addr
    addresses = [part.strip() for part in forwarded.split(",")]
    candidate = addresses[-min(num_proxies, len(addresses))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote_addr


def lockout_remaining(username: str | None, ip: str | None) -> int | None:
    """Minutes until this user name / address may try again, or None when not locked."""
    from incidents.models import SignInFailure

    window = dt.timedelta(minutes=settings.CIVTRACK_LOGIN_LOCKOUT_MINUTES)
    since = timezone.now() - window
    limit = settings.CIVTRACK_LOGIN_MAX_FAILURES
    recent = SignInFailure.objects.filter(at__gte=since)
    latest = None
    for condition in (
        Q(username=(username or "").lower()) if username else None,
        Q(ip=ip) if ip else None,
    ):
        if condition is None:
            continue
        stats = recent.filter(condition).aggregate(n=Max("id"), last=Max("at"))
        count = recent.filter(condition).count()
        if count >= limit and stats["last"] is not None:
            latest = max(latest or stats["last"], stats["last"])
    if latest is None:
        return None
    seconds = (latest + window - timezone.now()).total_seconds()
    return max(1, math.ceil(seconds / 60))


def lockout_message(minutes: int) -> str:
    return _(
        "Too many failed sign-ins for this account or from this address. For your "
        "protection, sign-in is locked: try again in %(minutes)d minute(s)."
    ) % {"minutes": minutes}


@receiver(user_login_failed)
def _record_failure(sender, credentials, request=None, **kwargs):
    from incidents.models import SignInFailure

    username = (credentials.get("username") or "")[:150].lower()
    ip = client_ip(request)
    SignInFailure.objects.create(username=username, ip=ip)
    logger.warning("failed sign-in for %r from %s", username, ip)


@receiver(user_logged_in)
def _clear_failures(sender, request, user, **kwargs):
    from incidents.models import SignInFailure

    SignInFailure.objects.filter(username=user.get_username().lower()).delete()


class ThrottledModelBackend(ModelBackend):
    """The model backend, refusing every attempt while a user name or address is locked
    out (so no login form or API session login can be used to keep guessing)."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        minutes = lockout_remaining(username, client_ip(request))
        if minutes is not None:
            logger.warning(
                "sign-in refused (locked out) for %r from %s",
                username,
                client_ip(request),
            )
            raise PermissionDenied(lockout_message(minutes))
        return super().authenticate(
            request, username=username, password=password, **kwargs
        )


class CivTrackLoginForm(OTPAdminAuthenticationForm):
    """The admin sign-in: the lockout message first, then password and, for a user who
    has a TOTP device, its code, on one form.

    Until both are right the answer is the same (issue 12 §6): a right password with a
    missing or wrong code gets exactly the error of a wrong password, so the form
    never confirms a guessed password to someone who lacks the second factor. Both
    count as a failed sign-in for the lockout."""

    error_messages = {
        **OTPAdminAuthenticationForm.error_messages,
        "invalid_login": gettext_lazy(
            "Please enter the correct %(username)s and password for a staff account, "
            "and the current code from your two-factor app (or a backup code) if you "
            "have set one up. Note that the fields may be case-sensitive."
        ),
    }

    def clean(self):
        username = self.cleaned_data.get("username")
        minutes = lockout_remaining(username, client_ip(self.request))
        if minutes is not None:
            logger.warning(
                "sign-in refused (locked out) for %r from %s",
                username,
                client_ip(self.request),
            )
            raise ValidationError(lockout_message(minutes), code="locked_out")
        cleaned = AdminAuthenticationForm.clean(self)
        user = self.get_user()
        # Two-factor is optional per user (unless CIVTRACK_REQUIRE_2FA): a code is asked
        # of those who have set up a device. When it is mandatory, a right password
        # without a device is refused here with the same answer as a wrong one (an
        # admin sets up the device): signing in and then showing "this account may not
        # use the admin" would confirm the password.
        if user is not None and (
            settings.CIVTRACK_REQUIRE_2FA or user_has_device(user)
        ):
            token = (self.cleaned_data.get("otp_token") or "").strip()
            user.otp_device = _verified_device(user, token) if token else None
            if user.otp_device is None:
                _record_failure(
                    sender=None,
                    credentials={"username": user.get_username()},
                    request=self.request,
                )
                self.user_cache = None
                raise self.get_invalid_login_error()
        return cleaned


def _verified_device(user, token: str):
    """The user's confirmed device that accepts `token` (TOTP apps first, then backup
    codes), or None. django-otp stores it in the session at login (is_verified())."""
    devices = sorted(
        devices_for_user(user, confirmed=True),
        key=lambda d: d.__class__.__name__ != "TOTPDevice",
    )
    for device in devices:
        allowed, _extra = device.verify_is_allowed()
        if allowed and device.verify_token(token):
            return device
    return None


class CivTrackAdminSite(AdminSite):
    site_header = "CivTrack"
    site_title = "CivTrack admin"
    index_title = "Researchers' workbench"
    login_form = CivTrackLoginForm
    login_template = "admin/civtrack_login.html"

    def has_permission(self, request):
        allowed = super().has_permission(request)
        if allowed and settings.CIVTRACK_REQUIRE_2FA:
            return bool(getattr(request.user, "is_verified", lambda: False)())
        return allowed
