"""Accounts (DOMAIN.md "Accounts"; issue 12 §6): the admin group creates researchers
and reviewers, never superusers, never other admins; only a superuser makes admins;
staff status follows the role group.

Each test is an admin-group user (not a superuser) trying to climb, through the admin
forms as a browser would post them or through the service."""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from incidents.accounts import user_set_roles
from tests.factories import UserFactory, admin_user, researcher
from tests.incidents.test_admin import form_data

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-test-password-1"  # the factories' password


def _role(name: str) -> Group:
    return Group.objects.get_or_create(name=name)[0]


@pytest.fixture
def group_admin():
    """An admin by role group only (the way admins are meant to be made)."""
    for name in ("researcher", "reviewer", "admin"):
        _role(name)
    # The admin group's rights over users and groups (migration 0005; given again
    # here in case a transactional test flushed the migrations' rows).
    _role("admin").permissions.add(
        *Permission.objects.filter(
            content_type__app_label="auth", content_type__model__in=["user", "group"]
        )
    )
    return UserFactory(username="gadmin", role="admin", is_superuser=False)


@pytest.fixture
def admin_client(group_admin):
    client = Client()
    client.force_login(group_admin)
    return client


def _change(client, user, **overrides):
    url = reverse("admin:auth_user_change", args=[user.pk])
    page = client.get(url)
    assert page.status_code == HTTPStatus.OK
    data = form_data(page)
    # The split date-time widget posts two fields.
    joined = timezone.localtime(user.date_joined)
    data.pop("date_joined", None)
    data["date_joined_0"] = joined.date().isoformat()
    data["date_joined_1"] = joined.strftime("%H:%M:%S")
    data.update(overrides)
    return page, client.post(url, data)


def test_the_user_form_offers_no_superuser_or_permission_fields(
    admin_client, group_admin
):
    page = admin_client.get(reverse("admin:auth_user_change", args=[group_admin.pk]))

    form = page.context["adminform"].form
    assert "is_superuser" not in form.fields
    assert "user_permissions" not in form.fields
    assert "is_staff" not in form.fields  # it follows the role groups
    offered = set(form.fields["groups"].queryset.values_list("name", flat=True))
    assert offered <= {"researcher", "reviewer", "admin"}


def test_an_admin_cannot_make_themselves_superuser(admin_client, group_admin):
    _page, response = _change(admin_client, group_admin, is_superuser="on")

    group_admin.refresh_from_db()
    assert response.status_code == HTTPStatus.FOUND
    assert not group_admin.is_superuser


def test_an_admin_cannot_make_another_user_superuser(admin_client):
    other = researcher()

    _page, response = _change(admin_client, other, is_superuser="on")

    other.refresh_from_db()
    assert response.status_code == HTTPStatus.FOUND  # saved, without the field
    assert not other.is_superuser


def test_an_admin_cannot_make_another_admin(admin_client):
    other = researcher()

    _page, response = _change(admin_client, other, groups=[_role("admin").pk])

    assert response.status_code == HTTPStatus.OK  # the form, with the refusal
    assert "Only a superuser makes admins." in response.content.decode()
    assert set(other.groups.values_list("name", flat=True)) == {"researcher"}


def test_an_admin_cannot_grant_permissions_directly(admin_client):
    other = researcher()
    permission = Permission.objects.get(codename="change_user")

    _page, response = _change(admin_client, other, user_permissions=[permission.pk])

    assert response.status_code == HTTPStatus.FOUND  # saved, without the field
    assert not other.user_permissions.exists()
    assert not other.has_perm("auth.change_user")


def test_an_admin_cannot_edit_a_superuser_or_another_admin(admin_client):
    for target in (
        admin_user(username="root"),
        UserFactory(username="admin2", role="admin"),
    ):
        url = reverse("admin:auth_user_change", args=[target.pk])
        password_url = reverse("admin:auth_user_password_change", args=[target.pk])

        post = admin_client.post(url, {"username": "taken-over", "is_active": ""})
        password = admin_client.post(
            password_url, {"password1": "x-new-pass-9", "password2": "x-new-pass-9"}
        )
        delete = admin_client.post(
            reverse("admin:auth_user_delete", args=[target.pk]), {"post": "yes"}
        )

        target.refresh_from_db()
        assert post.status_code == HTTPStatus.FORBIDDEN, target
        assert password.status_code == HTTPStatus.FORBIDDEN, target
        assert delete.status_code == HTTPStatus.FORBIDDEN, target
        assert target.username != "taken-over"
        assert target.check_password(PASSWORD)


def test_an_admin_cannot_give_a_role_group_more_permissions(admin_client):
    group = _role("researcher")
    before = set(group.permissions.values_list("pk", flat=True))
    everything = list(Permission.objects.values_list("pk", flat=True))

    response = admin_client.post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {"name": "researcher", "permissions": everything},
    )
    created = admin_client.post(
        reverse("admin:auth_group_add"), {"name": "mine", "permissions": everything}
    )

    assert response.status_code == HTTPStatus.FORBIDDEN
    assert created.status_code == HTTPStatus.FORBIDDEN
    assert set(group.permissions.values_list("pk", flat=True)) == before
    assert not Group.objects.filter(name="mine").exists()


def test_the_service_refuses_superusers_and_admins_to_an_admin(group_admin):
    other = researcher()

    with pytest.raises(PermissionDenied, match="makes admins"):
        user_set_roles(by=group_admin, user=other, groups=["admin"])
    with pytest.raises(PermissionDenied, match="makes a superuser"):
        user_set_roles(by=group_admin, user=other, groups=[], is_superuser=True)
    with pytest.raises(PermissionDenied, match="superuser"):
        user_set_roles(by=group_admin, user=admin_user(), groups=["reviewer"])

    other.refresh_from_db()
    assert not other.is_superuser
    assert set(other.groups.values_list("name", flat=True)) == {"researcher"}


