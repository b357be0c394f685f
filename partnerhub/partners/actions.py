"""Translated labels of this area's audit action codes (merged into ``audit.actions``)."""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACTION_LABELS: dict[str, str | Promise] = {
    "program.eligibility_changed": _("Partner eligibility rules changed"),
    "program.eligibility_volume_added": _("Minimum yearly volume added"),
    "program.eligibility_volume_changed": _("Minimum yearly volume changed"),
    "program.eligibility_volume_removed": _("Minimum yearly volume removed"),
    "partner_application.submitted": _("Partner status requested"),
    "partner_application.withdrawn": _("Partner status request withdrawn"),
    "partner_application.approved": _("Partner status request approved"),
    "partner_application.rejected": _("Partner status request rejected"),
    "partner.profile_changed": _("Partner profile changed"),
    "partner.staff_changed": _("Partner staff rights changed"),
}
