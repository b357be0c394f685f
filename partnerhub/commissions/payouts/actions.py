"""Translated labels of the payout audit action codes (merged into ``audit.actions``)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACTION_LABELS: dict[str, str | Promise] = {
    "payout.created": _("Payout statement created"),
    "payout.approved": _("Payout approved"),
    "payout.paid": _("Payout marked paid"),
    "payout.cancelled": _("Payout cancelled"),
    "payout_details.changed": _("Payout details changed"),
    "payout.statement_downloaded": _("Payout statement downloaded"),
}
