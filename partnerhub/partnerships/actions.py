"""Translated labels of this area's audit action codes (merged into ``audit.actions``)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACTION_LABELS: dict[str, str | Promise] = {
    "partnership.customer_created": _("Partner created the customer"),
    "partnership.requested": _("Partner requested management"),
    "partnership.invited": _("Customer invited a partner"),
    "partnership.chosen": _("Customer chose a partner"),
    "partnership.accepted": _("Partnership accepted"),
    "partnership.declined": _("Partnership declined"),
    "partnership.resent": _("Partnership request sent again"),
    "partnership.cancelled": _("Partnership request withdrawn"),
    "partnership.expired": _("Partnership request expired"),
    "partnership.ended": _("Partnership ended"),
    "grant.changed": _("Access granted or changed"),
    "grant.extended": _("Access extended"),
    "grant.auto_extended": _("Access extended automatically"),
    "grant.revoked": _("Access revoked"),
}
