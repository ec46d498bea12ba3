"""Runs kept as compact bytes read back identical: big integers, exact decimals, any text."""

from __future__ import annotations

import random
from typing import Any

from lenz_contract.mock import runlog
from lenz_contract.mock.runlog import (
    PLACE_BYTES,
    RunCodec,
    RunLog,
    in_arrival_order,
    placed,
    run_key,
)
from lenz_contract.mock.store import MemoryStore, Snapshot
from lenz_contract.spec import jsontext

from .test_store import execution, workflow

BIG = 2**100 + 7
LONG = "0.1000000000000000055511151231257827"


def run(index: int, **output: Any) -> dict[str, Any]:
    item = execution(f"e{index}", "w", f"2025-01-01T00:{index // 60 % 60:02d}:{index % 60:02d}Z")
    item["node_results"] = [
        {
            "node_id": "n1",
            "node_type": "http_request",
            "node_name": "Kirim — ke Telegram 日報 🚀",
            "status": "success",
            "started_at": item["started_at"],
            "finished_at": item["finished_at"],
            "output": output or {"message_id": index},
            "error": None,
        }
    ]
    return item


def same(left: Any, right: Any) -> bool:
    """Equal, with the same types all the way down (an int stays an int, not 1.0)."""
    return jsontext.dumps(left) == jsontext.dumps(right) and left == right


def test_a_compact_run_reads_back_identical() -> None:
    codec = RunCodec()
    tricky = run(
        1,
        big=BIG,
        negative=-BIG,
        exact=jsontext.loads(f"[{LONG}]")[0],
        tiny=jsontext.loads("[1e-400]")[0],
        floats=[0.5, 1e300, -0.0],
        text='nul\x00 quote" backslash\\ line\n emoji 🚀 combining e\u0301 ß İ',
        nested={"a": [{"b": [[], {}, None, True, False]}], "deep": [[[[["x"]]]]]},
    )
    for item in (tricky, run(2), {"id": "x", "workflow_id": "w"}):
        blob = codec.encode(item)
        assert same(codec.decode(blob), item)
    assert isinstance(codec.decode(codec.encode(tricky))["node_results"][0]["output"]["big"], int)
    decoded_exact = codec.decode(codec.encode(tricky))["node_results"][0]["output"]["exact"]
    assert isinstance(decoded_exact, jsontext.ExactNumber) and decoded_exact.text == LONG


def test_runs_shrink_once_a_dictionary_is_learnt_and_old_blobs_stay_readable() -> None:
    codec = RunCodec()
    early = [(item, codec.encode(item)) for item in (run(i) for i in range(runlog.FIRST_TRAINING))]
    assert codec.dictionaries == 1
    later = [(item, codec.encode(item)) for item in (run(i) for i in range(100, 140))]
    assert max(len(blob) for _, blob in later) < min(len(blob) for _, blob in early) / 2
    assert all(same(codec.decode(blob), item) for item, blob in early + later)


def test_runs_of_another_shape_teach_a_new_dictionary(monkeypatch: Any) -> None:
    monkeypatch.setattr(runlog, "WINDOW", 16)
    codec = RunCodec()
    written = [(item, codec.encode(item)) for item in (run(i) for i in range(80))]
    assert codec.dictionaries == 1
    rng = random.Random(7)
    for i in range(200):  # other workflows: other names, other outputs
        words = " ".join(rng.choice(["alpha", "beta", "gamma", "delta", "omega"]) for _ in range(8))
        item = {"id": f"other-{i}", "workflow_id": "v", "payload": {words: [words] * 3}}
        written.append((item, codec.encode(item)))
    assert codec.dictionaries >= 2
    assert all(same(codec.decode(blob), item) for item, blob in written)


def test_a_log_orders_by_start_then_arrival() -> None:
    log = RunLog()
    stamps = ["2025-01-01T02:00:00Z", "2025-01-01T01:00:00Z", "2025-01-01T02:00:00Z"]
    stamps += ["2025-01-01T09:00:00+07:00", "2025-01-01T03:00:00.5Z"]  # = 02:00Z, then 03:00:00.5
    stamps += ["1969-12-31T23:59:59Z", "0001-01-01T00:00:00Z", "9999-12-31T23:59:59.999999Z"]
    for seq, stamp in enumerate(stamps):
        log.add(placed(run_key(stamp), seq, bytes([seq])))

    def payloads(entries: list[bytes]) -> list[int]:
        return [entry[PLACE_BYTES] for entry in entries]

    assert payloads(log.newest_first(0, 10)) == [7, 4, 3, 2, 0, 1, 5, 6]
    assert payloads(log.newest_first(1, 2)) == [4, 3]
    assert log.newest_first(8, 2) == []
    other = RunLog()
    other.add(placed(run_key("2025-01-01T02:00:00Z"), 10, b"\x0a"))
    assert payloads(in_arrival_order([log, other])) == [6, 5, 1, 0, 2, 3, 10, 4, 7]


def test_the_memory_store_keeps_runs_compact_and_exports_them_as_given() -> None:
    store = MemoryStore()
    store.insert_workflow(workflow("w", "W", "2025-01-01T00:00:00Z"))
    runs = [run(i, value=BIG + i, note="日報") for i in range(200)]
    for item in runs:
        assert store.add_execution(item)
    page = store.list_executions("w", 0, 3)
    assert page is not None and page.total == 200
    assert [e["id"] for e in page.items] == ["e199", "e198", "e197"]
    assert all(same(got, want) for got, want in zip(page.items, runs[::-1], strict=False))
    exported = store.snapshot()
    assert all(same(got, want) for got, want in zip(exported.executions, runs, strict=True))
    again = MemoryStore()
    again.restore(Snapshot(exported.workflows, exported.executions))
    assert again.snapshot() == exported
