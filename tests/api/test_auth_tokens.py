"""API authentication: knox tokens (hashed, expiring, revocable, issued in the admin
only), session authentication with CSRF, write throttles and no cross-origin writes."""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient
from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from incidents.models import Incident, Source
from tests.factories import (
    IncidentTypeFactory,
    UserFactory,
    admin_user,
    api_token,
    researcher,
    reviewer,
)

pytestmark = pytest.mark.django_db


def token_client(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def new_source(client, n: int = 1):
    return client.post(
        reverse("api:source-list"),
        {"kind": "news_report", "title": "R", "url": f"https://example.org/{n}"},
        format="json",
    )


# ---------------------------------------------------------------------------------------
# Tokens
# ---------------------------------------------------------------------------------------


def test_tokens_are_stored_hashed_and_expire_by_default():
    user = researcher()

    instance, token = AuthToken.objects.create(user)

    assert token not in instance.digest
    assert not AuthToken.objects.filter(digest=token).exists()
    assert instance.expiry is not None
    assert instance.expiry > timezone.now() + dt.timedelta(days=1)


def test_logout_revokes_the_calling_token_only():
    user = researcher()
    token, other = api_token(user), api_token(user)
    client = token_client(token)

    response = client.post(reverse("api:auth-logout"))
    after = new_source(client)

    assert response.status_code == HTTPStatus.NO_CONTENT
    assert after.status_code == HTTPStatus.UNAUTHORIZED
    assert AuthToken.objects.filter(user=user).count() == 1
    assert new_source(token_client(other), 2).status_code == HTTPStatus.CREATED


def test_logout_needs_a_token():
    client = APIClient()
    client.force_login(researcher())

    response = client.post(reverse("api:auth-logout"))

    assert response.status_code == HTTPStatus.UNAUTHORIZED


def test_a_malformed_token_is_401_not_500():
    for header in ("Token", "Token a b", "Token \u00e9\u00e9", "Token " + "x" * 500):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=header)

        response = new_source(client)

        assert response.status_code == HTTPStatus.UNAUTHORIZED, header


def test_there_is_no_password_login_endpoint():
    user = researcher()

    response = APIClient().post(
        "/api/v1/auth/login/",
        {"username": user.username, "password": "a-long-test-password-1"},
        format="json",
    )

    assert response.status_code == HTTPStatus.NOT_FOUND
    assert AuthToken.objects.count() == 0


# ---------------------------------------------------------------------------------------
# Sessions and CSRF (the browsable API)
# ---------------------------------------------------------------------------------------


def test_a_session_write_needs_the_csrf_token():
    user = researcher()
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)

    refused = new_source(client)
    csrf = _csrf_token(client)
    allowed = client.post(
        reverse("api:source-list"),
        {"kind": "news_report", "title": "R", "url": "https://example.org/s"},
        format="json",
        HTTP_X_CSRFTOKEN=csrf,
    )

    assert refused.status_code == HTTPStatus.FORBIDDEN
    assert "CSRF" in refused.json()["detail"]
    assert allowed.status_code == HTTPStatus.CREATED
    assert Source.objects.get().created_by == user


def _csrf_token(client) -> str:
    """Plant a CSRF cookie as a browser holding the browsable API's page would."""
    from django.middleware.csrf import _get_new_csrf_string

    token = _get_new_csrf_string()
    client.cookies["csrftoken"] = token
    return token


def test_a_deactivated_session_user_is_401():
    user = researcher()
    client = APIClient()
    client.force_login(user)
    user.is_active = False
    user.save(update_fields=["is_active"])

    response = new_source(client)

    assert response.status_code == HTTPStatus.UNAUTHORIZED


# ---------------------------------------------------------------------------------------
# Throttles and CORS
# ---------------------------------------------------------------------------------------


def test_writes_are_throttled_per_user_with_retry_after(monkeypatch):
    rates = {"anon": "1/min", "user": "2/min"}
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", rates)
    client = token_client(api_token(researcher()))

    answers = [new_source(client, n).status_code for n in range(3)]
    throttled = new_source(client, 9)

    assert answers[:2] == [HTTPStatus.CREATED, HTTPStatus.CREATED]
    assert throttled.status_code == HTTPStatus.TOO_MANY_REQUESTS
    assert int(throttled["Retry-After"]) >= 1
    assert Source.objects.count() == 2


