"""OpenAPI Overlay 1.0: amend a contract without editing it.

The first weeks against a real deployment show where it does more, less or otherwise than the
docs; `lenz-contract drift --overlay FILE` writes what it saw as an Overlay, and every tool
(`spec validate`, `mock`, `conform`, `proxy`) takes `--overlay FILE`, so a team can try the
amended contract before anyone edits the shipped one.

An overlay document:

    overlay: 1.0.0
    info: {title: ..., version: ...}
    actions:
      - target: $.components.schemas.Workflow.properties      # a JSONPath
        update: {owner: {type: object}}                        # merged into each node selected
      - target: $.components.schemas.Workflow.required
        remove: true                                           # each node selected is removed

Applied in order, on a copy of the document. What an action does, as Overlay 1.0 says:
- `remove: true`: every node the target selects leaves its parent (object member or array item);
- `update` on an object: merged into it: a member the update names replaces the target's (an
  object merged recursively into an object; anything else, arrays included, replaced whole), a
  new member is added;
- `update` on an array: appended to it as one item.

JSONPath: this module supports the part of RFC 9535 that names places without searching for
them: `$`, `.name`, `['name']` / `["name"]`, `[0]` / `[-1]`, and the wildcards `.*` / `[*]`.
Descendants (`..`), filters (`[?...]`), slices and unions are refused with an error naming the
action, never half-applied; so is an action that selects nothing (an overlay gone stale against
the spec it amends must say so, not pass silently).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .document import read_yaml_file
from .errors import SpecError, SpecProblem

OVERLAY_VERSION = re.compile(r"^1\.0\.\d+$")
MEMBER = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
UNSET: Any = object()


class OverlayError(SpecError):
    """The overlay cannot be read or applied; `problems` say where (`FILE: actions[2].target`)."""


class TargetError(ValueError):
    """A JSONPath this module does not read; the message says which part and why."""


@dataclass(frozen=True)
class Segment:
    """One step of a target: a member name, an array index, or `*` (every child)."""

    kind: str  # "member" | "index" | "wildcard"
    value: str | int | None = None

    def __str__(self) -> str:
        if self.kind == "wildcard":
            return "[*]"
        if self.kind == "index":
            return f"[{self.value}]"
        return f"[{self.value!r}]"


@dataclass(frozen=True)
class Action:
    """One action of an overlay, as written (`index` counts from 0, as `actions[0]`)."""

    index: int
    target: str
    segments: tuple[Segment, ...]
    update: Any = UNSET
    remove: bool = False
    description: str | None = None
    extensions: dict[str, Any] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"actions[{self.index}] (target {self.target})"


@dataclass(frozen=True)
class Overlay:
    """A parsed overlay document; `source` names it in errors (a file name, or `<overlay>`)."""

    version: str
    title: str
    info_version: str
    actions: tuple[Action, ...]
    source: str = "<overlay>"
    extends: str | None = None


# -- JSONPath ---------------------------------------------------------------------------------


def parse_target(text: str) -> tuple[Segment, ...]:
    """`$.paths['/api/x'].get` → segments; raises `TargetError` for what is not supported."""
    if not isinstance(text, str) or not text.startswith("$"):
        raise TargetError("a target is a JSONPath starting with `$`")
    out: list[Segment] = []
    pos = 1
    while pos < len(text):
        char = text[pos]
        if text.startswith("..", pos):
            raise TargetError(f"descendant segments (`..`) are not supported (at {pos})")
        if char == ".":
            pos += 1
            if pos < len(text) and text[pos] == "*":
                out.append(Segment("wildcard"))
                pos += 1
                continue
            found = MEMBER.match(text, pos)
            if found is None:
                raise TargetError(f"a member name is expected after `.` (at {pos})")
            out.append(Segment("member", found.group()))
            pos = found.end()
        elif char == "[":
            segment, pos = _bracket(text, pos)
            out.append(segment)
        else:
            raise TargetError(f"unexpected {char!r} at {pos}")
    return tuple(out)


def _bracket(text: str, pos: int) -> tuple[Segment, int]:
    """`['name']`, `["name"]`, `[3]`, `[-1]` or `[*]` starting at `pos` (the `[`)."""
    inner = pos + 1
    if inner >= len(text):
        raise TargetError(f"unclosed `[` at {pos}")
    char = text[inner]
    if char in "'\"":
        name, end = _quoted(text, inner)
        if end >= len(text) or text[end] != "]":
            raise TargetError(f"one quoted name per bracket (unions are not supported) at {pos}")
        return Segment("member", name), end + 1
    close = text.find("]", inner)
    if close < 0:
        raise TargetError(f"unclosed `[` at {pos}")
    body = text[inner:close].strip()
    if body == "*":
        return Segment("wildcard"), close + 1
    if body.startswith("?"):
        raise TargetError(f"filter selectors (`[?...]`) are not supported (at {pos})")
    if ":" in body:
        raise TargetError(f"array slices are not supported (at {pos})")
    if "," in body:
        raise TargetError(f"unions of selectors are not supported (at {pos})")
    if re.fullmatch(r"-?(?:0|[1-9][0-9]*)", body):
        return Segment("index", int(body)), close + 1
    raise TargetError(f"unreadable selector [{body}] at {pos}")


def _quoted(text: str, start: int) -> tuple[str, int]:
    quote = text[start]
    out: list[str] = []
    pos = start + 1
    while pos < len(text):
        char = text[pos]
        if char == "\\" and pos + 1 < len(text):
            escaped = text[pos + 1]
            out.append({"n": "\n", "t": "\t"}.get(escaped, escaped))
            pos += 2
            continue
        if char == quote:
            return "".join(out), pos + 1
        out.append(char)
        pos += 1
    raise TargetError(f"unclosed quoted name at {start}")


Location = tuple[Any, str | int | None]
"""Where a selected node lives: `(parent, key)`; `(None, None)` is the document itself."""


def select(document: Any, segments: tuple[Segment, ...]) -> list[Location]:
    """Every place the segments name in `document`, in document order."""
    current: list[Location] = [(None, None)]
    for segment in segments:
        nxt: list[Location] = []
        for parent, key in current:
            node = document if parent is None else parent[key]
            nxt.extend(_children(node, segment))
        current = nxt
    return current


def _children(node: Any, segment: Segment) -> Iterator[Location]:
    if segment.kind == "wildcard":
        if isinstance(node, dict):
            yield from ((node, key) for key in node)
        elif isinstance(node, list):
            yield from ((node, index) for index in range(len(node)))
    elif segment.kind == "member":
        if isinstance(node, dict) and segment.value in node:
            yield node, str(segment.value)
    elif isinstance(node, list) and isinstance(segment.value, int):
        index = segment.value if segment.value >= 0 else len(node) + segment.value
        if 0 <= index < len(node):
            yield node, index


def to_jsonpath(pointer: str, document: Any) -> str:
    """A local JSON pointer as a target: `#/paths/~1api~1x/get` → `$.paths['/api/x'].get`.

    `document` tells array indices (`allOf/2` → `allOf[2]`) from member names made of digits
    (`responses/200` → `responses['200']`); the pointer is followed as far as it resolves.
    """
    if pointer in ("#", ""):
        return "$"
    if not pointer.startswith("#/"):
        raise ValueError(f"not a local JSON pointer: {pointer!r}")
    out = "$"
    node = document
    for raw in pointer[2:].split("/"):
        part = raw.replace("~1", "/").replace("~0", "~")
        if isinstance(node, list) and part.isdigit():
            out += f"[{part}]"
            node = node[int(part)] if int(part) < len(node) else None
            continue
        if IDENTIFIER.match(part):
            out += f".{part}"
        else:
            out += "['" + part.replace("\\", "\\\\").replace("'", "\\'") + "']"
        node = node.get(part) if isinstance(node, dict) else None
    return out


# -- reading an overlay document ----------------------------------------------------------------


def read_overlay(path: Path | str) -> Overlay:
    """Parse an overlay file (YAML or JSON); every problem is an `OverlayError` naming the file."""
    source = Path(path)
    data = read_yaml_file(source, error=OverlayError, what="overlay file")
    return parse_overlay(data, str(source))


def parse_overlay(data: Any, source: str = "<overlay>") -> Overlay:
    """Check an overlay document's shape; every problem at once, each with its place."""
    problems: list[SpecProblem] = []

    def problem(where: str, message: str) -> None:
        problems.append(SpecProblem(f"{source}: {where}", message))

    if not isinstance(data, dict):
        raise OverlayError(
            [SpecProblem(source, "an overlay is a mapping with `overlay`, `info` and `actions`")]
        )
    version = data.get("overlay")
    if not isinstance(version, str) or not OVERLAY_VERSION.match(version):
        problem("overlay", f"expected an Overlay 1.0.x version such as '1.0.0', found {version!r}")
    info = data.get("info")
    title: Any = ""
    info_version: Any = ""
    if not isinstance(info, dict):
        problem("info", "required: a mapping with `title` and `version`")
    else:
        title, info_version = info.get("title"), info.get("version")
        for key, value in (("title", title), ("version", info_version)):
            if not isinstance(value, str) or not value:
                problem(f"info.{key}", "required: a string")
    extends = data.get("extends")
    if extends is not None and not isinstance(extends, str):
        problem("extends", "a URL (string)")
    raw_actions = data.get("actions")
    actions: list[Action] = []
    if not isinstance(raw_actions, list) or not raw_actions:
        problem("actions", "required: a non-empty list of actions")
        raw_actions = []
    for index, raw in enumerate(raw_actions):
        action = _action(index, raw, problem)
        if action is not None:
            actions.append(action)
    if problems:
        raise OverlayError(problems)
    return Overlay(str(version), str(title), str(info_version), tuple(actions), source, extends)


