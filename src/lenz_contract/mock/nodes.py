"""Simulators of the action node types: what each node "does" in the mock, deterministically.

A simulator gets the node's config with templates already resolved and returns the node's
output (the next node's `prev.body`), or raises `NodeError`. Outputs are pure functions of the
config, the execution's clock time and the mock's state (credentials, message counter), so a
client's test of "yesterday's export reaches Telegram" is reproducible.

Which config schema belongs to which node type is read from the spec (`config_schema_pointers`),
not repeated here; the engine validates the resolved config with it before a simulator runs.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ..spec import Spec
from ..spec.document import deref
from ..spec.schemas import discriminated_union


class NodeError(Exception):
    """The node failed; the message becomes the node's `error`."""


@dataclass(frozen=True)
class NodeEnv:
    """What a simulator may read besides its config."""

    now: datetime
    """The execution's clock time (aware, UTC): `yesterday` is relative to it."""
    credentials: Collection[str]
    """Ids of the credentials the mock knows (`cred-tg-001` from the seed)."""
    next_message_id: Callable[[], int]
    """Takes the next Telegram message id; call it only when a send succeeds."""


NodeRun = Callable[[Mapping[str, Any], NodeEnv], dict[str, Any]]


@dataclass(frozen=True)
class NodeSimulator:
    """A node type's behaviour and how long it pretends to take (node timestamps use it)."""

    run: NodeRun
    duration: timedelta


# --- event_history_export ------------------------------------------------------------------

DATE_RANGES = ("today", "yesterday", "last_7_days")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
MAX_ROWS = 5000


def resolve_date_range(date_range: str, today: date) -> tuple[date, date | None]:
    """`(date, date_from)`: the day exported (the last day of a range) and a range's first day."""
    if date_range == "today":
        return today, None
    if date_range == "yesterday":
        return today - timedelta(days=1), None
    if date_range == "last_7_days":
        return today - timedelta(days=1), today - timedelta(days=7)
    if ISO_DATE.fullmatch(date_range):
        try:
            return date.fromisoformat(date_range), None
        except ValueError:
            raise NodeError(f"config.date_range: {date_range!r} is not a calendar date") from None
    allowed = ", ".join(DATE_RANGES)
    raise NodeError(
        f"config.date_range: {date_range!r} is not supported by the mock "
        f"(use one of {allowed} or a date YYYY-MM-DD)"
    )


def pseudo_rows(analytic_type: str, span: str) -> int:
    """A stable row count per (analytic, dates): reruns agree, different days differ."""
    digest = hashlib.sha256(f"{analytic_type}|{span}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % MAX_ROWS


def export_event_history(config: Mapping[str, Any], env: NodeEnv) -> dict[str, Any]:
    """Pretend to export an analytic's event history for a day to a file."""
    analytic_type = _required(config, "analytic_type")
    day, day_from = resolve_date_range(
        _required(config, "date_range"), env.now.astimezone(UTC).date()
    )
    output_dir = (_optional(config, "output_dir") or "/exports").rstrip("/")
    file_format = _optional(config, "format") or "csv"
    span = f"{day_from.isoformat()}..{day.isoformat()}" if day_from else day.isoformat()
    output: dict[str, Any] = {
        "file_url": f"{output_dir}/{day.isoformat()}.{file_format}",
        "date": day.isoformat(),
    }
    if day_from is not None:
        output["date_from"] = day_from.isoformat()
    output["analytic_type"] = analytic_type
    output["rows"] = pseudo_rows(analytic_type, span)
    return output


# --- telegram_send_attachment --------------------------------------------------------------


def chat_id_for(credential_id: str) -> int:
    """A stable Telegram-like group chat id (`-100…`) for a credential; the docs show none."""
    digest = hashlib.sha256(credential_id.encode()).digest()
    return -(10**12 + int.from_bytes(digest[:4], "big") % 10**10)


def send_telegram_attachment(config: Mapping[str, Any], env: NodeEnv) -> dict[str, Any]:
    """Pretend to send a file to the credential's chat; the message id counts sends mock-wide."""
    credential_id = _required(config, "credential_id")
    if credential_id not in env.credentials:
        known = ", ".join(sorted(env.credentials)) or "none"
        raise NodeError(
            f"config.credential_id: credential {credential_id!r} does not exist "
            f"(the mock knows: {known})"
        )
    file = _required(config, "file")
    caption = _optional(config, "caption", allow_empty=True)
    output: dict[str, Any] = {
        "message_id": env.next_message_id(),
        "chat_id": chat_id_for(credential_id),
        "file": file,
    }
    if caption is not None:
        output["caption"] = caption
    return output


# --- registry ------------------------------------------------------------------------------


def no_output(config: Mapping[str, Any], env: NodeEnv) -> dict[str, Any]:
    """A node type the mock does not know succeeds with nothing to pass on."""
    return {}


NODE_TYPES: dict[str, NodeSimulator] = {
    # 3 s and 2 s reproduce the timestamps of the docs' execution example (07:00:00 → :03 → :05).
    "event_history_export": NodeSimulator(export_event_history, timedelta(seconds=3)),
    "telegram_send_attachment": NodeSimulator(send_telegram_attachment, timedelta(seconds=2)),
}
UNKNOWN_NODE = NodeSimulator(no_output, timedelta(seconds=1))


def simulator_for(node_type: str) -> NodeSimulator:
    return NODE_TYPES.get(node_type, UNKNOWN_NODE)


def config_schema_pointers(spec: Spec) -> dict[str, str]:
    """`{node type: config schema pointer}` as the branches of the spec's `ActionNodeInput`
    union say (each branch, named by its `type`, gives its `config` a `$ref`)."""
    node_input = spec.schema_at("#/components/schemas/ActionNodeInput")
    found: dict[str, str] = {}
    for keyword in ("oneOf", "anyOf"):
        union = discriminated_union(spec.document, node_input, keyword)
        if union is None:
            continue
        for node_type, index in union.branches.items():
            branch = deref(spec.document, node_input[keyword][index])
            config = (branch.get("properties") or {}).get("config") or {}
            if isinstance(config.get("$ref"), str):
                found.setdefault(node_type, config["$ref"])
    return found


def _required(config: Mapping[str, Any], key: str, *, allow_empty: bool = False) -> str:
    """A string config value; simulators may be called without the engine's schema check."""
    value = config.get(key)
    if not isinstance(value, str) or not (value or allow_empty):
        what = "a string" if allow_empty else "a non-empty string"
        raise NodeError(f"config.{key}: expected {what}, got {value!r}")
    return value


def _optional(config: Mapping[str, Any], key: str, *, allow_empty: bool = False) -> str | None:
    if config.get(key) is None:
        return None
    return _required(config, key, allow_empty=allow_empty)
