"""Reading billing events: the operator's view of every organisation's, each customer's own, pages."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal

from django.db.models import QuerySet

from partnerhub.access.checks import require
from partnerhub.access.operator import require_operator
from partnerhub.access.perms import Perm
from partnerhub.access.policy import Actor
from partnerhub.billing.models import BillingEvent, BillingEventLine
from partnerhub.core.money import round_money
from partnerhub.core.paging import Keyset, keyset_page
from partnerhub.orgs.models import Organisation

# --- reading -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class EventFilters:
    org: str = ""
    kind: str = ""
    since: datetime | None = None
    until: datetime | None = None


def _filtered(events: QuerySet[BillingEvent], filters: EventFilters) -> QuerySet[BillingEvent]:
    if filters.org:
        events = events.filter(org__slug=filters.org)
    if filters.kind:
        events = events.filter(kind=filters.kind)
    if filters.since is not None:
        events = events.filter(occurred_at__gte=filters.since)
    if filters.until is not None:
        events = events.filter(occurred_at__lt=filters.until)
    return events


def operator_events(actor: Actor, *, filters: EventFilters | None = None) -> QuerySet[BillingEvent]:
    """Every organisation's events, for operator staff (``until`` is exclusive)."""
    require_operator(actor, Perm.OPERATOR_PROGRAM_MANAGE, conceal=False)
    return _filtered(BillingEvent.objects.select_related("org"), filters or EventFilters())


def org_events(actor: Actor, *, org: Organisation, filters: EventFilters | None = None) -> QuerySet[BillingEvent]:
    """One customer's own events, for its members with ``billing.view``."""
    require(actor, Perm.BILLING_VIEW, org)
    own = replace(filters or EventFilters(), org="")
    return _filtered(BillingEvent.objects.filter(org=org).select_related("org"), own)


PAGE_SIZE = 50


def page_of(
    events: QuerySet[BillingEvent], *, before: int | None = None, after: int | None = None, size: int = PAGE_SIZE
) -> Keyset[BillingEvent]:
    """Keyset pagination by id: the `size` events older than `before`, or newer than `after`, or the newest."""
    return keyset_page(events, before=before, after=after, size=size)


def totals_of(events: Iterable[BillingEvent]) -> dict[int, Decimal]:
    """Each event's line total, rounded to its currency (one query for the whole page)."""
    by_id = {event.pk: event for event in events}
    totals: dict[int, Decimal] = dict.fromkeys(by_id, Decimal(0))
    for event_id, amount in BillingEventLine.objects.filter(event_id__in=list(by_id)).values_list(
        "event_id", "base_amount"
    ):
        totals[event_id] += amount
    return {pk: round_money(total, by_id[pk].currency) for pk, total in totals.items()}
