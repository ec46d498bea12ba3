"""The drift report's differences as an OpenAPI Overlay 1.0 document (`drift --overlay FILE`).

Applied to the contract drift compared against, the overlay makes it describe what was seen, so
the proxy (and drift itself) report none of it afterwards. Each action says what it rests on:
`x-lenz-source: observed` and `x-lenz-count` (how many answers, or values, showed it). What an
action adds to the spec is marked `x-lenz-source: inferred` with an `x-lenz-reason` naming the
observation, so the amended spec passes `lenz-contract spec validate` and the docs profile never
asserts it (the docs did not say it; a deployment did).

The actions, in the order they are applied:
1. a status the contract lacks becomes a response (with the contract's schema all its bodies
   fit, or a schema sketched from them);
2. a content type the contract lacks is added to the response;
3. an enumeration (or the strict profile's) takes the values seen outside it, one append each;
4. the strict profile's timestamp pattern admits the offsets seen;
5. an undocumented field becomes an (optional) property, its schema sketched from the values;
6. a required field seen missing becomes optional (its `required` list is removed, then
   re-added without it: Overlay 1.0 cannot remove one item of an array);
7. a field seen with a JSON type the contract does not admit (`null` included) admits it.
Only targets without filters are used, so `spec/overlay.py` (and any Overlay tool) applies them.
"""

from __future__ import annotations

import copy
import re
from datetime import UTC, datetime
from typing import Any

from ..spec.document import resolve_pointer
from ..spec.overlay import to_jsonpath
from .drift import DriftAnalysis, StatusStat, schema_name

OBSERVED = "observed"
STRICT = "x-lenz-strict"
JSON = "application/json"


def _reason(what: str, count: int) -> str:
    return (
        f"Observed by lenz-contract drift: {what} ({count} time(s)); the docs do not say it. "
        "Review before making it part of the shipped contract."
    )


