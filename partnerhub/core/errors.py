"""Errors shared by every domain area."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest


class ServiceError(ValidationError):
    """A service refused an action because a business rule forbids it.

    The message is translated and meant for the user: views add it to their form
    (``form.add_error(None, exc)``), the API answers it as a problem document.
    """


def form_errors_text(form: Any) -> str:
    """A bound form's errors as one line, each prefixed with its field's label (for a flash message
    when the form itself is not shown again, e.g. a row edited inline in a table)."""
    return " ".join(f"{form[name].label}: {' '.join(str(e) for e in errs)}" for name, errs in form.errors.items())


def save_inline(request: HttpRequest, form: Any, save: Callable[[dict[str, Any]], object], saved: str) -> None:
    """A row edited inline in a table (its form is not shown again): call `save` with the cleaned data
    when the form is valid, and say how it went in a flash message: `saved`, the service's refusal, or
    the form's errors."""
    if not form.is_valid():
        messages.error(request, form_errors_text(form))
        return
    try:
        save(form.cleaned_data)
    except ServiceError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, saved)
