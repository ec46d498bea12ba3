"""`--reload-spec`: a changed spec is served from the next request on; a broken one is not."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import httpx
import pytest

from lenz_contract.mock.reload import reload_if_changed
from lenz_contract.spec import SHIPPED_SPEC_PATH

from .conftest import AUTH, AppFactory

pytestmark = pytest.mark.anyio


def touch_later(path: Path, text: str, step: int) -> None:
    path.write_text(text, encoding="utf-8")
    stat = path.stat()
    os.utime(path, (stat.st_atime, stat.st_mtime + step))  # mtime resolution can be coarse


async def test_reload_swaps_the_spec_and_survives_a_broken_edit(
    make_app: AppFactory, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    spec_file = tmp_path / "lenz.yaml"
    shutil.copy(SHIPPED_SPEC_PATH, spec_file)
    app = make_app(spec_path=spec_file, reload_spec=True)
    state = app.state.mock
    original = spec_file.read_text(encoding="utf-8")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://m") as c:
        assert not await reload_if_changed(state)  # unchanged
        changed = original.replace("x-lenz-message: success", "x-lenz-message: all good", 1)
        touch_later(spec_file, changed, 10)
        assert await reload_if_changed(state)
        assert (await c.get("/api/workflows", headers=AUTH)).json()["message"] == "all good"
        assert b"all good" in (await c.get("/openapi.json")).content

        touch_later(spec_file, "openapi: [unclosed", 20)
        assert not await reload_if_changed(state)
        assert "keeping the previous spec" in caplog.text
        assert (await c.get("/api/workflows", headers=AUTH)).json()["message"] == "all good"
        assert not await reload_if_changed(state)  # a broken edit is reported once

        touch_later(spec_file, "openapi: 3.1.0\ninfo: {title: x, version: '1'}\npaths: {}\n", 30)
        assert not await reload_if_changed(state)  # valid YAML, not a Lenz contract
        assert (await c.get("/api/workflows", headers=AUTH)).status_code == 200
