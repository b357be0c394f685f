"""Pages whose list part htmx refreshes in place (filters, paging, progress)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers


def render_page(request: HttpRequest, template_name: str, context: dict[str, Any], *, partial: str) -> HttpResponse:
    """The whole page, or for an htmx request only its ``{% partialdef partial %}``.

    The same URL answers with the whole page or just the part: caches must keep both apart
    (``Vary: HX-Request``).
    """
    if request.htmx:  # type: ignore[attr-defined]
        template_name += f"#{partial}"
    response = render(request, template_name, context)
    patch_vary_headers(response, ("HX-Request",))
    return response
