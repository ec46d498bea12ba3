"""`lenz-contract drift`: what a drifting deployment does, aggregated, and the overlay that
makes the contract describe it (after which neither the proxy nor drift reports any of it)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import yaml
from click.testing import CliRunner, Result

from lenz_contract.cli import main
from lenz_contract.spec import Spec

from ..support.processes import cli_process
from .conftest import ProxyRun, journey, write
from .upstreams import WEBHOOK_SECRET


def drift(*args: str) -> Result:
    return CliRunner().invoke(main, ["drift", *args], env={"COLUMNS": "200"})


def by(entries: list[dict[str, Any]], *keys: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {tuple(e[k] for k in keys): e for e in entries}


def test_drift_reports_each_difference_and_its_overlay_makes_them_vanish(
    proxied: ProxyRun, drifting_url: str, tmp_path: Path
) -> None:
    exchanges, violations = tmp_path / "exchanges.jsonl", tmp_path / "violations.jsonl"
    with proxied(drifting_url, log_path=violations, exchange_log_path=exchanges) as (c, flush):
        statuses = journey(c)
        before = flush()
    assert statuses == [200, 202, 202, 200, 200, 200, 200, 422, 200, 200, 200, 204, 404]
    # 202 twice, 422, 204; the 404 in text/plain: its content type, and a body not JSON
    assert before["totals"]["violations"] == 6
    assert before["semantics"]["findings"] == 0  # it drifts in shape, never in meaning
    assert before["exchange_log"] == {"path": str(exchanges), "written": 13}

    overlay = tmp_path / "observed.yaml"
    report_file = tmp_path / "drift.json"
    ran = drift(
        str(exchanges), "--format", "json", "--output", str(report_file), "--overlay", str(overlay)
    )
    assert ran.exit_code == 0, ran.output
    report = json.loads(report_file.read_text())
    assert report["exchanges"] == 13

    fields = by(report["undocumented_fields"], "schema", "field")
    assert {k: (e["count"], e["of"]) for k, e in fields.items()} == {
        ("Workflow", "owner"): (7, 7),
        ("Workflow", "tags"): (7, 7),
        ("Workflow", "webhook_secret"): (7, 7),
        ("SuccessEnvelope", "request_id"): (10, 10),
        ("Execution", "duration_ms"): (2, 2),
        ("ErrorEnvelope", "code"): (1, 1),
    }
    assert fields[("Workflow", "owner")]["types"] == {"object": 7}
    assert fields[("Workflow", "owner")]["examples"] == ['{"id": "user-7", "name": "Alfin"}']
    assert fields[("Workflow", "webhook_secret")]["examples"] == ["[REDACTED]"]
    assert {"operation": "getWorkflow", "status": "200", "path": "body.data.owner"} in fields[
        ("Workflow", "owner")
    ]["where"]

    found = by(report["statuses"], "operation", "status")
    assert {k: (e["count"], e["fits"]) for k, e in found.items()} == {
        ("createWorkflow", 202): (2, "WorkflowResponse"),
        ("updateWorkflow", 422): (1, "ErrorEnvelope"),
        ("deleteWorkflow", 204): (1, None),
    }
    assert found[("createWorkflow", 202)]["exchanges"] == [2, 3]
    [media] = report["content_types"]
    assert (media["operation"], media["status"], media["content_type"], media["count"]) == (
        "getWorkflow",
        "404",
        "text/plain",
        1,
    )
    assert media["documented"] == ["application/json"] and media["exchanges"] == [13]

    stamps = report["timestamps"]
    assert stamps["offsets"] == {"+07:00": 17}
    assert stamps["shapes"] == {
        "YYYY-MM-DDThh:mm:ss±hh:mm": 11,
        "YYYY-MM-DDThh:mm:ss.fff±hh:mm": 6,
    }
    created = by(stamps["fields"], "schema")[("Workflow.created_at",)]
    assert created["outside_strict"] == {"+07:00": 7} and created["outside_contract"] == {}

    values = by(report["value_sets"], "schema")
    assert values[("NodeResult.status",)]["outside_strict"] == {"partial": 2}
    assert values[("Execution.trigger_type",)]["values"] == {"manual": 2}
    assert values[("Execution.trigger_type",)]["difference"] is False
    assert values[("ActionNode.type",)]["values"] == {
        "event_history_export": 7,
        "telegram_send_attachment": 5,
    }
    nulls = by(report["documented_fields"], "schema")
    assert nulls[("Workflow.updated_at",)]["null"] == 5
    assert nulls[("Workflow.updated_at",)]["difference"] is False  # the contract admits null
    # fields, statuses, content types, timestamp fields, value sets
    assert report["differences"] == 6 + 3 + 1 + 6 + 1

    for logged in (exchanges, violations, overlay, report_file):
        assert WEBHOOK_SECRET not in logged.read_text()
        assert "lenz-mock-token" not in logged.read_text()

    actions = yaml.safe_load(overlay.read_text())["actions"]
    assert {a["x-lenz-source"] for a in actions} == {"observed"}
    assert all(isinstance(a["x-lenz-count"], int) and a["x-lenz-count"] > 0 for a in actions)
    validated = CliRunner().invoke(main, ["spec", "validate", "--overlay", str(overlay)])
    assert validated.exit_code == 0, validated.output

    again = tmp_path / "again.jsonl"
    amended = Spec.load(overlay=overlay)
    with proxied(drifting_url, amended, exchange_log_path=again) as (c, flush):
        assert journey(c) == statuses
        after = flush()
    assert after["totals"]["violations"] == 0, after["operations"]
    rerun = drift(str(again), "--spec-overlay", str(overlay), "--format", "json", "--fail-on-drift")
    assert rerun.exit_code == 0, rerun.output
    assert json.loads(rerun.stdout)["differences"] == 0


def test_the_mock_serves_the_amended_contract(tmp_path: Path) -> None:
    overlay = write(
        tmp_path / "o.yaml",
        "overlay: 1.0.0\ninfo: {title: t, version: '1'}\nactions:\n"
        "  - target: $.components.schemas.Workflow.properties\n"
        "    update: {owner: {type: string, x-lenz-source: inferred, x-lenz-reason: seen}}\n",
    )
    with cli_process("mock", "--overlay", str(overlay), workdir=tmp_path) as mock:
        served = httpx.get(f"{mock.base_url}/openapi.json").json()
        assert "owner" in served["components"]["schemas"]["Workflow"]["properties"]
        assert f"overlay: {overlay} applied" in mock.stdout
    refused = CliRunner().invoke(main, ["mock", "--overlay", str(overlay), "--reload-spec"])
    assert refused.exit_code == 2 and "spec apply --overlay" in refused.output


def test_a_violation_log_alone_gives_statuses(
    proxied: ProxyRun, drifting_url: str, tmp_path: Path
) -> None:
    violations = tmp_path / "violations.jsonl"
    with proxied(drifting_url, log_path=violations) as (c, flush):
        journey(c)
        flush()
    ran = drift(str(violations), "--format", "json")
    assert ran.exit_code == 0, ran.output
    report = json.loads(ran.stdout)
    assert {(e["operation"], e["status"], e["count"]) for e in report["statuses"]} == {
        ("createWorkflow", 202, 2),
        ("updateWorkflow", 422, 1),
        ("deleteWorkflow", 204, 1),
    }
    assert report["undocumented_fields"] == []
    assert any("--log-exchanges" in note for note in report["notes"])


def test_a_recording_folder_shows_fields_not_offsets(
    proxied: ProxyRun, drifting_url: str, tmp_path: Path
) -> None:
    recording = tmp_path / "recording"
    with proxied(drifting_url, record_dir=recording) as (c, flush):
        journey(c)
        flush()
    ran = drift(str(recording), "--format", "json")
    assert ran.exit_code == 0, ran.output
    report = json.loads(ran.stdout)
    assert ("Workflow", "owner") in by(report["undocumented_fields"], "schema", "field")
    assert report["timestamps"]["offsets"] == {}
    assert any("rewritten to UTC" in note for note in report["notes"])


def test_markdown_and_console_show_the_same_sections(
    proxied: ProxyRun, drifting_url: str, tmp_path: Path
) -> None:
    exchanges = tmp_path / "x.jsonl"
    with proxied(drifting_url, exchange_log_path=exchanges) as (c, flush):
        journey(c)
        flush()
    markdown = drift(str(exchanges), "--format", "markdown")
    console = drift(str(exchanges))
    for out in (markdown.stdout, console.stdout):
        for title in (
            "Fields answers carry that the contract does not describe",
            "Statuses the contract does not list",
            "Value sets of fields that look like enumerations",
            "Timestamps",
            "17 difference(s)",
        ):
            assert title in out, title
    assert "| DIFF | Workflow | owner | 7 of 7 |" in markdown.stdout


def test_bad_input_says_which_file_and_where(tmp_path: Path) -> None:
    record = {"kind": "exchange", "v": 1, "method": "GET", "path": "/", "status": 200}
    log = write(
        tmp_path / "x.jsonl", json.dumps(record) + "\nnot json\n" + json.dumps(record) + "\n"
    )
    bad = drift(str(log))
    assert bad.exit_code == 2 and f"error: {log}:2: not JSON" in bad.stderr
    assert "Traceback" not in bad.output

    cut = write(tmp_path / "cut.jsonl", json.dumps(record) + '\n{"kind": "exch')
    partial = drift(str(cut), "--format", "json")
    assert partial.exit_code == 0
    assert any("incomplete last line" in n for n in json.loads(partial.stdout)["notes"])

    newer = write(tmp_path / "v9.jsonl", json.dumps({**record, "v": 9}) + "\n")
    assert "version 9" in drift(str(newer)).stderr
    other = write(tmp_path / "other.jsonl", '{"hello": 1}\n')
    assert "neither an exchange record" in drift(str(other)).stderr
    folder = tmp_path / "folder"
    folder.mkdir()
    not_recording = drift(str(folder))
    assert not_recording.exit_code == 2 and "not a recording folder" in not_recording.stderr
    assert drift(str(tmp_path / "missing.jsonl")).exit_code == 2
    stale = write(
        tmp_path / "stale.yaml",
        "overlay: 1.0.0\ninfo: {title: t, version: '1'}\n"
        "actions: [{target: $.components.schemas.Gone, remove: true}]\n",
    )
    refused = drift(str(log), "--spec-overlay", str(stale))
    assert refused.exit_code == 2 and "selects nothing" in refused.stderr


def test_no_drift_no_overlay(proxied: ProxyRun, mock_url: str, tmp_path: Path) -> None:
    """In front of the mock, drift has nothing to amend: no overlay is written."""
    exchanges = tmp_path / "x.jsonl"
    with proxied(mock_url, exchange_log_path=exchanges) as (c, flush):
        journey(c)
        flush()
    overlay = tmp_path / "o.yaml"
    ran = drift(str(exchanges), "--overlay", str(overlay), "--fail-on-drift", "--format", "json")
    assert ran.exit_code == 0, ran.output
    assert json.loads(ran.stdout)["differences"] == 0
    assert not overlay.exists() and "nothing to amend" in ran.stderr