def test_a_superuser_makes_admins(group_admin):
    root = admin_user(username="root")
    other = researcher()

    user_set_roles(by=root, user=other, groups=["admin"])

    assert set(other.groups.values_list("name", flat=True)) == {"admin"}
    assert other.is_staff


def test_a_newcomer_put_in_the_researcher_group_can_sign_in(admin_client):
    add = admin_client.post(
        reverse("admin:auth_user_add"),
        {
            "username": "newcomer",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert add.status_code == HTTPStatus.FOUND
    newcomer = Group.objects.get(name="researcher").user_set.model.objects.get(
        username="newcomer"
    )
    assert not newcomer.is_staff  # no role yet: no admin

    _change(admin_client, newcomer, groups=[_role("researcher").pk])

    newcomer.refresh_from_db()
    assert newcomer.is_staff
    browser = Client()
    signed_in = browser.post(
        reverse("admin:login"),
        {"username": "newcomer", "password": PASSWORD, "next": "/admin/"},
    )
    assert signed_in.status_code == HTTPStatus.FOUND
    assert browser.get("/admin/").status_code == HTTPStatus.OK


def test_taking_every_role_away_takes_staff_status_away(admin_client):
    other = researcher()

    _change(admin_client, other, groups=[])

    other.refresh_from_db()
    assert not other.is_staff


def test_the_migration_gives_staff_status_to_role_group_members():
    migration = __import__(
        "incidents.migrations.0012_staff_follows_role_group",
        fromlist=["staff_follows_role_group"],
    )
    stuck = UserFactory(username="stuck", role="researcher", is_staff=False)
    outsider = UserFactory(username="outsider", is_staff=False)

    migration.staff_follows_role_group(
        django_apps, SimpleNamespace(connection=connection)
    )

    stuck.refresh_from_db()
    outsider.refresh_from_db()
    assert stuck.is_staff
    assert not outsider.is_staff


def test_an_admin_cannot_take_a_token_of_a_superuser_or_another_admin(group_admin):
    from api.auth import token_issue

    for target in (admin_user(username="root"), UserFactory(role="admin")):
        with pytest.raises(ValidationError, match="Only a superuser issues"):
            token_issue(user=target, by=group_admin, ttl=dt.timedelta(days=1))

    _instance, token = token_issue(
        user=researcher(), by=group_admin, ttl=dt.timedelta(days=1)
    )
    assert token


def test_an_admin_cannot_touch_a_superusers_or_another_admins_two_factor_device(
    group_admin,
):
    """The admin group manages staff's two-factor devices (migration 0009), but not
    those of superusers or other admins: deleting one locks that person out, adding
    one does too, and a TOTP device's configuration page shows its secret."""
    from django_otp.plugins.otp_static.models import StaticDevice
    from django_otp.plugins.otp_totp.models import TOTPDevice

    _role("admin").permissions.add(
        *Permission.objects.filter(
            content_type__app_label__in=["otp_totp", "otp_static"]
        )
    )
    client = Client()
    client.force_login(group_admin)
    root = admin_user(username="root")
    other_admin = UserFactory(username="admin2", role="admin")
    staff = researcher()
    guarded = [
        TOTPDevice.objects.create(user=root, name="root phone", confirmed=True),
        TOTPDevice.objects.create(user=other_admin, name="admin2 phone"),
    ]
    static = StaticDevice.objects.create(user=root, name="root backup codes")
    managed = TOTPDevice.objects.create(user=staff, name="researcher phone")

    listing = client.get(reverse("admin:otp_totp_totpdevice_changelist"))
    assert listing.status_code == HTTPStatus.OK
    assert b"researcher phone" in listing.content
    for device in guarded:
        assert device.name.encode() not in listing.content
        for name, args in (
            ("admin:otp_totp_totpdevice_change", [device.pk]),
            ("admin:otp_totp_totpdevice_delete", [device.pk]),
            ("admin:otp_totp_totpdevice_config", [device.pk]),
        ):
            answer = client.get(reverse(name, args=args))
            assert answer.status_code in (HTTPStatus.FOUND, HTTPStatus.FORBIDDEN), name
            assert device.key.encode() not in answer.content
        client.post(
            reverse("admin:otp_totp_totpdevice_delete", args=[device.pk]),
            {"post": "yes"},
        )
        assert TOTPDevice.objects.filter(pk=device.pk).exists()
    client.post(
        reverse("admin:otp_static_staticdevice_delete", args=[static.pk]),
        {"post": "yes"},
    )
    assert StaticDevice.objects.filter(pk=static.pk).exists()

    # Adding a device to a superuser's account is refused as an invalid choice.
    add = client.post(
        reverse("admin:otp_totp_totpdevice_add"),
        {
            "user": root.pk,
            "name": "planted",
            "key": "",
            "step": 30,
            "t0": 0,
            "digits": 6,
            "tolerance": 1,
            "drift": 0,
            "confirmed": "on",
        },
    )
    assert not TOTPDevice.objects.filter(name="planted").exists()
    assert add.status_code == HTTPStatus.OK

    # Their own staff's devices stay theirs to manage.
    client.post(
        reverse("admin:otp_totp_totpdevice_delete", args=[managed.pk]), {"post": "yes"}
    )
    assert not TOTPDevice.objects.filter(pk=managed.pk).exists()