def _action(index: int, raw: Any, problem: Callable[[str, str], None]) -> Action | None:
    where = f"actions[{index}]"
    if not isinstance(raw, dict):
        problem(where, "an action is a mapping with `target` and `update` or `remove`")
        return None
    target = raw.get("target")
    segments: tuple[Segment, ...] = ()
    if not isinstance(target, str):
        problem(f"{where}.target", "required: a JSONPath string")
    else:
        try:
            segments = parse_target(target)
        except TargetError as exc:
            problem(f"{where}.target", f"{target}: {exc}")
    remove = raw.get("remove", False)
    if not isinstance(remove, bool):
        problem(f"{where}.remove", f"a boolean, found {remove!r}")
        remove = False
    update = raw.get("update", UNSET)
    if update is UNSET and not remove:
        problem(where, "has neither `update` nor `remove: true`: it would do nothing")
    if remove and not segments and isinstance(target, str):
        problem(f"{where}.target", "the whole document cannot be removed")
    description = raw.get("description")
    if description is not None and not isinstance(description, str):
        problem(f"{where}.description", "a string")
        description = None
    unknown = [k for k in raw if k not in ACTION_KEYS and not str(k).startswith("x-")]
    if unknown:
        problem(where, f"unknown field(s) {', '.join(map(str, unknown))}")
    if not isinstance(target, str):
        return None
    extensions = {str(k): v for k, v in raw.items() if str(k).startswith("x-")}
    return Action(index, target, segments, update, remove, description, extensions)


