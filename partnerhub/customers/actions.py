"""Translated labels of this area's audit action codes (merged into ``audit.actions``)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _  # noqa: F401

ACTION_LABELS: dict[str, str | Promise] = {}
