"""The admin half of the permission matrix (CivTrack issue 7): every page of every model
registered in the admin, every custom admin URL and every list action × every kind of
caller, with the status the roles table of DOMAIN.md ("Workflow and roles") and
PAGES.md ("The admin") give, and the four-eyes rule on publishing. The API half is
tests/api/test_permissions_matrix.py.

Callers: the public (anonymous), a signed-in user who is not staff (outsider), an
inactive user (an inactive admin: force_login does not make a session for them), and
the three roles. The first three are always sent to the sign-in page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import quote
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.core.files.base import ContentFile
from django.test import RequestFactory
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_tasks_db.models import DBTaskResult
from knox.models import AuthToken
from pghistory.models import Events

from incidents import services
from incidents.importers.base import batch_create
from incidents.models import (
    ActorRelation,
    Facility,
    ImportBatch,
    Incident,
    ProtectionRequest,
)
from incidents.tasks import run_import_batch
from tests.factories import (
    ActorFactory,
    FacilityFactory,
    IncidentTypeFactory,
    LocationFactory,
    SourceFactory,
    TargetTypeFactory,
    UserFactory,
    WeaponTypeFactory,
    admin_user,
    make_incident,
    researcher,
    reviewer,
)

# The project's own URLs (the admin is at /admin/): a per-test URLconf
# (pytest.mark.urls) would rebuild the admin's resolver for every test, a third of the
# run time.
pytestmark = pytest.mark.django_db

OK = HTTPStatus.OK
FOUND = HTTPStatus.FOUND
NO = HTTPStatus.FORBIDDEN
VIEW = "200 read-only"  # the change page, shown without a save button
LOGIN = "302 to sign-in"

ROLES = ("researcher", "reviewer", "admin")
SIGNED_OUT = ("anonymous", "outsider", "inactive")


def sign_in(client, caller: str):
    if caller == "anonymous":
        return None
    user = {
        "outsider": lambda: UserFactory(is_staff=False),
        "inactive": lambda: admin_user(is_active=False),
        "researcher": researcher,
        "reviewer": reviewer,
        "admin": admin_user,
    }[caller]()
    client.force_login(user)
    return user


def outcome(response, *, page: str = "") -> Any:
    if response.status_code == FOUND and response.url.startswith(
        reverse("admin:login")
    ):
        return LOGIN
    if (
        page == "change"
        and response.status_code == OK
        and not response.context_data["has_change_permission"]
    ):
        return VIEW
    return response.status_code


# ---------------------------------------------------------------------------------------
# Every registered model: changelist, add, change, delete and history
# ---------------------------------------------------------------------------------------

PAGE_NAMES = ("changelist", "add", "change", "delete", "history")


def _pages(changelist, add, change, delete, history) -> dict[str, tuple]:
    return dict(
        zip(PAGE_NAMES, (changelist, add, change, delete, history), strict=True)
    )


# (researcher, reviewer, admin)
STAFF = (OK, OK, OK)
ADMINS = (NO, NO, OK)
NOBODY = (NO, NO, NO)
ADMINS_READ = (NO, NO, VIEW)

# Actors, relations, places, facilities and sources are edited by all staff; nothing
# is deleted ("Nothing is lost"). Incidents: as these while a draft (see below).
STAFF_EDITS = _pages(STAFF, STAFF, STAFF, NOBODY, STAFF)
# Vocabularies: every staff member reads them, admins edit them, nobody deletes them
# (they are deactivated).
VOCABULARY = _pages(STAFF, ADMINS, (VIEW, VIEW, OK), NOBODY, STAFF)
# Users, groups, two-factor devices: admins ("users, tokens, settings").
ADMIN_EDITS = _pages(ADMINS, ADMINS, ADMINS, ADMINS, ADMINS)
# Records of what happened (task results, the audit trail): admins read them, nobody
# writes them.
ADMIN_READS = _pages(ADMINS, NOBODY, ADMINS_READ, NOBODY, ADMINS)

PAGES: dict[str, dict[str, tuple]] = {
    "auth.User": ADMIN_EDITS,
    "auth.Group": ADMIN_EDITS,
    "otp_totp.TOTPDevice": ADMIN_EDITS,
    "otp_static.StaticDevice": ADMIN_EDITS,
    "django_tasks_database.DBTaskResult": ADMIN_READS,
    "pghistory.Events": ADMIN_READS,
    "incidents.Incident": STAFF_EDITS,
    "incidents.Source": STAFF_EDITS,
    "incidents.Actor": STAFF_EDITS,
    "incidents.ActorRelation": STAFF_EDITS,
    "incidents.Location": STAFF_EDITS,
    "incidents.Facility": STAFF_EDITS,
    "incidents.IncidentType": VOCABULARY,
    "incidents.WeaponType": VOCABULARY,
    "incidents.TargetType": VOCABULARY,
    # Batches are made on the import page and kept as the record of an import: every
    # staff member reads them, nobody adds, edits or deletes one here.
    "incidents.ImportBatch": _pages(STAFF, NOBODY, (VIEW, VIEW, VIEW), NOBODY, STAFF),
    # Tokens: admins only; issued on the issue page, revoked (deleted), never edited.
    "knox.AuthToken": _pages(ADMINS, NOBODY, ADMINS_READ, ADMINS, ADMINS),
    # Requests to lower a protection: asked for by editing the object (never added
    # here), decided by reviewers on the change page, never deleted. A researcher sees
    # only their own: someone else's is "not found" (a redirect with a message).
    "incidents.ProtectionRequest": _pages(
        STAFF, NOBODY, (FOUND, OK, OK), NOBODY, (FOUND, OK, OK)
    ),
}


def _relation() -> ActorRelation:
    return services.actor_relation_save(
        relation=ActorRelation(
            from_actor=ActorFactory(), to_actor=ActorFactory(), kind="allied_with"
        )
    )


def _task_result() -> DBTaskResult:
    return DBTaskResult.objects.get(id=run_import_batch.enqueue(0).id)


def _protection_request(by=None) -> ProtectionRequest:
    """A pending request to make a sensitive facility not sensitive (asked by a
    researcher unless `by` is given)."""
    facility = FacilityFactory(sensitive=True)
    facility.sensitive = False
    saved = services.facility_save(
        facility=facility, by=by or researcher(), reason="Named in the press."
    )
    return saved.protection_requests[0]


def _event() -> Events:
    ActorFactory()
    return Events.objects.order_by("pgh_created_at").first()


OBJECTS: dict[str, Callable[[], Any]] = {
    "auth.User": UserFactory,
    "auth.Group": lambda: Group.objects.create(name="editors"),
    "otp_totp.TOTPDevice": lambda: TOTPDevice.objects.create(
        user=UserFactory(), name="phone"
    ),
    "otp_static.StaticDevice": lambda: StaticDevice.objects.create(
        user=UserFactory(), name="backup codes"
    ),
    "django_tasks_database.DBTaskResult": _task_result,
    "pghistory.Events": _event,
    "incidents.Incident": make_incident,  # a draft
    "incidents.Source": SourceFactory,
    "incidents.Actor": ActorFactory,
    "incidents.ActorRelation": _relation,
    "incidents.Location": LocationFactory,
    "incidents.Facility": FacilityFactory,
    "incidents.IncidentType": IncidentTypeFactory,
    "incidents.WeaponType": WeaponTypeFactory,
    "incidents.TargetType": TargetTypeFactory,
    "incidents.ImportBatch": lambda: batch_create(
        format="ucdp-ged", file_name="ged.csv", user=researcher()
    ),
    "knox.AuthToken": lambda: AuthToken.objects.create(UserFactory())[0],
    "incidents.ProtectionRequest": lambda: _protection_request(),
}


def page_url(obj, page: str) -> str:
    opts = obj._meta
    name = f"admin:{opts.app_label}_{opts.model_name}_{page}"
    if page in ("changelist", "add"):
        return reverse(name)
    return reverse(name, args=[quote(obj.pk)])


def expected_pages(table: dict[str, tuple], role: str) -> dict[str, Any]:
    return {page: roles[ROLES.index(role)] for page, roles in table.items()}


def snapshot(model) -> list[dict[str, Any]]:
    return list(model._default_manager.order_by("pk").values())


@pytest.fixture(autouse=True)
def _no_task_queue(monkeypatch):
    monkeypatch.setattr("incidents.admin_imports.enqueue", lambda batch: None)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("model", list(PAGES))
def test_model_pages(client, model, role):
    obj = OBJECTS[model]()
    sign_in(client, role)

    seen = {
        page: outcome(client.get(page_url(obj, page)), page=page) for page in PAGE_NAMES
    }

    assert seen == expected_pages(PAGES[model], role)


WRITES = {"add": {}, "change": {}, "delete": {"post": "yes"}}


def _refused_writes(model: str, role: str) -> dict[str, Any]:
    expected = expected_pages(PAGES[model], role)
    return {page: NO for page in WRITES if expected[page] in (NO, VIEW)}


@pytest.mark.parametrize(
    ("model", "role"),
    [(m, r) for m in PAGES for r in ROLES if _refused_writes(m, r)],
)
def test_a_refused_post_changes_nothing(client, model, role):
    obj = OBJECTS[model]()
    sign_in(client, role)
    refused = _refused_writes(model, role)
    before = snapshot(type(obj))

    seen = {
        page: outcome(client.post(page_url(obj, page), WRITES[page]))
        for page in refused
    }

    assert seen == refused
    assert snapshot(type(obj)) == before


# Who edits an incident depends on its status (DOMAIN.md): researchers edit drafts only,
# reviewers and admins also incidents in review and published ones; withdrawn (and
# merged) incidents are closed to everyone.
EDIT_BY_STATUS = {
    Incident.Status.DRAFT: STAFF,
    Incident.Status.IN_REVIEW: (VIEW, OK, OK),
    Incident.Status.PUBLISHED: (VIEW, OK, OK),
    Incident.Status.WITHDRAWN: (VIEW, VIEW, VIEW),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("status", list(EDIT_BY_STATUS))
def test_editing_an_incident_depends_on_its_status(client, status, role):
    incident = make_incident(status=status, title="Original")
    sign_in(client, role)
    url = page_url(incident, "change")
    expected = EDIT_BY_STATUS[status][ROLES.index(role)]

    seen = outcome(client.get(url), page="change")
    if expected == VIEW:
        refused = client.post(url, {"title": "Vandalised"})

    assert seen == expected
    if expected == VIEW:
        assert refused.status_code == NO
        incident.refresh_from_db()
        assert incident.title == "Original"


# ---------------------------------------------------------------------------------------
# Custom admin URLs and list actions
# ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    """One request: `run(client)` makes what it needs, sends the request and returns
    the response and whether the write it asks for happened. `covers` names the custom
    URL or the list action ("<model label>:<action>") it exercises."""

    covers: str
    run: Callable[[Any], tuple[Any, bool]]
    expected: tuple  # (researcher, reviewer, admin): (outcome, written)


def _changelist(model) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")


def _action(client, objects, action: str, **data):
    model = type(objects[0])
    return client.post(
        _changelist(model),
        {"action": action, ACTION_CHECKBOX_NAME: [o.pk for o in objects], **data},
    )


def _incident_step(status: str, send: Callable) -> Callable:
    """An incident of someone else's (created by a researcher, published by another
    reviewer) with `status`; written = its status changed."""

    def run(client):
        incident = make_incident(status=status)
        response = send(client, incident)
        incident.refresh_from_db()
        return response, incident.status != status

    return run


def _workflow(step: str, method: str = "post", **data) -> Callable:
    def send(client, incident):
        url = reverse("admin:incidents_incident_workflow", args=[incident.pk, step])
        payload = {**data, "into": make_incident().code} if step == "merge" else data
        if step == "publish":
            payload = {**payload, "version": incident.version}
        return getattr(client, method)(url, payload if method == "post" else None)

    return send


def _merge_action(client, incident):
    survivor = make_incident()
    return _action(client, [incident], "merge_selected", apply="1", into=survivor.code)


def _export(client):
    response = _action(client, [make_incident()], "export_csv")
    return response, False


def _merge_named(factory) -> Callable:
    def run(client):
        merged, survivor = factory(), factory()
        response = _action(
            client, [merged], "merge_selected", apply="1", into=survivor.pk
        )
        merged.refresh_from_db()
        return response, merged.merged_into_id == survivor.pk

    return run


def _revoke(client):
    token = AuthToken.objects.create(researcher())[0]
    response = _action(client, [token], "revoke")
    return response, not AuthToken.objects.filter(pk=token.pk).exists()


def _import_page(client):
    response = client.get(reverse("admin:incidents_importbatch_import"))
    return response, False


def _import(publish: bool) -> Callable:
    def run(client):
        data = {
            "file": ContentFile(b"id\n1\n", name="ged.csv"),
            "format": "ucdp-ged",
            "release": "19.1",
            "release_date": "2019-06-01",
        }
        if publish:
            data["publish"] = "on"
        before = ImportBatch.objects.count()
        response = client.post(reverse("admin:incidents_importbatch_import"), data)
        return response, ImportBatch.objects.count() > before

    return run


def _finished_batch(*, dry_run: bool, publish: bool = False) -> ImportBatch:
    batch = batch_create(
        format="ucdp-ged",
        file_name="ged.csv",
        file=ContentFile(b"id\n1\n"),
        user=reviewer(),
        dry_run=dry_run,
        publish=publish,
        release="19.1",
    )
    ImportBatch.objects.filter(pk=batch.pk).update(status=ImportBatch.Status.SUCCEEDED)
    return batch


def _progress(client):
    batch = _finished_batch(dry_run=True)
    url = reverse("admin:incidents_importbatch_progress", args=[batch.pk])
    return client.get(url), False


def _confirm(publish: bool) -> Callable:
    def run(client):
        dry = _finished_batch(dry_run=True, publish=publish)
        url = reverse("admin:incidents_importbatch_confirm", args=[dry.pk])
        response = client.post(url)
        return response, ImportBatch.objects.filter(pk__gt=dry.pk).exists()

    return run


def _revert(client):
    batch = _finished_batch(dry_run=False)
    response = client.post(
        reverse("admin:incidents_importbatch_revert", args=[batch.pk])
    )
    batch.refresh_from_db()
    return response, batch.status == ImportBatch.Status.REVERTED


def _issue_token(method: str) -> Callable:
    def run(client):
        staff = researcher()
        url = reverse("admin:knox_authtoken_issue")
        if method == "get":
            return client.get(url), False
        response = client.post(url, {"user": staff.pk, "days": 30})
        return response, AuthToken.objects.filter(user=staff).exists()

    return run


def _set_password(method: str) -> Callable:
    def run(client):
        user = UserFactory()
        url = reverse("admin:auth_user_password_change", args=[user.pk])
        if method == "get":
            return client.get(url), False
        new = "another-long-password-2"
        response = client.post(
            url, {"usable_password": "true", "password1": new, "password2": new}
        )
        user.refresh_from_db()
        return response, user.check_password(new)

    return run


def _totp(view: str) -> Callable:
    def run(client):
        device = TOTPDevice.objects.create(user=UserFactory(), name="phone")
        url = reverse(f"admin:otp_totp_totpdevice_{view}", args=[device.pk])
        return client.get(url), False

    return run


def _index(client):
    return client.get(reverse("admin:index")), False


# (outcome, written) per role; the redirects on refusal carry an error message.
STAFF_READ = ((OK, False),) * 3
STAFF_WRITE = ((FOUND, True),) * 3
REVIEWERS_WRITE = ((FOUND, False), (FOUND, True), (FOUND, True))
REVIEWERS_OPEN = ((FOUND, False), (OK, False), (OK, False))
ADMINS_READ_URL = ((NO, False), (NO, False), (OK, False))

IN_REVIEW, PUBLISHED = Incident.Status.IN_REVIEW, Incident.Status.PUBLISHED
DRAFT = Incident.Status.DRAFT
WORKFLOW = "incidents_incident_workflow"
INCIDENT = "incidents.Incident"

CASES: dict[str, Case] = {
    "index": Case("index", _index, STAFF_READ),
    # The change page's workflow buttons: a step is offered (GET 200) only to whom may
    # take it; otherwise the page sends them back to the incident with a message.
    "workflow submit, page": Case(
        WORKFLOW, _incident_step(DRAFT, _workflow("submit", "get")), STAFF_READ
    ),
    "workflow submit": Case(
        WORKFLOW, _incident_step(DRAFT, _workflow("submit")), STAFF_WRITE
    ),
    "workflow send back, page": Case(
        WORKFLOW,
        _incident_step(IN_REVIEW, _workflow("send_back", "get")),
        REVIEWERS_OPEN,
    ),
    "workflow send back": Case(
        WORKFLOW,
        _incident_step(IN_REVIEW, _workflow("send_back", reason="No source.")),
        REVIEWERS_WRITE,
    ),
    "workflow publish, page": Case(
        WORKFLOW, _incident_step(IN_REVIEW, _workflow("publish", "get")), REVIEWERS_OPEN
    ),
    "workflow publish": Case(
        WORKFLOW, _incident_step(IN_REVIEW, _workflow("publish")), REVIEWERS_WRITE
    ),
    "workflow withdraw, page": Case(
        WORKFLOW,
        _incident_step(PUBLISHED, _workflow("withdraw", "get")),
        REVIEWERS_OPEN,
    ),
    "workflow withdraw": Case(
        WORKFLOW,
        _incident_step(PUBLISHED, _workflow("withdraw", reason="A duplicate.")),
        REVIEWERS_WRITE,
    ),
    "workflow merge, page": Case(
        WORKFLOW, _incident_step(DRAFT, _workflow("merge", "get")), REVIEWERS_OPEN
    ),
    "workflow merge": Case(
        WORKFLOW, _incident_step(DRAFT, _workflow("merge")), REVIEWERS_WRITE
    ),
    # List actions. One a role may not use is not offered: Django answers "No action
    # selected." and redirects, writing nothing.
    "action submit": Case(
        f"{INCIDENT}:submit_selected",
        _incident_step(DRAFT, lambda c, i: _action(c, [i], "submit_selected")),
        STAFF_WRITE,
    ),
    "action send back": Case(
        f"{INCIDENT}:send_back_selected",
        _incident_step(
            IN_REVIEW,
            lambda c, i: _action(
                c, [i], "send_back_selected", apply="1", reason="No source."
            ),
        ),
        REVIEWERS_WRITE,
    ),
    "action publish": Case(
        f"{INCIDENT}:publish_selected",
        _incident_step(
            IN_REVIEW,
            lambda c, i: _action(
                c, [i], "publish_selected", apply="1", **{f"version_{i.pk}": i.version}
            ),
        ),
        REVIEWERS_WRITE,
    ),
    "action withdraw": Case(
        f"{INCIDENT}:withdraw_selected",
        _incident_step(
            PUBLISHED,
            lambda c, i: _action(
                c, [i], "withdraw_selected", apply="1", reason="A duplicate."
            ),
        ),
        REVIEWERS_WRITE,
    ),
    "action merge incidents": Case(
        f"{INCIDENT}:merge_selected",
        _incident_step(DRAFT, _merge_action),
        REVIEWERS_WRITE,
    ),
    "action export": Case(f"{INCIDENT}:export_csv", _export, STAFF_READ),
    # A researcher has no action at all on actors and places: the list is shown again.
    "action merge actors": Case(
        "incidents.Actor:merge_selected",
        _merge_named(ActorFactory),
        ((OK, False), (FOUND, True), (FOUND, True)),
    ),
    "action merge places": Case(
        "incidents.Location:merge_selected",
        _merge_named(LocationFactory),
        ((OK, False), (FOUND, True), (FOUND, True)),
    ),
    "action revoke token": Case(
        "knox.AuthToken:revoke",
        _revoke,
        ((NO, False), (NO, False), (FOUND, True)),
    ),
    # The import page: every staff member imports into drafts; publishing from a
    # dataset, and reverting a batch, are for reviewers and admins.
    "import page": Case("incidents_importbatch_import", _import_page, STAFF_READ),
    "import": Case("incidents_importbatch_import", _import(False), STAFF_WRITE),
    "import with publish": Case(
        "incidents_importbatch_import",
        _import(True),
        ((OK, False), (FOUND, True), (FOUND, True)),  # researcher: a form error
    ),
    "import progress": Case("incidents_importbatch_progress", _progress, STAFF_READ),
    "confirm import": Case(
        "incidents_importbatch_confirm", _confirm(False), STAFF_WRITE
    ),
    "confirm import with publish": Case(
        "incidents_importbatch_confirm",
        _confirm(True),
        ((NO, False), (FOUND, True), (FOUND, True)),
    ),
    "revert import": Case(
        "incidents_importbatch_revert",
        _revert,
        ((NO, False), (FOUND, True), (FOUND, True)),
    ),
    # Tokens, users' passwords and two-factor devices: admins.
    "issue token, page": Case(
        "knox_authtoken_issue", _issue_token("get"), ADMINS_READ_URL
    ),
    "issue token": Case(
        "knox_authtoken_issue",
        _issue_token("post"),
        ((NO, False), (NO, False), (OK, True)),  # the page shows the token once
    ),
    "set password, page": Case(
        "auth_user_password_change", _set_password("get"), ADMINS_READ_URL
    ),
    "set password": Case(
        "auth_user_password_change",
        _set_password("post"),
        ((NO, False), (NO, False), (FOUND, True)),
    ),
    "two-factor device key": Case(
        "otp_totp_totpdevice_config", _totp("config"), ADMINS_READ_URL
    ),
    # The QR code an authenticator app scans (the `qrcode` package draws it as SVG).
    "two-factor device QR code": Case(
        "otp_totp_totpdevice_qrcode", _totp("qrcode"), ADMINS_READ_URL
    ),
}


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("case", list(CASES))
def test_custom_urls_and_actions(client, case, role):
    sign_in(client, role)

    response, written = CASES[case].run(client)

    assert (outcome(response), written) == CASES[case].expected[ROLES.index(role)]


# ---------------------------------------------------------------------------------------
# Signed out: the public, an outsider and an inactive user
# ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("caller", SIGNED_OUT)
def test_signed_out_callers_are_sent_to_sign_in(client, caller):
    """Every page, write, custom URL and action of the matrix, in one test per caller
    (each request is refused before the view runs, so one test is enough and fast)."""
    sign_in(client, caller)
    pages, untouched, cases = {}, {}, {}

    for model, make in OBJECTS.items():
        obj = make()
        before = snapshot(type(obj))
        for page in PAGE_NAMES:
            pages[model, page] = outcome(client.get(page_url(obj, page)))
        for page, data in WRITES.items():
            pages[model, f"POST {page}"] = outcome(
                client.post(page_url(obj, page), data)
            )
        untouched[model] = snapshot(type(obj)) == before
    for name, case in CASES.items():
        response, written = case.run(client)
        cases[name] = (outcome(response), written)

    assert pages == dict.fromkeys(pages, LOGIN)
    assert untouched == dict.fromkeys(OBJECTS, True)
    assert cases == dict.fromkeys(CASES, (LOGIN, False))


# ---------------------------------------------------------------------------------------
# Nothing escapes the matrix
# ---------------------------------------------------------------------------------------

STANDARD_URLS = {*PAGE_NAMES, None}


def test_every_registered_model_is_in_the_matrix():
    registered = {model._meta.label for model in admin.site._registry}

    assert registered == set(PAGES) == set(OBJECTS)


def test_every_custom_url_and_action_is_in_the_matrix():
    superuser = admin_user()
    request = RequestFactory().get("/admin/")
    request.user = superuser
    found = set()
    for model, model_admin in admin.site._registry.items():
        prefix = f"{model._meta.app_label}_{model._meta.model_name}_"
        for pattern in model_admin.get_urls():
            if pattern.name is None or pattern.name.removeprefix(prefix) in PAGE_NAMES:
                continue
            found.add(pattern.name)
        # delete_selected is guarded by the delete permission, as the delete page.
        for action in model_admin.get_actions(request):
            if action != "delete_selected":
                found.add(f"{model._meta.label}:{action}")
    covered = {case.covers for case in CASES.values()} - {"index"}

    assert found == covered


# ---------------------------------------------------------------------------------------
# The four-eyes rule (DOMAIN.md; services.four_eyes_problem): a reviewer (admins are
# reviewers too) may not publish an incident they created or edited last.
# ---------------------------------------------------------------------------------------


def _publish_by_action(client, incident):
    return client.post(
        _changelist(Incident),
        {
            "action": "publish_selected",
            ACTION_CHECKBOX_NAME: [incident.pk],
            "apply": "1",
            f"version_{incident.pk}": incident.version,
        },
        follow=True,
    )


def _publish_by_button(client, incident):
    url = reverse("admin:incidents_incident_workflow", args=[incident.pk, "publish"])
    return client.post(url, {"version": incident.version}, follow=True)


PUBLISH = {"action": _publish_by_action, "button": _publish_by_button}


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.mark.parametrize("via", list(PUBLISH))
@pytest.mark.parametrize("role", ["reviewer", "admin"])
def test_the_author_cannot_publish_their_own_incident(client, role, via):
    author = sign_in(client, role)
    incident = make_incident(by=author, status=IN_REVIEW)
    version = incident.version

    response = PUBLISH[via](client, incident)

    incident.refresh_from_db()
    assert (incident.status, incident.version) == (IN_REVIEW, version)
    assert _messages(response) == [
        f"{incident.code}: You created this incident: another reviewer must publish "
        "it (four-eyes rule)."
    ]


@pytest.mark.parametrize("via", list(PUBLISH))
def test_the_last_editor_cannot_publish_it(client, via):
    editor = sign_in(client, "reviewer")
    incident = make_incident(status=IN_REVIEW)  # created by a researcher
    incident = services.incident_update(
        incident=incident,
        expected_version=incident.version,
        fields={"summary": "Checked against the hospital's statement."},
        by=editor,
        reason="checked",
    )

    response = PUBLISH[via](client, incident)

    incident.refresh_from_db()
    assert incident.status == IN_REVIEW
    assert _messages(response) == [
        f"{incident.code}: You edited this incident last: another reviewer must "
        "publish it (four-eyes rule)."
    ]


@pytest.mark.parametrize("via", list(PUBLISH))
def test_another_reviewer_publishes_it(client, via):
    author = reviewer()
    incident = make_incident(by=author, status=IN_REVIEW)
    sign_in(client, "reviewer")

    PUBLISH[via](client, incident)

    incident.refresh_from_db()
    assert incident.status == PUBLISHED
    assert incident.reviewed_by != author


@pytest.mark.parametrize("via", list(PUBLISH))
def test_a_researcher_cannot_publish_even_another_researchers_incident(client, via):
    incident = make_incident(status=IN_REVIEW)
    sign_in(client, "researcher")

    response = PUBLISH[via](client, incident)

    incident.refresh_from_db()
    assert incident.status == IN_REVIEW
    assert incident.reviewed_by is None
    assert _messages(response) == [
        "No action selected."
        if via == "action"
        else f"Publish is not possible for this {incident.get_status_display()} "
        "incident."
    ]


@pytest.mark.parametrize(
    "url_name",
    [
        "admin:otp_totp_totpdevice_changelist",
        "admin:otp_totp_totpdevice_add",
        "admin:otp_static_staticdevice_changelist",
        "admin:django_tasks_database_dbtaskresult_changelist",
        "admin:auth_user_changelist",
        "admin:knox_authtoken_changelist",
    ],
)
def test_an_admin_who_is_not_a_superuser_manages_devices_users_and_tasks(
    client, url_name
):
    """The `admin` group's own permissions (migrations 0005 and 0009), without the
    superuser flag: resetting a colleague's lost authenticator must not need one."""
    user = UserFactory(role="admin")
    assert not user.is_superuser
    client.force_login(user)
    assert client.get(reverse(url_name)).status_code == HTTPStatus.OK


