"""Playwright against Debian's Chromium (never a downloaded browser), on pytest-django's
live server. Every page a test opens is watched: a request to any host but the live
server fails the test (PAGES.md: no request leaves localhost)."""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = "/usr/bin/chromium"
AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not os.path.exists(CHROMIUM):
        pytest.skip("Debian's chromium is not installed (make browser-deps)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "headless": True,
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--no-first-run",
        ],
    }


@pytest.fixture
def outside_requests():
    return []


@pytest.fixture
def page(context, live_server, outside_requests):
    """A page that records every request going anywhere but the live server."""
    allowed = urlsplit(live_server.url).netloc
    page = context.new_page()

    def check(request):
        parts = urlsplit(request.url)
        if parts.scheme in ("data", "blob", "about"):
            return
        if parts.netloc != allowed:
            outside_requests.append(request.url)

    page.on("request", check)
    yield page
    assert outside_requests == [], f"requests left localhost: {outside_requests}"
    page.close()


def run_axe(page) -> list[dict]:
    """axe-core (from node_modules, injected from disk) on the current page: the
    serious and critical violations."""
    page.add_script_tag(path=str(AXE))
    result = page.evaluate(
        """async () => {
            const r = await axe.run(document, {runOnly: {type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa']}});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                nodes: v.nodes.slice(0, 3).map(n => n.target.join(' '))}));
        }"""
    )
    return [v for v in result if v["impact"] in ("serious", "critical")]


def screenshot(page, name: str) -> None:
    """Screenshots for the README, when CIVTRACK_SCREENSHOTS=1."""
    if os.environ.get("CIVTRACK_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=False)


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    # axe-core is injected as a test-only inline script, which the site's CSP
    # (script-src 'self') rightly blocks; the policy itself is asserted in
    # tests/test_security.py and every page works under it (no inline scripts).
    return {**browser_context_args, "bypass_csp": True}
