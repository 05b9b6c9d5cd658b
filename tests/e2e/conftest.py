"""Browser tests: Debian's Chromium, driven by Playwright, against a live server on loopback.

The server runs `uvicorn api.main:create_app` with the demo content in a fresh SQLite database
and the reference frontend on (INKWELL_SERVE_FRONTEND=true), exactly as `inkwell serve --demo`.
Playwright's own browser download is never used: Chromium comes from the `chromium` package
(`.ci/run` installs it). Without it these tests skip, and with CI=true they fail.
"""

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import CI
from tests.servers import Server

try:
    from playwright.sync_api import Browser, Page, sync_playwright
except ImportError:  # the `test` extra installs it
    sync_playwright = None

CHROMIUM = Path(os.environ.get("INKWELL_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}
EDITOR = {"username": "maya", "password": "demo-password-maya"}  # the demo's admin
TIMEOUT_MS = 10_000


def _unavailable(reason: str) -> None:
    if CI:
        pytest.fail(f"{reason}: the browser tests must run in CI", pytrace=False)
    pytest.skip(reason)


# Package scope, not session: a running sync Playwright holds an asyncio loop in the main
# thread, and the tests after this package call asyncio.run().
@pytest.fixture(scope="package")
def browser() -> Iterator["Browser"]:
    if sync_playwright is None:
        _unavailable("Playwright is not installed (pip install -e '.[test]')")
    if not CHROMIUM.is_file():
        _unavailable(f"Chromium is not installed at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="package")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """The demo blog with the frontend, served by uvicorn on 127.0.0.1."""
    root = tmp_path_factory.mktemp("e2e")
    database_url = f"sqlite+aiosqlite:///{root / 'inkwell.db'}"
    server = Server(
        database_url, root / "index", root,
        INKWELL_SERVE_FRONTEND="true",
        INKWELL_COMMENT_RATE_PER_MINUTE="1000",
    )
    server.env["INKWELL_SITE_URL"] = server.url
    subprocess.run(
        [sys.executable, "-m", "api.cli", "demo"], env=server.env, check=True, capture_output=True,
        timeout=120,
    )
    server.start()
    try:
        _wait_for_search(server.url)
        yield server
    finally:
        server.stop()


def _wait_for_search(url: str, attempts: int = 100) -> None:
    """The index is built from the database at startup; the search tests need it."""
    for _ in range(attempts):
        r = httpx.get(f"{url}/api/v1/search", params={"q": "massage"}, timeout=5)
        if r.status_code == 200 and r.json()["total"]:
            return
        time.sleep(0.1)
    raise RuntimeError("the search index was not built in time")


@pytest.fixture
def page(browser: "Browser", live_server: Server) -> Iterator["Page"]:
    """A fresh browser context (own sessionStorage) on the desktop viewport."""
    context = browser.new_context(viewport=DESKTOP, base_url=live_server.url)
    context.set_default_timeout(TIMEOUT_MS)
    # No network beyond loopback: Gravatar avatars fail fast and the initials stay.
    context.route("**/*", loopback_only)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    yield page
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def loopback_only(route: Any) -> None:
    if route.request.url.startswith("http://127.0.0.1:"):
        route.continue_()
    else:
        route.abort()


@pytest.fixture(scope="session")
def screenshot_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    configured = os.environ.get("INKWELL_SCREENSHOT_DIR")
    folder = Path(configured) if configured else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture
def api(live_server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{live_server.url}/api/v1", timeout=10) as client:
        yield client


def editor_headers(api: httpx.Client) -> dict[str, str]:
    r = api.post("/auth/token", data=EDITOR)
    r.raise_for_status()
    return {"Authorization": f"Bearer {r.json()['access_token']}"}
