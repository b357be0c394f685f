"""Helpers shared by the billing services: access checks (the rule itself lives in partnerhub.access),
the operator organisation, terms and dates."""

from __future__ import annotations

import calendar
from datetime import date

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext as _

from partnerhub.access.perms import Perm
from partnerhub.access.policy import Actor, perms_for
from partnerhub.catalog.models import BillingPeriod, Product
from partnerhub.core.errors import ServiceError
from partnerhub.orgs.models import Organisation

# Operator staff act on invoices and customer products with the finance permission: marking paid,
# refunding, cancelling, suspending and adding products are money matters, like payouts.
OPERATOR_BILLING = Perm.OPERATOR_PAYOUTS_MANAGE

PERIOD_MONTHS: dict[str, int] = {BillingPeriod.MONTHLY: 1, BillingPeriod.YEARLY: 12, BillingPeriod.ONE_TIME: 0}
MAX_TERM_MONTHS = 60
MAX_QUANTITY = 100_000


def require(actor: Actor, perm: Perm, org: Organisation) -> frozenset[Perm]:
    """404 when the actor cannot see `org` at all, 403 when they see it but lack `perm`."""
    if not actor.user.is_authenticated or not actor.user.is_active:
        raise PermissionDenied
    perms = perms_for(actor.user, org, api_key=actor.api_key)
    if not perms:
        raise Http404
    if perm not in perms:
        raise PermissionDenied
    return perms


def holds(actor: Actor, perm: Perm, org: Organisation) -> bool:
    """True when the actor holds `perm` on `org` now (no exception)."""
    if not actor.user.is_authenticated or not actor.user.is_active:
        return False
    return perm in perms_for(actor.user, org, api_key=actor.api_key)


def operator_org() -> Organisation:
    """The installation's operator organisation (there is at most one)."""
    org = Organisation.objects.filter(is_operator=True).first()
    if org is None:
        raise ServiceError(_("No operator organisation is set up."))
    return org


def require_operator(actor: Actor) -> Organisation:
    """Operator staff with the billing permission on the operator organisation, or refused."""
    org = Organisation.objects.filter(is_operator=True).first()
    if org is None:
        raise PermissionDenied
    require(actor, OPERATOR_BILLING, org)
    return org


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