def test_token_callers_get_the_higher_user_rate(monkeypatch):
    rates = {"anon": "1/min", "user": "5/min"}
    monkeypatch.setattr(AnonRateThrottle, "THROTTLE_RATES", rates)
    monkeypatch.setattr(UserRateThrottle, "THROTTLE_RATES", rates)
    client = token_client(api_token(researcher()))

    answers = [new_source(client, n).status_code for n in range(3)]

    assert answers == [HTTPStatus.CREATED] * 3


def test_write_endpoints_allow_no_cross_origin_caller():
    IncidentTypeFactory(code="airstrike")
    client = token_client(api_token(researcher()))
    origin = {"HTTP_ORIGIN": "https://elsewhere.example"}

    preflight = client.options(
        reverse("api:incident-list"),
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        **origin,
    )
    created = client.post(
        reverse("api:incident-list"),
        {"title": "x", "date_start": "2016-01-01", "incident_type": "airstrike"},
        format="json",
        **origin,
    )
    imported = client.post(reverse("api:import-list"), {}, **origin)

    assert "POST" not in preflight.get("Access-Control-Allow-Methods", "")
    assert created.status_code == HTTPStatus.CREATED
    assert "Access-Control-Allow-Origin" not in created
    assert "Access-Control-Allow-Origin" not in imported
    assert Incident.objects.count() == 1


# ---------------------------------------------------------------------------------------
# Issuing and revoking tokens in the admin
# ---------------------------------------------------------------------------------------


def admin_client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_an_admin_issues_a_token_that_is_shown_once_and_works():
    staff = researcher()
    client = admin_client(admin_user())

    page = client.get(reverse("admin:knox_authtoken_issue"))
    response = client.post(
        reverse("admin:knox_authtoken_issue"), {"user": staff.pk, "days": 30}
    )

    assert page.status_code == HTTPStatus.OK
    assert response.status_code == HTTPStatus.OK
    assert "no-store" in response["Cache-Control"]
    token = response.context["token"]
    assert token in response.content.decode()
    instance = AuthToken.objects.get(user=staff)
    assert token not in instance.digest
    assert (instance.expiry - timezone.now()).days in (29, 30)
    assert new_source(token_client(token)).status_code == HTTPStatus.CREATED
    listing = client.get(reverse("admin:knox_authtoken_changelist"))
    assert listing.status_code == HTTPStatus.OK
    assert token not in listing.content.decode()


def test_tokens_are_issued_to_staff_only():
    outsider = UserFactory(is_staff=False)
    client = admin_client(admin_user())

    response = client.post(
        reverse("admin:knox_authtoken_issue"), {"user": outsider.pk, "days": 30}
    )

    assert response.status_code == HTTPStatus.OK
    assert response.context["token"] is None
    assert "user" in response.context["form"].errors
    assert AuthToken.objects.count() == 0


def test_only_admins_issue_tokens():
    client = admin_client(reviewer())

    response = client.post(
        reverse("admin:knox_authtoken_issue"), {"user": researcher().pk, "days": 30}
    )

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert AuthToken.objects.count() == 0


def test_an_admin_revokes_tokens_in_the_admin():
    user = researcher()
    token = api_token(user)
    instance = AuthToken.objects.get(user=user)
    client = admin_client(admin_user())

    response = client.post(
        reverse("admin:knox_authtoken_changelist"),
        {"action": "revoke", "_selected_action": [instance.pk]},
    )

    assert response.status_code == HTTPStatus.FOUND
    assert not AuthToken.objects.filter(pk=instance.pk).exists()
    assert new_source(token_client(token)).status_code == HTTPStatus.UNAUTHORIZED


def test_the_token_admin_is_read_only():
    api_token(researcher())
    instance = AuthToken.objects.get()
    client = admin_client(admin_user())

    add = client.get(reverse("admin:knox_authtoken_add"))
    change = client.post(
        reverse("admin:knox_authtoken_change", args=[instance.pk]),
        {"expiry_0": "2099-01-01", "expiry_1": "00:00:00"},
    )

    assert add.status_code == HTTPStatus.FORBIDDEN
    instance.refresh_from_db()
    assert instance.expiry.year != 2099
    assert change.status_code in (HTTPStatus.OK, HTTPStatus.FORBIDDEN)
