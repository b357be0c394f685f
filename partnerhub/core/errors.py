"""Errors shared by every domain area."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError


class ServiceError(ValidationError):
    """A service refused an action because a business rule forbids it.

    The message is translated and meant for the user: views add it to their form
    (``form.add_error(None, exc)``), the API answers it as a problem document.
    """


def form_errors_text(form: Any) -> str:
    """A bound form's errors as one line, each prefixed with its field's label (for a flash message
    when the form itself is not shown again, e.g. a row edited inline in a table)."""
    return " ".join(f"{form[name].label}: {' '.join(str(e) for e in errs)}" for name, errs in form.errors.items())
