"""`lenz-contract drift`: how real traffic differs from the contract, aggregated.

The proxy reports single violations as they happen; this module reads what it saw (see
`drift_input`) and says, once per place and with counts, where a deployment does more, less or
otherwise than the contract:

- **undocumented fields**: keys answers carry where the contract describes the object's
  properties and does not name them (where, JSON types, how often, example values);
- **documented fields** that never appear, are missing where required, appear `null` where the
  contract does not admit it, or with another JSON type;
- **statuses** an operation answers that the contract does not list, and **content types** a
  listed answer comes in that it does not list;
- **value sets** of string fields that look like enumerations (`status`, `trigger_type`, node
  types): every value seen, against what the contract (and its strict profile) admits;
- **timestamps**: the formats and offsets seen, against what the contract and its strict profile
  admit (the strict profile asks for `Z`).

Each entry says whether it is a *difference* (the contract, or its strict profile, does not
describe what was seen) or only information. The contract compared against is the one given
(the shipped one by default, with an overlay when asked): a report against an amended contract
that describes everything seen has no differences. `drift_overlay` turns the differences into
an Overlay; `drift_render` prints the report.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ..spec import Operation, Spec, View
from ..spec.document import resolve_pointer
from ..spec.timestamps import RFC3339
from .drift_input import Observation, Sources
from .drift_schema import Facets, SchemaReader, json_type
from .redact import REDACTED, is_secret_name
from .violations import Violation, short_json

MAX_EXAMPLES = 3
MAX_BODIES = 50
MAX_EXCHANGES = 5
MAX_SKETCH_DEPTH = 4
ENUM_NAMES = frozenset({"status", "state", "type", "kind"})
ENUM_SUFFIXES = ("_status", "_state", "_type", "_kind")
ENUM_MAX_VALUES = 30
ERROR_ENVELOPE = "#/components/schemas/ErrorEnvelope"

Site = tuple[str, str, str]
"""`(operation, status, JSON path)` where something was seen."""


def looks_like_enumeration(name: str) -> bool:
    return name in ENUM_NAMES or name.endswith(ENUM_SUFFIXES)


def example_of(name: str, value: Any) -> str:
    """A value as the report shows it: short, and never a secret."""
    if is_secret_name(name):
        return REDACTED
    return short_json(value, 60)


def schema_name(pointer: str) -> str:
    """`#/components/schemas/Workflow/properties/owner` → `Workflow.owner` (readable)."""
    prefix = "#/components/schemas/"
    if not pointer.startswith(prefix):
        return pointer
    parts = pointer[len(prefix) :].split("/")
    out = parts[0]
    index = 1
    while index < len(parts):
        part = parts[index].replace("~1", "/").replace("~0", "~")
        if part == "properties" and index + 1 < len(parts):
            out += "." + parts[index + 1].replace("~1", "/").replace("~0", "~")
            index += 2
            continue
        if part == "items":
            out += "[]"
        elif part in ("allOf", "oneOf", "anyOf") and index + 1 < len(parts):
            out += f"<{part}[{parts[index + 1]}]>"
            index += 2
            continue
        else:
            out += f"/{part}"
        index += 1
    return out


class Samples:
    """Up to `MAX_EXAMPLES` distinct example values, as shown."""

    def __init__(self) -> None:
        self.values: list[str] = []

    def add(self, name: str, value: Any) -> None:
        shown = example_of(name, value)
        if shown not in self.values and len(self.values) < MAX_EXAMPLES:
            self.values.append(shown)


class Sketch:
    """The schema of values seen where the contract has none (for the overlay)."""

    def __init__(self) -> None:
        self.types: set[str] = set()
        self.properties: dict[str, Sketch] = {}
        self.items: Sketch | None = None
        self.strings = 0
        self.timestamps = 0

    def add(self, value: Any, depth: int = 0) -> None:
        kind = json_type(value)
        self.types.add(kind)
        if kind == "object" and depth < MAX_SKETCH_DEPTH:
            for key, item in value.items():
                self.properties.setdefault(str(key), Sketch()).add(item, depth + 1)
        elif kind == "array" and depth < MAX_SKETCH_DEPTH:
            for item in value:
                if self.items is None:
                    self.items = Sketch()
                self.items.add(item, depth + 1)
        elif kind == "string":
            self.strings += 1
            self.timestamps += RFC3339.match(value) is not None

    def schema(self) -> dict[str, Any]:
        types = sorted(self.types - {"unknown"})
        if "integer" in types and "number" in types:
            types.remove("integer")
        out: dict[str, Any] = {"type": types[0] if len(types) == 1 else types} if types else {}
        if self.strings and self.timestamps == self.strings:
            out["format"] = "date-time"
        if "object" in types and self.properties:
            out["properties"] = {k: s.schema() for k, s in sorted(self.properties.items())}
        if "array" in types and self.items is not None:
            out["items"] = self.items.schema()
        return out


@dataclass
class Seen:
    """Where something was seen, how often, and in which exchanges."""

    count: int = 0
    sites: set[Site] = field(default_factory=set)
    exchanges: list[int] = field(default_factory=list)
    examples: Samples = field(default_factory=Samples)

    def note(self, site: Site, observation: Observation) -> None:
        self.count += 1
        self.sites.add(site)
        exchange = observation.exchange
        room = len(self.exchanges) < MAX_EXCHANGES
        if exchange is not None and room and exchange not in self.exchanges:
            self.exchanges.append(exchange)

    def where(self) -> list[dict[str, str]]:
        return [
            {"operation": op, "status": status, "path": path}
            for op, status, path in sorted(self.sites)
        ]


@dataclass
class ExtraField:
    """A key answers carry that the contract does not name."""

    owner: str
    name: str
    objects: int = 0  # objects of the owner's schema seen
    seen: Seen = field(default_factory=Seen)
    types: Counter[str] = field(default_factory=Counter)
    sketch: Sketch = field(default_factory=Sketch)


@dataclass
class FieldStat:
    """A property the contract names, as answers carry it."""

    pointer: str
    name: str
    objects: int = 0
    present: int = 0
    nulls: int = 0
    types: Counter[str] = field(default_factory=Counter)
    rejected: Counter[str] = field(default_factory=Counter)
    """Observed JSON types (`null` included) the contract does not admit here, with counts."""
    required_by: set[str] = field(default_factory=set)
    missing_required: int = 0
    seen: Seen = field(default_factory=Seen)


@dataclass
class StatusStat:
    """Answers with a status the contract does not list for the operation."""

    operation: str
    status: int
    content_types: Counter[str] = field(default_factory=Counter)
    bodies: list[Any] = field(default_factory=list)
    observations: list[Observation] = field(default_factory=list)  # of `bodies`, in order
    non_json: int = 0
    seen: Seen = field(default_factory=Seen)
    schema: str | None = None
    """The contract's schema all its JSON bodies fit (chosen in `finish`), if any."""
    sketch: Sketch = field(default_factory=Sketch)


