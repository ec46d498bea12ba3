"""`lenz-contract diff`: the corpus of one-change pairs, and the command as a CI gate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from lenz_contract.cli import main
from lenz_contract.spec import SHIPPED_SPEC_PATH
from lenz_contract.spec.diff import diff_documents
from lenz_contract.spec.diff_report import Gate
from lenz_contract.spec.diff_rules import judge, known_kinds
from lenz_contract.spec.document import read_document

CORPUS = Path(__file__).resolve().parent / "corpus"
CASES = sorted(p for p in CORPUS.iterdir() if p.is_dir())


def expected(case: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((case / "expected.json").read_text(encoding="utf-8"))
    return data


def test_the_corpus_covers_at_least_25_changes() -> None:
    assert len(CASES) >= 25
    kinds = {c["id"].split(":", 1)[0] for case in CASES for c in expected(case)["changes"]}
    for rule in (
        "operation-added",
        "operation-removed",
        "response-status-added",
        "response-status-removed",
        "response-property-added",
        "response-property-removed",
        "response-property-became-required",
        "response-property-became-optional",
        "request-property-added",
        "request-property-removed",
        "request-property-became-required",
        "response-type-changed",
        "response-type-widened",
        "response-format-changed",
        "response-enum-value-added",
        "response-enum-value-removed",
        "request-enum-value-added",
        "request-enum-value-removed",
        "request-max-length-tightened",
        "request-max-length-loosened",
        "request-min-length-loosened",
        "request-pattern-changed",
        "request-required-parameter-added",
        "request-optional-parameter-added",
        "request-parameter-removed",
        "request-parameter-became-required",
        "security-added",
        "security-removed",
        "security-scheme-changed",
    ):
        assert rule in kinds, rule
    assert kinds <= set(known_kinds())


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_each_pair_is_classified_as_expected(case: Path) -> None:
    want = expected(case)
    changes = diff_documents(read_document(case / "old.yaml"), read_document(case / "new.yaml"))
    got = sorted((c.id, c.clients.verdict, c.deployments.verdict) for c in changes)
    assert got == sorted((c["id"], c["clients"], c["deployments"]) for c in want["changes"])
    assert Gate(changes).exit_code == want["exit"]
    for change in changes:
        assert change.old or change.new
        assert change.clients.why and change.deployments.why


def test_the_command_gates_on_unacknowledged_breaking_changes(tmp_path: Path) -> None:
    case = CORPUS / "response-property-removed"
    old, new = str(case / "old.yaml"), str(case / "new.yaml")
    runner = CliRunner()
    change = "response-property-removed:Workflow.description"

    red = runner.invoke(main, ["diff", old, new])
    assert red.exit_code == 1
    assert f"- `{change}`" in red.stdout
    assert f"1 unacknowledged breaking change(s): {change}" in red.stderr

    acks = tmp_path / "acknowledged-changes.txt"
    acks.write_text(f"# the frontend reads description defensively (PR 12)\n{change}\nstale:one\n")
    green = runner.invoke(main, ["diff", old, new, "--acknowledged", str(acks)])
    assert green.exit_code == 0, green.output
    assert "**breaking** (acknowledged)" in green.stdout
    assert "note: acknowledgement 'stale:one' matches no change (stale)" in green.stderr

    globbed = runner.invoke(main, ["diff", old, new, "--allow", "response-property-removed:*"])
    assert globbed.exit_code == 0
    deployments_only = runner.invoke(main, ["diff", old, new, "--audience", "deployments"])
    assert deployments_only.exit_code == 0  # breaking for clients only


def test_json_output_names_both_pointers(tmp_path: Path) -> None:
    case = CORPUS / "request-max-length-tightened"
    out, md = tmp_path / "diff.json", tmp_path / "diff.md"
    result = CliRunner().invoke(
        main,
        [
            "diff",
            str(case / "old.yaml"),
            str(case / "new.yaml"),
            "--format",
            "json",
            "--output",
            str(out),
            "--markdown-report",
            str(md),
        ],
    )
    assert result.exit_code == 1
    data = json.loads(out.read_text())
    [change] = data["changes"]
    assert change["old"]["pointer"] == "#/components/schemas/WorkflowInput/properties/name"
    assert change["new"]["pointer"] == "#/components/schemas/WorkflowInput/properties/name"
    assert change["clients"]["verdict"] == change["deployments"]["verdict"] == "breaking"
    assert change["operations"] == ["createWorkflow", "updateWorkflow"]
    assert change["detail"] == "body.name: maxLength none → 100"
    assert data["summary"]["failing"] == 1 and data["exit_code"] == 1
    assert "# Contract change" in md.read_text()


def test_identical_contracts_have_no_changes() -> None:
    shipped = str(SHIPPED_SPEC_PATH)
    result = CliRunner().invoke(main, ["diff", shipped, shipped])
    assert result.exit_code == 0 and "No changes." in result.stdout


def test_usage_errors_exit_2(tmp_path: Path) -> None:
    runner = CliRunner()
    shipped = str(SHIPPED_SPEC_PATH)
    missing = runner.invoke(main, ["diff", shipped, str(tmp_path / "nope.yaml")])
    assert missing.exit_code == 2
    broken = tmp_path / "broken.yaml"
    broken.write_text("openapi: [\n")
    bad_yaml = runner.invoke(main, ["diff", shipped, str(broken)])
    assert bad_yaml.exit_code == 2 and "not valid YAML" in bad_yaml.stderr
    not_openapi = tmp_path / "other.yaml"
    not_openapi.write_text("hello: world\n")
    other = runner.invoke(main, ["diff", shipped, str(not_openapi)])
    assert other.exit_code == 2 and "NEW: not an OpenAPI 3.x document" in other.stderr
    acks = tmp_path / "acks.txt"
    acks.write_text("this is not an id\n")
    bad_ack = runner.invoke(main, ["diff", shipped, shipped, "--acknowledged", str(acks)])
    assert bad_ack.exit_code == 2 and f"{acks}:1" in bad_ack.stderr
    assert "Traceback" not in bad_ack.output + other.output + bad_yaml.output


def test_verdicts_follow_the_side_and_the_effect() -> None:
    """A tighter rule breaks whoever must meet it: senders of requests, givers of answers."""
    tighter = judge("request-max-length-tightened")
    assert (tighter.clients.verdict, tighter.deployments.verdict) == ("breaking", "breaking")
    looser = judge("response-max-length-loosened")
    assert (looser.clients.verdict, looser.deployments.verdict) == ("warning", "compatible")
    narrower = judge("response-type-narrowed")
    assert (narrower.clients.verdict, narrower.deployments.verdict) == ("compatible", "breaking")
    opened = judge("request-property-removed", frozenset({"open"}))
    assert (opened.clients.verdict, opened.deployments.verdict) == ("warning", "compatible")
