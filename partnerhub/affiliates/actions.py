"""Translated labels of this area's audit action codes (merged into ``audit.actions``)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACTION_LABELS: dict[str, str | Promise] = {
    "affiliate.applied": _("Affiliate application sent"),
    "affiliate.approved": _("Affiliate approved"),
    "affiliate.rejected": _("Affiliate application rejected"),
    "affiliate.suspended": _("Affiliate suspended"),
    "affiliate.reactivated": _("Affiliate reactivated"),
    "affiliate.referral_bound": _("Customer bound to an affiliate"),
    "affiliate.recommended": _("Referral link recommended by email"),
}
