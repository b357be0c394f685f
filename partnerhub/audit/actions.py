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
    "billing_event.created": _("Billing event recorded"),
    "export.requested": _("Export requested"),
    "export.downloaded": _("Export downloaded"),
    # Billing: orders, invoices, customer products.
    "order.placed": _("Order placed"),
    "order.cancelled": _("Order cancelled"),
    "invoice.issued": _("Invoice issued"),
    "invoice.paid": _("Invoice marked paid"),
    "invoice.refunded": _("Invoice refunded"),
    "invoice.cancelled": _("Invoice cancelled"),
    "invoice.overdue": _("Invoice overdue"),
    "customer_product.added": _("Product added"),
    "customer_product.quantity_changed": _("Product quantity changed"),
    "customer_product.suspended": _("Product suspended"),
    "customer_product.reactivated": _("Product reactivated"),
    "customer_product.cancelled": _("Product cancelled"),
    "customer_product.cancellation_requested": _("Product cancelled at the end of its term"),
    "customer_product.cancellation_withdrawn": _("Product cancellation withdrawn"),
    "customer_product.trial_converted": _("Trial converted into a paid product"),
    "customer_product.licences_recounted": _("Relative licences recounted"),
    "customer_product.ended": _("Product ended"),
    "customer_product.renewed": _("Product renewed"),
    "customer_product.renewal_skipped": _("Product renewal skipped"),
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


def _area_labels() -> None:
    # The delegated-access areas keep their labels beside their services.
    from importlib import import_module

    for area in (
        "partners",
        "partnerships",
        "delegation",
        "customers",
        "commissions",
        "commissions.payouts",
        "affiliates",
    ):
        ACTION_LABELS.update(import_module(f"partnerhub.{area}.actions").ACTION_LABELS)


_area_labels()


def action_label(code: str) -> str:
    """The translated label of `code`, or the code itself when none is registered."""
    return str(ACTION_LABELS.get(code, code))
