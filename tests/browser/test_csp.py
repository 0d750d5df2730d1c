"""Every page runs under the real Content-Security-Policy (no inline script is blocked)."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pages_run_under_the_content_security_policy(browser, live_server):
    context = browser.new_context()  # the policy enforced, unlike the axe tests
    page = context.new_page()
    violations: list[str] = []
    page.on(
        "console",
        lambda message: (
            violations.append(message.text)
            if "Content Security Policy" in message.text
            else None
        ),
    )

    for path in [
        "/en/",
        "/ar/",
        "/en/incidents/",
        "/en/map/",
        "/en/stats/",
        "/admin/login/",
        "/api/docs/",
    ]:
        response = page.goto(live_server.url + path)
        page.wait_for_load_state("networkidle")
        assert response.status == 200, path
    context.close()

    assert violations == []
