"""The mock's /docs page in a real browser: it renders offline and "Try it out" reaches the mock.

Drives Debian's Chromium with Playwright as a developer would: authorize with the bearer token,
run `GET /api/workflows`, read the answer. Saves a screenshot under `test-artifacts/`. Runs where
Chromium is installed (`.ci/run` installs it on CI machines).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright import sync_api

from lenz_contract.mock import create_app

from ..support.live import serve

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
ARTIFACTS = Path(
    os.environ.get("LENZ_TEST_ARTIFACTS", Path(__file__).resolve().parents[2] / "test-artifacts")
)
# Chromium as root in a closed network: no sandbox, no background traffic to the outside.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(CHROMIUM is None, reason="Chromium is not installed")


def test_docs_page_try_it_out_reaches_the_mock() -> None:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with serve(create_app(self_check=True)) as base_url, sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            hosts: set[str] = set()
            page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
            page.goto(f"{base_url}/docs")
            page.wait_for_selector("#operations-Workflows-listWorkflows", timeout=20_000)

            page.click("button.authorize")
            page.fill(".modal-ux input[type=text]", "lenz-mock-token")
            page.click(".modal-ux button.modal-btn.auth.authorize")
            page.click(".modal-ux button.btn-done")

            operation = page.locator("#operations-Workflows-listWorkflows")
            operation.locator(".opblock-summary").click()
            operation.locator("button.try-out__btn").click()
            operation.locator("button.execute").click()
            status_cell = operation.locator(
                ".live-responses-table tbody .response-col_status"
            ).first
            status_cell.wait_for(timeout=20_000)
            status = status_cell.inner_text().strip()
            body = operation.locator(
                ".live-responses-table tbody .response-col_description pre"
            ).first.inner_text()
            page.screenshot(path=str(ARTIFACTS / "docs-page-try-it-out.png"), full_page=True)
        finally:
            browser.close()
    assert status == "200", status
    assert '"ok": true' in body and "Laporan Harian Face Recognition" in body
    assert hosts == {urlsplit(base_url).netloc}, f"the page fetched from elsewhere: {hosts}"
