"""`lenz-contract spec ...`: exit codes and readable, located messages."""

from __future__ import annotations

import copy
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml
from click.testing import CliRunner

from lenz_contract.cli import main
from lenz_contract.spec import SHIPPED_SPEC_PATH, Spec


def _write(tmp_path: Path, document: dict[str, Any]) -> Path:
    target = tmp_path / "spec.yaml"
    target.write_text(yaml.safe_dump(document, allow_unicode=True, sort_keys=False))
    return target


def test_validate_shipped_spec_passes() -> None:
    result = CliRunner().invoke(main, ["spec", "validate"])
    assert result.exit_code == 0, result.output
    assert "valid (7 operations)" in result.output


def test_validate_names_a_missing_operation(spec: Spec, tmp_path: Path) -> None:
    document = copy.deepcopy(spec.document)
    del document["paths"]["/api/workflows/{id}/logs"]
    result = CliRunner().invoke(main, ["spec", "validate", str(_write(tmp_path, document))])
    assert result.exit_code == 1
    assert "$.paths['/api/workflows/{id}/logs'].get: operation listWorkflowLogs" in result.output
    assert "is missing" in result.output


def test_validate_names_a_bad_ref(spec: Spec, tmp_path: Path) -> None:
    document = copy.deepcopy(spec.document)
    document["components"]["schemas"]["Workflow"]["properties"]["trigger_node"]["$ref"] = (
        "#/components/schemas/TriggerNod"
    )
    result = CliRunner().invoke(main, ["spec", "validate", str(_write(tmp_path, document))])
    assert result.exit_code == 1
    assert "$.components.schemas.Workflow.properties.trigger_node['$ref']" in result.output
    assert "'#/components/schemas/TriggerNod' does not resolve" in result.output


def test_validate_names_an_openapi_violation(spec: Spec, tmp_path: Path) -> None:
    document = copy.deepcopy(spec.document)
    document["paths"]["/api/workflows"]["get"]["parameters"].append({"name": "x", "in": "nowhere"})
    result = CliRunner().invoke(main, ["spec", "validate", str(_write(tmp_path, document))])
    assert result.exit_code == 1
    assert "$.paths['/api/workflows'].get.parameters[3]" in result.output


def test_validate_reports_yaml_errors_with_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("openapi: 3.1.0\ninfo: [unclosed\n")
    result = CliRunner().invoke(main, ["spec", "validate", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:" in result.output and "not valid YAML" in result.output


def test_validate_usage_errors_exit_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["spec", "validate", str(tmp_path / "missing.yaml")])
    assert result.exit_code == 2
    assert "does not exist" in result.output
    assert CliRunner().invoke(main, ["spec", "validate", "--bogus"]).exit_code == 2


def test_examples_command_passes_and_counts() -> None:
    result = CliRunner().invoke(main, ["spec", "examples"])
    assert result.exit_code == 0, result.output
    assert ", 0 failed" in result.output


def test_examples_command_fails_on_a_wrong_example(spec: Spec, tmp_path: Path) -> None:
    document = copy.deepcopy(spec.document)
    example = document["components"]["examples"]["CreateWorkflowRequest"]["value"]
    example["trigger_node"]["config"]["cron"] = "every morning"
    result = CliRunner().invoke(
        main, ["spec", "examples", "--spec", str(_write(tmp_path, document))]
    )
    assert result.exit_code == 1
    assert "body.trigger_node.config.cron" in result.output
    assert "differs from fixture docs/createWorkflow.request.json" in result.output


def test_path_command_prints_the_shipped_spec() -> None:
    result = CliRunner().invoke(main, ["spec", "path"])
    assert result.exit_code == 0 and Path(result.output.strip()) == SHIPPED_SPEC_PATH


def test_console_script_is_installed() -> None:
    exe = shutil.which("lenz-contract", path=str(Path(sys.executable).parent))
    assert exe, "the lenz-contract console script is not installed next to this Python"
    done = subprocess.run([exe, "spec", "validate"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert subprocess.run(
        [exe, "--version"], capture_output=True, text=True, timeout=60
    ).stdout.startswith("lenz-contract, version")
