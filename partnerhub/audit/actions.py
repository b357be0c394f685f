"""Readable, translated names for the audit log's action codes.

Areas register their codes here as they add services; an unknown code is shown as it is.
"""

from __future__ import annotations

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

ACTION_LABELS: dict[str, str | Promise] = {
    "org.created": _("Organisation created"),
    "org.updated": _("Organisation settings changed"),
    "org.operator_created": _("Operator organisation set up"),
    "member.joined": _("Member joined"),
    "member.changed": _("Member's role or permissions changed"),
    "member.removed": _("Member removed"),
    "member.left": _("Member left"),
    "invitation.created": _("Invitation sent"),
    "invitation.renewed": _("Invitation renewed"),
    "invitation.resent": _("Invitation sent again"),
    "invitation.cancelled": _("Invitation cancelled"),
    "api_key.created": _("API key created"),
    "api_key.revoked": _("API key revoked"),
    "profile.updated": _("Profile changed"),
    "catalog.category_created": _("Product category created"),
    "catalog.category_updated": _("Product category changed"),
    "catalog.product_created": _("Product created"),
    "catalog.product_updated": _("Product changed"),
    "catalog.product_retired": _("Product retired"),
    "catalog.product_reactivated": _("Product back on sale"),
    "catalog.price_set": _("Product price set"),
    "catalog.price_removed": _("Product price removed"),
    "program.updated": _("Partner program settings changed"),
    "program.volume_tier_added": _("Volume discount tier added"),
    "program.volume_tier_changed": _("Volume discount tier changed"),
    "program.volume_tier_removed": _("Volume discount tier removed"),
}


def action_label(code: str) -> str:
    """The translated label of `code`, or the code itself when none is registered."""
    return str(ACTION_LABELS.get(code, code))
