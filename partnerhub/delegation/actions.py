"""Translated labels of this area's audit action codes (merged into ``audit.actions``)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACTION_LABELS: dict[str, str | Promise] = {
    "management_session.started": _("Management session started"),
    "management_session.ended": _("Management session ended"),
    "management_session.terminated": _("Management session ended by the customer"),
    "management_session.notifications_changed": _("Emails about management sessions changed"),
    "support_access.granted": _("Support access granted"),
    "support_access.revoked": _("Support access revoked"),
    "vip_code.assigned": _("VIP code given"),
    "vip_code.removed": _("VIP code removed"),
}
