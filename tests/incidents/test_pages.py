"""The public pages (PAGES.md): status codes in both languages, query counts, the
withdrawn / merged / unpublished rules, right-to-left Arabic, the language switch, links
behind every number, no third-party URL, and the redaction layer."""

from __future__ import annotations

import re
from http import HTTPStatus

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.incidents.pages_data import CANARIES, build

pytestmark = pytest.mark.django_db


def page_urls(data) -> list[str]:
    return [
        "/{lang}/",
        "/{lang}/incidents/",
        "/{lang}/incidents/?actor=islamic-state&grading=weak,fair&ordering=code",
        f"/{{lang}}/incidents/{data.hypotheses.code}/",
        f"/{{lang}}/incidents/{data.sensitive.code}/",
        f"/{{lang}}/actors/{data.syrian_air.slug}/",
        f"/{{lang}}/actors/{data.russia.slug}/",
        f"/{{lang}}/places/{data.town.slug}/",
        f"/{{lang}}/places/{data.idleb.slug}/",
        f"/{{lang}}/facilities/{data.facility_ref}/",
        f"/{{lang}}/facilities/{data.public_facility_ref}/",
        "/{lang}/stats/",
        "/{lang}/stats/?group_by=bloc",
        "/{lang}/stats/?group_by=actor&group_by=year",
        "/{lang}/stats/?group_by=governorate&date_from=2016-01-01",
        "/{lang}/map/",
        "/{lang}/methodology/",
        "/{lang}/changes/",
    ]


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # build() creates a researcher and a reviewer per incident; argon2 would dominate.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def data():
    return build()


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_it_serves_every_page_in_both_languages(client, data, lang):
    for url in page_urls(data):
        response = client.get(url.format(lang=lang))

        assert response.status_code == HTTPStatus.OK, url
        assert response["Cache-Control"].startswith("public")


def _count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == HTTPStatus.OK, url
    return len(queries)


def test_it_uses_a_fixed_number_of_queries_per_page(client):
    few = build(extra=0)
    urls = [u.format(lang="en") for u in page_urls(few)]
    counts_few = {url: _count_queries(client, url) for url in urls}

    from tests.incidents import pages_data

    more_incidents = []
    for n in range(5):
        more_incidents.append(
            pages_data.make_incident(
                status="published",
                title=f"Another strike {n}",
                location=few.town,
                parts=pages_data.services.IncidentParts(
                    attributions=[pages_data.services.AttributionData(few.isis)],
                    casualty_rows=[
                        pages_data.services.CasualtyRowData(
                            "civilians", "killed", n, n + 2
                        )
                    ],
                ),
            )
        )
    counts_more = {url: _count_queries(client, url) for url in urls}

    assert counts_few == counts_more
    assert max(counts_more.values()) <= 40


def test_the_list_page_query_count(client, django_assert_num_queries, data):
    # session-less anonymous request: synthetic-banner EXISTS, 3 vocabularies,
    # governorates, the filter's actor lookup + subtree, count, page, perpetrators,
    # and one filter application + GROUP BY per facet.
    client.get("/en/incidents/?actor=islamic-state")  # warm the URL resolver caches
    with CaptureQueriesContext(connection) as first:
        client.get("/en/incidents/?actor=islamic-state")

    with django_assert_num_queries(len(first)):
        response = client.get("/en/incidents/?actor=islamic-state")

    assert response.status_code == HTTPStatus.OK
    assert len(first) < 40


def test_it_answers_a_withdrawn_incident_with_410_and_its_reason(client, data):
    response = client.get(f"/en/incidents/{data.withdrawn.code}/")

    assert response.status_code == HTTPStatus.GONE
    assert "Duplicate of another record." in response.content.decode()
    assert data.withdrawn.title not in response.content.decode()


def test_it_redirects_a_merged_incident_to_its_survivor(client, data):
    response = client.get(f"/ar/incidents/{data.merged_code}/")

    assert response.status_code == HTTPStatus.MOVED_PERMANENTLY
    assert response["Location"] == f"/ar/incidents/{data.hypotheses.code}/"


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_it_hides_unpublished_and_unknown_codes_with_a_friendly_404(client, data, lang):
    for code in (data.draft.code, "SY-2099-99999", "nonsense"):
        response = client.get(f"/{lang}/incidents/{code}/")

        assert response.status_code == HTTPStatus.NOT_FOUND
        assert f'<html lang="{lang}"' in response.content.decode()


