"""Partner figures and tiers (DESIGN §8, seed 004), kept current set-based.

:func:`refresh_partner_stats` counts, in one grouped statement for any number of partners, each
partner's customers (active partnerships), open invitations (its pending requests to manage a customer,
and the customers it created whose invited owner has not registered yet), active customers
(with at least one active paid product) and customers in trial, then stores the figures and, where the
tier by active customers differs from the stored one, appends a :class:`~.models.TierChange` effective
now. A lower tier waits out the program's demotion grace period (``below_since``). It runs after every
change of a customer's products or partnerships (signals, on commit, for the partners concerned) and
nightly for all partners, which also catches bulk changes that send no signals.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q
from django.utils import timezone

from partnerhub.commissions.models import PartnerStats, TierChange
from partnerhub.commissions.terms import Terms, TierInfo, load_terms


@dataclass(frozen=True, slots=True)
class Figures:
    customers: int = 0
    open_invitations: int = 0
    active_customers: int = 0
    trial_customers: int = 0


def count_figures(partner_ids: Iterable[int] | None = None, *, now: datetime | None = None) -> dict[int, Figures]:
    """The live figures of the given partners (all partners when None), computed from scratch."""
    from partnerhub.access.perms import Role
    from partnerhub.billing.models import CustomerProduct, ProductStatus
    from partnerhub.orgs.models import Invitation, Organisation
    from partnerhub.partnerships.models import Flow, Partnership, PartnershipStatus

    now = now or timezone.now()
    partners = Organisation.objects.filter(is_partner=True)
    if partner_ids is not None:
        partners = partners.filter(pk__in=list(partner_ids))
    ids = list(partners.values_list("id", flat=True))
    if not ids:
        return {}
    products = CustomerProduct.objects.filter(org_id=OuterRef("customer_id"))
    unanswered = Invitation.objects.filter(
        org_id=OuterRef("customer_id"), role=Role.OWNER, accepted_at=None, cancelled_at=None
    )
    active = Partnership.objects.filter(partner_id__in=ids, status=PartnershipStatus.ACTIVE)
    counted: dict[int, dict[str, Any]] = {
        row["partner_id"]: dict(row)
        for row in active.values("partner_id").annotate(
            customers=Count("id"),
            active_customers=Count("id", filter=Q(Exists(products.filter(status=ProductStatus.ACTIVE)))),
            trial_customers=Count("id", filter=Q(Exists(products.filter(status=ProductStatus.TRIAL)))),
            # Customers the partner created whose invited owner has not registered yet (seed 000).
            invited=Count("id", filter=Q(flow=Flow.CREATED) & Q(Exists(unanswered))),
        )
    }
    requests = dict(
        Partnership.objects.filter(
            partner_id__in=ids,
            status=PartnershipStatus.PENDING,
            expires_at__gt=now,
            flow=Flow.REQUESTED,
        )
        .values("partner_id")
        .annotate(n=Count("id"))
        .values_list("partner_id", "n")
    )
    figures = {}
    for pk in ids:
        row: dict[str, Any] = counted.get(pk, {})
        figures[pk] = Figures(
            customers=row.get("customers", 0),
            open_invitations=requests.get(pk, 0) + row.get("invited", 0),
            active_customers=row.get("active_customers", 0),
            trial_customers=row.get("trial_customers", 0),
        )
    return figures


def refresh_partner_stats(
    partner_ids: Iterable[int] | None = None, *, now: datetime | None = None, terms: Terms | None = None
) -> int:
    """Store fresh figures for the partners (all when None) and record tier changes; returns how many
    partners changed tier."""
    now = now or timezone.now()
    terms = terms or load_terms()
    figures = count_figures(partner_ids, now=now)
    if not figures:
        return 0
    changes = []
    with transaction.atomic():
        stored = {
            s.partner_id: s for s in PartnerStats.objects.select_for_update().filter(partner_id__in=list(figures))
        }
        new_rows, updated = [], []
        for pk, fig in sorted(figures.items()):
            stats = stored.get(pk)
            if stats is None:
                stats = PartnerStats(partner_id=pk)
                new_rows.append(stats)
            else:
                updated.append(stats)
            change = _next_tier(stats, terms.tier_for(fig.active_customers), terms, now)
            stats.customers = fig.customers
            stats.open_invitations = fig.open_invitations
            stats.active_customers = fig.active_customers
            stats.trial_customers = fig.trial_customers
            stats.refreshed_at = now
            if change is not None:
                tier = change if isinstance(change, TierInfo) else None
                changes.append(
                    TierChange(
                        partner_id=pk,
                        tier_id=tier.id if tier else None,
                        tier_name=tier.name if tier else "",
                        previous_tier_name=_name(terms, stats.tier_id),
                        customers=fig.active_customers,
                        effective_at=now,
                        created_at=now,
                    )
                )
                stats.tier_id = tier.id if tier else None
                stats.tier_since = now
                stats.below_since = None
        # A concurrent refresh may have created the row meanwhile: its figures are as fresh as ours.
        PartnerStats.objects.bulk_create(new_rows, ignore_conflicts=True)
        PartnerStats.objects.bulk_update(
            updated,
            [
                "customers",
                "open_invitations",
                "active_customers",
                "trial_customers",
                "tier",
                "tier_since",
                "below_since",
                "refreshed_at",
            ],
        )
        TierChange.objects.bulk_create(changes)
    return len(changes)


_UNCHANGED = None


def _next_tier(stats: PartnerStats, earned: TierInfo | None, terms: Terms, now: datetime) -> TierInfo | bool | None:
    """The tier to switch to (a TierInfo, or False for "no tier"), or None when the tier stays."""
    current = stats.tier_id
    earned_id = earned.id if earned else None
    if earned_id == current:
        stats.below_since = None
        return _UNCHANGED
    if terms.tier_rank(earned_id) < terms.tier_rank(current) and terms.demotion_grace_days:
        stats.below_since = stats.below_since or now
        if now - stats.below_since < timedelta(days=terms.demotion_grace_days):
            return _UNCHANGED
    return earned if earned is not None else False


def _name(terms: Terms, tier_id: int | None) -> str:
    return next((t.name for t in terms.tiers if t.id == tier_id), "")


def tier_at(partner_id: int, moment: datetime) -> TierChange | None:
    """The tier change in force for `partner_id` at `moment` (None: no tier then)."""
    return (
        TierChange.objects.filter(partner_id=partner_id, effective_at__lte=moment)
        .order_by("-effective_at", "-id")
        .first()
    )
