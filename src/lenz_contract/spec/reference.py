"""openapi-core as the reference validator: slow (milliseconds a call) but independent.

The mock's hot path uses the compiled validators of `schemas.py`; this module is what the proxy
uses to judge real traffic and what the differential tests compare the compiled validators with.
Requests and responses are plain data, so no web-framework integration (and none of its pins) is
needed.
"""

from __future__ import annotations

import json
import warnings
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from openapi_core import OpenAPI
from openapi_core.casting.schemas.exceptions import CastError
from openapi_core.datatypes import RequestParameters
from openapi_core.deserializing.media_types.exceptions import MediaTypeDeserializeError
from openapi_core.deserializing.styles.exceptions import EmptyQueryParameterValue
from openapi_core.templating.media_types.exceptions import MediaTypeNotFound
from openapi_core.templating.paths.exceptions import OperationNotFound, PathNotFound
from openapi_core.templating.responses.exceptions import ResponseNotFound
from openapi_core.validation.request.exceptions import (
    MissingRequiredParameter,
    MissingRequiredRequestBody,
    ParameterValidationError,
    RequestBodyValidationError,
    SecurityValidationError,
)
from openapi_core.validation.response.exceptions import DataValidationError, MissingData
from openapi_core.validation.schemas.exceptions import InvalidSchemaValue
from werkzeug.datastructures import Headers, ImmutableMultiDict

from .errors import FieldError
from .model import Spec

# openapi-core warns on every request that uses allowEmptyValue (the spec's `search`).
warnings.filterwarnings("ignore", message="Use of allowEmptyValue", category=DeprecationWarning)


@dataclass
class PlainRequest:
    """An HTTP request as openapi-core's Request protocol wants it (a fresh one per call)."""

    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: Iterable[tuple[str, str]] = ()
    body: bytes | None = None
    host_url: str = "http://localhost"

    def __post_init__(self) -> None:
        self.method = self.method.lower()
        header = Headers(list(self.headers))
        self.parameters = RequestParameters(
            query=ImmutableMultiDict(self.query), header=header, cookie=ImmutableMultiDict()
        )
        self.content_type = header.get("Content-Type", "application/octet-stream")


@dataclass
class PlainResponse:
    """An HTTP response as openapi-core's Response protocol wants it."""

    status_code: int
    data: bytes | None = None
    headers_in: Iterable[tuple[str, str]] = ()

    def __post_init__(self) -> None:
        self.headers = Headers(list(self.headers_in))
        self.content_type = self.headers.get("Content-Type", "")


