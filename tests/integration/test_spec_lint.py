"""The shipped spec passes the linters a frontend team runs on an OpenAPI file, with nothing to say.

Spectral 6.16.3 with its `spectral:oas` ruleset (`tests/lint/spectral/.spectral.yaml`) and
Redocly CLI 2.77.0 with its `recommended` ruleset (`tests/lint/redocly/redocly.yaml`), both
pinned by their folder's lock file and run on Node 20: no error, no warning, no rule disabled.
Each linter is also shown a spec with a known fault, so that "nothing found" cannot mean "not
run".
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from lenz_contract.spec import SHIPPED_SPEC_PATH

from .node_tools import REPO, needs_node, node_bin, npm_ci, run

LINT = REPO / "tests" / "lint"
SPECTRAL = LINT / "spectral"
REDOCLY = LINT / "redocly"

SPECTRAL_ARGS = ["--ruleset", ".spectral.yaml", "--format", "json", "--fail-severity", "hint"]
REDOCLY_ARGS = ["--config", "redocly.yaml", "--format", "json"]

pytestmark = needs_node


@pytest.fixture(scope="module")
def spectral() -> Path:
    npm_ci(SPECTRAL)
    return SPECTRAL


@pytest.fixture(scope="module")
def redocly() -> Path:
    npm_ci(REDOCLY)
    return REDOCLY


@pytest.fixture(scope="module")
def faulty_spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped spec without an operation description and the license: both rulesets warn."""
    document: dict[str, Any] = copy.deepcopy(yaml.safe_load(SHIPPED_SPEC_PATH.read_text()))
    del document["paths"]["/api/workflows"]["get"]["description"]
    del document["info"]["license"]
    path = tmp_path_factory.mktemp("lint") / "faulty.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
    return path


def spectral_findings(folder: Path, spec: Path) -> list[dict[str, Any]]:
    done = run(
        [*node_bin(folder, "spectral"), "lint", str(spec), *SPECTRAL_ARGS],
        folder,
        check=False,
    )
    start = done.stdout.find("[")
    assert start >= 0, f"spectral did not report:\n{done.stdout}\n{done.stderr}"
    findings: list[dict[str, Any]] = json.JSONDecoder().raw_decode(done.stdout, start)[0]
    assert (done.returncode == 0) == (findings == []), (done.returncode, findings)
    return findings


def redocly_findings(folder: Path, spec: Path) -> list[dict[str, Any]]:
    done = run(
        [*node_bin(folder, "redocly"), "lint", str(spec), *REDOCLY_ARGS],
        folder,
        check=False,
        env={"REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"},
    )
    start = done.stdout.find("{")
    assert start >= 0, f"redocly did not report:\n{done.stdout}\n{done.stderr}"
    report = json.JSONDecoder().raw_decode(done.stdout, start)[0]
    problems: list[dict[str, Any]] = report["problems"]
    assert report["totals"]["errors"] + report["totals"]["warnings"] == len(problems)
    return problems


def test_spectral_oas_finds_nothing(spectral: Path) -> None:
    assert spectral_findings(spectral, SHIPPED_SPEC_PATH) == []


def test_redocly_recommended_finds_nothing(redocly: Path) -> None:
    assert redocly_findings(redocly, SHIPPED_SPEC_PATH) == []


def test_the_linters_report_a_faulty_spec(spectral: Path, redocly: Path, faulty_spec: Path) -> None:
    assert {f["code"] for f in spectral_findings(spectral, faulty_spec)} == {
        "operation-description"
    }
    assert {p["ruleId"] for p in redocly_findings(redocly, faulty_spec)} == {"info-license"}
