"""Errors shared by every domain area."""

from __future__ import annotations

from django.core.exceptions import ValidationError


class ServiceError(ValidationError):
    """A service refused an action because a business rule forbids it.

    The message is translated and meant for the user: views add it to their form
    (``form.add_error(None, exc)``), the API answers it as a problem document.
    """
