"""What `lenz-contract drift` reads: the proxy's logs and recordings, as observations.

Three kinds of source, told apart by what they hold, not by their names:
- an exchange log (`proxy --log-exchanges FILE`): every answer with its body, all `drift` needs;
- a violation log (`proxy --log FILE`): only what broke a rule, so only the statuses and content
  types the contract lacks can be aggregated from it (a note says so);
- a recording folder (`proxy --record DIR`): the conforming answers it kept
  (`examples/<operationId>/<status>-<slug>.json`); their timestamps were rewritten to UTC, so
  offsets cannot be read from it (a note says so).

Bad input is an error that says which file and where (`log.jsonl:17: not JSON (...)`), never a
traceback; the one exception is a last line without its newline that does not parse: a log the
proxy is still writing, skipped with a note.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .observations import KIND, VERSION
from .violations import Violation

EXAMPLES_DIR = "examples"
MAX_SOURCE_BYTES = 2 * 1024 * 1024 * 1024


class DriftInputError(ValueError):
    """A source `drift` cannot read; the message names the file and the place."""


@dataclass(frozen=True)
class Observation:
    """One answer a deployment gave, as a source kept it."""

    where: str  # "log.jsonl:12" or the example file
    exchange: int | None
    operation: str | None  # None: the request matched no operation of the contract
    method: str
    path: str
    template: str | None
    status: int
    content_type: str | None  # None: the source did not keep it (a recording)
    body: Any
    has_body: bool  # a JSON body was kept
    query: tuple[tuple[str, str], ...] = ()
    offsets_kept: bool = True  # False for recordings (timestamps rewritten to UTC)


@dataclass
class SourceSummary:
    path: str
    kind: str  # exchanges | violations | recording | empty
    records: int = 0
    skipped: int = 0


@dataclass
class Sources:
    observations: list[Observation] = field(default_factory=list)
    violations: list[Violation] = field(default_factory=list)
    files: list[SourceSummary] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def read_sources(paths: list[Path]) -> Sources:
    """Every observation of every source, in order; raises `DriftInputError`."""
    out = Sources()
    for path in paths:
        if path.is_dir():
            out.files.append(_read_recording(path, out))
        elif path.is_file():
            out.files.append(_read_jsonl(path, out))
        elif not path.exists():
            raise DriftInputError(f"{path}: no such file or folder")
        else:
            raise DriftInputError(f"{path}: neither a log file nor a recording folder")
    if out.observations and out.violations:
        out.notes.append(
            f"{len(out.violations)} violation record(s) set aside: the exchange logs already "
            "hold those answers whole"
        )
        out.violations = []
    elif out.violations:
        out.notes.append(
            "only violation records were given: statuses and content types can be aggregated, "
            "but fields, nulls, value sets and timestamps need an exchange log "
            "(`lenz-contract proxy --log-exchanges FILE`)"
        )
    return out


def _lines(path: Path) -> Iterator[tuple[int, str, bool]]:
    """`(line number, text, ends with a newline)` of a text file, read as UTF-8."""
    try:
        size = path.stat().st_size
        if size > MAX_SOURCE_BYTES:
            raise DriftInputError(f"{path}: {size} bytes, over the {MAX_SOURCE_BYTES} read")
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                yield number, line, line.endswith("\n")
    except UnicodeDecodeError as exc:
        raise DriftInputError(f"{path}: not UTF-8 text ({exc.reason})") from None
    except OSError as exc:
        raise DriftInputError(f"{path}: cannot be read: {exc.strerror or exc}") from None


def _read_jsonl(path: Path, out: Sources) -> SourceSummary:
    summary = SourceSummary(str(path), "empty")
    kinds: set[str] = set()
    for number, line, whole in _lines(path):
        if not line.strip():
            continue
        where = f"{path}:{number}"
        try:
            record = json.loads(line)
        except ValueError as exc:
            if not whole:
                summary.skipped += 1
                out.notes.append(f"{where}: an incomplete last line was skipped (still written?)")
                continue
            raise DriftInputError(f"{where}: not JSON ({exc})") from None
        if not isinstance(record, dict):
            raise DriftInputError(f"{where}: not a log record (a JSON object)")
        summary.records += 1
        if record.get("kind") == KIND:
            kinds.add("exchanges")
            observation = _from_exchange(record, where)
            if observation is not None:
                out.observations.append(observation)
            else:
                summary.skipped += 1
        elif "kind" in record:
            raise DriftInputError(f"{where}: unknown record kind {record['kind']!r}")
        elif "rule" in record and "operation" in record:
            kinds.add("violations")
            out.violations.append(Violation.from_json(record))
        else:
            raise DriftInputError(
                f"{where}: neither an exchange record (proxy --log-exchanges) nor a violation "
                "record (proxy --log)"
            )
    if len(kinds) == 1:
        summary.kind = kinds.pop()
    elif kinds:
        summary.kind = "mixed"
    return summary


def _from_exchange(record: dict[str, Any], where: str) -> Observation | None:
    version = record.get("v")
    if version != VERSION:
        raise DriftInputError(
            f"{where}: exchange record version {version!r}; this lenz-contract reads {VERSION}"
        )
    status, method, path = record.get("status"), record.get("method"), record.get("path")
    if not isinstance(status, int) or not isinstance(method, str) or not isinstance(path, str):
        raise DriftInputError(f"{where}: an exchange record needs status, method and path")
    if record.get("complete") is False:
        return None  # the upstream broke off (or never answered): nothing to aggregate
    operation = record.get("operation")
    template = record.get("template")
    query = record.get("query") or []
    pairs = tuple(
        (str(p[0]), str(p[1])) for p in query if isinstance(p, list | tuple) and len(p) == 2
    )
    content = record.get("content_type")
    return Observation(
        where=where,
        exchange=record.get("exchange") if isinstance(record.get("exchange"), int) else None,
        operation=operation if isinstance(operation, str) and template else None,
        method=method,
        path=path,
        template=template if isinstance(template, str) else None,
        status=status,
        content_type=content if isinstance(content, str) else None,
        body=record.get("response"),
        has_body=record.get("response_body") == "json",
        query=pairs,
    )


def _read_recording(root: Path, out: Sources) -> SourceSummary:
    summary = SourceSummary(str(root), "recording")
    examples = root / EXAMPLES_DIR
    if not examples.is_dir():
        raise DriftInputError(
            f"{root}: not a recording folder (no {EXAMPLES_DIR}/; see proxy --record DIR)"
        )
    for folder in sorted(p for p in examples.iterdir() if p.is_dir()):
        for file in sorted(folder.glob("*.json")):
            out.observations.append(_from_example(folder.name, file))
            summary.records += 1
    out.notes.append(
        f"{root}: a recording keeps conforming answers only, with timestamps rewritten to UTC: "
        "it shows fields and values, not offsets nor statuses the contract lacks"
    )
    return summary


def _from_example(operation: str, file: Path) -> Observation:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise DriftInputError(f"{file}: not JSON ({exc})") from None
    except OSError as exc:
        raise DriftInputError(f"{file}: cannot be read: {exc.strerror or exc}") from None
    if not isinstance(data, dict) or not isinstance(data.get("status"), int):
        raise DriftInputError(f"{file}: not a recorded example ({{status, body, ...}})")
    return Observation(
        where=str(file),
        exchange=None,
        operation=operation,
        method="",
        path="",
        template=None,
        status=data["status"],
        content_type=None,
        body=data.get("body"),
        has_body="body" in data,
        offsets_kept=False,
    )