# ---------------------------------------------------------------------------------------
# Lowering protection in the admin (issue 12 §2; DOMAIN.md "Lowering protection"): an
# edit that would lower a protection keeps the value, files a request and says so;
# reviewers decide on the request's change page, carrying the object's version.
# ---------------------------------------------------------------------------------------


def _admin_form(client, url) -> dict[str, Any]:
    from tests.incidents.test_admin import form_data

    return form_data(client.get(url))


def test_a_researcher_unticking_sensitive_gets_a_message_and_it_stays(client):
    facility = FacilityFactory(sensitive=True)
    url = page_url(facility, "change")
    sign_in(client, "researcher")
    data = _admin_form(client, url)
    data.pop("sensitive")  # unticked
    data["operator"] = "Ministry of Health"

    response = client.post(url, data, follow=True)

    facility.refresh_from_db()
    assert (facility.sensitive, facility.operator) == (True, "Ministry of Health")
    asked = ProtectionRequest.objects.get()
    assert (asked.target, asked.object_id, asked.status) == (
        "facility.sensitive",
        facility.pk,
        "pending",
    )
    assert any(f"request #{asked.pk}" in m for m in _messages(response))


@pytest.mark.parametrize("role", ROLES)
def test_unticking_confidential_or_ticking_file_public_only_asks(client, role):
    source = SourceFactory(confidential=True, file_public=False)
    url = page_url(source, "change")
    sign_in(client, role)
    data = _admin_form(client, url)
    data.pop("confidential")
    data["file_public"] = "on"

    response = client.post(url, data, follow=True)

    source.refresh_from_db()
    assert (source.confidential, source.file_public) == (True, False)
    assert sorted(ProtectionRequest.objects.values_list("target", flat=True)) == [
        "source.confidential",
        "source.file_public",
    ]
    assert len([m for m in _messages(response) if "request #" in m]) == 2


