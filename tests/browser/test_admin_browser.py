"""The researchers' admin in a real Chromium: entering an incident with its inlines,
the four-eyes review, a refused stale edit, and no request leaving localhost."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from incidents.models import Actor, Attribution, CasualtyCount, Incident
from tests.factories import (
    ActorFactory,
    LocationFactory,
    import_reference_data,
    make_incident,
    researcher,
    reviewer,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "a-long-test-password-1"  # tests/factories.py UserFactory


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def places():
    # Transactional tests start from a flushed database: the vocabularies and
    # governorates the form needs are created here.
    governorates = import_reference_data()
    town = LocationFactory(
        slug="maarat-al-numan",
        name="Maarat al-Numan",
        parent=governorates["SY07"],
        latitude=35.6479,
        longitude=36.6736,
    )
    return {"idleb": governorates["SY07"], "town": town}


def actor(slug: str, name: str) -> Actor:
    """The migrated actor when the database still has it (the first transactional
    test on a worker runs before any flush), else a new one."""
    return Actor.objects.filter(slug=slug).first() or ActorFactory(slug=slug, name=name)


def sign_in(page, live_server, user) -> None:
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.locator("#id_username").fill(user.username)
    page.locator("#id_password").fill(PASSWORD)
    assert page.locator("#id_otp_token").count() == 1  # CivTrackLoginForm
    page.locator("#login-form input[type=submit]").click()
    page.wait_for_url(re.compile(r"/admin/$"))


def choose(page, select_id: str, typed: str, option: str) -> None:
    """Pick a value in one of the admin's autocomplete (select2) selects by typing."""
    page.locator(f"#{select_id} + .select2 .select2-selection").click()
    search = page.locator(".select2-container--open .select2-search__field")
    search.fill(typed)
    page.locator(
        ".select2-container--open .select2-results__option",
        has_text=re.compile(f"^{re.escape(option)}$", re.IGNORECASE),
    ).first.click()
    chosen = page.locator(f"#{select_id} option:checked").inner_text()
    assert chosen.lower() == option.lower()


def second_page(browser, live_server, outside_requests):
    """A second person's browser (own cookies), watched like the `page` fixture."""
    context = browser.new_context()
    page = context.new_page()
    allowed = urlsplit(live_server.url).netloc

    def check(request):
        parts = urlsplit(request.url)
        if parts.scheme not in ("data", "blob", "about") and parts.netloc != allowed:
            outside_requests.append(request.url)

    page.on("request", check)
    return context, page


def run_workflow_step(page, label: str) -> None:
    page.locator(".object-tools a", has_text=label).click()
    page.locator("#content-main form input[type=submit]").click()
    page.wait_for_url(re.compile(r"/admin/incidents/incident/\d+/change/$"))
    assert "done" in page.locator("ul.messagelist").inner_text()


