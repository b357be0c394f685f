"""Every read of the partnerships area, always within one organisation (404 for anything else)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils import timezone

from partnerhub.access.perms import Perm
from partnerhub.access.policy import DELEGABLE_PERMS
from partnerhub.audit.models import AuditEntry
from partnerhub.billing.models import CustomerProduct
from partnerhub.orgs.models import Organisation
from partnerhub.partnerships.models import (
    OPEN_STATUSES,
    Grant,
    GrantMode,
    Partnership,
    PartnershipStatus,
)

SEARCH_LIMIT = 20
HISTORY_PAGE = 25
# The delegable permissions in vocabulary order, for forms and summaries.
SCOPE_ORDER: list[Perm] = [p for p in Perm if p in DELEGABLE_PERMS]


def _rows() -> QuerySet[Partnership]:
    return Partnership.objects.select_related("partner", "customer", "grant", "created_by", "ended_by")


def of_customer(customer: Organisation) -> QuerySet[Partnership]:
    return _rows().filter(customer=customer)


def of_partner(partner: Organisation) -> QuerySet[Partnership]:
    return _rows().filter(partner=partner)


def open_of_customer(customer: Organisation) -> list[Partnership]:
    """Active partnerships first, then pending ones (newest first)."""
    rows = of_customer(customer).filter(status__in=OPEN_STATUSES)
    return sorted(rows, key=lambda p: (p.status != PartnershipStatus.ACTIVE, -p.pk))


def closed(rows: QuerySet[Partnership]) -> QuerySet[Partnership]:
    return rows.exclude(status__in=OPEN_STATUSES)


def customer_partnership(customer: Organisation, partnership_id: int) -> Partnership:
    """A partnership of `customer` (404 for any other)."""
    found = of_customer(customer).filter(pk=partnership_id).first()
    if found is None:
        raise Http404
    return found


def partner_partnership(partner: Organisation, partnership_id: int) -> Partnership:
    """A partnership of `partner` (404 for any other)."""
    found = of_partner(partner).filter(pk=partnership_id).first()
    if found is None:
        raise Http404
    return found


def pending_by_token(token: str) -> Partnership | None:
    """The pending partnership a link names (None for a wrong, used or withdrawn link)."""
    if not token or "\x00" in token:
        return None
    return _rows().filter(token_hash=Partnership.hash_token(token), status=PartnershipStatus.PENDING).first()


def history(partnership: Partnership) -> QuerySet[AuditEntry]:
    """The audit entries of a partnership: its lifecycle and every version of its grant."""
    return AuditEntry.objects.filter(object_type="partnerships.partnership", object_id=str(partnership.pk))


def search_partners(query: str, *, exclude: Organisation) -> list[Organisation]:
    """Partner organisations listed in the directory by (part of) their name, or any partner by the
    exact email of its contact or one of its members (someone who knows the address)."""
    query = (query or "").strip()
    if len(query) < 2 or "\x00" in query:
        return []
    match = Q(name__icontains=query, partner_profile__listed_in_directory=True)
    if "@" in query:
        match |= Q(memberships__user__email__iexact=query) | Q(partner_profile__contact_email__iexact=query)
    rows = Organisation.objects.filter(match, is_partner=True).exclude(pk=exclude.pk).distinct()
    return list(rows.order_by("name", "id")[:SEARCH_LIMIT])


def partner_by_id(partner_id: int | None, *, exclude: Organisation) -> Organisation:
    """A partner organisation other than `exclude` (404 for anything else)."""
    if partner_id is None:
        raise Http404
    found = Organisation.objects.filter(pk=partner_id, is_partner=True).exclude(pk=exclude.pk).first()
    if found is None:
        raise Http404
    return found


def products_of(customer: Organisation) -> QuerySet[CustomerProduct]:
    return CustomerProduct.objects.filter(org=customer).select_related("product").order_by("product__name", "id")


@dataclass(frozen=True)
class GrantView:
    """A grant as pages show it."""

    mode: str
    restricted: bool
    scopes: list[Perm]
    products: list[CustomerProduct]
    payment_means: str
    valid_until: datetime | None
    auto_extend: bool
    state: str  # "in_force", "expired", "revoked", "pending"
    version: int
    requested_scopes: list[Perm]
    requested_mode: str
    differs: bool


def grant_view(partnership: Partnership) -> GrantView:
    grant: Grant = partnership.grant
    pending = partnership.status == PartnershipStatus.PENDING
    if pending:
        ids = [int(pk) for pk in grant.requested_product_ids]
        products = list(CustomerProduct.objects.filter(pk__in=ids).select_related("product"))
        state = "pending"
    else:
        products = [gp.customer_product for gp in grant.products.select_related("customer_product__product")]
        if grant.revoked_at is not None:
            state = "revoked"
        elif grant.valid_until is None or grant.valid_until <= timezone.now():
            state = "expired"
        else:
            state = "in_force"
    scopes = [p for p in SCOPE_ORDER if p in (grant.requested_scope_set if pending else grant.scope_set)]
    requested = [p for p in SCOPE_ORDER if p in grant.requested_scope_set]
    mode = grant.requested_mode if pending else grant.mode
    return GrantView(
        mode=str(GrantMode(mode).label),
        restricted=mode == GrantMode.RESTRICTED,
        scopes=scopes,
        products=products,
        payment_means=grant.get_payment_means_display(),
        valid_until=grant.valid_until,
        auto_extend=grant.auto_extend,
        state=state,
        version=grant.version,
        requested_scopes=requested,
        requested_mode=str(GrantMode(grant.requested_mode).label),
        differs=not pending and (set(requested) != set(scopes) or grant.requested_mode != grant.mode),
    )
