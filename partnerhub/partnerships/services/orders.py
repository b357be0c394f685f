"""Which partnership prices an order (DESIGN §6's reward table): the one in force for the customer."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerhub.access.policy import PARTNER, Access
from partnerhub.billing import pricing
from partnerhub.billing.services.orders import OrderPartnership
from partnerhub.core.errors import ServiceError
from partnerhub.orgs.models import Organisation
from partnerhub.partnerships.models import GrantMode, GrantProduct, Partnership, PartnershipStatus


def partnerships_in_force(customer: Organisation) -> QuerySet[Partnership]:
    """The customer's active partnerships whose grant is neither revoked nor expired."""
    return Partnership.objects.filter(
        customer=customer,
        status=PartnershipStatus.ACTIVE,
        grant__revoked_at=None,
        grant__valid_until__gt=timezone.now(),
    ).select_related("partner", "grant")


def _restricted_manager(customer: Organisation, product_ids: frozenset[int]) -> Partnership | None:
    """The restricted partnership whose grant names customer products of every ordered catalog product."""
    rows = GrantProduct.objects.filter(
        grant__partnership__in=partnerships_in_force(customer).filter(grant__mode=GrantMode.RESTRICTED),
        customer_product__org=customer,
        customer_product__product_id__in=product_ids,
    ).values_list("grant__partnership_id", "customer_product__product_id")
    managed: dict[int, set[int]] = {}
    for partnership_id, product_id in rows:
        managed.setdefault(partnership_id, set()).add(product_id)
    for partnership_id, products in sorted(managed.items()):
        if products == product_ids:
            return partnerships_in_force(customer).get(pk=partnership_id)
    return None


def order_partnership_for(
    customer: Organisation, *, ordered_by: str, product_ids: Iterable[int] = ()
) -> OrderPartnership | None:
    """The partnership that prices an order for `customer`, or None (no reward).

    `product_ids` are the catalog products ordered. When the customer orders products a restricted
    grant hands to one partner (the customer already has them, that partner manages them), that
    partner's restricted terms apply; otherwise the full partnership in force (with its payment
    means), if any. A partner orders only through a full grant (restricted grants cannot order).
    An order mixing products of several managers is priced with the full partnership.
    """
    ids = frozenset(product_ids)
    if ordered_by == pricing.OrderedBy.CUSTOMER and ids:
        restricted = _restricted_manager(customer, ids)
        if restricted is not None:
            return OrderPartnership(
                partner=restricted.partner,
                terms=pricing.Partnership(
                    mode=pricing.PartnershipMode.RESTRICTED,
                    payment_means=pricing.PaymentMeans.CUSTOMER,
                    product_managed_by_partner=True,
                ),
            )
    full = partnerships_in_force(customer).filter(grant__mode=GrantMode.FULL).first()
    if full is None:
        return None
    return OrderPartnership(
        partner=full.partner,
        terms=pricing.Partnership(
            mode=pricing.PartnershipMode.FULL, payment_means=pricing.PaymentMeans(full.grant.payment_means)
        ),
    )


def ordering_for(
    access: Access | None, customer: Organisation, product_ids: Iterable[int]
) -> tuple[str, OrderPartnership | None]:
    """Who orders and with which partnership, from the access the order page or API resolved.

    Partner staff acting through their grant order as the partner ("partner", their full
    partnership); everyone else orders as the customer, and the customer's partnership in force
    (if any) still decides the reward.
    """
    if access is not None and access.via == PARTNER:
        terms = order_partnership_for(customer, ordered_by=pricing.OrderedBy.PARTNER, product_ids=product_ids)
        if terms is None or terms.partner.pk != access.partner_id:
            raise ServiceError(_("Only a partner with full access orders for this customer."))
        return pricing.OrderedBy.PARTNER, terms
    return pricing.OrderedBy.CUSTOMER, order_partnership_for(
        customer, ordered_by=pricing.OrderedBy.CUSTOMER, product_ids=product_ids
    )
