"""RFC 9457 problem details, mapped once for every service.

Routes and services raise the typed errors below (or ``HTTPException``); the handler installed
by :func:`install_problem_handlers` turns every error, including validation errors with the
offending fields and unexpected exceptions, into ``application/problem+json``.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi_problem.handler import (
    ExceptionHandler,
    add_exception_handler,
    new_exception_handler,
)
from rfc9457 import Problem, StatusProblem
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from starlette.responses import Response

from shared.kit.messages import CATALOGUE, DEFAULT_LANGUAGE, preferred_language

logger = logging.getLogger("sinergi.problems")

PROBLEM_MEDIA_TYPE = "application/problem+json"
# Problem types are stable URNs: clients switch on them, people read ``title`` and ``detail``.
PROBLEM_TYPE_URI = "urn:sinergi:problem:{type}"


class DomainProblem(Problem):
    """Base of our typed errors: a stable ``type``, a status and a human ``detail``."""

    status = 400
    title = "Bad request"
    type_: str = "bad-request"

    # A subclass states its status, title and type in its class line, as data.
    def __init_subclass__(cls, *, status: int, title: str, type_: str, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.status, cls.title, cls.type_ = status, title, type_

    def __init__(self, detail: str, *, headers: dict[str, str] | None = None, **extras: Any):
        super().__init__(
            title=self.title,
            detail=detail,
            type_=self.type_,
            status=self.status,
            headers=headers,
            **extras,
        )


class Unauthorized(DomainProblem, status=401, title="Not authenticated", type_="unauthorized"):
    def __init__(self, detail: str, **extras: Any):
        super().__init__(detail, headers={"WWW-Authenticate": "Bearer"}, **extras)


class Forbidden(DomainProblem, status=403, title="Forbidden", type_="forbidden"):
    pass


class NotFound(DomainProblem, status=404, title="Not found", type_="not-found"):
    pass


class Conflict(DomainProblem, status=409, title="Conflict", type_="conflict"):
    pass


class PreconditionFailed(
    DomainProblem, status=412, title="Precondition failed", type_="precondition-failed"
):
    pass


class PreconditionRequired(
    DomainProblem, status=428, title="Precondition required", type_="precondition-required"
):
    pass


class PayloadTooLarge(
    DomainProblem, status=413, title="Payload too large", type_="payload-too-large"
):
    pass


class UnprocessableEntity(
    DomainProblem, status=422, title="Request validation error.", type_="request-validation-failed"
):
    """A domain rule broken by one field: ``errors`` names it as validation errors do."""

    def __init__(self, field: str | list[str | int], message: str, **extras: Any):
        loc = field if isinstance(field, list) else ["body", field]
        errors = [{"loc": loc, "msg": message, "type": "value_error"}]
        super().__init__(f"{'.'.join(map(str, loc))}: {message}", errors=errors, **extras)


class TooManyRequests(DomainProblem, status=429, title="Too many requests", type_="rate-limited"):
    pass


class ServiceUnavailable(
    DomainProblem, status=503, title="Service unavailable", type_="service-unavailable"
):
    pass


class GatewayTimeout(DomainProblem, status=504, title="Gateway timeout", type_="gateway-timeout"):
    pass


class InternalError(StatusProblem):
    """What a client sees of an unexpected exception: never its message, which may hold data
    (a database error quotes the offending row). The log has the traceback and request id."""

    status = 500
    title = "Internal server error"
    type_ = "internal-error"

    def __init__(self, detail: str | None = None, **_ignored: Any) -> None:
        super().__init__("an unexpected error occurred; it was logged with the request id")


def _validation_problem(
    _handler: ExceptionHandler, _request: Request, exc: RequestValidationError
) -> Problem:
    # Each error names the field (``loc``) and what is wrong; the submitted value (``input``)
    # is left out, since it can be a NIK or, for a missing field, the whole body.
    errors = [
        {"loc": list(error.get("loc", ())), "msg": str(error.get("msg")), "type": error.get("type")}
        for error in exc.errors()
    ]
    fields = ", ".join(".".join(str(part) for part in e["loc"]) for e in errors[:5])
    return Problem(
        title="Request validation error.",
        type_="request-validation-failed",
        status=422,
        detail=f"invalid or missing: {fields}",
        errors=errors,
    )


DATABASE_RETRY_AFTER_SECONDS = 5


def _database_unavailable(
    _handler: ExceptionHandler, _request: Request, _exc: Exception
) -> Problem:
    # The database is down, restarting or saturated: the request may succeed if retried.
    logger.warning("database unavailable: %s", type(_exc).__name__)
    return ServiceUnavailable(
        "the database is unavailable; retry shortly",
        headers={"Retry-After": str(DATABASE_RETRY_AFTER_SECONDS)},
    )


def _value_not_storable(_handler: ExceptionHandler, _request: Request, _exc: Exception) -> Problem:
    # Input that passed validation but the database cannot hold (a NUL byte in text, a number
    # past the column's range): the client's to fix, and nothing was written.
    return UnprocessableEntity(
        ["body"], "a value cannot be stored: out of range or containing a NUL byte"
    )


def translate_problem(content: dict[str, Any], language: str) -> dict[str, Any]:
    """The problem's ``title``, ``detail`` and each field error's ``msg`` in ``language``,
    from the message catalogue (shared/kit/messages.py); ``type``, ``loc`` and the rest, which
    clients switch on, stay as they are."""
    translated = dict(content)
    for key in ("title", "detail"):
        if isinstance(content.get(key), str):
            translated[key] = CATALOGUE.translate(content[key], language)
    errors = content.get("errors")
    if isinstance(errors, list):
        translated["errors"] = [
            {**error, "msg": CATALOGUE.translate(str(error["msg"]), language)}
            if isinstance(error, dict) and "msg" in error
            else error
            for error in errors
        ]
    return translated


def localized(content: dict[str, Any], accept_language: str | None) -> tuple[dict[str, Any], str]:
    """The problem in the language ``Accept-Language`` asks for (the default: unchanged), and
    that language, for ``Content-Language``."""
    language = preferred_language(accept_language, CATALOGUE.languages())
    if language == DEFAULT_LANGUAGE:
        return content, language
    return translate_problem(content, language), language


def _language_post_hook(
    content: dict[str, Any], request: Request, response: Response
) -> tuple[dict[str, Any], Response]:
    # Vary on every problem: a cache must not serve one language's problem for another.
    response.headers["Vary"] = ", ".join(
        v for v in (response.headers.get("Vary"), "Accept-Language") if v
    )
    translated, language = localized(content, request.headers.get("accept-language"))
    if language == DEFAULT_LANGUAGE:
        return content, response
    response.body = response.render(translated)
    response.headers["Content-Language"] = language
    return translated, response


def install_problem_handlers(app: FastAPI) -> None:
    mapped: dict[type[Exception], Any] = {
        OperationalError: _database_unavailable,
        DataError: _value_not_storable,
        PoolTimeoutError: _database_unavailable,
    }
    handler = new_exception_handler(
        logger=logger,
        unhandled_wrappers={"default": InternalError},
        request_validation_handler=_validation_problem,
        handlers=mapped,
        documentation_uri_template=PROBLEM_TYPE_URI,
        strict_rfc9457=False,
        # Accept-Language: title, detail and field errors from the message catalogue.
        post_hooks=[_language_post_hook],
    )
    add_exception_handler(app, handler)
    # Registered by class too: Starlette hands a handler of plain Exception to its outermost
    # middleware, which answers and then re-raises to the server as a crash. These are answers
    # (a 422 or a 503), not crashes: the fuzzer found a NUL byte in a body escaping that way.
    for kind in mapped:
        app.add_exception_handler(kind, handler)


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` entries for the problem statuses a route documents."""
    return {
        status: {
            "description": "Problem details (RFC 9457)",
            "content": {PROBLEM_MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}},
        }
        for status in statuses
    }
