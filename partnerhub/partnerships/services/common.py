"""What every partnership service shares: the grant input and its validation, locks, snapshots, recipients.

Nothing here checks access (the services do, with ``partnerhub.access.checks``); these are the
building blocks they call inside their transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from partnerhub.access.perms import Perm
from partnerhub.access.policy import DELEGABLE_PERMS, PAYMENT_PERMS, role_perms
from partnerhub.accounts.models import User
from partnerhub.billing.models import CustomerProduct
from partnerhub.core.errors import ServiceError
from partnerhub.orgs.models import Membership, Organisation
from partnerhub.partnerships.models import (
    DEFAULT_GRANT_DAYS,
    MAX_GRANT_DAYS,
    Grant,
    GrantCoverage,
    GrantMode,
    GrantProduct,
    Partnership,
    PartnershipStatus,
    PaymentMeans,
)

# ServiceError codes the API answers with 409 (the current state refuses the action).
CONFLICT = "conflict"


@dataclass(frozen=True)
class GrantInput:
    """What a customer grants (or a partner requests): DESIGN §5's mode, scopes, products, means, validity."""

    mode: str = GrantMode.FULL
    scopes: frozenset[Perm] = DELEGABLE_PERMS
    product_ids: frozenset[int] = field(default_factory=frozenset)
    payment_means: str = PaymentMeans.CUSTOMER
    validity_days: int = DEFAULT_GRANT_DAYS
    auto_extend: bool = False

    @classmethod
    def requested_by(cls, grant: Grant) -> GrantInput:
        """The access a pending partnership asks for (or offers), as stored on its grant."""
        return cls(
            mode=grant.requested_mode,
            scopes=grant.requested_scope_set,
            product_ids=frozenset(int(pk) for pk in grant.requested_product_ids),
            payment_means=grant.payment_means,
            validity_days=grant.validity_days,
            auto_extend=grant.auto_extend,
        )

    @classmethod
    def current(cls, grant: Grant) -> GrantInput:
        """The access in force on an active grant (the starting point of the edit form)."""
        return cls(
            mode=grant.mode,
            scopes=grant.scope_set,
            product_ids=frozenset(grant.products.values_list("customer_product_id", flat=True)),
            payment_means=grant.payment_means,
            validity_days=grant.validity_days,
            auto_extend=grant.auto_extend,
        )


def _perm_list(perms: frozenset[Perm]) -> list[str]:
    return sorted(str(p) for p in perms)


def check_validity(days: int) -> int:
    """A validity in whole days between 1 and MAX_GRANT_DAYS (730)."""
    if isinstance(days, bool) or not isinstance(days, int):
        raise ServiceError(_("Enter the validity as a whole number of days."))
    if days < 1:
        raise ServiceError(_("A grant must be valid for at least 1 day."))
    if days > MAX_GRANT_DAYS:
        raise ServiceError(_("A grant can be valid for at most %(max)s days.") % {"max": MAX_GRANT_DAYS})
    return days


def check_grant_input(customer: Organisation, grant: GrantInput) -> GrantInput:
    """Refuse a grant the rules do not allow (DESIGN §5); returns it normalised (full: no products;
    restricted: the customer's means and no ordering)."""
    if grant.mode not in GrantMode.values:
        raise ServiceError(_("Choose full or restricted access."))
    if grant.payment_means not in PaymentMeans.values:
        raise ServiceError(_("Choose whose payment means the partner uses."))
    scopes = frozenset(grant.scopes)
    foreign = scopes - DELEGABLE_PERMS
    if foreign:
        labels = ", ".join(sorted(str(Perm(p).label) for p in foreign))
        raise ServiceError(_("These permissions cannot be delegated to a partner: %(perms)s.") % {"perms": labels})
    check_validity(grant.validity_days)
    if grant.mode == GrantMode.FULL:
        return GrantInput(
            mode=GrantMode.FULL,
            scopes=scopes,
            payment_means=grant.payment_means,
            validity_days=grant.validity_days,
            auto_extend=bool(grant.auto_extend),
        )
    if grant.payment_means != PaymentMeans.CUSTOMER:
        raise ServiceError(_("Only a partner with full access can pay with its own payment means."))
    ids = frozenset(grant.product_ids)
    if not ids:
        raise ServiceError(_("Choose at least one product for restricted access."))
    own = set(CustomerProduct.objects.filter(org=customer, pk__in=ids).values_list("pk", flat=True))
    if own != ids:
        raise ServiceError(_("Restricted access can only name products of %(org)s.") % {"org": customer.name})
    return GrantInput(
        mode=GrantMode.RESTRICTED,
        # Ordering spends money, and only full grants have payment means (the rule never lets a
        # restricted grant order): the grant does not pretend otherwise.
        scopes=scopes - PAYMENT_PERMS,
        product_ids=ids,
        payment_means=PaymentMeans.CUSTOMER,
        validity_days=grant.validity_days,
        auto_extend=bool(grant.auto_extend),
    )


