"""Template helpers of the billing pages: amounts shown rounded to their currency, never via floats."""

from __future__ import annotations

from decimal import Decimal

from django import template

from partnerhub.core.money import round_money

register = template.Library()


@register.filter
def money(amount: Decimal | None, currency: str) -> str:
    """`amount` rounded half-up to `currency`'s minor unit, as plain digits (e.g. 347.20)."""
    if amount is None:
        return ""
    return f"{round_money(amount, currency):f}"


STATUS_BADGES = {
    "paid": "badge-ok",
    "active": "badge-ok",
    "placed": "badge-ok",
    "open": "badge-warn",
    "trial": "badge-warn",
    "overdue": "badge-bad",
    "suspended": "badge-bad",
    "cancelled": "",
    "refunded": "",
}


@register.filter
def status_badge(status: str) -> str:
    """The badge class for a product, order or invoice status."""
    return STATUS_BADGES.get(status, "")
