"""One error envelope for every failure: ``{"error": {"code", "message", "details"}}``.

Services raise :class:`ApiError` subclasses (or library :class:`PromethiumError`); the handlers
installed by :func:`install_error_handlers` turn everything, including FastAPI's own validation and
routing errors and unexpected exceptions, into the envelope.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from promethium.core.errors import (
    DataError,
    FormatError,
    OutputExistsError,
    ParameterError,
    PromethiumError,
)

__all__ = [
    "ApiError",
    "AuthenticationError",
    "AuthorizationError",
    "ConflictError",
    "NotFoundError",
    "PayloadTooLargeError",
    "RateLimitedError",
    "ValidationError",
    "error_body",
    "install_error_handlers",
]

log = logging.getLogger("promethium.api")


class ApiError(Exception):
    status_code = 500
    code = "INTERNAL_ERROR"

    def __init__(self, message: str, *, details: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details
        self.headers = headers


class ValidationError(ApiError):
    status_code = 422
    code = "VALIDATION_ERROR"


class AuthenticationError(ApiError):
    status_code = 401
    code = "AUTHENTICATION_ERROR"

    def __init__(self, message: str = "not authenticated", **kw: Any) -> None:
        kw.setdefault("headers", {"WWW-Authenticate": "Bearer"})
        super().__init__(message, **kw)


class AuthorizationError(ApiError):
    status_code = 403
    code = "AUTHORIZATION_ERROR"


class NotFoundError(ApiError):
    status_code = 404
    code = "NOT_FOUND"


class ConflictError(ApiError):
    status_code = 409
    code = "CONFLICT"


class PayloadTooLargeError(ApiError):
    status_code = 413
    code = "PAYLOAD_TOO_LARGE"


class RateLimitedError(ApiError):
    status_code = 429
    code = "RATE_LIMITED"


_STATUS_CODES = {
    400: "VALIDATION_ERROR",
    401: "AUTHENTICATION_ERROR",
    403: "AUTHORIZATION_ERROR",
    404: "NOT_FOUND",
    # the resource exists, the method does not: a request error (the status and the Allow header
    # keep the distinction; the stable code list has no METHOD_NOT_ALLOWED)
    405: "VALIDATION_ERROR",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    422: "VALIDATION_ERROR",
    429: "RATE_LIMITED",
}


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details}}


def _response(status: int, code: str, message: str, details: Any = None, headers: Any = None) -> JSONResponse:
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


async def _api_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return _response(exc.status_code, exc.code, exc.message, exc.details, exc.headers)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _STATUS_CODES.get(
        exc.status_code, "INTERNAL_ERROR" if exc.status_code >= 500 else "VALIDATION_ERROR"
    )
    return _response(exc.status_code, code, str(exc.detail), None, getattr(exc, "headers", None))


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [
        {"loc": list(e.get("loc", ())), "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))}
        for e in exc.errors()
    ]
    return _response(422, "VALIDATION_ERROR", "the request is invalid", details)


async def _promethium_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, OutputExistsError):
        return _response(409, "CONFLICT", str(exc))
    if isinstance(exc, ParameterError):
        return _response(
            422, "VALIDATION_ERROR", str(exc), {"parameter": exc.parameter, "allowed": exc.allowed}
        )
    if isinstance(exc, FormatError | DataError):
        return _response(422, "VALIDATION_ERROR", str(exc))
    log.exception("unhandled library error", exc_info=exc)
    return _response(500, "INTERNAL_ERROR", "internal error")


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return _response(500, "INTERNAL_ERROR", "internal error")


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(PromethiumError, _promethium_error)
    app.add_exception_handler(Exception, _unexpected)