@dataclass
class MediaStat:
    """Answers whose content type the contract does not list for their status."""

    operation: str
    status: str
    response: str  # the response object's pointer (after `$ref`)
    content_type: str
    seen: Seen = field(default_factory=Seen)


@dataclass
class StringTally:
    """The strings one field holds, each counted under a key (the value, or its offset) where
    the contract does not admit it, or admits it but its strict profile does not."""

    pointer: str
    name: str
    seen: Seen = field(default_factory=Seen)
    outside_contract: Counter[str] = field(default_factory=Counter)
    outside_strict: Counter[str] = field(default_factory=Counter)


@dataclass
class ValueSet(StringTally):
    """The values a string field that looks like an enumeration takes."""

    values: Counter[str] = field(default_factory=Counter)
    facets: Facets = field(default_factory=Facets)


@dataclass
class TimestampStat(StringTally):
    """The timestamps one field holds: their shapes, offsets, and what is not admitted."""

    shapes: Counter[str] = field(default_factory=Counter)
    zones: Counter[str] = field(default_factory=Counter)
    strict_pattern_at: str | None = None


def timestamp_shape(text: str) -> tuple[str, str]:
    """`2025-04-30T14:00:00.123+07:00` → (`YYYY-MM-DDThh:mm:ss.fff±hh:mm`, `+07:00`)."""
    found = RFC3339.match(text)
    if found is None:
        return "not RFC 3339", "(none)"
    separator = text[10]
    fraction = "." + "f" * len(found["fraction"]) if found["fraction"] else ""
    zone = found["zone"]
    zone_shape = zone if zone in ("Z", "z") else "±hh:mm"
    return f"YYYY-MM-DD{separator}hh:mm:ss{fraction}{zone_shape}", zone


