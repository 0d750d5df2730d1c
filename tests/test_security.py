"""Accounts and headers: sign-in lockout, two-factor codes, CSP and security headers."""

import logging
import re

import pytest
import time_machine
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from incidents.models import SignInFailure
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-test-password-1"


def sign_in(client, username, password, token=""):
    return client.post(
        reverse("admin:login"),
        {
            "username": username,
            "password": password,
            "otp_token": token,
            "next": "/admin/",
        },
    )


@pytest.fixture
def staff():
    return UserFactory(username="rania", is_superuser=True)


def test_a_correct_sign_in_reaches_the_admin(client, staff):
    response = sign_in(client, "rania", PASSWORD)

    assert response.status_code == 302
    assert client.get("/admin/").status_code == 200


def test_repeated_failures_lock_the_account_with_a_clear_message(client, staff, caplog):
    caplog.set_level(logging.WARNING, logger="civtrack.security")
    for _ in range(5):
        assert sign_in(client, "rania", "wrong-guess").status_code == 200

    response = sign_in(client, "rania", PASSWORD)

    assert response.status_code == 200
    assert "Too many failed sign-ins" in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert SignInFailure.objects.filter(username="rania").count() == 5
    assert any("locked out" in record.getMessage() for record in caplog.records)


def test_the_lockout_ends_after_its_window(client, staff):
    for _ in range(5):
        sign_in(client, "rania", "wrong-guess")

    with time_machine.travel(timezone.now() + timezone.timedelta(minutes=16)):
        response = sign_in(client, "rania", PASSWORD)

    assert response.status_code == 302


def test_guessing_from_one_address_locks_other_names_too(client, staff):
    for n in range(5):
        sign_in(client, f"someone{n}", "wrong-guess")

    response = sign_in(client, "rania", PASSWORD)

    assert "Too many failed sign-ins" in response.content.decode()


def test_a_user_with_a_totp_device_must_give_its_code(client, staff):
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)

    without = sign_in(Client(), "rania", PASSWORD)
    wrong = sign_in(Client(), "rania", PASSWORD, token="000000")
    device.refresh_from_db()
    device.throttle_reset()  # django-otp slows retries after a wrong code
    right = sign_in(client, "rania", PASSWORD, token=f"{totp(device.bin_key):06d}")

    assert without.status_code == 200
    assert wrong.status_code == 200
    assert right.status_code == 302


def _normalised(response) -> tuple[int, list[str], bytes]:
    """What tells one sign-in answer from another: status, templates and the body,
    with the per-request CSRF token (and nothing else) blanked."""
    body = re.sub(
        rb'name="csrfmiddlewaretoken" value="[^"]*"',
        b'name="csrfmiddlewaretoken" value=""',
        response.content,
    )
    return (
        response.status_code,
        [t.name for t in response.templates if t.name],
        body,
    )


def test_a_right_password_without_the_right_code_answers_like_a_wrong_password(staff):
    """Issue 12 §6: the form said "enter the code" after a right password and "wrong
    username or password" after a wrong one, confirming a guessed password."""
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)

    wrong_password = sign_in(Client(), "rania", "wrong-guess", token="123456")
    no_code = sign_in(Client(), "rania", PASSWORD)
    wrong_code = sign_in(Client(), "rania", PASSWORD, token="123456")
    device.refresh_from_db()
    device.throttle_reset()
    wrong_password_no_code = sign_in(Client(), "rania", "wrong-guess")

    expected = _normalised(wrong_password)
    assert expected[0] == 200
    assert b"two-factor app" in expected[2]  # one message names every part
    assert _normalised(no_code) == expected
    assert _normalised(wrong_code) == expected
    assert _normalised(wrong_password_no_code)[1:] == expected[1:]
    assert SignInFailure.objects.filter(username="rania").count() == 4


def test_a_user_without_a_device_who_gets_the_password_wrong_sees_the_same_message(
    staff,
):
    other = UserFactory(username="omar", is_staff=True)
    TOTPDevice.objects.create(user=other, name="phone", confirmed=True)

    without_device = sign_in(Client(), "rania", "wrong-guess")
    with_device = sign_in(Client(), "omar", PASSWORD)

    assert _normalised(without_device)[1] == _normalised(with_device)[1]
    without_body = _normalised(without_device)[2].replace(b"rania", b"omar")
    assert without_body == _normalised(with_device)[2]


def test_mandatory_two_factor_never_confirms_a_password_without_a_device(
    staff, settings
):
    """With two-factor mandatory, a right password from a user with no device used to
    sign in and then read "this account may not use the admin": the password was
    confirmed. It now answers exactly like a wrong password, and nobody is signed in."""
    settings.CIVTRACK_REQUIRE_2FA = True
    other = UserFactory(username="omar", is_staff=True)
    TOTPDevice.objects.create(user=other, name="phone", confirmed=True)

    right_password = Client()
    answer = sign_in(right_password, "rania", PASSWORD)
    wrong_password = sign_in(Client(), "rania", "wrong-guess")

    assert _normalised(answer) == _normalised(wrong_password)
    assert "_auth_user_id" not in right_password.session
    assert right_password.get("/admin/").status_code == 302


def test_mandatory_two_factor_keeps_unverified_staff_out(client, staff, settings):
    settings.CIVTRACK_REQUIRE_2FA = True
    client.force_login(staff)

    response = client.get("/admin/")

    assert response.status_code == 302
    assert reverse("admin:login") in response["Location"]


def test_mandatory_two_factor_lets_verified_staff_in(client, staff, settings):
    settings.CIVTRACK_REQUIRE_2FA = True
    device = TOTPDevice.objects.create(user=staff, name="phone", confirmed=True)

    sign_in(client, "rania", PASSWORD, token=f"{totp(device.bin_key):06d}")

    assert client.get("/admin/").status_code == 200


@pytest.mark.parametrize(
    "url", ["/en/", "/en/incidents/", "/admin/login/", "/api/docs/"]
)
def test_every_response_carries_a_strict_content_security_policy(client, url):
    response = client.get(url)

    policy = response["Content-Security-Policy"]
    script_src = next(
        d for d in policy.split(";") if d.strip().startswith("script-src")
    )
    assert "'unsafe-inline'" not in script_src
    assert "frame-ancestors 'none'" in policy
    assert "default-src 'self'" in policy


def test_security_headers_are_set(client):
    response = client.get("/en/")

    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def test_staff_sessions_expire():
    from django.conf import settings

    assert settings.SESSION_EXPIRE_AT_BROWSER_CLOSE is True
    assert 0 < settings.SESSION_COOKIE_AGE <= 24 * 3600