def test_the_arabic_pages_are_right_to_left(client, data):
    response = client.get(f"/ar/incidents/{data.hypotheses.code}/")

    html = response.content.decode()
    assert '<html lang="ar" dir="rtl">' in html
    assert "غارة جوية على سوق معرة النعمان" in html  # title_ar from the database
    assert "القوات الجوية الفضائية الروسية" in html  # actor name_ar
    assert "انتقل إلى المحتوى" in html  # the interface is translated


def test_the_english_pages_are_left_to_right(client, data):
    html = client.get("/en/").content.decode()

    assert '<html lang="en" dir="ltr">' in html


def test_the_language_switch_links_to_the_same_page_in_the_other_language(client, data):
    html = client.get("/en/incidents/?grading=fair&utm_source=x").content.decode()

    switch = re.search(r'<a class="lang-switch" href="([^"]+)"', html).group(1)
    assert switch.startswith("/ar/incidents/?")
    assert "grading=fair" in switch
    back = client.get(f"/ar/incidents/{data.hypotheses.code}/").content.decode()
    assert f'href="/en/incidents/{data.hypotheses.code}/"' in back


def test_root_redirects_to_a_language(client, data):
    response = client.get("/")

    assert response.status_code == HTTPStatus.FOUND
    assert response["Location"] in ("/en/", "/ar/")


def test_the_incident_page_words_precision_and_hypotheses(client, data):
    html = client.get(f"/en/incidents/{data.hypotheses.code}/").content.decode()

    assert "some day between 3 and 9 February 2016" in html
    assert "within 2 km of Maarat al-Numan" in html
    assert re.search(
        r"Russian Aerospace Forces</a>\s*<em>or</em>\s*<a[^>]*>Syrian Arab Air Force",
        html,
    )
    assert "9–11" in html  # civilians killed as a range
    assert "+1 confidential source" in html
    assert "denied" in html  # the actor's own position
    assert "suspected" in html  # weapon certainty
    assert f"/en/facilities/{data.public_facility_ref}/" in html
    assert 'class="graphic"' in html
    assert "<details" in html
    assert data.hypotheses.code in html
    assert "version" in html


def test_it_shows_a_filter_error_next_to_the_field_with_400(client, data):
    response = client.get("/en/incidents/?date_from=yesterday&grading=excellent")

    assert response.status_code == HTTPStatus.BAD_REQUEST
    html = response.content.decode()
    assert 'id="err-date_from"' in html
    assert "YYYY-MM-DD" in html
    assert (
        'id="err-grading"' not in html
    )  # grading is a facet: its error is shown above
    assert "excellent" in html


def test_it_rejects_a_forged_cursor_with_400(client, data):
    response = client.get("/en/incidents/?cursor=forged")

    assert response.status_code == HTTPStatus.BAD_REQUEST


def test_the_list_pages_with_cursors(client):
    data = build(extra=4)  # 7 published incidents
    from incidents import views

    original = views.LIST_PAGE_SIZE
    views.LIST_PAGE_SIZE = 3
    try:
        first = client.get("/en/incidents/").content.decode()
        next_url = re.search(r'href="(\?[^"]*cursor=[^"]+)" rel="next"', first).group(1)
        second = client.get(
            "/en/incidents/" + next_url.replace("&amp;", "&")
        ).content.decode()
    finally:
        views.LIST_PAGE_SIZE = original

    codes_first = set(
        re.findall(r"SY-\d{4}-\d{5}", first.split("<tbody>")[1].split("</tbody>")[0])
    )
    codes_second = set(
        re.findall(r"SY-\d{4}-\d{5}", second.split("<tbody>")[1].split("</tbody>")[0])
    )
    assert len(codes_first) == 3
    assert len(codes_second) == 3
    assert not codes_first & codes_second
    assert 'rel="prev"' in second
    del data


def test_the_list_counts_facets_under_the_other_filters(client, data):
    html = client.get("/en/incidents/?grading=weak").content.decode()

    # With grading=weak, only the ISIS shelling remains…
    assert re.search(r'<p class="count"[^>]*><a [^>]*>1 incident<', html)
    # …but the grading facet is computed without its own parameter: fair has 1 too.
    assert re.search(r'href="/en/incidents/\?grading=fair"[^>]*>1</a>', html)


def test_the_list_links_its_exports_to_exactly_its_filter(client, data):
    html = client.get("/en/incidents/?bloc=isis&utm_campaign=x").content.decode()

    csv = (
        re.search(r'href="([^"]+)"[^>]*data-export="csv"', html)
        .group(1)
        .replace("&amp;", "&")
    )
    assert csv.startswith("/api/v1/incidents/?")
    assert "bloc=isis" in csv
    assert "format=csv" in csv
    assert "utm_" not in csv


