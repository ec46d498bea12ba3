"""Latency and failure injection, per operationId, set by the admin API or `--latency`."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Failure:
    status: int
    rate: float = 1.0

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "rate": self.rate}


@dataclass
class Faults:
    latency_ms: float = 0.0
    failures: dict[str, Failure] = field(default_factory=dict)
    random: random.Random = field(default_factory=random.Random)

    def failure_for(self, operation_id: str) -> int | None:
        """The status to fail this request with, or None to answer normally."""
        failure = self.failures.get(operation_id)
        if failure is None:
            return None
        if failure.rate >= 1.0 or self.random.random() < failure.rate:
            return failure.status
        return None

    def as_dict(self) -> dict[str, Any]:
        return {
            "latency_ms": self.latency_ms,
            "failures": {op: f.as_dict() for op, f in self.failures.items()},
        }
