"""A `linkback dev` stack, a headless Debian Chromium and loopback sites for the browser tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from linkback_infra.loopback_site import LoopbackSite

from ..e2e.conftest import DevStack, start_dev, stop_dev

# Debian's package (`apt-get install chromium`), never a browser build of Playwright's own.
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
NEEDS_CHROMIUM = pytest.mark.skipif(
    not CHROMIUM.exists(), reason=f"{CHROMIUM} is missing: `apt-get install -y chromium` (make test does it)"
)


@pytest.fixture(scope="module")
def browser_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    stack = start_dev(tmp_path_factory.mktemp("browser-dev"))
    # These tests are about rendering what senders wrote, hostile names and all, not about spam: the
    # owner trusts the loopback blogs they come from, as an owner allow-lists a friend's domain.
    allowed = stack.admin(
        "POST",
        "/admin/lists",
        json={"kind": "allow", "scope": "domain", "value": "127.0.0.1", "note": "the test blogs"},
    )
    assert allowed.status_code == 201, allowed.text
    yield stack
    stop_dev(stack)


# Module scope, not session: Playwright's sync API keeps an event loop running in this thread while
# it is open, and later tests' `asyncio.run` (the verifier's AsyncBatchProcessor) would fail beside it.
@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, timeout=20_000)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Browser) -> Iterator[Page]:
    context = chromium.new_context(viewport={"width": 800, "height": 600})
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def source_site() -> Iterator[LoopbackSite]:
    site = LoopbackSite()
    yield site
    site.stop()


@pytest.fixture
def blog_site() -> Iterator[LoopbackSite]:
    """The static site showing the post, with webmention.js on it."""
    site = LoopbackSite()
    yield site
    site.stop()
