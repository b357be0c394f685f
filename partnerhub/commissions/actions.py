"""Translated labels of this area's audit action codes (merged into ``audit.actions``)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACTION_LABELS: dict[str, str | Promise] = {
    "commissions.tier_added": _("Commission tier added"),
    "commissions.tier_changed": _("Commission tier changed"),
    "commissions.tier_removed": _("Commission tier removed"),
    "commissions.rates_changed": _("Commission rates changed"),
    "commissions.settings_changed": _("Commission settings changed"),
    "commissions.ledger_exported": _("Commission ledger exported"),
}
