"""The floor of lenz-contract: load the shipped contract, compile its validators, check it.

`mock`, `conformance` and `proxy` each stand on this package and never on each other.
"""

from .errors import FieldError, SpecError, SpecProblem
from .model import Operation, Parameter, ResponseSpec, Spec, load_spec
from .resources import FIXTURES_DIR, SHIPPED_SPEC_PATH
from .schemas import SchemaValidator

__all__ = [
    "FIXTURES_DIR",
    "SHIPPED_SPEC_PATH",
    "FieldError",
    "Operation",
    "Parameter",
    "ResponseSpec",
    "SchemaValidator",
    "Spec",
    "SpecError",
    "SpecProblem",
    "load_spec",
]
