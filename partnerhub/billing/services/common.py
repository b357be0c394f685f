"""Helpers shared by the billing services: the operator's billing permission, terms and dates.

Access is checked with partnerhub.access (``access.checks.require``/``holds`` on the customer,
``access.operator.require_operator(actor, OPERATOR_BILLING)`` for operator staff)."""

from __future__ import annotations

import calendar
from datetime import date

from django.utils.translation import gettext as _

from partnerhub.access.perms import Perm
from partnerhub.catalog.models import BillingPeriod, Product
from partnerhub.core.errors import ServiceError

# Operator staff act on invoices and customer products with the finance permission: marking paid,
# refunding, cancelling, suspending and adding products are money matters, like payouts.
OPERATOR_BILLING = Perm.OPERATOR_PAYOUTS_MANAGE

PERIOD_MONTHS: dict[str, int] = {BillingPeriod.MONTHLY: 1, BillingPeriod.YEARLY: 12, BillingPeriod.ONE_TIME: 0}
MAX_TERM_MONTHS = 60
MAX_QUANTITY = 100_000


def period_months(product: Product) -> int:
    """Months in one billing period of `product` (0 for one-time products)."""
    return PERIOD_MONTHS[product.billing_period]


def default_term(product: Product) -> int:
    return period_months(product) or 1


def check_term(product: Product, term_months: int) -> int:
    """A term is a whole number of the product's billing periods (one-time products: 1)."""
    months = period_months(product)
    if months == 0:
        if term_months != 1:
            raise ServiceError(_("%(product)s is sold once: its term is 1.") % {"product": product.name})
        return 1
    if term_months < months or term_months % months or term_months > MAX_TERM_MONTHS:
        raise ServiceError(
            _("The term of %(product)s must be a multiple of %(months)s months, at most %(max)s.")
            % {"product": product.name, "months": months, "max": MAX_TERM_MONTHS}
        )
    return term_months


def periods_in(product: Product, term_months: int) -> int:
    """How many billing periods a term covers (the price is per period)."""
    months = period_months(product)
    return 1 if months == 0 else term_months // months


def add_months(day: date, months: int) -> date:
    """`day` moved on by `months`, clamped to the end of shorter months (31 Jan + 1 → 28/29 Feb)."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return day.replace(year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1]))


def renewal_after(start: date, product: Product, term_months: int) -> date | None:
    """The first renewal date of a term starting on `start` (None: one-time products never renew)."""
    if period_months(product) == 0:
        return None
    return add_months(start, term_months)
