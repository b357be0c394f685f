"""API errors as RFC 9457 problem details (`application/problem+json`).

Which error becomes which status:

- ninja's input validation → 422 with ``errors`` (one entry per field);
- missing or invalid credentials → 401; a CSRF failure or a missing permission → 403;
- ``Http404`` and objects of other organisations → 404 (same answer for "absent" and "not yours");
- a service's ``ValidationError`` (``ServiceError``) → 422 by default: the input breaks a rule.
  Operations whose refusal is about the *current state* of a resource (the last owner, an
  invitation that is no longer pending, a revoked key) wrap the call in :func:`service_errors`
  with 409 instead;
- an ``IntegrityError`` (a uniqueness constraint lost a race) → 409;
- more requests than ``API_RATE_LIMIT`` allows (per key, user or address) → 429 with ``Retry-After``;
- anything else (a bug) → 500 with a generic detail; the exception is logged, never shown.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, cast

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, Throttled, ValidationError
from pydantic import BaseModel

logger = logging.getLogger(__name__)

PROBLEM_CONTENT_TYPE = "application/problem+json"

TITLES: dict[int, str | Promise] = {
    400: gettext_lazy("Bad request"),
    401: gettext_lazy("Authentication required"),
    403: gettext_lazy("Permission denied"),
    404: gettext_lazy("Not found"),
    405: gettext_lazy("Method not allowed"),
    409: gettext_lazy("Conflict"),
    422: gettext_lazy("Invalid input"),
    429: gettext_lazy("Too many requests"),
    500: gettext_lazy("Server error"),
}


# The English details django-ninja raises itself, by their start (DEBUG appends the cause).
NINJA_DETAILS: dict[str, str | Promise] = {
    "Cannot parse request body": gettext_lazy("The request body is not valid JSON."),
    "CSRF check Failed": gettext_lazy(
        "The CSRF token is missing or wrong. Send the csrftoken cookie's value in the X-CSRFToken header."
    ),
}


def title_of(status: int) -> str:
    """The problem title of `status` in the active language."""
    return str(TITLES.get(status, gettext_lazy("Error")))


class Problem(BaseModel):
    """An error answer (RFC 9457)."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[dict[str, Any]] | None = None


# Declared on every operation that needs a login: the error answers it can give.
AUTH_ERRORS: dict[int, type[Problem]] = {401: Problem, 403: Problem, 422: Problem}
ORG_ERRORS: dict[int, type[Problem]] = {401: Problem, 403: Problem, 404: Problem, 422: Problem}
WRITE_ERRORS: dict[int, type[Problem]] = {**ORG_ERRORS, 409: Problem}


class ApiProblem(Exception):
    """Raised by API operations to answer with a problem document."""

    def __init__(self, status: int, detail: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors


def validation_errors(exc: DjangoValidationError) -> list[dict[str, Any]]:
    """A Django ValidationError as problem ``errors`` entries (field errors keep their field)."""
    if hasattr(exc, "error_dict"):
        return [
            {"loc": ["body", field], "msg": str(message), "type": "service"}
            for field, messages in exc.message_dict.items()
            for message in messages
        ]
    return [{"loc": [], "msg": str(message), "type": "service"} for message in exc.messages]


def from_validation_error(exc: DjangoValidationError, status: int = 422) -> ApiProblem:
    return ApiProblem(status, " ".join(str(m) for m in exc.messages), errors=validation_errors(exc))


@contextmanager
def service_errors(status: int) -> Iterator[None]:
    """Answer a service's ValidationError with `status` (409: the resource's state refuses it)."""
    try:
        yield
    except DjangoValidationError as exc:
        raise from_validation_error(exc, status) from exc


def problem_body(status: int, detail: str | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "about:blank", "title": title_of(status), "status": status}
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def problem(api: NinjaAPI, request: HttpRequest, status: int, detail: str | None = None, **extra: Any) -> HttpResponse:
    response = api.create_response(request, problem_body(status, detail, **extra), status=status)
    response["Content-Type"] = PROBLEM_CONTENT_TYPE
    return response


def problem_response(status: int, detail: str) -> HttpResponse:
    """A problem answer for code in front of the API (middleware), where no NinjaAPI is at hand."""
    return JsonResponse(problem_body(status, detail), status=status, content_type=PROBLEM_CONTENT_TYPE)


def install(api: NinjaAPI) -> None:
    """Route every error the API can raise through `problem`."""

    def on_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = [
            {"loc": [str(part) for part in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": e.get("type", "")}
            for e in exc.errors
        ]
        return problem(api, request, 422, _("The request did not pass validation."), errors=errors)

    def on_auth(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return problem(api, request, 401, _("Log in, or send a valid API key as 'Authorization: Bearer <key>'."))

    def on_http(request: HttpRequest, exc: HttpError) -> HttpResponse:
        if isinstance(exc, Throttled):
            response = problem(api, request, 429, _("Too many requests. Slow down and try again shortly."))
            if exc.wait:
                response["Retry-After"] = str(max(1, math.ceil(exc.wait)))
            return response
        detail = str(exc)
        for english, translated in NINJA_DETAILS.items():
            if detail.startswith(english):
                detail = str(translated)
        return problem(api, request, exc.status_code, detail)

    def on_problem(request: HttpRequest, exc: ApiProblem) -> HttpResponse:
        return problem(api, request, exc.status, exc.detail, errors=exc.errors)

    def on_service_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
        return on_problem(request, from_validation_error(exc))

    def on_integrity(request: HttpRequest, exc: IntegrityError) -> HttpResponse:
        return problem(api, request, 409, _("The change conflicts with existing data."))

    def on_404(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem(api, request, 404, _("No such resource."))

    def on_403(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem(api, request, 403, _("You do not have the permission for this action."))

    def on_unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
        # A bug: keep the details in the log, answer in the API's format without them.
        logger.exception("Unhandled error in API operation %s %s", request.method, request.path, exc_info=exc)
        return problem(api, request, 500, _("Something went wrong on our side. Please try again later."))

    register(api, Exception, on_unexpected)
    register(api, ValidationError, on_validation)
    register(api, AuthenticationError, on_auth)
    register(api, HttpError, on_http)
    register(api, ApiProblem, on_problem)
    register(api, DjangoValidationError, on_service_error)
    register(api, IntegrityError, on_integrity)
    register(api, Http404, on_404)
    register(api, PermissionDenied, on_403)


def register[E: Exception](
    api: NinjaAPI, exc_class: type[E], handler: Callable[[HttpRequest, E], HttpResponse]
) -> None:
    # ninja types a handler as also accepting the exception *class*; it only ever passes instances.
    api.add_exception_handler(exc_class, cast(Any, handler))
