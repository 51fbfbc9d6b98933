"""`/docs` in a real browser (Debian's Chromium driven by Playwright): Authorize with a demo user,
"Try it out" on `GET /api/v1/courses`, a 200 on screen, and no request leaves the machine.

Playwright's driver ships in its wheel; its own browser download is never used (`playwright
install` is not run): Chromium comes from Debian (`make browser` installs it). Without it the test
is skipped loudly, and fails in CI.
"""

from __future__ import annotations

import os
from pathlib import Path
from urllib.parse import urlparse

import pytest

from studyhub.core.config import Settings
from studyhub.core.db import Database
from studyhub.users.models import UserRole
from tests.conftest import IN_CI
from tests.factories import DEFAULT_PASSWORD, make_course, make_user
from tests.support.server import running_server

CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
# The committed picture in the README is refreshed only on request (UPDATE_SCREENSHOTS=1), so a
# test run leaves the work tree clean; otherwise the screenshot goes to pytest's temp dir.
SCREENSHOT = Path(__file__).resolve().parents[2] / "docs" / "img" / "docs-authorized.png"
UPDATE_SCREENSHOTS = os.environ.get("UPDATE_SCREENSHOTS") == "1"
# The flags that work on these machines (a closed network; running as root).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 15_000

if not CHROMIUM.exists():
    message = f"!!! SKIPPED /docs browser test: no Chromium at {CHROMIUM} (run `make browser`) !!!"
    if IN_CI:
        raise RuntimeError(message.strip("! "))
    pytestmark = pytest.mark.skip(reason=message)


async def test_docs_authorize_and_try_it_out(
    settings: Settings, database: Database, cache_prefix: str, tmp_path: Path
) -> None:
    from playwright.async_api import Request, Route, async_playwright

    teacher = await make_user(database, role=UserRole.TEACHER, username="demo_teacher")
    for code in ("SE101", "DB201"):
        await make_course(database, teacher, code=code)
    env = {"DATABASE_URL": settings.database_url, "CACHE_PREFIX": cache_prefix}
    if settings.redis_url:
        env["REDIS_URL"] = settings.redis_url

    with running_server(env) as base_url:
        origin = urlparse(base_url).netloc
        foreign: list[str] = []

        async def only_this_server(route: Route, request: Request) -> None:
            if urlparse(request.url).netloc == origin or request.url.startswith("data:"):
                await route.continue_()
            else:
                foreign.append(request.url)
                await route.abort()

        async with async_playwright() as pw:
            browser = await pw.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            try:
                page = await browser.new_page(viewport={"width": 1280, "height": 1200})
                page.set_default_timeout(TIMEOUT_MS)
                await page.route("**/*", only_this_server)
                await page.goto(f"{base_url}/docs")

                # Authorize: the OAuth2 password flow posts to /api/v1/auth/token.
                await page.click(".auth-wrapper .btn.authorize")
                oauth = page.locator(".auth-container", has_text="OAuth2Password")
                await oauth.locator("#oauth_username").fill(teacher.username)
                await oauth.locator("#oauth_password").fill(DEFAULT_PASSWORD)
                await oauth.locator("button.authorize").click()
                await oauth.locator("button", has_text="Logout").wait_for()
                await page.click(".dialog-ux .close-modal")

                # Try it out -> Execute on GET /api/v1/courses.
                block = page.locator("#operations-courses-courses-list")
                await block.locator(".opblock-summary").click()
                await block.locator("button.try-out__btn").click()
                await block.locator("button.execute").click()
                status = block.locator(".live-responses-table .response .response-col_status")
                await status.first.wait_for()
                assert (await status.first.inner_text()).strip() == "200"
                body = await block.locator(".live-responses-table .microlight").first.inner_text()
                assert "SE101" in body and "DB201" in body
                # The request carried the token Authorize obtained.
                curl = await block.locator(".curl-command").inner_text()
                assert "Authorization: Bearer" in curl

                # The picture: the authorized operation (closed lock), its request and the 200.
                await block.evaluate("e => e.scrollIntoView({block: 'start'})")
                target = SCREENSHOT if UPDATE_SCREENSHOTS else tmp_path / SCREENSHOT.name
                target.parent.mkdir(parents=True, exist_ok=True)
                await page.screenshot(path=str(target))
                assert target.stat().st_size > 10_000
            finally:
                await browser.close()
        assert foreign == [], f"/docs tried to load from other hosts: {foreign}"
