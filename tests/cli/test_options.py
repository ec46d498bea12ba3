"""The options `mock` and `proxy` share: one definition, one parsing, from flags, env or config."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pytest
import uvicorn
from click.testing import CliRunner
from starlette.applications import Starlette

from lenz_contract.cli import main
from lenz_contract.cli.diff_cmd import diff_command
from lenz_contract.cli.drift_cmd import drift_command
from lenz_contract.cli.mock_cmd import mock_command
from lenz_contract.cli.options import split_origins
from lenz_contract.cli.proxy_cmd import proxy_group
from lenz_contract.cli.spec_cmd import spec_apply, spec_examples

ORIGINS = ("http://a.test", "http://b.test", "http://c.test")


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ((), ()),
        (("http://a.test",), ("http://a.test",)),
        (("http://a.test,http://b.test", "http://c.test"), ORIGINS),
        ((" http://a.test , ,http://b.test,", "", " http://c.test "), ORIGINS),
    ],
)
def test_split_origins(values: tuple[str, ...], expected: tuple[str, ...]) -> None:
    assert split_origins(None, None, values) == expected


def test_shared_options_are_the_same_in_every_command() -> None:
    def option(command: click.Command, name: str) -> dict[str, Any]:
        (param,) = (p for p in command.params if p.name == name)
        info = param.to_info_dict()
        info.pop("help")  # says what the spec is for, or what no CORS origin means
        return {**info, "callback": param.callback}

    for name in ("host", "cors_origins", "log_level", "spec_path"):
        assert option(mock_command, name) == option(proxy_group, name), name
    ports = [next(p for p in c.params if p.name == "port") for c in (mock_command, proxy_group)]
    assert [p.default for p in ports] == [4010, 4011]
    spec = next(p for p in spec_examples.params if p.name == "spec")
    assert spec.type.to_info_dict() == option(mock_command, "spec_path")["type"]


def test_report_options_are_the_same_in_every_command() -> None:
    """`--output` and `--format` mean one thing wherever they are; only the formats differ."""

    def param(command: click.Command, name: str) -> click.Parameter:
        return next(p for p in command.params if p.name == name)

    outputs = [param(c, "output").to_info_dict() for c in (diff_command, drift_command, spec_apply)]
    for info in outputs:
        info.pop("help")  # says what is written
        info["opts"] = [o for o in info["opts"] if o != "-o"]  # `spec apply -o` is short for it
    assert outputs[0] == outputs[1] == outputs[2]
    formats = [param(c, "format") for c in (diff_command, drift_command)]
    assert [f.default for f in formats] == ["markdown", "console"]
    assert formats[0].help == formats[1].help


@pytest.fixture
def captured(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """Run `mock` and `proxy` without serving: what reached the server is kept here."""
    seen: dict[str, Any] = {}

    def serve(config: Any, *, port: int, log_level: str, **_: Any) -> None:
        seen.update(config=config, port=port, log_level=log_level)

    def create_app(config: Any, spec: Any) -> Starlette:
        seen["config"] = config
        return Starlette()

    def run(server: uvicorn.Server, sockets: Any = None) -> None:
        seen.update(port=server.config.port, log_level=server.config.log_level)
        server.started = True

    monkeypatch.setattr("lenz_contract.mock.server.serve", serve)
    monkeypatch.setattr("lenz_contract.proxy.create_app", create_app)
    monkeypatch.setattr(uvicorn.Server, "run", run)
    return seen


def _invoke(args: list[str], env: dict[str, str] | None = None) -> str:
    result = CliRunner().invoke(main, args, env={"LENZ_CONTRACT_CONFIG": "", **(env or {})})
    assert result.exit_code == 0, result.output
    return result.output


UPSTREAM = ["--upstream", "http://127.0.0.1:9"]


@pytest.mark.parametrize(
    ("command", "port", "origins"), [("mock", 4010, ("*",)), ("proxy", 4011, ())]
)
def test_defaults_and_flags(
    captured: dict[str, Any],
    command: str,
    port: int,
    origins: tuple[str, ...],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)  # no config file
    extra = UPSTREAM if command == "proxy" else []
    out = _invoke([command, *extra])
    assert out.splitlines()[-1] == f"{command} stopped"
    assert (captured["config"].cors_origins, captured["port"]) == (origins, port)
    assert captured["log_level"] == "warning"
    flags = ["--cors-origin", "http://a.test,http://b.test", "--cors-origin", "http://c.test"]
    _invoke([command, *extra, *flags, "--port", "5000", "--log-level", "info"])
    assert tuple(captured["config"].cors_origins) == ORIGINS
    assert (captured["port"], captured["log_level"]) == (5000, "info")


@pytest.mark.parametrize("command", ["mock", "proxy"])
def test_config_file_and_environment(
    captured: dict[str, Any], command: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`[mock]`/`[proxy]` keys are the parameter names: `cors-origins`, `log-level`, `port`."""
    upstream = 'upstream = "http://127.0.0.1:9"\n' if command == "proxy" else ""
    (tmp_path / "lenz-contract.toml").write_text(
        f"[{command}]\n{upstream}port = 5001\nlog-level = 'error'\n"
        "cors-origins = ['http://a.test, http://b.test', 'http://c.test']\n"
    )
    monkeypatch.chdir(tmp_path)
    _invoke([command])
    assert tuple(captured["config"].cors_origins) == ORIGINS
    assert (captured["port"], captured["log_level"]) == (5001, "error")
    prefix = f"LENZ_{command.upper()}_"
    env = {f"{prefix}CORS_ORIGINS": "http://c.test,http://b.test http://a.test"}
    _invoke([command], env | {f"{prefix}PORT": "5002"})
    assert tuple(captured["config"].cors_origins) == ORIGINS[::-1]
    assert captured["port"] == 5002
