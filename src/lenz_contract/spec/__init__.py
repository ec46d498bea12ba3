"""The floor of lenz-contract: load the shipped contract, compile its validators, check it.

`mock`, `conformance` and `proxy` each stand on this package and never on each other.
"""

from .errors import FieldError, SpecError, SpecProblem
from .model import Operation, Parameter, ResponseSpec, Spec, load_spec
from .provenance import Provenance, Source, provenance_at
from .resources import FIXTURES_DIR, SHIPPED_SPEC_PATH
from .schemas import SchemaValidator
from .views import View

__all__ = [
    "FIXTURES_DIR",
    "SHIPPED_SPEC_PATH",
    "FieldError",
    "Operation",
    "Parameter",
    "Provenance",
    "ResponseSpec",
    "SchemaValidator",
    "Source",
    "Spec",
    "SpecError",
    "SpecProblem",
    "View",
    "load_spec",
    "provenance_at",
]