def test_a_researcher_enters_an_incident_and_another_reviewer_publishes_it(
    page, live_server, places, browser, outside_requests
):
    air_force = actor("syrian-arab-air-force", "Syrian Arab Air Force")
    actor("russian-aerospace-forces", "Russian Aerospace Forces")
    author = researcher()

    sign_in(page, live_server, author)
    page.goto(f"{live_server.url}/admin/incidents/incident/add/")
    page.locator("#id_title").fill("Air strike on the vegetable market")
    page.locator("#id_summary").fill("Witnesses describe two strikes a minute apart.")
    choose(page, "id_incident_type", "airstr", "airstrike")
    page.locator("#id_date_start").fill("2016-02-15")
    page.locator("#id_date_end").fill("2016-02-15")
    page.locator("#id_date_precision").select_option("day")
    choose(page, "id_location", "Maarat", "Maarat al-Numan")
    page.locator("#id_latitude").fill("35.6479")
    page.locator("#id_longitude").fill("36.6736")
    page.locator("#id_geo_precision").select_option("community")
    # Inlines: a casualty range and an attribution with the actor picked by typing.
    page.locator("#id_casualties-0-group").select_option("civilians")
    page.locator("#id_casualties-0-outcome").select_option("killed")
    page.locator("#id_casualties-0-min").fill("9")
    page.locator("#id_casualties-0-max").fill("11")
    choose(page, "id_attributions-0-actor", "air force", "Syrian Arab Air Force")
    page.locator("input[name=_continue]").click()

    page.wait_for_url(re.compile(r"/admin/incidents/incident/\d+/change/$"))
    incident = Incident.objects.get()
    assert incident.status == "draft"
    assert incident.created_by == author
    assert (incident.civilians_killed_min, incident.civilians_killed_max) == (9, 11)
    assert CasualtyCount.objects.filter(incident=incident).count() == 1
    assert Attribution.objects.get(incident=incident).actor == air_force
    # A researcher submits, but cannot publish.
    assert page.locator(".object-tools a", has_text="Publish").count() == 0
    run_workflow_step(page, "Submit for review")
    assert Incident.objects.get().status == "in_review"

    # A different reviewer signs in (a browser context of their own) and publishes it.
    context, other = second_page(browser, live_server, outside_requests)
    sign_in(other, live_server, reviewer())
    other.goto(f"{live_server.url}/admin/incidents/incident/{incident.pk}/change/")
    run_workflow_step(other, "Publish")
    context.close()

    published = Incident.objects.get()
    assert published.status == "published"
    assert published.reviewed_by != author
    page.goto(f"{live_server.url}/en/incidents/{published.code}/")
    assert page.locator("h1").inner_text() == "Air strike on the vegetable market"
    facts = page.locator("main").inner_text()
    assert "Syrian Arab Air Force" in facts
    assert "9–11" in facts


def test_a_stale_edit_is_refused_and_names_the_changed_field(
    page, live_server, places, browser, outside_requests
):
    incident = make_incident(
        status=Incident.Status.IN_REVIEW,
        title="Shelling of the bakery",
        location=places["town"],
    )
    first, second = reviewer(), reviewer()
    url = f"{live_server.url}/admin/incidents/incident/{incident.pk}/change/"
    context, later = second_page(browser, live_server, outside_requests)
    sign_in(page, live_server, first)
    sign_in(later, live_server, second)
    page.goto(url)
    later.goto(url)  # both forms carry the version they were loaded with

    page.locator("#id_title").fill("Shelling of the bakery on Market Street")
    page.locator("#id_change_reason").fill("street name from the local council")
    with page.expect_navigation():
        page.locator("input[name=_continue]").click()
    assert "changed successfully" in page.locator("ul.messagelist").inner_text()

    later.locator("#id_title").fill("Shelling of the main bakery")
    with later.expect_navigation():
        later.locator("input[name=_continue]").click()
    refusal = later.locator(".errornote, .errorlist, ul.messagelist").first
    text = later.locator("#content").inner_text()
    assert refusal.is_visible()
    assert "Not saved" in text
    assert "title (now: “Shelling of the bakery on Market Street”)" in text
    assert later.locator("#id_title").input_value() == "Shelling of the main bakery"
    context.close()

    incident.refresh_from_db()
    assert incident.title == "Shelling of the bakery on Market Street"
    assert incident.last_edited_by == first


def test_the_admin_pages_stay_on_localhost(page, live_server, places, outside_requests):
    incident = make_incident(title="Shelling of the bakery", location=places["town"])
    sign_in(page, live_server, reviewer())
    for path in (
        "/admin/",
        "/admin/incidents/incident/",
        f"/admin/incidents/incident/{incident.pk}/change/",
        f"/admin/incidents/incident/{incident.pk}/history/",
        "/admin/incidents/importbatch/",
        "/admin/incidents/incident/add/",
    ):
        response = page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        assert response.status == 200, path
    choose(page, "id_location", "Maarat", "Maarat al-Numan")  # an autocomplete request
    page.wait_for_load_state("networkidle")
    assert outside_requests == []  # and the page fixture checks it once more
