"""Translated labels of this area's audit action codes (merged into ``audit.actions``)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACTION_LABELS: dict[str, str | Promise] = {
    "custom_property.created": _("Custom column added"),
    "custom_property.updated": _("Custom column changed"),
    "custom_property.moved": _("Custom column moved"),
    "custom_property.deleted": _("Custom column deleted"),
    "custom_value.changed": _("Customer's additional fields changed"),
    "customers.exported": _("Customer list exported"),
}
