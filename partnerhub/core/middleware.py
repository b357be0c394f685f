"""Refuse NUL characters in the URL, query string and form fields before any view sees them.

PostgreSQL text cannot hold NUL, so a NUL reaching a query turns into a database error (a 500).
No legitimate input contains one: answer 400 at the edge, once, instead of in every form and filter.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import unquote

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from partnerhub.api.problems import problem_response

NUL = "\x00"


def _has_nul(request: HttpRequest) -> bool:
    if NUL in request.path or NUL in unquote(request.META.get("QUERY_STRING", "")):
        return True
    if request.method == "POST" and request.content_type in {
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    }:
        return any(NUL in key or any(NUL in value for value in values) for key, values in request.POST.lists())
    return False


class RejectNulMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request):
            detail = _("Null characters are not allowed.")
            if request.path.startswith("/api/"):
                return problem_response(400, detail)
            return HttpResponse(detail, status=400, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
