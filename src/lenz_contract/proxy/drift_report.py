"""The drift report as data: one JSON document, which the console and Markdown views print.

Every entry carries `difference`: true when the contract (or its strict profile) does not
describe what was seen, false when it is information (a documented optional field that never
appeared, the value set of a field with no enumeration). `differences` counts the first kind;
`drift --fail-on-drift` exits 1 when it is not zero.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..spec.document import resolve_pointer
from .drift import DriftAnalysis, FieldStat, Seen, schema_name
from .drift_input import Sources

REPORT_VERSION = 1


def _seen(seen: Seen) -> dict[str, Any]:
    return {
        "count": seen.count,
        "examples": list(seen.examples.values),
        "where": seen.where(),
        "exchanges": list(seen.exchanges),
    }


def _counts(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def build_report(
    analysis: DriftAnalysis, sources: Sources, *, spec: str, overlay: str | None
) -> dict[str, Any]:
    """The whole report (see the module's docstring for what `difference` means)."""
    timestamps = _timestamps(analysis)
    lists: dict[str, list[dict[str, Any]]] = {
        "undocumented_fields": _undocumented(analysis),
        "documented_fields": _documented(analysis),
        "statuses": _statuses(analysis),
        "content_types": _media(analysis),
        "value_sets": _value_sets(analysis),
        "unmatched": [
            {"method": method, "path": path, "count": count, "difference": True}
            for (method, path), count in sorted(analysis.unmatched.items())
        ],
    }
    entries = [e for section in lists.values() for e in section] + timestamps["fields"]
    differences = sum(1 for entry in entries if entry["difference"])
    notes = list(sources.notes)
    if analysis.offsets_unknown:
        notes.append(
            f"{analysis.offsets_unknown} timestamp(s) came from a recording: their offsets "
            "were not kept"
        )
    return {
        "report": "lenz-contract drift",
        "version": REPORT_VERSION,
        "contract": {"spec": spec, "overlay": overlay},
        "sources": [vars(summary) for summary in sources.files],
        "notes": notes,
        "exchanges": analysis.exchanges,
        "differences": differences,
        "answers": [
            {"operation": op, "status": status, "count": count}
            for (op, status), count in sorted(analysis.answers.items())
        ],
        **lists,
        "timestamps": timestamps,
    }


def _undocumented(analysis: DriftAnalysis) -> list[dict[str, Any]]:
    out = []
    for (owner, name), stat in sorted(analysis.extra.items()):
        out.append(
            {
                "schema": schema_name(owner),
                "owner": owner,
                "field": name,
                "of": analysis.owner_objects[owner],
                "types": _counts(stat.types),
                **_seen(stat.seen),
                "difference": True,
            }
        )
    return out


def _documented(analysis: DriftAnalysis) -> list[dict[str, Any]]:
    out = []
    for pointer, stat in sorted(analysis.fields.items()):
        never = stat.present == 0
        if not (never or stat.nulls or stat.rejected or stat.missing_required):
            continue
        out.append(
            {
                "schema": schema_name(pointer),
                "pointer": pointer,
                "field": stat.name,
                "objects": stat.objects,
                "present": stat.present,
                "null": stat.nulls,
                "types": _counts(stat.types),
                "required": bool(stat.required_by),
                "missing_where_required": stat.missing_required,
                "not_admitted": _counts(stat.rejected),
                "never_appears": never,
                **_seen(stat.seen),
                "difference": bool(stat.rejected or stat.missing_required),
                "why": _why(stat),
            }
        )
    return out


def _why(stat: FieldStat) -> str:
    parts = []
    if stat.missing_required:
        parts.append(f"required, missing in {stat.missing_required} of {stat.objects}")
    for kind, count in stat.rejected.items():
        parts.append(f"{kind} not admitted ({count}x)")
    if stat.present == 0 and not stat.missing_required:
        parts.append(f"optional, never seen in {stat.objects} object(s)")
    elif stat.nulls and "null" not in stat.rejected:
        parts.append(f"null in {stat.nulls} of {stat.present} (admitted)")
    return "; ".join(parts)


def _statuses(analysis: DriftAnalysis) -> list[dict[str, Any]]:
    return [
        {
            "operation": op,
            "status": status,
            "content_types": _counts(stat.content_types),
            "fits": schema_name(stat.schema) if stat.schema else None,
            **_seen(stat.seen),
            "difference": True,
        }
        for (op, status), stat in sorted(analysis.statuses.items())
    ]


def _media(analysis: DriftAnalysis) -> list[dict[str, Any]]:
    out = []
    for (op, status, media), stat in sorted(analysis.media.items()):
        node = resolve_pointer(analysis.spec.document, stat.response)
        documented = list((node.get("content") or {}) if isinstance(node, dict) else {})
        out.append(
            {
                "operation": op,
                "status": status,
                "content_type": media,
                "documented": documented,
                **_seen(stat.seen),
                "difference": True,
            }
        )
    return out


def _value_sets(analysis: DriftAnalysis) -> list[dict[str, Any]]:
    out = []
    for pointer, stat in sorted(analysis.value_sets.items()):
        facets = stat.facets
        out.append(
            {
                "schema": schema_name(pointer),
                "pointer": pointer,
                "field": stat.name,
                "values": _counts(stat.values),
                "contract_enum": facets.enum or None,
                "strict_enum": facets.strict_enum or None,
                "documented_examples": facets.examples or None,
                "outside_contract": _counts(stat.outside_contract),
                "outside_strict": _counts(stat.outside_strict),
                "not_in_examples": sorted(
                    v for v in stat.values if facets.examples and v not in facets.examples
                ),
                **_seen(stat.seen),
                "difference": bool(stat.outside_contract or stat.outside_strict),
            }
        )
    return out


def _timestamps(analysis: DriftAnalysis) -> dict[str, Any]:
    shapes: Counter[str] = Counter()
    zones: Counter[str] = Counter()
    fields = []
    for pointer, stat in sorted(analysis.timestamps.items()):
        shapes.update(stat.shapes)
        zones.update(stat.zones)
        fields.append(
            {
                "schema": schema_name(pointer),
                "pointer": pointer,
                "field": stat.name,
                "shapes": _counts(stat.shapes),
                "offsets": _counts(stat.zones),
                "outside_contract": _counts(stat.outside_contract),
                "outside_strict": _counts(stat.outside_strict),
                **_seen(stat.seen),
                "difference": bool(stat.outside_contract or stat.outside_strict),
            }
        )
    return {"shapes": _counts(shapes), "offsets": _counts(zones), "fields": fields}
