"""Executions: the docs' workflow end to end, failure propagation, and the spec's Execution schema."""

from __future__ import annotations

import copy
import threading
from datetime import UTC, datetime
from typing import Any

import pytest

from lenz_contract.mock.clock import MockClock
from lenz_contract.mock.engine import (
    FIRST_MESSAGE_ID,
    EngineContext,
    MessageCounter,
    execute,
    execute_scheduled,
    new_execution_id,
)
from lenz_contract.spec import SchemaValidator, Spec

from ...conftest import load_fixture
from .conftest import seed_credentials


def run(workflow: dict[str, Any], context: EngineContext) -> dict[str, Any]:
    return execute(workflow, context=context, trigger_type="manual", triggered_by="user-alfin")


def node(node_id: str, node_type: str, **config: Any) -> dict[str, Any]:
    return {"id": node_id, "type": node_type, "name": node_id.title(), "config": config}


def test_seed_credentials_are_the_fixture_ids(spec: Spec) -> None:
    assert seed_credentials(spec) == {"cred-tg-001"}


def test_the_docs_workflow_runs_like_the_docs_execution_example(
    docs_workflow: dict[str, Any],
    context: EngineContext,
    execution_schema: SchemaValidator,
) -> None:
    execution = run(docs_workflow, context)

    assert execution_schema.errors(execution) == []
    docs = load_fixture("docs/executeWorkflow.response.json")["data"]
    # The documented shape and values, field by field; the mock's outputs only add keys.
    for key in ("trigger_type", "status", "started_at", "finished_at", "error", "triggered_by"):
        assert execution[key] == docs[key], key
    assert execution["workflow_id"] == "wf-uuid-002"
    assert execution["id"].startswith("exec-")
    for ours, theirs in zip(execution["node_results"], docs["node_results"], strict=True):
        assert set(ours) == set(theirs)
        assert {k: v for k, v in ours.items() if k != "output"} == {
            k: v for k, v in theirs.items() if k != "output"
        }
        assert ours["output"].items() >= theirs["output"].items()

    export, telegram = (result["output"] for result in execution["node_results"])
    assert export["file_url"] == "/exports/fr/2025-04-29.csv"
    assert telegram["file"] == export["file_url"]
    assert telegram["caption"] == "Laporan FR harian — 2025-04-29"
    assert telegram["message_id"] == FIRST_MESSAGE_ID == 42


def test_message_ids_increase_across_runs_and_ids_are_unique(
    docs_workflow: dict[str, Any], context: EngineContext, messages: MessageCounter
) -> None:
    executions = [run(docs_workflow, context) for _ in range(3)]
    assert [e["node_results"][1]["output"]["message_id"] for e in executions] == [42, 43, 44]
    assert len({e["id"] for e in executions}) == 3
    assert messages.next_id == 45


def test_yesterday_follows_the_clock(
    docs_workflow: dict[str, Any], context: EngineContext, clock: MockClock
) -> None:
    clock.set(datetime(2025, 5, 1, 0, 0, 1, tzinfo=UTC))
    execution = run(docs_workflow, context)
    assert execution["started_at"] == "2025-05-01T00:00:01Z"
    assert execution["node_results"][0]["output"]["file_url"] == "/exports/fr/2025-04-30.csv"


def test_nodes_are_sequential_in_simulated_time(
    context: EngineContext, execution_schema: SchemaValidator
) -> None:
    workflow = {
        "id": "wf-seq",
        "nodes": [
            node("a", "custom_step"),
            node("b", "event_history_export", analytic_type="FR", date_range="today"),
            node("c", "custom_step"),
        ],
    }
    execution = run(workflow, context)
    assert execution_schema.errors(execution) == []
    stamps = [execution["started_at"]]
    for result in execution["node_results"]:
        stamps += [result["started_at"], result["finished_at"]]
    stamps.append(execution["finished_at"])
    assert stamps == sorted(stamps)
    assert all(r["started_at"] < r["finished_at"] for r in execution["node_results"])
    assert execution["node_results"][0]["started_at"] == execution["started_at"]


def test_unknown_node_type_succeeds_with_empty_output(
    context: EngineContext, execution_schema: SchemaValidator
) -> None:
    workflow = {"id": "wf-x", "nodes": [node("n1", "webhook_post", url="http://example")]}
    execution = run(workflow, context)
    assert execution_schema.errors(execution) == []
    assert execution["status"] == "success"
    assert execution["node_results"][0]["output"] == {}
    assert execution["node_results"][0]["status"] == "success"


def test_a_workflow_without_nodes_succeeds_at_once(
    context: EngineContext, execution_schema: SchemaValidator
) -> None:
    execution = run({"id": "wf-empty", "nodes": []}, context)
    assert execution_schema.errors(execution) == []
    assert execution["status"] == "success"
    assert execution["started_at"] == execution["finished_at"] == "2025-04-30T07:00:00Z"
    assert execution["node_results"] == []


def assert_failed_at(
    execution: dict[str, Any], index: int, error: str, schema: SchemaValidator
) -> None:
    """Node `index` failed with `error`, every later node skipped, the execution failed."""
    assert schema.errors(execution) == []
    results = execution["node_results"]
    assert [r["status"] for r in results[:index]] == ["success"] * index
    failed = results[index]
    assert (failed["status"], failed["output"], failed["error"]) == ("failed", None, error)
    for skipped in results[index + 1 :]:
        assert skipped["status"] == "skipped"
        assert skipped["output"] is skipped["error"] is None
        assert skipped["started_at"] is skipped["finished_at"] is None
    assert execution["status"] == "failed"
    assert execution["error"] == f"node {failed['node_id']} failed: {error}"
    assert execution["finished_at"] == failed["finished_at"]