def check_not_itself(partner: Organisation, customer: Organisation) -> None:
    if partner.pk == customer.pk:
        raise ServiceError(_("An organisation cannot be its own service provider."))


def check_is_partner(partner: Organisation) -> None:
    if not partner.is_partner:
        raise ServiceError(_("%(org)s is not a partner.") % {"org": partner.name})


def lock_partnership(partnership: Partnership) -> Partnership:
    """The partnership row locked for this transaction, with both organisations and its grant."""
    return (
        Partnership.objects.select_for_update(of=("self",))
        .select_related("partner", "customer", "grant")
        .get(pk=partnership.pk)
    )


def lock_customer(customer: Organisation) -> None:
    """Serialise the writes that decide "one full partnership per customer" and product ownership."""
    Organisation.objects.select_for_update().filter(pk=customer.pk).first()


def check_one_full(customer: Organisation, *, except_partnership: int | None = None) -> None:
    """At most one active full partnership per customer; call with the customer row locked."""
    others = Partnership.objects.filter(customer=customer, status=PartnershipStatus.ACTIVE, grant__mode=GrantMode.FULL)
    if except_partnership is not None:
        others = others.exclude(pk=except_partnership)
    other = others.select_related("partner").first()
    if other is not None:
        raise ServiceError(
            _(
                "%(partner)s already has full access to %(customer)s. A customer has one partner with full "
                "access: end that partnership or restrict it to selected products first."
            )
            % {"partner": other.partner.name, "customer": customer.name},
            code=CONFLICT,
        )


def check_products_free(grant: Grant | None, product_ids: frozenset[int]) -> None:
    """Each product is managed by at most one partner: refuse products another grant names."""
    taken = GrantProduct.objects.filter(customer_product_id__in=product_ids).select_related(
        "customer_product__product", "grant__partnership__partner"
    )
    if grant is not None:
        taken = taken.exclude(grant=grant)
    row = taken.first()
    if row is not None:
        raise ServiceError(
            _("%(product)s is already managed by %(partner)s; a product has one managing partner.")
            % {"product": row.customer_product.product.name, "partner": row.grant.partnership.partner.name},
            code=CONFLICT,
        )


def sync_products(grant: Grant, product_ids: frozenset[int]) -> None:
    """Make the grant's products exactly `product_ids` (the unique row turns a race into a clear error)."""
    check_products_free(grant, product_ids)
    GrantProduct.objects.filter(grant=grant).exclude(customer_product_id__in=product_ids).delete()
    have = set(GrantProduct.objects.filter(grant=grant).values_list("customer_product_id", flat=True))
    for pk in sorted(product_ids - have):
        try:
            with transaction.atomic():
                GrantProduct.objects.create(grant=grant, customer_product_id=pk)
        except IntegrityError as exc:
            check_products_free(grant, frozenset({pk}))
            raise ServiceError(_("A product was just given to another partner. Try again."), code=CONFLICT) from exc


def apply_grant(grant: Grant, data: GrantInput, *, by: User | None, now: datetime) -> None:
    """Write `data` as the grant in force from `now` (a new version, a fresh validity, not revoked)."""
    grant.mode = data.mode
    grant.scopes = _perm_list(data.scopes)
    grant.payment_means = data.payment_means
    grant.validity_days = data.validity_days
    grant.auto_extend = data.auto_extend
    grant.valid_from = now
    grant.valid_until = now + timedelta(days=data.validity_days)
    grant.revoked_at = None
    grant.revoked_by = None
    grant.granted_by = by
    grant.warned_days = []
    grant.version += 1
    grant.updated_at = now
    grant.save()
    sync_products(grant, data.product_ids if data.mode == GrantMode.RESTRICTED else frozenset())
    record_coverage(grant.partnership_id, data.mode, data.product_ids, at=now)


def record_coverage(partnership_id: int, mode: str, customer_product_ids: frozenset[int], *, at: datetime) -> None:
    """Append what the partnership manages from `at` on, when that differs from what it managed so far
    (accrual reads these rows for events of any time)."""
    restricted = mode == GrantMode.RESTRICTED
    product_ids = (
        sorted(set(CustomerProduct.objects.filter(pk__in=customer_product_ids).values_list("product_id", flat=True)))
        if restricted
        else []
    )
    last = GrantCoverage.objects.filter(partnership_id=partnership_id).order_by("-effective_at", "-id").first()
    if last is not None and last.mode == mode and last.product_ids == product_ids:
        return
    GrantCoverage.objects.create(partnership_id=partnership_id, effective_at=at, mode=mode, product_ids=product_ids)