def test_ticking_publish_name_on_a_victim_inline_only_asks(client):
    incident = make_incident(
        parts=services.IncidentParts(
            victims=[
                services.VictimData(
                    outcome="killed", name="Hana K.", consent_note="Her brother."
                )
            ]
        )
    )
    url = page_url(incident, "change")
    sign_in(client, "researcher")
    data = _admin_form(client, url)
    data["victims-0-publish_name"] = "on"

    response = client.post(url, data, follow=True)

    assert incident.victims.get().publish_name is False
    assert ProtectionRequest.objects.get().target == "victim.publish_name"
    assert any("request #" in m for m in _messages(response))


def _decision(client, asked, decision: str = "approve", **changes):
    url = page_url(asked, "change")
    page = client.get(url)
    data = {
        "decision": decision,
        "note": "",
        "object_version_seen": page.context["adminform"].form.initial[
            "object_version_seen"
        ],
    }
    data.update(changes)
    return client.post(url, data)


@pytest.mark.parametrize("role", ["reviewer", "admin"])
def test_a_reviewer_who_did_not_ask_approves_in_the_admin(client, role):
    asked = _protection_request()
    sign_in(client, role)

    response = _decision(client, asked)

    assert response.status_code == FOUND
    asked.refresh_from_db()
    assert asked.status == "approved"
    assert Facility.objects.get(pk=asked.object_id).sensitive is False


