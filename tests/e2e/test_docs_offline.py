"""`/docs` and `/redoc` in a real browser with no network beyond the API itself (an air-gapped cluster):
every asset comes from the API, and the operations are listed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from playwright.sync_api import Browser, Page, Route, sync_playwright

from tests.e2e.test_report_page import CHROMIUM, CHROMIUM_ARGS
from tests.harness.stack import start_api_server


@pytest.fixture(scope="module")
def base_url(env: dict[str, str]) -> Iterator[str]:
    server, url = start_api_server(env, workers=1)
    yield url
    server.stop()


# What a page needs to work. ReDoc also shows the Redocly logo from its CDN, an image it hides when it
# cannot load; decorative images may fail, nothing the page runs on may.
NEEDED = {"document", "script", "stylesheet", "font", "fetch", "xhr"}


@pytest.fixture
def offline_page(base_url: str) -> Iterator[tuple[Page, list[str]]]:
    """A page whose requests anywhere but the API fail, as they would without internet; also returns the
    needed ones that were refused."""
    api_host = urlparse(base_url).netloc
    refused: list[str] = []

    def only_the_api(route: Route) -> None:
        if urlparse(route.request.url).netloc == api_host:
            route.continue_()
            return
        if route.request.resource_type in NEEDED:
            refused.append(route.request.url)
        route.abort("internetdisconnected")

    with sync_playwright() as playwright:
        browser: Browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page()
        page.route("**/*", only_the_api)
        yield page, refused
        browser.close()


def _operations(base_url: str) -> list[tuple[str, str]]:
    paths = httpx.get(f"{base_url}/openapi.json").json()["paths"]
    return [(method.upper(), path) for path, operations in paths.items() for method in operations]


def test_swagger_ui_lists_every_operation_offline(
    base_url: str, offline_page: tuple[Page, list[str]], tmp_path: Path
) -> None:
    page, refused = offline_page

    page.goto(f"{base_url}/docs")
    page.wait_for_selector(".opblock", timeout=20_000)

    shown = page.eval_on_selector_all(
        ".opblock",
        "blocks => blocks.map(b => [b.querySelector('.opblock-summary-method').textContent,"
        " b.querySelector('.opblock-summary-path').getAttribute('data-path')])",
    )
    assert sorted(map(tuple, shown)) == sorted(_operations(base_url))
    assert refused == []
    page.screenshot(path=str(tmp_path / "docs.png"), full_page=True)
    assert (tmp_path / "docs.png").stat().st_size > 10_000


def test_redoc_renders_the_reference_offline(base_url: str, offline_page: tuple[Page, list[str]]) -> None:
    page, refused = offline_page

    page.goto(f"{base_url}/redoc")
    page.wait_for_selector("[data-section-id^='operation/']", timeout=20_000)

    sections = page.eval_on_selector_all("[data-section-id^='operation/']", "els => els.length")
    assert sections == len(_operations(base_url))
    assert refused == []