class DriftAnalysis:
    """Accumulates observations against one contract; `finish()` completes new statuses."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec
        self.strict = spec.as_view(View.STRICT)
        self.reader = SchemaReader(spec.document, self._fits)
        self._facets: dict[tuple[str, str], Facets] = {}
        self.exchanges = 0
        self.answers: Counter[tuple[str, int]] = Counter()
        self.unmatched: Counter[tuple[str, str]] = Counter()
        self.owner_objects: Counter[str] = Counter()
        self.extra: dict[tuple[str, str], ExtraField] = {}
        self.fields: dict[str, FieldStat] = {}
        self.statuses: dict[tuple[str, int], StatusStat] = {}
        self.media: dict[tuple[str, str, str], MediaStat] = {}
        self.value_sets: dict[str, ValueSet] = {}
        self.timestamps: dict[str, TimestampStat] = {}
        self.offsets_unknown = 0

    # -- schema helpers --------------------------------------------------------------------------
    def _fits(self, pointer: str, value: Any) -> bool:
        try:
            return bool(self.spec.validator(pointer).is_valid(value))
        except Exception:  # a branch the engine cannot compile alone: consider it
            return True

    def facets(self, pointer: str, value: Any) -> Facets:
        key = (pointer, json_type(value) if not isinstance(value, dict) else "object")
        if isinstance(value, dict):
            return self.reader.facets(pointer, value)  # unions may pick branches by content
        found = self._facets.get(key)
        if found is None:
            found = self._facets[key] = self.reader.facets(pointer, value)
        return found

    def admitted(self, pointer: str, value: Any, *, strict: bool = False) -> bool:
        spec = self.strict if strict else self.spec
        try:
            return bool(spec.validator(pointer).is_valid(value))
        except Exception:
            return True

    # -- observing -------------------------------------------------------------------------------
    def add_sources(self, sources: Sources) -> None:
        for observation in sources.observations:
            self.observe(observation)
        for violation in sources.violations:
            self.observe_violation(violation)
        self.finish()

    def observe(self, observation: Observation) -> None:
        self.exchanges += 1
        op = self.spec.operations.get(observation.operation or "")
        if op is None:
            label = observation.template or observation.path or "(unknown)"
            self.unmatched[(observation.method, label)] += 1
            return
        status = observation.status
        self.answers[(op.operation_id, status)] += 1
        response = op.response_for(status)
        site_status = str(status)
        if response is None:
            self._new_status(op, observation)
            return
        documented = self._media_of(op, response.status)
        given = observation.content_type
        if given is not None and documented and given not in documented:
            self._new_media(op, response.status, given, observation)
            if given != "application/json":
                return
        if observation.has_body and response.schema_pointer is not None:
            site = (op.operation_id, site_status, "body")
            self.walk(observation.body, response.schema_pointer, site, observation)

    def observe_violation(self, violation: Violation) -> None:
        """A violation record (no body): only statuses and content types can be counted."""
        if violation.direction != "response":
            return
        op = self.spec.operations.get(violation.operation)
        if op is None:
            return
        fake = Observation(
            f"violation of exchange {violation.exchange}",
            violation.exchange,
            op.operation_id,
            violation.method,
            violation.url,
            op.path,
            violation.status,
            None,
            None,
            False,
        )
        if violation.rule == "status":
            self.exchanges += 1
            self._new_status(op, fake)
        elif violation.rule == "content-type" and violation.path == "header.Content-Type":
            response = op.response_for(violation.status)
            if response is not None:
                self._new_media(op, response.status, violation.actual, fake)

    def _media_of(self, op: Operation, status: str) -> tuple[str, ...]:
        _, node = self._response_node(op, status)
        content = node.get("content") if isinstance(node, dict) else None
        return tuple(content) if isinstance(content, dict) else ()

    def _response_node(self, op: Operation, status: str) -> tuple[str, Any]:
        pointer = f"{op.pointer}/responses/{status}"
        node = resolve_pointer(self.spec.document, pointer)
        for _ in range(16):
            if not (isinstance(node, dict) and isinstance(node.get("$ref"), str)):
                break
            pointer = node["$ref"]
            node = resolve_pointer(self.spec.document, pointer)
        return pointer, node

    def _new_status(self, op: Operation, observation: Observation) -> None:
        key = (op.operation_id, observation.status)
        stat = self.statuses.get(key)
        if stat is None:
            stat = self.statuses[key] = StatusStat(op.operation_id, observation.status)
        stat.seen.note((op.operation_id, str(observation.status), "status"), observation)
        given = observation.content_type
        stat.content_types["(unknown)" if given is None else given or "(none)"] += 1
        if observation.has_body:
            stat.sketch.add(observation.body)
            if len(stat.bodies) < MAX_BODIES:
                stat.bodies.append(observation.body)
                stat.observations.append(observation)
            stat.seen.examples.add("body", observation.body)
        elif observation.content_type is not None:
            stat.non_json += 1

    def _new_media(self, op: Operation, status: str, given: str, observation: Observation) -> None:
        pointer, _ = self._response_node(op, status)
        key = (op.operation_id, status, given)
        stat = self.media.get(key)
        if stat is None:
            stat = self.media[key] = MediaStat(op.operation_id, status, pointer, given)
        stat.seen.note((op.operation_id, status, "header.Content-Type"), observation)

    # -- walking an answer -----------------------------------------------------------------------
    def walk(self, value: Any, pointer: str, site: Site, observation: Observation) -> None:
        facets = self.facets(pointer, value)
        op, status, path = site
        if isinstance(value, dict):
            self._object(value, facets, site, observation)
        elif isinstance(value, list) and facets.items is not None:
            for item in value:
                self.walk(item, facets.items, (op, status, f"{path}[]"), observation)
        elif isinstance(value, str):
            name = _last_name(path)
            if facets.timestamp or facets.strict_pattern_at:
                stamps = self.timestamps.get(pointer)
                if stamps is None:
                    stamps = TimestampStat(
                        pointer, name, strict_pattern_at=facets.strict_pattern_at
                    )
                    self.timestamps[pointer] = stamps
                self._timestamp(stamps, value, name, site, observation)
            elif looks_like_enumeration(name):
                values = self.value_sets.get(pointer)
                if values is None:
                    values = self.value_sets[pointer] = ValueSet(pointer, name, facets=facets)
                self._value(values, value, site, observation)

    def _object(
        self, value: dict[str, Any], facets: Facets, site: Site, observation: Observation
    ) -> None:
        op, status, path = site
        owner = facets.owner
        if facets.described and owner is not None:
            self.owner_objects[owner] += 1
            for key, item in value.items():
                if key not in facets.properties:
                    self._extra(owner, str(key), item, (op, status, f"{path}.{key}"), observation)
        for name, prop in facets.properties.items():
            stat = self.fields.get(prop)
            if stat is None:
                stat = self.fields[prop] = FieldStat(prop, name)
            stat.objects += 1
            child = (op, status, f"{path}.{name}")
            required = facets.required.get(name)
            if required:
                stat.required_by.update(required)
            if name not in value:
                stat.missing_required += bool(required)
                stat.seen.note(child, observation)
                continue
            item = value[name]
            stat.present += 1
            kind = json_type(item)
            stat.types[kind] += 1
            stat.seen.examples.add(name, item)
            if item is None:
                stat.nulls += 1
                stat.seen.note(child, observation)
            own = self.facets(prop, item)
            if own.typed and not _admits(own.types, kind):
                stat.rejected[kind] += 1
                stat.seen.note(child, observation)
            self.walk(item, prop, child, observation)

    def _extra(
        self, owner: str, name: str, value: Any, site: Site, observation: Observation
    ) -> None:
        key = (owner, name)
        stat = self.extra.get(key)
        if stat is None:
            stat = self.extra[key] = ExtraField(owner, name)
        stat.seen.note(site, observation)
        stat.seen.examples.add(name, value)
        stat.types[json_type(value)] += 1
        stat.sketch.add(value)

    def _timestamp(
        self, stat: TimestampStat, value: str, name: str, site: Site, observation: Observation
    ) -> None:
        shape, zone = timestamp_shape(value)
        stat.seen.note(site, observation)
        stat.seen.examples.add(name, value)
        stat.shapes[shape] += 1
        if not observation.offsets_kept:
            self.offsets_unknown += 1
            return
        stat.zones[zone] += 1
        self._admission(stat, value, zone)

    def _value(self, stat: ValueSet, value: str, site: Site, observation: Observation) -> None:
        stat.seen.note(site, observation)
        if value not in stat.values and len(stat.values) >= ENUM_MAX_VALUES:
            stat.values["(other values)"] += 1
            return
        stat.values[value] += 1
        self._admission(stat, value, value)

    def _admission(self, stat: StringTally, value: str, key: str) -> None:
        """Count `key` where the contract refuses `value`, else where its strict profile does."""
        if not self.admitted(stat.pointer, value):
            stat.outside_contract[key] += 1
        elif not self.admitted(stat.pointer, value, strict=True):
            stat.outside_strict[key] += 1

    # -- statuses the contract lacks -----------------------------------------------------------
    def finish(self) -> None:
        """Pick, for each new status, a schema of the operation that all its bodies fit, and walk
        the bodies against it (so fields it lacks are reported too)."""
        for stat in self.statuses.values():
            if not stat.bodies:
                continue
            op = self.spec.operation(stat.operation)
            for candidate in self._candidates(op, stat.status):
                if all(self.admitted(candidate, body) for body in stat.bodies):
                    stat.schema = candidate
                    break
            if stat.schema is None:
                continue
            site = (stat.operation, str(stat.status), "body")
            for body, observation in zip(stat.bodies, stat.observations, strict=True):
                self.walk(body, stat.schema, site, observation)

    def _candidates(self, op: Operation, status: int) -> list[str]:
        """The schemas of the operation's answers, those of the same class first, each once."""
        same: list[str] = []
        other: list[str] = []
        for code, response in op.responses.items():
            if response.schema_pointer is None:
                continue
            node = resolve_pointer(self.spec.document, response.schema_pointer)
            target = node.get("$ref") if isinstance(node, dict) else None
            pointer = target if isinstance(target, str) else response.schema_pointer
            bucket = same if code[:1] == str(status)[:1] else other
            if pointer not in same and pointer not in other:
                bucket.append(pointer)
        return same + other


def _admits(types: set[str], kind: str) -> bool:
    return kind in types or (kind == "integer" and "number" in types)


_LAST = re.compile(r"([A-Za-z0-9_\-]+)(?:\[\])*$")


def _last_name(path: str) -> str:
    found = _LAST.search(path)
    return found.group(1) if found else path
