"""Answers recorded from a real deployment are served by name with `Prefer: example=NAME`."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import httpx
import pytest

from lenz_contract.mock import create_app
from lenz_contract.spec import FIXTURES_DIR
from lenz_contract.spec.fixtures import FixtureError

AUTH = {"Authorization": "Bearer lenz-mock-token"}


def _fixtures_with_example(tmp_path: Path, example: object) -> Path:
    folder = tmp_path / "recorded"
    shutil.copytree(FIXTURES_DIR / "seed", folder / "seed")
    (folder / "examples" / "getWorkflow").mkdir(parents=True)
    (folder / "examples" / "getWorkflow" / "200-wf-staging-7.json").write_text(json.dumps(example))
    return folder


@pytest.mark.anyio
async def test_a_recorded_answer_is_served_by_name(tmp_path: Path) -> None:
    recorded_body = json.loads((FIXTURES_DIR / "docs" / "getWorkflow.response.json").read_text())
    recorded_body["data"]["id"] = "wf-staging-7"
    recorded_body["data"]["name"] = "Recorded on staging"
    folder = _fixtures_with_example(
        tmp_path,
        {
            "status": 200,
            "body": recorded_body,
            "source": "recorded",
            "recorded_at": "2026-11-28T10:00:00Z",
        },
    )
    app = create_app(fixtures_dir=folder, self_check=True)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://mock.test") as client:
        forced = await client.get(
            "/api/workflows/anything", headers={**AUTH, "Prefer": "example=200-wf-staging-7"}
        )
        documented = await client.get(
            "/api/workflows/anything", headers={**AUTH, "Prefer": "example=docs"}
        )
        unknown = await client.get(
            "/api/workflows/anything", headers={**AUTH, "Prefer": "example=nope"}
        )
    assert forced.status_code == 200 and forced.json()["data"]["name"] == "Recorded on staging"
    assert documented.status_code == 200 and documented.json()["data"]["id"] == "wf-uuid-001"
    assert unknown.status_code == 400 and unknown.json()["errors"][0]["path"] == "header.Prefer"


def test_a_broken_recording_is_refused_naming_the_file(tmp_path: Path) -> None:
    folder = _fixtures_with_example(tmp_path, {"status": 200, "body": {"ok": True}})
    with pytest.raises(FixtureError, match="200-wf-staging-7"):
        create_app(fixtures_dir=folder)