@pytest.mark.parametrize("decision", ["approve", "reject"])
def test_the_requester_cannot_decide_in_the_admin(client, decision):
    asker = sign_in(client, "reviewer")
    asked = _protection_request(by=asker)

    response = _decision(client, asked, decision)

    assert response.status_code == OK
    errors = response.context["adminform"].form.non_field_errors()
    assert any("four-eyes" in e for e in errors)
    asked.refresh_from_db()
    assert asked.status == "pending"
    assert Facility.objects.get(pk=asked.object_id).sensitive is True


def test_an_admin_approval_of_a_changed_object_is_refused(client):
    asked = _protection_request()
    sign_in(client, "reviewer")
    url = page_url(asked, "change")
    seen = client.get(url).context["adminform"].form.initial["object_version_seen"]
    facility = Facility.objects.get(pk=asked.object_id)
    facility.name = "Renamed meanwhile"
    services.facility_save(facility=facility, by=researcher())

    response = client.post(
        url, {"decision": "approve", "object_version_seen": seen, "note": ""}
    )

    assert response.status_code == OK
    assert any(
        "asks again" in e for e in response.context["adminform"].form.non_field_errors()
    )
    assert Facility.objects.get(pk=asked.object_id).sensitive is True


def test_a_researcher_cannot_decide_their_own_request_in_the_admin(client):
    asker = sign_in(client, "researcher")
    asked = _protection_request(by=asker)
    url = page_url(asked, "change")

    page = client.get(url)
    response = client.post(url, {"decision": "approve", "object_version_seen": "1"})

    assert outcome(page, page="change") == VIEW
    assert response.status_code == NO
    asked.refresh_from_db()
    assert asked.status == "pending"


