"""Every page on a desktop and a phone-sized window: no horizontal scrolling, and a screenshot.

Screenshots go to a temporary folder, or to INKWELL_SCREENSHOT_DIR: `make screenshots` sets it
to docs/screenshots, the pictures the README links to.
"""

from pathlib import Path

import pytest

from tests.conftest import CI
from tests.e2e.conftest import DESKTOP, PHONE, loopback_only
from tests.servers import Server

if not CI:  # in CI a missing Playwright fails the run
    pytest.importorskip("playwright", reason="Playwright is not installed (pip install -e '.[test]')")
from playwright.sync_api import Browser, expect

pytestmark = pytest.mark.slow

PAGES = {
    "home": ("/", ".card"),
    "post": ("/posts/does-a-massage-actually-help-sore-muscles-after-exercise", ".related__item"),
    "search": ("/search?q=massage", ".card mark"),
    "author": ("/authors/maya", ".card"),
}


@pytest.mark.parametrize("device", ["desktop", "phone"])
def test_pages_fit_the_window(
    browser: Browser, live_server: Server, screenshot_dir: Path, device: str
) -> None:
    viewport = DESKTOP if device == "desktop" else PHONE
    context = browser.new_context(viewport=viewport, base_url=live_server.url)
    context.route("**/*", loopback_only)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        for name, (path, ready) in PAGES.items():
            page.goto(path)
            expect(page.locator(ready).first).to_be_visible()
            if name == "post":
                expect(page.locator(".comment").first).to_be_visible()
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, f"{name} scrolls sideways by {overflow}px on {device}"
            page.screenshot(path=str(screenshot_dir / f"{name}-{device}.png"), full_page=True)
    finally:
        context.close()
    assert not errors, f"JavaScript errors: {errors}"