def _hrefs_and_srcs(html: str) -> list[str]:
    return re.findall(r'(?:href|src)="([^"]+)"', html)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_no_page_loads_anything_from_another_host(client, data, lang):
    for url in page_urls(data):
        html = client.get(url.format(lang=lang)).content.decode()

        # Nothing the browser fetches by itself (scripts, styles, images, fonts) comes
        # from elsewhere; only sources' own links (plain <a rel="external">) point out.
        resources = re.findall(
            r'<(?:script|img|iframe|source|video|audio)[^>]+src="([^"]+)"', html
        )
        resources += re.findall(r'<link[^>]+href="([^"]+)"', html)
        assert all(r.startswith("/") for r in resources), (url, resources)
        for anchor in re.findall(r'<a [^>]*href="https?://[^"]+"[^>]*>', html):
            assert 'rel="noopener noreferrer nofollow external"' in anchor, (
                url,
                anchor,
            )
        external = [
            h
            for h in _hrefs_and_srcs(html)
            if h.startswith(("http://", "https://", "//"))
        ]
        assert all("example.org" in h for h in external), (
            url,
            external,
        )  # sources only


def test_every_number_on_the_home_and_stats_pages_is_a_link(client, data):
    for url in (
        "/en/",
        "/en/stats/?group_by=bloc",
        f"/en/actors/{data.syrian_air.slug}/",
    ):
        html = client.get(url).content.decode()

        figures = re.findall(r'<li class="figure">(.*?)</li>', html, re.S)
        for figure in figures:
            assert "<a " in figure, (url, figure)
        for cell in re.findall(r'<td class="n">(.*?)</td>', html, re.S):
            if re.search(r"\d", re.sub(r"<[^>]+>", "", cell)):
                assert "<a " in cell, (url, cell)


@pytest.mark.parametrize("lang", ["en", "ar"])
def test_no_restricted_value_reaches_any_page(client, data, lang):
    urls = [u.format(lang=lang) for u in page_urls(data)]
    urls += [
        f"/{lang}/incidents/?q=clinic",
        f"/{lang}/incidents/?location={data.town.slug}",
    ]
    for url in urls:
        html = client.get(url).content.decode()

        for name, canary in CANARIES.items():
            assert canary not in html, (url, name)


def test_the_place_of_a_sensitive_facility_is_not_public(client, data):
    assert client.get("/en/places/test-clinic-street/").status_code == 404

    html = client.get("/en/places/maarat-al-numan/").content.decode()

    assert "test-clinic-street" not in html


def test_the_sensitive_facility_shows_only_ref_type_and_district(client, data):
    html = client.get(f"/en/facilities/{data.facility_ref}/").content.decode()

    assert data.facility_ref in html
    assert "Maarat al-Numan District" in html
    assert 'href="/en/places/maarat-al-numan/"' not in html  # not its community


def test_the_actor_page_gives_the_toll_as_a_range_with_its_commander(client, data):
    html = client.get(f"/en/actors/{data.syrian_air.slug}/").content.decode()

    assert "Commander Example" in html
    assert "2015-01-01" in html
    assert "Report naming the commander" in html
    # The sensitive strike (2 medics, confirmed, certain) and the hypotheses incident
    # (possible): min counts only the certain one's civilians, max both.
    assert "actor_involvement=certain" in html
    assert "actor_involvement=possible" in html


def test_the_changes_page_lists_public_changes(client, data):
    html = client.get("/en/changes/").content.decode()

    assert data.hypotheses.code in html
    assert data.withdrawn.code in html
    assert data.draft.code not in html


def test_the_methodology_page_lists_vocabularies_from_the_database(client, data):
    from incidents.models import WeaponType

    barrel = WeaponType.objects.get(code="barrel-bomb")

    html = client.get("/ar/methodology/").content.decode()

    assert barrel.label_ar
    assert barrel.label_ar in html
    assert "barrel-bomb" in html
    assert 'id="grading"' in html


def test_it_shows_the_synthetic_banner_only_while_synthetic_incidents_exist(
    client, data
):
    from incidents.models import Incident

    assert "banner-synthetic" not in client.get("/en/").content.decode()

    Incident.objects.filter(pk=data.hypotheses.pk).update(synthetic=True)

    assert "banner-synthetic" in client.get("/en/").content.decode()
