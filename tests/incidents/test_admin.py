"""The researchers' admin: pages load with a fixed number of queries, saves go through
the services, and refused saves keep the input and write nothing (PAGES.md "The admin")."""

from __future__ import annotations

import datetime as dt
from http import HTTPStatus
from typing import Any

import pytest
from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db.models import Model
from django.urls import path, reverse

from incidents import services
from incidents.admin import IncidentAdmin
from incidents.models import (
    ActorRelation,
    CasualtyCount,
    Incident,
    WriteConflict,
)
from tests.factories import (
    ActorFactory,
    FacilityFactory,
    IncidentTypeFactory,
    LocationFactory,
    SourceFactory,
    TargetTypeFactory,
    WeaponTypeFactory,
    admin_user,
    make_incident,
    researcher,
    reviewer,
)

# The admin's own URLs: the tests do not depend on the public pages' URL configuration.
urlpatterns = [path("admin/", admin.site.urls)]


def _post_value(value: Any) -> Any:
    if value is None or value is False:
        return None
    if value is True:
        return "on"
    if isinstance(value, Model):
        return str(value.pk)
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return [str(_post_value(v)) for v in value if v is not None]
    return str(value)


def _add_form(data: dict[str, Any], form) -> None:
    for name in form.fields:
        value = _post_value(form[name].value())
        if value is not None and value != []:
            data[form.add_prefix(name)] = value


