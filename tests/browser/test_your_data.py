"""The settings panel's "Your data" tab: last backup, back up now, download everything."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import Live

pytestmark = pytest.mark.browser


def test_back_up_now_and_download_everything(page: Any, live: Live) -> None:
    page.goto(live.url + "#/characters")
    page.wait_for_selector("body[data-ready]")
    page.click("#nav-settings")
    page.click("[role=tab][data-tab=data]")
    expect(page.locator("[data-testid=last-backup]")).to_have_text("No backup yet.")
    page.click("[data-testid=backup-now]")
    expect(page.locator("[data-testid=last-backup]")).to_contain_text("Last backup:")
    assert len(list((live.data_dir / "backups").glob("*.zip"))) == 1
    with page.expect_download() as download:
        page.click("[data-testid=download-everything]")
    names = zipfile.ZipFile(io.BytesIO(download.value.path().read_bytes())).namelist()
    assert "default-user/characters/Wren.png" in names
    assert live.problems == []
