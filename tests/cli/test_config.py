"""Defaults from a config file, below environment variables, below flags."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from lenz_contract.cli import main
from lenz_contract.spec import SHIPPED_SPEC_PATH, Spec


@pytest.fixture
def broken_spec(spec: Spec, tmp_path: Path) -> Path:
    document = copy.deepcopy(spec.document)
    document["components"]["examples"]["CreateWorkflowRequest"]["value"]["name"] = ""
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(document, allow_unicode=True))
    return path


def _run(tmp_path: Path, args: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, args, env={"LENZ_CONTRACT_CONFIG": "", **(env or {})})
    return result.exit_code, result.output


def test_config_file_sets_a_default(
    tmp_path: Path, broken_spec: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "lenz-contract.toml").write_text(f'[spec.examples]\nspec = "{broken_spec}"\n')
    monkeypatch.chdir(tmp_path)
    code, output = _run(tmp_path, ["spec", "examples"])
    assert code == 1 and "body.name" in output


def test_pyproject_table_is_read(
    tmp_path: Path, broken_spec: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "pyproject.toml").write_text(
        f'[tool.lenz-contract.spec.examples]\nspec = "{broken_spec}"\n'
    )
    (tmp_path / "sub").mkdir()
    monkeypatch.chdir(tmp_path / "sub")  # found from a subfolder too
    code, output = _run(tmp_path, ["spec", "examples"])
    assert code == 1 and "body.name" in output


def test_environment_beats_config_and_flag_beats_environment(
    tmp_path: Path, broken_spec: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "lenz-contract.toml").write_text(f'[spec.examples]\nspec = "{broken_spec}"\n')
    monkeypatch.chdir(tmp_path)
    env = {"LENZ_SPEC_EXAMPLES_SPEC": str(SHIPPED_SPEC_PATH)}
    assert _run(tmp_path, ["spec", "examples"], env)[0] == 0
    assert _run(tmp_path, ["spec", "examples", "--spec", str(broken_spec)], env)[0] == 1


def test_unknown_option_in_config_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "lenz-contract.toml").write_text('[spec.examples]\nspek = "x"\n')
    monkeypatch.chdir(tmp_path)
    code, output = _run(tmp_path, ["spec", "examples"])
    assert code == 2 and "[spec.examples] has no option 'spek'" in output


def test_unknown_command_in_config_is_a_usage_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "lenz-contract.toml").write_text("[mokc]\nport = 1\n")
    monkeypatch.chdir(tmp_path)
    code, output = _run(tmp_path, ["spec", "path"])
    assert code == 2 and "[mokc] is not a lenz-contract command" in output


def test_invalid_toml_is_a_usage_error_naming_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "lenz-contract.toml").write_text("[spec\n")
    monkeypatch.chdir(tmp_path)
    code, output = _run(tmp_path, ["spec", "path"])
    assert code == 2 and "lenz-contract.toml: not valid TOML" in output


def test_explicit_config_path_must_exist(tmp_path: Path) -> None:
    code, output = _run(
        tmp_path, ["spec", "path"], {"LENZ_CONTRACT_CONFIG": str(tmp_path / "nope.toml")}
    )
    assert code == 2 and "no such file" in output


def test_version_and_completion() -> None:
    result = CliRunner().invoke(main, ["--version"])
    assert result.exit_code == 0 and result.output.startswith("lenz-contract, version ")
    completion = CliRunner().invoke(
        main, [], env={"_LENZ_CONTRACT_COMPLETE": "bash_source"}, prog_name="lenz-contract"
    )
    assert "_lenz_contract_completion" in completion.output