@dataclass(frozen=True)
class Verdict:
    """The reference validator's answer: the status a server should give, and the reasons."""

    status: int
    errors: tuple[FieldError, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


class ReferenceValidator:
    """One openapi-core `OpenAPI` object, built once (about 0.15 s), for requests and responses."""

    def __init__(self, spec: Spec) -> None:
        self.spec = spec

    @cached_property
    def openapi(self) -> OpenAPI:
        return OpenAPI.from_dict(self.spec.document)

    def check_request(self, request: PlainRequest) -> Verdict:
        errors: list[FieldError] = []
        status = 200
        for exc in self.openapi.iter_request_errors(request):
            status_i, found = error_details(exc, "body")
            status = status_i if status == 200 else status
            errors += found
        return Verdict(status, tuple(errors))

    def check_response(self, request: PlainRequest, response: PlainResponse) -> Verdict:
        errors: list[FieldError] = []
        for exc in self.openapi.iter_response_errors(request, response):
            errors += error_details(exc, "response")[1]
        return Verdict(response.status_code, tuple(errors))


def _jpath(root: str, parts: Iterable[Any]) -> str:
    for part in parts:
        if isinstance(part, int):
            root += f"[{part}]"
        elif str(part).isidentifier():
            root += f".{part}"
        else:
            root += f"[{json.dumps(part)}]"
    return root


def _reason(error: Any) -> str:
    keyword, value = error.validator, error.validator_value
    if keyword == "type":
        return f"must be of type {value if isinstance(value, str) else ' or '.join(value)}"
    if keyword == "pattern":
        return "does not match the required pattern"  # the message would quote the whole regex
    if keyword == "format":
        return f"is not a valid {value}"
    if keyword == "const":
        return f"must be {json.dumps(value)}"
    if keyword == "enum":
        return f"must be one of {json.dumps(value)}"
    if keyword in ("oneOf", "anyOf") and error.context:
        return " or ".join(dict.fromkeys(_reason(e) for e in error.context))
    message: str = error.message
    return message if len(message) <= 200 else message[:197] + "..."


def _schema_errors(root: str, schema_errors: Iterable[Any]) -> list[FieldError]:
    out: list[FieldError] = []
    for error in schema_errors:
        parts = list(error.path)
        instance: Mapping[str, Any] = error.instance if isinstance(error.instance, dict) else {}
        if error.validator == "required":  # point at the missing key, not its parent
            missing = next(
                (
                    p
                    for p in error.validator_value
                    if p not in instance and error.message.startswith(repr(p))
                ),
                None,
            )
            out.append(
                FieldError(_jpath(root, parts + ([missing] if missing else [])), "is required")
            )
        elif error.validator == "additionalProperties" and error.validator_value is False:
            known = set(error.schema.get("properties", {}))
            out += [
                FieldError(_jpath(root, [*parts, k]), "is not an allowed property")
                for k in instance
                if k not in known
            ]
        else:
            out.append(FieldError(_jpath(root, parts), _reason(error)))
    return out


def error_details(exc: Exception, root: str = "body") -> tuple[int, list[FieldError]]:
    """Any openapi-core validation error → the status it calls for and located reasons.

    Never uses `str(exc)`: it embeds whole bodies and raises on non-UTF-8 ones.
    """
    cause = exc.__cause__
    if isinstance(exc, PathNotFound):
        return 404, [FieldError("path", "no such endpoint")]
    if isinstance(exc, OperationNotFound):
        return 405, [FieldError("method", f"{str(exc.method).upper()} is not allowed here")]
    if isinstance(exc, SecurityValidationError):
        return 401, [FieldError("header.Authorization", "a bearer token is required")]
    if isinstance(exc, ParameterValidationError):
        where = f"{exc.location}.{exc.name}"
        if isinstance(exc, MissingRequiredParameter):
            return 400, [FieldError(where, "is required")]
        if isinstance(cause, InvalidSchemaValue):
            return 400, [FieldError(where, _reason(e)) for e in cause.schema_errors]
        if isinstance(cause, CastError):
            return 400, [FieldError(where, f"must be of type {cause.type}")]
        if isinstance(cause, EmptyQueryParameterValue):
            return 400, [FieldError(where, "must not be empty")]
        return 400, [FieldError(where, "is invalid")]
    if isinstance(exc, RequestBodyValidationError | DataValidationError):
        if isinstance(exc, MissingRequiredRequestBody | MissingData):
            return 400, [FieldError(root, "is required")]
        if isinstance(cause, InvalidSchemaValue):
            return 400, _schema_errors(root, cause.schema_errors)
        if isinstance(cause, MediaTypeNotFound):
            return 415, [
                FieldError(
                    "header.Content-Type", f"must be one of {', '.join(cause.availableMimetypes)}"
                )
            ]
        if isinstance(cause, MediaTypeDeserializeError):
            context = cause.__context__
            if isinstance(context, json.JSONDecodeError):
                where = f"line {context.lineno}, column {context.colno}"
                return 400, [FieldError(root, f"malformed JSON: {context.msg} ({where})")]
            return 400, [FieldError(root, f"malformed {cause.mimetype} body")]
    if isinstance(exc, ResponseNotFound):
        return 500, [FieldError("status", f"status {exc.http_status} is not documented")]
    return 400, [FieldError("request", type(exc).__name__)]
