"""The report page in a real browser: request a report, watch the progress bar reach 100%, download it.

Headless Chromium from Debian, driven by Playwright for Python (no browser download); the API runs under
gunicorn and a real reports worker makes the file.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Browser, Page, sync_playwright
from sqlalchemy import func, select

from tasklane.db.engine import Database
from tasklane.db.models import SalesTransaction, TaskStatus
from tests.conftest import Tenant
from tests.harness.stack import start_api_server
from tests.harness.tasks import wait_until_finished

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# Without these, Chromium keeps reaching for Google's services, which this machine's network refuses.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def base_url(env: dict[str, str], reports_worker: object) -> Iterator[str]:
    server, url = start_api_server(env, workers=1)
    yield url
    server.stop()


def _watch_progress(page: Page, timeout: float) -> list[int]:
    values: list[int] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        values.append(int(page.eval_on_selector("#progress", "el => el.value")))
        if page.is_visible("#download") or page.is_visible("#error"):
            break
        time.sleep(0.1)
    return values


def test_request_watch_progress_and_download_a_report_in_the_browser(
    browser: Browser, base_url: str, big_shop: Tenant, database: Database, tmp_path: Path
) -> None:
    today = datetime.now(UTC).date()
    # A third of the shop's year: long enough for the bar to move, short enough to stay well inside the
    # reports worker's 20 s soft limit on a loaded machine (the whole year once ran out of time in CI).
    start = today - timedelta(days=120)
    page = browser.new_page(accept_downloads=True)
    page.goto(f"{base_url}/ui/")

    page.fill("#api-key", big_shop.api_key)
    page.select_option("#report", "sales")
    page.select_option("#format", "xlsx")
    page.fill("#start-date", start.isoformat())
    page.fill("#end-date", today.isoformat())
    page.click("#request")
    values = _watch_progress(page, timeout=120)

    assert page.is_visible("#download"), page.text_content("#error")
    assert values[-1] == 100
    assert values == sorted(values)
    assert any(0 < v < 100 for v in values), f"the bar should advance while the report runs: {values}"
    assert page.text_content("#status") == "Completed (100%)"
    with page.expect_download() as download_info:
        page.click("#download")
    download = download_info.value
    assert download.suggested_filename == f"sales-report_{start}_{today}.xlsx"
    saved = tmp_path / download.suggested_filename
    download.save_as(saved)

    book = openpyxl.load_workbook(saved, read_only=True)
    assert book.properties.title == f"Sales report - {big_shop.name}"
    with database.session() as session:
        expected = session.scalar(
            select(func.count()).where(
                SalesTransaction.business_id == big_shop.id,
                SalesTransaction.occurred_at >= datetime.combine(start, datetime.min.time(), UTC),
            )
        )
    assert book["Transactions"].max_row - 1 == expected
    page.close()


def test_the_page_shows_the_apis_error_for_a_bad_request(
    browser: Browser, base_url: str, shop: Tenant
) -> None:
    page = browser.new_page()
    page.goto(f"{base_url}/ui/")

    page.fill("#api-key", shop.api_key)
    page.select_option("#report", "transactions")
    page.fill("#start-date", "2026-03-10")
    page.fill("#end-date", "2026-03-01")
    page.click("#request")

    page.wait_for_selector("#error:not([hidden])")
    assert page.text_content("#error") == "end_date: must not be before start_date (2026-03-10)"
    assert page.is_enabled("#request")
    page.close()


def test_cancel_stops_a_running_report_and_shows_it_cancelled(
    browser: Browser, base_url: str, big_shop: Tenant, database: Database
) -> None:
    today = datetime.now(UTC).date()
    page = browser.new_page()
    page.goto(f"{base_url}/ui/")
    page.fill("#api-key", big_shop.api_key)
    page.select_option("#report", "sales")
    page.select_option("#format", "xlsx")
    page.fill("#start-date", (today - timedelta(days=364)).isoformat())
    page.fill("#end-date", today.isoformat())
    page.click("#request")
    page.wait_for_function("document.getElementById('progress').value > 0", timeout=60_000)
    task_id = page.evaluate("current").rsplit("/", 1)[-1]

    page.click("#cancel")

    page.wait_for_function("document.getElementById('status').textContent.startsWith('Cancelled')")
    assert page.is_hidden("#cancel")
    assert page.is_hidden("#download")
    assert page.is_enabled("#request")
    record = wait_until_finished(database, task_id, timeout=60)
    assert record.status == TaskStatus.CANCELLED
    time.sleep(2)  # a later poll (there should be none) would overwrite what the cancel showed
    assert page.text_content("#status").startswith("Cancelled")
    page.close()