def store_request(grant: Grant, data: GrantInput) -> None:
    """Write what a pending partnership asks for (or offers); nothing is in force yet."""
    grant.requested_mode = data.mode
    grant.requested_scopes = _perm_list(data.scopes)
    grant.requested_product_ids = sorted(data.product_ids)
    grant.mode = data.mode
    grant.scopes = _perm_list(data.scopes)
    grant.payment_means = data.payment_means
    grant.validity_days = data.validity_days
    grant.auto_extend = data.auto_extend
    grant.updated_at = timezone.now()
    grant.save()


def activate(
    partnership: Partnership, data: GrantInput, *, by: User | None, now: datetime | None = None
) -> Partnership:
    """Make a (new or pending) partnership active with `data` in force; the customer row must be locked."""
    now = now or timezone.now()
    if data.mode == GrantMode.FULL:
        check_one_full(partnership.customer, except_partnership=partnership.pk)
    partnership.status = PartnershipStatus.ACTIVE
    partnership.activated_at = now
    partnership.token_hash = None
    partnership.expires_at = None
    partnership.save(update_fields=["status", "activated_at", "token_hash", "expires_at"])
    apply_grant(partnership.grant, data, by=by, now=now)
    return partnership


def save_new(partnership: Partnership) -> Partnership:
    """Insert a partnership; the one-open-per-pair constraint becomes a clear error."""
    try:
        with transaction.atomic():
            partnership.save()
    except IntegrityError as exc:
        raise ServiceError(
            _("%(partner)s and %(customer)s already have an active partnership or a pending request.")
            % {"partner": partnership.partner.name, "customer": partnership.customer.name},
            code=CONFLICT,
        ) from exc
    return partnership


# --- snapshots for the audit log ----------------------------------------------------------------------


def grant_state(grant: Grant) -> dict[str, Any]:
    """The grant as the audit log keeps it (before/after of every version)."""
    return {
        "version": grant.version,
        "mode": grant.mode,
        "scopes": sorted(grant.scopes),
        "products": sorted(grant.products.values_list("customer_product_id", flat=True)),
        "payment_means": grant.payment_means,
        "validity_days": grant.validity_days,
        "auto_extend": grant.auto_extend,
        "valid_from": grant.valid_from.isoformat() if grant.valid_from else None,
        "valid_until": grant.valid_until.isoformat() if grant.valid_until else None,
        "revoked_at": grant.revoked_at.isoformat() if grant.revoked_at else None,
        "requested_mode": grant.requested_mode,
        "requested_scopes": sorted(grant.requested_scopes),
        "requested_products": sorted(grant.requested_product_ids),
    }


def partnership_state(partnership: Partnership) -> dict[str, Any]:
    return {
        "partner": partnership.partner.slug,
        "customer": partnership.customer.slug,
        "flow": partnership.flow,
        "origin": partnership.origin,
        "status": partnership.status,
        "expires_at": partnership.expires_at.isoformat() if partnership.expires_at else None,
        "ended_by_side": partnership.ended_by_side,
        "end_reason": partnership.end_reason,
    }


# --- who gets the emails ---------------------------------------------------------------------------------


def _holders(org: Organisation, perm: Perm, extra: Q | None = None) -> list[User]:
    rows = Membership.objects.filter(org=org, user__is_active=True).select_related("user")
    if extra is not None:
        rows = rows.filter(extra)
    return [
        m.user
        for m in rows.order_by("id")
        if perm in role_perms(m.role, m.extra_perms, is_partner=org.is_partner, is_operator=org.is_operator)
    ]


def provider_managers(customer: Organisation) -> list[User]:
    """The customer's members who choose providers and grants (they answer requests, get warnings)."""
    return _holders(customer, Perm.PROVIDERS_MANAGE)


def partner_administrators(partner: Organisation, customer: Organisation | None = None) -> list[User]:
    """The partner's staff who administer customers (all of them, or those assigned to `customer`)."""
    if customer is None:
        scope = Q(assigned_customers_only=False)
    else:
        scope = Q(assigned_customers_only=False) | Q(assignments__customer=customer)
    seen: dict[int, User] = {u.pk: u for u in _holders(partner, Perm.PARTNER_CUSTOMERS_ADMINISTER, scope)}
    return list(seen.values())


def side_recipients(partnership: Partnership, side: str) -> list[User]:
    """Who stands for `side` ("customer" or "partner") of a partnership in emails."""
    if side == "customer":
        return provider_managers(partnership.customer)
    return partner_administrators(partnership.partner, partnership.customer)
