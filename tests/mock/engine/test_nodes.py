"""The node simulators on their own: dates, files, credentials, message ids, the registry."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from itertools import count

import pytest

from lenz_contract.mock.nodes import (
    NODE_TYPES,
    UNKNOWN_NODE,
    NodeEnv,
    NodeError,
    config_schema_pointers,
    export_event_history,
    resolve_date_range,
    send_telegram_attachment,
    simulator_for,
)
from lenz_contract.spec import Spec

NOW = datetime(2025, 4, 30, 7, 0, 0, tzinfo=UTC)


def env(now: datetime = NOW, credentials: tuple[str, ...] = ("cred-tg-001",)) -> NodeEnv:
    ids = count(42)
    return NodeEnv(now=now, credentials=set(credentials), next_message_id=lambda: next(ids))


@pytest.mark.parametrize(
    ("date_range", "expected"),
    [
        ("today", (date(2025, 4, 30), None)),
        ("yesterday", (date(2025, 4, 29), None)),
        ("last_7_days", (date(2025, 4, 29), date(2025, 4, 23))),
        ("2024-02-29", (date(2024, 2, 29), None)),
    ],
)
def test_date_ranges_resolve_relative_to_the_clock(
    date_range: str, expected: tuple[date, date | None]
) -> None:
    assert resolve_date_range(date_range, date(2025, 4, 30)) == expected


@pytest.mark.parametrize(
    ("date_range", "reason"),
    [
        ("tomorrow", "'tomorrow' is not supported by the mock"),
        ("Yesterday", "'Yesterday' is not supported by the mock"),
        ("2025-02-30", "'2025-02-30' is not a calendar date"),
        ("20250429", "'20250429' is not supported by the mock"),
    ],
)
def test_unknown_date_ranges_fail_clearly(date_range: str, reason: str) -> None:
    with pytest.raises(NodeError, match=reason) as caught:
        resolve_date_range(date_range, date(2025, 4, 30))
    assert str(caught.value).startswith("config.date_range: ")


def test_export_writes_the_day_file_under_output_dir() -> None:
    config = {
        "analytic_type": "FR",
        "date_range": "yesterday",
        "format": "csv",
        "output_dir": "/exports/fr/",
    }
    output = export_event_history(config, env())
    assert output["file_url"] == "/exports/fr/2025-04-29.csv"
    assert output["date"] == "2025-04-29"
    assert output["analytic_type"] == "FR"
    assert isinstance(output["rows"], int) and output["rows"] >= 0
    assert "date_from" not in output


def test_export_defaults_and_ranges() -> None:
    output = export_event_history({"analytic_type": "LPR", "date_range": "last_7_days"}, env())
    assert output["file_url"] == "/exports/2025-04-29.csv"
    assert (output["date_from"], output["date"]) == ("2025-04-23", "2025-04-29")


def test_export_uses_the_utc_date_of_the_clock() -> None:
    jakarta = timezone(timedelta(hours=7))
    late_in_jakarta = datetime(2025, 4, 29, 23, 30, tzinfo=UTC).astimezone(jakarta)
    assert late_in_jakarta.date() == date(2025, 4, 30)
    output = export_event_history(
        {"analytic_type": "FR", "date_range": "today"}, env(late_in_jakarta)
    )
    assert output["date"] == "2025-04-29"


def test_export_rows_are_reproducible_and_vary_by_day_and_analytic() -> None:
    def rows(analytic: str, day: str) -> int:
        return int(
            export_event_history({"analytic_type": analytic, "date_range": day}, env())["rows"]
        )

    assert rows("FR", "2025-04-29") == rows("FR", "2025-04-29")
    assert len({rows("FR", f"2025-04-{d:02d}") for d in range(1, 11)}) > 1
    assert len({rows(a, "2025-04-29") for a in ("FR", "LPR", "PPE", "CROWD")}) > 1


def test_telegram_sends_with_increasing_message_ids() -> None:
    shared = env()
    config = {"credential_id": "cred-tg-001", "file": "/exports/fr/2025-04-29.csv", "caption": ""}
    first = send_telegram_attachment(config, shared)
    second = send_telegram_attachment({"credential_id": "cred-tg-001", "file": "/b.csv"}, shared)
    assert first == {
        "message_id": 42,
        "chat_id": first["chat_id"],
        "file": "/exports/fr/2025-04-29.csv",
        "caption": "",
    }
    assert isinstance(first["chat_id"], int)
    assert second["message_id"] == 43 and "caption" not in second
    assert second["chat_id"] == first["chat_id"]


def test_telegram_unknown_credential_fails_without_taking_a_message_id() -> None:
    def must_not_take() -> int:
        raise AssertionError("a failed send took a message id")

    refusing = NodeEnv(now=NOW, credentials={"cred-tg-001"}, next_message_id=must_not_take)
    with pytest.raises(NodeError) as caught:
        send_telegram_attachment({"credential_id": "cred-nope", "file": "/x.csv"}, refusing)
    assert str(caught.value) == (
        "config.credential_id: credential 'cred-nope' does not exist (the mock knows: cred-tg-001)"
    )


def test_simulators_refuse_a_bad_config_even_without_the_engine() -> None:
    with pytest.raises(NodeError, match=r"config.file: expected a non-empty string, got 3"):
        send_telegram_attachment({"credential_id": "cred-tg-001", "file": 3}, env())
    with pytest.raises(NodeError, match=r"config.analytic_type: expected a non-empty string"):
        export_event_history({"date_range": "today"}, env())


def test_unknown_node_types_succeed_with_no_output() -> None:
    simulator = simulator_for("webhook_post")
    assert simulator is UNKNOWN_NODE
    assert simulator.run({"url": "http://x"}, env()) == {}


def test_every_node_type_with_a_config_schema_in_the_spec_has_a_simulator(spec: Spec) -> None:
    pointers = config_schema_pointers(spec)
    assert pointers == {
        "event_history_export": "#/components/schemas/EventHistoryExportConfig",
        "telegram_send_attachment": "#/components/schemas/TelegramSendAttachmentConfig",
    }
    assert set(NODE_TYPES) == set(pointers)