class OverlayBuilder:
    def __init__(self, analysis: DriftAnalysis) -> None:
        self.analysis = analysis
        self.document = analysis.spec.document
        self.actions: list[dict[str, Any]] = []

    def action(self, pointer: str, description: str, count: int, **what: Any) -> None:
        self.actions.append(
            {
                "target": to_jsonpath(pointer, self.document),
                "description": description,
                **what,
                "x-lenz-source": OBSERVED,
                "x-lenz-count": count,
            }
        )

    def build(self, *, title: str) -> dict[str, Any] | None:
        """The overlay document, or None when there is nothing to amend."""
        self.statuses()
        self.media()
        self.value_sets()
        self.timestamps()
        self.fields()
        self.required()
        self.types()
        if not self.actions:
            return None
        return {
            "overlay": "1.0.0",
            "info": {
                "title": f"What a deployment does that {title} does not say (lenz-contract drift)",
                "version": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            },
            "actions": self.actions,
        }

    # -- 1, 2: statuses and content types ----------------------------------------------------
    def statuses(self) -> None:
        for (op_id, status), stat in sorted(self.analysis.statuses.items()):
            op = self.analysis.spec.operation(op_id)
            count = stat.seen.count
            response: dict[str, Any] = {
                "description": f"Observed: {op_id} answered {status} ({count} time(s)).",
                "x-lenz-source": "inferred",
                "x-lenz-reason": _reason(f"{op_id} answered {status}", count),
            }
            content = self._content(stat)
            if content:
                response["content"] = content
            self.action(
                f"{op.pointer}/responses",
                f"{op_id} answers {status}, which the contract does not list",
                count,
                update={str(status): response},
            )

    def _content(self, stat: StatusStat) -> dict[str, Any]:
        content: dict[str, Any] = {}
        for media in stat.content_types:
            if media in ("", "(none)", "(unknown)"):
                continue
            if media == JSON or media.endswith("+json"):
                if stat.schema is not None:
                    schema: dict[str, Any] = {"$ref": stat.schema}
                elif stat.bodies:
                    schema = stat.sketch.schema()
                else:
                    schema = {}
                content[media] = {"schema": schema}
            else:
                content[media] = {"schema": {"type": "string"}}
        if not content and stat.bodies:
            content[JSON] = {
                "schema": {"$ref": stat.schema} if stat.schema else stat.sketch.schema()
            }
        return content

    def media(self) -> None:
        for (op_id, status, media), stat in sorted(self.analysis.media.items()):
            if not media or media == "(none)":
                continue
            is_json = media == JSON or media.endswith("+json")
            schema: dict[str, Any] = {} if is_json else {"type": "string"}
            self.action(
                f"{stat.response}/content",
                f"{op_id} answers {status} as {media}, which the contract does not list",
                stat.seen.count,
                update={media: {"schema": schema}},
            )

    # -- 3, 4: values --------------------------------------------------------------------------
    def value_sets(self) -> None:
        for _pointer, stat in sorted(self.analysis.value_sets.items()):
            facets = stat.facets
            if stat.outside_contract and facets.enum_at is not None:
                for value, count in sorted(stat.outside_contract.items()):
                    self.action(
                        f"{facets.enum_at}/enum",
                        f"{schema_name(stat.pointer)} takes {value!r}, outside its enum",
                        count,
                        update=value,
                    )
            if stat.outside_strict and facets.strict_enum_at is not None:
                for value, count in sorted(stat.outside_strict.items()):
                    self.action(
                        f"{facets.strict_enum_at}/{STRICT}/enum",
                        f"{schema_name(stat.pointer)} takes {value!r}, outside the strict "
                        "profile's enum",
                        count,
                        update=value,
                    )

    def timestamps(self) -> None:
        zones: dict[str, set[str]] = {}
        counts: dict[str, int] = {}
        for stat in self.analysis.timestamps.values():
            holder = stat.strict_pattern_at
            if holder is None or not stat.outside_strict:
                continue
            zones.setdefault(holder, set()).update(stat.outside_strict)
            counts[holder] = counts.get(holder, 0) + sum(stat.outside_strict.values())
        for holder, seen in sorted(zones.items()):
            strict = resolve_pointer(self.document, holder).get(STRICT) or {}
            pattern = _zone_pattern(str(strict.get("pattern", "")), seen)
            self.action(
                f"{holder}/{STRICT}",
                f"timestamps come with offset(s) {', '.join(sorted(seen))}, which the strict "
                "profile's pattern does not admit",
                counts[holder],
                update={"pattern": pattern},
            )

    # -- 5, 6, 7: fields -------------------------------------------------------------------------
    def fields(self) -> None:
        for (owner, name), stat in sorted(self.analysis.extra.items()):
            count = stat.seen.count
            of = self.analysis.owner_objects[owner]
            schema = stat.sketch.schema()
            schema["x-lenz-source"] = "inferred"
            schema["x-lenz-reason"] = _reason(
                f"`{name}` in {count} of {of} {schema_name(owner)} object(s)", count
            )
            self.action(
                f"{owner}/properties",
                f"answers carry `{name}` in {schema_name(owner)} ({count} of {of})",
                count,
                update={name: schema},
            )

    def required(self) -> None:
        dropped: dict[str, dict[str, int]] = {}
        for stat in self.analysis.fields.values():
            if not stat.missing_required:
                continue
            for holder in sorted(stat.required_by):
                dropped.setdefault(holder, {})[stat.name] = stat.missing_required
        for holder, names in sorted(dropped.items()):
            node = resolve_pointer(self.document, holder)
            current = [n for n in node.get("required") or [] if n not in names]
            count = sum(names.values())
            words = ", ".join(f"`{n}` missing {c}x" for n, c in sorted(names.items()))
            self.action(
                f"{holder}/required",
                f"{schema_name(holder)}: {words}; its required list goes, to come back without "
                "them",
                count,
                remove=True,
            )
            if current:
                self.action(
                    holder,
                    f"{schema_name(holder)}: required again, without {', '.join(sorted(names))}",
                    count,
                    update={"required": current},
                )

    def types(self) -> None:
        for pointer, stat in sorted(self.analysis.fields.items()):
            if not stat.rejected:
                continue
            count = sum(stat.rejected.values())
            kinds = sorted(stat.rejected)
            node = resolve_pointer(self.document, pointer)
            what = f"{schema_name(pointer)} is {' or '.join(kinds)} ({count} time(s))"
            plain = isinstance(node, dict) and not any(
                k in node for k in ("$ref", "allOf", "anyOf", "oneOf", "const", "enum")
            )
            if plain and isinstance(node.get("type"), str | list):
                old = node["type"] if isinstance(node["type"], list) else [node["type"]]
                self.action(
                    pointer,
                    f"{what}, which its type does not admit",
                    count,
                    update={"type": [*old, *(k for k in kinds if k not in old)]},
                )
                continue
            parent, name = pointer.rsplit("/", 1)
            widened = {
                "anyOf": [copy.deepcopy(node), {"type": kinds[0] if len(kinds) == 1 else kinds}]
            }
            self.action(
                pointer, f"{what}: the property goes, to come back wider", count, remove=True
            )
            self.action(
                parent,
                f"{what}: it admits {' and '.join(kinds)} too",
                count,
                update={name.replace("~1", "/").replace("~0", "~"): widened},
            )


def _zone_pattern(current: str, seen: set[str]) -> str:
    """A pattern that admits `Z` (what the strict profile asks) and every offset seen."""
    alternatives = ["Z", *sorted(re.escape(zone) for zone in seen if zone not in ("Z", "z"))]
    if "z" in seen:
        alternatives.append("z")
    return "(?:" + "|".join(dict.fromkeys(alternatives)) + ")$"


def build_overlay(analysis: DriftAnalysis, *, title: str) -> dict[str, Any] | None:
    """The overlay that makes the analysed contract describe what was observed (None: no drift)."""
    return OverlayBuilder(analysis).build(title=title)