def test_reviewers_see_pending_requests_first(client):
    pending = _protection_request()
    decided = _protection_request()
    services.protection_request_reject(
        request=decided,
        by=reviewer(),
        expected_version=services.protection_object_version(
            services.protection_object(decided)
        ),
    )
    sign_in(client, "reviewer")

    listed = client.get(_changelist(ProtectionRequest))
    everything = client.get(_changelist(ProtectionRequest) + "?status=all")

    assert [r.pk for r in listed.context["cl"].result_list] == [pending.pk]
    assert {r.pk for r in everything.context["cl"].result_list} == {
        pending.pk,
        decided.pk,
    }


def test_the_request_list_runs_as_many_queries_for_one_request_as_for_many(client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def victim_request():
        incident = make_incident(
            parts=services.IncidentParts(
                victims=[
                    services.VictimData(
                        outcome="killed",
                        name="Hana K.",
                        consent_note="Her brother.",
                        publish_name=True,
                    )
                ]
            )
        )
        return incident.protection_requests[0]

    victim_request()
    sign_in(client, "reviewer")
    url = _changelist(ProtectionRequest)
    client.get(url)
    with CaptureQueriesContext(connection) as one:
        first = client.get(url)
    victim_request()
    _protection_request()
    with CaptureQueriesContext(connection) as three:
        second = client.get(url)

    assert len(first.context["cl"].result_list) == 1
    assert len(second.context["cl"].result_list) == 3
    assert len(three) == len(one)
    assert "victim #" in second.content.decode()