ACTION_KEYS = ("target", "description", "update", "remove")


# -- applying ------------------------------------------------------------------------------------


def apply_overlay(document: dict[str, Any], overlay: Overlay) -> dict[str, Any]:
    """A new document: `document` with every action applied in order (the input is untouched).

    Raises `OverlayError` naming the action for a target that selects nothing, an update that
    does not fit what it selects, or a removal of the document itself.
    """
    out = copy.deepcopy(document)
    for action in overlay.actions:
        _apply(out, action, overlay.source)
    return out


def _apply(document: dict[str, Any], action: Action, source: str) -> None:
    def fail(message: str) -> OverlayError:
        return OverlayError([SpecProblem(f"{source}: {action.name}", message)])

    found = select(document, action.segments)
    if not found:
        raise fail("selects nothing in the spec (a stale overlay, or a typo in the target)")
    if action.remove:
        if any(parent is None for parent, _ in found):
            raise fail("the whole document cannot be removed")
        # Array items go last first, so the indices of those still to go stay right.
        for parent, key in sorted(found, key=_removal_order):
            del parent[key]
        return
    for parent, key in found:
        node = document if parent is None else parent[key]
        if isinstance(node, dict):
            if not isinstance(action.update, dict):
                raise fail(
                    f"selects an object; its update must be an object, found "
                    f"{type(action.update).__name__}"
                )
            merge(node, action.update)
        elif isinstance(node, list):
            node.append(copy.deepcopy(action.update))
        else:
            raise fail(
                f"selects a {type(node).__name__} ({node!r:.40}); an update changes objects "
                "and arrays only: target the object that holds it"
            )


def _removal_order(location: Location) -> tuple[int, int]:
    parent, key = location
    return (0, -key) if isinstance(parent, list) and isinstance(key, int) else (1, 0)


def merge(target: dict[str, Any], update: dict[str, Any]) -> None:
    """Overlay's merge: objects recursively, anything else (arrays too) replaced whole."""
    for key, value in update.items():
        if isinstance(value, dict) and isinstance(target.get(key), dict):
            merge(target[key], value)
        else:
            target[key] = copy.deepcopy(value)


def load_with_overlay(document: dict[str, Any], overlay_path: Path | str | None) -> dict[str, Any]:
    """`document` amended by the overlay file at `overlay_path` (unchanged when None)."""
    if overlay_path is None:
        return document
    return apply_overlay(document, read_overlay(overlay_path))


def dump_overlay(data: dict[str, Any]) -> str:
    """An overlay document as YAML, keys in the order they were built (readable in a review)."""
    import yaml

    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True, width=100)
