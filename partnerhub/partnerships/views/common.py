"""Helpers both sides' pages share."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from partnerhub.audit.changes import changes_of
from partnerhub.core.paging import keyset_page
from partnerhub.partnerships import queries
from partnerhub.partnerships.models import Partnership


def int_param(request: HttpRequest, name: str) -> int | None:
    """A positive whole number from the query string (None when absent or unreadable)."""
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() and len(value) < 19 else None


def history_page(request: HttpRequest, partnership: Partnership) -> dict[str, Any]:
    """One page of the partnership's audit entries (its lifecycle and grant versions), newest first."""
    page = keyset_page(
        queries.history(partnership).select_related("actor"),
        before=int_param(request, "before"),
        after=int_param(request, "after"),
        size=queries.HISTORY_PAGE,
    )
    return {
        # Keys empty on both sides (no products, never revoked) say nothing: left out.
        "history": [(entry, [c for c in changes_of(entry) if c.before or c.after]) for entry in page.rows],
        "page": page,
        "paged": "before" in request.GET or "after" in request.GET,
    }