def with_trailing_node(workflow: dict[str, Any]) -> dict[str, Any]:
    workflow = copy.deepcopy(workflow)
    workflow["nodes"].append(node("node-after", "custom_step"))
    return workflow


def test_unknown_credential_fails_the_node_and_skips_the_rest(
    docs_workflow: dict[str, Any],
    context: EngineContext,
    messages: MessageCounter,
    execution_schema: SchemaValidator,
) -> None:
    workflow = with_trailing_node(docs_workflow)
    workflow["nodes"][1]["config"]["credential_id"] = "cred-gone"
    execution = run(workflow, context)
    assert_failed_at(
        execution,
        1,
        "config.credential_id: credential 'cred-gone' does not exist (the mock knows: cred-tg-001)",
        execution_schema,
    )
    assert execution["error"].startswith("node node-telegram failed: ")
    assert messages.next_id == FIRST_MESSAGE_ID  # a failed send sends nothing


def test_unresolvable_template_fails_the_node_and_skips_the_rest(
    docs_workflow: dict[str, Any], context: EngineContext, execution_schema: SchemaValidator
) -> None:
    workflow = with_trailing_node(docs_workflow)
    workflow["nodes"][1]["config"]["caption"] = "Laporan — {{prev.body.tanggal}}"
    execution = run(workflow, context)
    assert_failed_at(
        execution,
        1,
        "config.caption: {{prev.body.tanggal}} cannot be resolved: "
        "previous output has no key 'tanggal'",
        execution_schema,
    )
    failed = execution["node_results"][1]
    assert failed["started_at"] == failed["finished_at"]  # refused before it ran


def test_a_template_in_the_first_node_fails_it(
    context: EngineContext, execution_schema: SchemaValidator
) -> None:
    workflow = {
        "id": "wf-first",
        "nodes": [
            node(
                "n1",
                "telegram_send_attachment",
                credential_id="cred-tg-001",
                file="{{prev.body.x}}",
            ),
            node("n2", "custom_step"),
        ],
    }
    execution = run(workflow, context)
    assert_failed_at(
        execution,
        0,
        "config.file: {{prev.body.x}} cannot be resolved: "
        "there is no previous node (this is the first node of the pipeline)",
        execution_schema,
    )


def test_a_resolved_config_is_checked_against_the_spec_schema_of_its_type(
    docs_workflow: dict[str, Any], context: EngineContext, execution_schema: SchemaValidator
) -> None:
    workflow = copy.deepcopy(docs_workflow)
    workflow["nodes"][1]["config"]["file"] = "{{prev.body.rows}}"  # a number, not a file
    execution = run(workflow, context)
    assert_failed_at(execution, 1, 'config.file: 1874 is not of type "string"', execution_schema)


def test_an_unknown_date_range_fails_the_export(
    docs_workflow: dict[str, Any], context: EngineContext, execution_schema: SchemaValidator
) -> None:
    workflow = copy.deepcopy(docs_workflow)
    workflow["nodes"][0]["config"]["date_range"] = "last_year"
    execution = run(workflow, context)
    assert_failed_at(
        execution,
        0,
        "config.date_range: 'last_year' is not supported by the mock "
        "(use one of today, yesterday, last_7_days or a date YYYY-MM-DD)",
        execution_schema,
    )


def test_a_scheduled_run_starts_at_its_fire_time(
    docs_workflow: dict[str, Any], context: EngineContext, execution_schema: SchemaValidator
) -> None:
    fire_time = datetime(2025, 4, 29, 7, 0, 0, tzinfo=UTC)  # the clock says 04-30 by now
    execution = execute_scheduled(docs_workflow, fire_time, context=context)
    assert execution_schema.errors(execution) == []
    assert (execution["trigger_type"], execution["triggered_by"]) == ("schedule", "scheduler")
    assert execution["started_at"] == "2025-04-29T07:00:00Z"
    assert execution["node_results"][0]["output"]["date"] == "2025-04-28"


def test_naive_start_times_are_refused(
    docs_workflow: dict[str, Any], context: EngineContext
) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        execute_scheduled(docs_workflow, datetime(2025, 4, 29, 7), context=context)


def test_the_message_counter_is_thread_safe_and_restorable() -> None:
    counter = MessageCounter()
    taken: list[int] = []
    lock = threading.Lock()

    def take_many() -> None:
        for _ in range(500):
            value = counter.take()
            with lock:
                taken.append(value)

    threads = [threading.Thread(target=take_many) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken) == list(range(42, 42 + 4000))
    assert counter.next_id == 4042

    restored = MessageCounter(counter.next_id)
    assert restored.take() == 4042
    restored.restore(100)
    assert restored.take() == 100


def test_the_context_can_carry_a_restored_counter_and_its_own_ids(
    docs_workflow: dict[str, Any], spec: Spec
) -> None:
    ids = iter(["exec-a", "exec-b"])
    context = EngineContext(
        now=MockClock.frozen(datetime(2025, 4, 30, 7, tzinfo=UTC)).now,
        credentials={"cred-tg-001"},
        messages=MessageCounter(500),
        spec=spec,
        new_id=lambda: next(ids),
    )
    execution = run(docs_workflow, context)
    assert execution["id"] == "exec-a"
    assert execution["node_results"][1]["output"]["message_id"] == 500


def test_execution_ids_are_unique() -> None:
    ids = {new_execution_id() for _ in range(1000)}
    assert len(ids) == 1000 and all(i.startswith("exec-") for i in ids)