def form_data(response) -> dict[str, Any]:
    """The POST data a browser would send for the rendered admin change form, with
    every inline's management form (TOTAL_FORMS, INITIAL_FORMS, …)."""
    data: dict[str, Any] = {}
    _add_form(data, response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        _add_form(data, formset.management_form)
        for form in formset.forms:
            _add_form(data, form)
    return data


def set_row(data: dict[str, Any], prefix: str, index: int, **values: Any) -> None:
    """Fill row `index` of the inline with `prefix`, growing TOTAL_FORMS if needed."""
    total_key = f"{prefix}-TOTAL_FORMS"
    data[total_key] = str(max(int(data[total_key]), index + 1))
    for name, value in values.items():
        data[f"{prefix}-{index}-{name}"] = _post_value(value)


pytestmark = [pytest.mark.django_db, pytest.mark.urls(__name__)]


@pytest.fixture
def superuser_client(client):
    user = admin_user()
    client.force_login(user)
    client.user = user
    return client


def _incidents(count: int) -> list[Incident]:
    actor = ActorFactory()
    rows = [services.CasualtyRowData(group="civilians", outcome="killed", min=1, max=4)]
    return [
        make_incident(
            title=f"Strike {n}",
            parts=services.IncidentParts(
                casualty_rows=rows,
                attributions=[services.AttributionData(actor=actor)],
            ),
        )
        for n in range(count)
    ]


def _rows(model: str, count: int) -> None:
    if model == "incident":
        _incidents(count)
    elif model == "source":
        SourceFactory.create_batch(count)
    elif model == "actor":
        parent = ActorFactory()
        ActorFactory.create_batch(count, parent=parent)
    elif model == "actorrelation":
        for _ in range(count):
            services.actor_relation_save(
                relation=ActorRelation(
                    from_actor=ActorFactory(),
                    to_actor=ActorFactory(),
                    kind="allied_with",
                )
            )
    elif model == "location":
        LocationFactory.create_batch(count)
    elif model == "facility":
        FacilityFactory.create_batch(count)
    elif model == "incidenttype":
        parent = IncidentTypeFactory(code="airstrike")
        IncidentTypeFactory.create_batch(count, parent=parent)
    elif model == "weapontype":
        WeaponTypeFactory.create_batch(count)
    elif model == "targettype":
        TargetTypeFactory.create_batch(count)


# Queries per changelist, the same for 3 rows as for 8 (no N+1). A superuser's roles
# need no group query.
CHANGELIST_QUERIES = {
    # session, user; filter choices: types, governorates, perpetrators, users,
    # batches; count (filtered, total); the page (type and governorate joined)
    "incident": 10,
    # session, user; count (filtered, total); the page
    "source": 5,
    # session, user; count ×2; the page (parent and survivor joined)
    "actor": 5,
    "actorrelation": 5,
    "location": 5,
    # session, user; target type filter choices; count ×2; the page
    "facility": 6,
    # session, user; count ×2; the page (parent joined)
    "incidenttype": 5,
    "weapontype": 5,
    "targettype": 5,
}


@pytest.mark.parametrize(("model", "expected"), CHANGELIST_QUERIES.items())
@pytest.mark.parametrize("rows", [3, 8])
def test_it_lists_with_a_fixed_number_of_queries(
    superuser_client, django_assert_num_queries, model, expected, rows
):
    _rows(model, rows)
    url = reverse(f"admin:incidents_{model}_changelist")

    with django_assert_num_queries(expected):
        response = superuser_client.get(url)

    assert response.status_code == HTTPStatus.OK
    assert response.context["cl"].result_count >= rows


# session, user, the content type (for the admin's "add related" links); the empty
# forms and inlines query nothing.
ADD_PAGE_QUERIES = dict.fromkeys(CHANGELIST_QUERIES, 3)


@pytest.mark.parametrize(("model", "expected"), ADD_PAGE_QUERIES.items())
def test_it_shows_every_add_page(
    superuser_client, django_assert_num_queries, model, expected
):
    _rows(model, 3)
    url = reverse(f"admin:incidents_{model}_add")
    ContentType.objects.clear_cache()

    with django_assert_num_queries(expected):
        response = superuser_client.get(url)

    assert response.status_code == HTTPStatus.OK
    assert b'name="_save"' in response.content


def test_it_searches_incidents_by_actor_alias_and_place_spelling(superuser_client):
    actor = ActorFactory(name="Tiger Forces")
    services.actor_name_add(actor=actor, name="Qawat al-Nimr")
    place = LocationFactory(name="Kafr Nabl")
    services.location_name_add(location=place, name="Kafranbel")
    found = make_incident(
        title="Market strike",
        location=place,
        parts=services.IncidentParts(
            attributions=[services.AttributionData(actor=actor)]
        ),
    )
    other = make_incident(title="Bakery strike")
    url = reverse("admin:incidents_incident_changelist")

    by_alias = superuser_client.get(url, {"q": "qawat al nimr"})
    by_spelling = superuser_client.get(url, {"q": "KAFRANBEL"})
    by_code = superuser_client.get(url, {"q": other.code})

    assert list(by_alias.context["cl"].result_list) == [found]
    assert list(by_spelling.context["cl"].result_list) == [found]
    assert list(by_code.context["cl"].result_list) == [other]


# ---------------------------------------------------------------------------------------
# Adding and editing incidents through the services
# ---------------------------------------------------------------------------------------


def _add_page_data(client) -> dict[str, Any]:
    response = client.get(reverse("admin:incidents_incident_add"))
    data = form_data(response)
    incident_type = IncidentTypeFactory(code="airstrike")
    place = LocationFactory(name="Maarat al-Numan")
    data.update(
        title="Air strike on the vegetable market",
        title_ar="غارة على سوق الخضار",
        date_start="2016-02-15",
        date_end="2016-02-15",
        date_precision="day",
        time_of_day="morning",
        location=str(place.pk),
        latitude="35.6433",
        longitude="36.6706",
        geo_precision="near",
        incident_type=str(incident_type.pk),
        grading="fair",
    )
    return data


def test_it_adds_an_incident_with_inlines_through_the_service(superuser_client):
    actor = ActorFactory(name="Syrian Arab Air Force")
    data = _add_page_data(superuser_client)
    set_row(data, "casualties", 0, group="civilians", outcome="killed", min=12, max=15)
    set_row(data, "casualties", 1, group="children", outcome="killed", min=3, max=4)
    set_row(
        data,
        "attributions",
        0,
        actor=actor,
        role="perpetrator",
        confidence="likely",
        position="no_statement",
    )

    response = superuser_client.post(reverse("admin:incidents_incident_add"), data)

    assert response.status_code == HTTPStatus.FOUND, response.context and (
        response.context["adminform"].form.errors,
        [f.errors for f in response.context["inline_admin_formsets"]],
    )
    incident = Incident.objects.get()
    assert incident.code == "SY-2016-00001"
    assert (incident.civilians_killed_min, incident.civilians_killed_max) == (12, 15)
    assert (incident.children_killed_min, incident.children_killed_max) == (3, 4)
    assert incident.created_by == superuser_client.user
    assert list(incident.attributions.values_list("actor", flat=True)) == [actor.pk]
    assert response["Location"] == reverse("admin:incidents_incident_changelist")


def test_it_shows_an_invalid_inline_row_and_writes_nothing(superuser_client):
    data = _add_page_data(superuser_client)
    set_row(data, "casualties", 0, group="civilians", outcome="killed", min=9, max=3)

    response = superuser_client.post(reverse("admin:incidents_incident_add"), data)

    assert response.status_code == HTTPStatus.OK
    casualties = next(
        f
        for f in response.context["inline_admin_formsets"]
        if f.formset.prefix == "casualties"
    )
    assert casualties.formset.forms[0].errors["max"] == ["must be >= min (9)"]
    assert b"must be &gt;= min (9)" in response.content
    assert Incident.objects.count() == 0
    assert CasualtyCount.objects.count() == 0
    # The input is kept on the re-shown form.
    assert response.context["adminform"].form["title"].value() == data["title"]


def test_it_names_the_field_of_a_service_error(superuser_client):
    data = _add_page_data(superuser_client)
    data["date_end"] = "2016-02-10"

    response = superuser_client.post(reverse("admin:incidents_incident_add"), data)

    assert response.status_code == HTTPStatus.OK
    errors = response.context["adminform"].form.errors
    assert errors["date_end"] == [
        "The window cannot end (2016-02-10) before it starts (2016-02-15)."
    ]
    assert Incident.objects.count() == 0


def _change_data(client, incident) -> dict[str, Any]:
    response = client.get(
        reverse("admin:incidents_incident_change", args=[incident.pk])
    )
    assert response.status_code == HTTPStatus.OK
    return form_data(response)


def test_it_edits_through_the_service_with_the_reasons(superuser_client):
    incident = make_incident(
        parts=services.IncidentParts(
            casualty_rows=[
                services.CasualtyRowData(
                    group="civilians", outcome="killed", min=1, max=2
                )
            ]
        )
    )
    data = _change_data(superuser_client, incident)
    data.update(
        title="Air strike on the Maarat market",
        change_reason="Title from the SNHR report",
    )
    data["casualties-0-max"] = "5"

    response = superuser_client.post(
        reverse("admin:incidents_incident_change", args=[incident.pk]), data
    )

    assert response.status_code == HTTPStatus.FOUND
    incident.refresh_from_db()
    assert incident.title == "Air strike on the Maarat market"
    assert incident.civilians_killed_max == 5
    assert incident.last_edited_by == superuser_client.user
    assert incident.version > 1


def test_it_removes_a_deleted_inline_row(superuser_client):
    incident = make_incident(
        parts=services.IncidentParts(
            casualty_rows=[
                services.CasualtyRowData(
                    group="civilians", outcome="killed", min=1, max=2
                ),
                services.CasualtyRowData(
                    group="civilians", outcome="injured", min=3, max=3
                ),
            ]
        )
    )
    data = _change_data(superuser_client, incident)
    data["casualties-1-DELETE"] = "on"

    response = superuser_client.post(
        reverse("admin:incidents_incident_change", args=[incident.pk]), data
    )

    assert response.status_code == HTTPStatus.FOUND
    assert list(incident.casualties.values_list("outcome", flat=True)) == ["killed"]
    incident.refresh_from_db()
    # The deleted row leaves the injured not recorded (null), never 0 (DOMAIN.md).
    assert incident.civilians_injured_min is None
    assert incident.civilians_injured_max is None


def test_it_refuses_a_stale_save_keeping_the_input(superuser_client):
    incident = make_incident(title="Old title")
    data = _change_data(superuser_client, incident)
    services.incident_update(
        incident=incident,
        expected_version=incident.version,
        fields={"title": "Someone else's title"},
        by=reviewer(username="layla"),
        reason="checked",
    )
    data["title"] = "My title"

    response = superuser_client.post(
        reverse("admin:incidents_incident_change", args=[incident.pk]), data
    )

    assert response.status_code == HTTPStatus.OK
    content = response.content.decode()
    assert "changed by layla" in content
    assert "now: “Someone else&#x27;s title”" in content
    assert response.context["adminform"].form["title"].value() == "My title"
    incident.refresh_from_db()
    assert incident.title == "Someone else's title"
    conflict = WriteConflict.objects.get(incident=incident)
    assert conflict.user == superuser_client.user
    assert conflict.changed_fields == ["title"]


def test_it_warns_of_possible_duplicates_before_saving(superuser_client):
    market = TargetTypeFactory(code="market")
    existing = make_incident(
        date_start=dt.date(2016, 2, 14),
        latitude=35.65,
        longitude=36.67,
        parts=services.IncidentParts(targets=[services.TargetData(target_type=market)]),
    )
    data = _add_page_data(superuser_client)
    set_row(data, "targets", 0, target_type=market, damage="damaged")

    warned = superuser_client.post(reverse("admin:incidents_incident_add"), data)
    data["save_anyway"] = "on"
    saved = superuser_client.post(reverse("admin:incidents_incident_add"), data)

    assert warned.status_code == HTTPStatus.OK
    assert existing.code in warned.content.decode()
    assert [i.pk for i in warned.context["possible_duplicates"]] == [existing.pk]
    assert saved.status_code == HTTPStatus.FOUND
    assert Incident.objects.count() == 2


def test_a_researcher_cannot_edit_a_published_incident(client):
    user = researcher()
    incident = make_incident(by=user, status=Incident.Status.PUBLISHED)
    client.force_login(user)
    url = reverse("admin:incidents_incident_change", args=[incident.pk])

    page = client.get(url)
    data = form_data(page) if page.context.get("inline_admin_formsets") else {}
    data.update(title="Changed", expected_version=str(incident.version))
    post = client.post(url, data)

    assert page.status_code == HTTPStatus.OK
    assert b'name="title"' not in page.content  # shown read-only
    assert post.status_code == HTTPStatus.FORBIDDEN
    incident.refresh_from_db()
    assert incident.title == "Air strike on a market"


def test_a_researcher_edits_a_draft(client):
    user = researcher()
    incident = make_incident(by=user)
    client.force_login(user)
    data = _change_data(client, incident)
    data["title"] = "Shelling of the bakery"

    response = client.post(
        reverse("admin:incidents_incident_change", args=[incident.pk]), data
    )

    assert response.status_code == HTTPStatus.FOUND
    incident.refresh_from_db()
    assert incident.title == "Shelling of the bakery"


def test_withdrawn_incidents_are_read_only_for_everyone(superuser_client):
    incident = make_incident(status=Incident.Status.WITHDRAWN)

    response = superuser_client.get(
        reverse("admin:incidents_incident_change", args=[incident.pk])
    )

    assert response.status_code == HTTPStatus.OK
    assert response.context["has_change_permission"] is False
    assert b'name="title"' not in response.content


def test_it_renders_arabic_fields_right_to_left(superuser_client):
    response = superuser_client.get(reverse("admin:incidents_incident_add"))

    form = response.context["adminform"].form
    assert form.fields["title_ar"].widget.attrs["dir"] == "rtl"
    assert 'dir="rtl"' in str(form["summary_ar"])


@pytest.mark.urls(__name__)
def test_sorting_by_a_count_puts_the_not_recorded_last_both_ways(superuser_client):
    """The changelist sorts like the pages and the API (DOMAIN.md): an incident whose
    count was not recorded (null) is last whichever way the column is sorted, never
    read as the smallest or the largest."""
    made = {}
    for title, bounds in (("none", None), ("two", (2, 2)), ("nine", (9, 9))):
        rows = (
            [services.CasualtyRowData("civilians", "killed", *bounds)] if bounds else []
        )
        made[title] = make_incident(
            title=f"Sort {title}", parts=services.IncidentParts(casualty_rows=rows)
        ).code
    # The changelist counts its columns after the actions' checkbox.
    column = 1 + IncidentAdmin.list_display.index("civilians_killed")
    url = reverse("admin:incidents_incident_changelist")

    def order(sort: str) -> list[str]:
        body = superuser_client.get(url, {"o": sort}).content.decode()
        return sorted(made, key=lambda title: body.index(made[title]))

    assert order(str(column)) == ["two", "nine", "none"]
    assert order(f"-{column}") == ["nine", "two", "none"]
