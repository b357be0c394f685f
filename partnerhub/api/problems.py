"""API errors as RFC 9457 problem details (`application/problem+json`)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from pydantic import BaseModel

PROBLEM_CONTENT_TYPE = "application/problem+json"

TITLES = {
    400: "Bad request",
    401: "Authentication required",
    403: "Permission denied",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    422: "Invalid input",
    429: "Too many requests",
    500: "Server error",
}


class Problem(BaseModel):
    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    errors: list[dict[str, Any]] | None = None


class ApiProblem(Exception):
    """Raised by API operations to answer with a problem document."""

    def __init__(self, status: int, detail: str, *, errors: list[dict[str, Any]] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.errors = errors


def problem(api: NinjaAPI, request: HttpRequest, status: int, detail: str | None = None, **extra: Any) -> HttpResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status}
    if detail:
        body["detail"] = detail
    body.update({k: v for k, v in extra.items() if v is not None})
    response = api.create_response(request, body, status=status)
    response["Content-Type"] = PROBLEM_CONTENT_TYPE
    return response


def install(api: NinjaAPI) -> None:
    """Route every error the API can raise through `problem`."""

    def on_validation(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = [
            {"loc": [str(part) for part in e.get("loc", ())], "msg": str(e.get("msg", "")), "type": e.get("type", "")}
            for e in exc.errors
        ]
        return problem(api, request, 422, "The request did not pass validation.", errors=errors)

    def on_auth(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        return problem(api, request, 401, "Log in, or send a valid API key as 'Authorization: Bearer <key>'.")

    def on_http(request: HttpRequest, exc: HttpError) -> HttpResponse:
        return problem(api, request, exc.status_code, str(exc))

    def on_problem(request: HttpRequest, exc: ApiProblem) -> HttpResponse:
        return problem(api, request, exc.status, exc.detail, errors=exc.errors)

    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    def on_404(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem(api, request, 404, "No such resource.")

    def on_403(request: HttpRequest, exc: Exception) -> HttpResponse:
        return problem(api, request, 403, "You do not have the permission for this action.")

    api.add_exception_handler(ValidationError, on_validation)
    api.add_exception_handler(AuthenticationError, on_auth)
    api.add_exception_handler(HttpError, on_http)
    api.add_exception_handler(ApiProblem, on_problem)
    api.add_exception_handler(Http404, on_404)
    api.add_exception_handler(PermissionDenied, on_403)
