"""One registry for every Lenz check, and what each rests on.

A check is one small function with one `Check` record: its name (the function's), its family
(the module it lives in), its rule (the first paragraph of its docstring), the profile that
asserts it, the operations it speaks about, and where the rule lives in the spec. Two kinds share the record:

- `@lenz_check(...)`: talks to the target through a `CheckRun` (creates, reads, pages...);
- `@exchange_check(...)`: judges every answer the run received, one at a time.

Family modules are found, not listed: every module of this package but the infrastructure ones
(`registry`, `run`) is imported, so a new family is a new file. Two checks with one name are
refused, wherever they live.

Operations and pointers are read from the spec, never restated: `operations=ALL` or `ON_AN_ID`
select operations by what the spec says of them, and a pointer may start with `{operationId}`,
which stands for that operation's place in the spec.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar, Unpack

from ...spec import Operation, Provenance, Source, Spec, provenance_at
from ..context import Profile
from ..results import Exchange, Rule

if TYPE_CHECKING:
    from .run import CheckRun

INFRASTRUCTURE = frozenset({"registry", "run"})
DOCS, STRICT = Profile.DOCS, Profile.STRICT
EXECUTES = ("write", "execute")  # what a check that runs workflows needs
ALL = ("*",)  # every operation of the spec
ON_AN_ID = ("{id}",)  # every operation whose path takes the workflow id
JSON_CONTENT = "content/application~1json"  # a response's JSON body, inside a pointer
_TEMPLATE = re.compile(r"^\{(?P<operation>[A-Za-z_][A-Za-z0-9_]*)\}")

SemanticFunc = Callable[["CheckRun"], None]
JudgeFunc = Callable[[Spec, Operation, Exchange], "str | None"]
F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Check:
    """A registered check and what it rests on (see the module docstring)."""

    name: str
    family: str
    profile: Profile
    rule: str
    operations: tuple[str, ...]
    pointer: str | None = None
    source: Source | None = None
    reason: str | None = None
    run: SemanticFunc | None = None  # a check that talks to the target
    judge: JudgeFunc | None = None  # a check of every answer: why it breaks the rule, or None
    phases: frozenset[str] = frozenset()  # the exchanges a judge looks at
    needs: frozenset[str] = frozenset()  # "write", "execute"
    read_only: bool = False  # has a read-only variant (GET requests only)

    @property
    def judges_exchanges(self) -> bool:
        return self.judge is not None

    def covers(self, spec: Spec) -> tuple[str, ...]:
        """The operationIds this check speaks about, as the spec has them."""
        if self.operations == ALL:
            return tuple(spec.operations)
        if self.operations == ON_AN_ID:
            return tuple(
                op.operation_id
                for op in spec.operations.values()
                if any(p.location == "path" for p in op.parameters)
            )
        return self.operations

    def rule_for(self, spec: Spec) -> Rule:
        """The rule, with what it rests on: as the check states it, else as the spec says at
        its pointer (a stale pointer raises); a documented rule's "why" is the docs' words."""
        pointer = resolve_pointer_template(spec, self.pointer) if self.pointer else None
        source, reason = self.source, self.reason
        if source is None and pointer is not None:
            found = provenance_at(spec.document, pointer)
            source = found.source
            if reason is None:
                reason = found.reason if found.source is not Source.DOCUMENTED else quoted(found)
        return Rule(
            check=self.name,
            family=self.family,
            profile=self.profile.value,
            source=source or Source.UNIVERSAL,
            text=self.rule,
            reason=reason,
            pointer=pointer,
        )


def resolve_pointer_template(spec: Spec, pointer: str) -> str:
    """`{updateWorkflow}/x-lenz-update` → `#/paths/~1api~1workflows~1{id}/put/x-lenz-update`."""
    found = _TEMPLATE.match(pointer)
    if found is None:
        return pointer
    return spec.operation(found["operation"]).pointer + pointer[found.end() :]


def quoted(found: Provenance) -> str | None:
    if not found.quote:
        return None
    shown = [
        f"the {q.removeprefix('example: ')} example" if q.startswith("example: ") else f"«{q}»"
        for q in found.quote
    ]
    return "the docs: " + "; ".join(shown)


REGISTRY: dict[str, Check] = {}


def register(func: Callable[..., Any], **fields: Any) -> None:
    """Add the check `func` is, named after it, in the family of its module, its rule read
    from its docstring; a second check of the same name (another function) is refused."""
    name = func.__name__
    known = REGISTRY.get(name)
    if known is not None:
        previous = known.run or known.judge
        if (getattr(previous, "__module__", None), getattr(previous, "__qualname__", None)) != (
            func.__module__,
            func.__qualname__,
        ):
            raise ValueError(f"a Lenz check named {name!r} is already registered")
    REGISTRY[name] = Check(name=name, family=family_of(func), rule=rule_of(func), **fields)


def family_of(func: Callable[..., Any]) -> str:
    return func.__module__.rsplit(".", 1)[-1]


def rule_of(func: Callable[..., Any]) -> str:
    """A check's rule is the first paragraph of its docstring, on one line."""
    doc = inspect.getdoc(func) or ""
    rule = " ".join(doc.split("\n\n", 1)[0].split())
    if not rule:
        raise ValueError(f"the check {func.__name__!r} needs a docstring: its rule, in one line")
    return rule


class Basis(TypedDict, total=False):
    """What a check rests on, when its rule is not read from the spec at its pointer alone (see
    `Check.rule_for`): every kind of check takes it the same way."""

    pointer: str | None
    source: Source | None
    reason: str | None


def lenz_check(
    profile: Profile,
    operations: tuple[str, ...],
    *,
    needs: tuple[str, ...] = ("write",),
    read_only: bool = False,
    **basis: Unpack[Basis],
) -> Callable[[F], F]:
    """Register a check that talks to the target."""
    fields = {"needs": frozenset(needs), "read_only": read_only, "operations": operations}
    return _registering("run", profile, basis, fields)


def exchange_check(
    profile: Profile, phases: tuple[str, ...], **basis: Unpack[Basis]
) -> Callable[[F], F]:
    """Register a check of every answer the run received."""
    fields = {"phases": frozenset(phases), "operations": ALL}
    return _registering("judge", profile, basis, fields)


def _registering(
    role: str, profile: Profile, basis: Basis, fields: dict[str, Any]
) -> Callable[[F], F]:
    def add(func: F) -> F:
        register(func, profile=profile, **basis, **fields, **{role: func})
        return func

    return add


def load_all() -> dict[str, Check]:
    """Every check: each family module of this package is imported (registration happens
    at import)."""
    package = __name__.rsplit(".", 1)[0]
    path = importlib.import_module(package).__path__
    for module in pkgutil.iter_modules(path):
        if module.name not in INFRASTRUCTURE and not module.name.startswith("_"):
            importlib.import_module(f"{package}.{module.name}")
    return REGISTRY


def semantic_checks() -> dict[str, Check]:
    return {name: c for name, c in load_all().items() if not c.judges_exchanges}


def exchange_checks() -> dict[str, Check]:
    return {name: c for name, c in load_all().items() if c.judges_exchanges}


def families() -> list[str]:
    return sorted({c.family for c in load_all().values()})
