"""Reading the audit log. Every read starts from the organisation the access decorator resolved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import QuerySet

from partnerhub.audit.models import AuditEntry
from partnerhub.core.days import day_range
from partnerhub.core.paging import Keyset, keyset_page
from partnerhub.orgs.models import Organisation

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilters:
    """What the audit log page and its export are narrowed to (empty values filter nothing)."""

    action: str = ""
    actor: str = ""
    date_from: date | None = None
    date_to: date | None = None
    # Work done for the organisation by a partner or operator support: any (True), or one acting organisation.
    partner_only: bool = False
    partner_id: int | None = None
    session_id: int | None = None


def entries_for(org: Organisation, *, filters: AuditFilters) -> QuerySet[AuditEntry]:
    """The organisation's own entries matching `filters`, newest first."""
    entries = AuditEntry.objects.filter(org=org).select_related("on_behalf_of_partner").order_by("-id")
    if filters.action:
        entries = entries.filter(action=filters.action)
    if filters.actor:
        entries = entries.filter(actor_email__icontains=filters.actor)
    if filters.partner_only:
        entries = entries.filter(on_behalf_of_partner__isnull=False)
    if filters.partner_id is not None:
        entries = entries.filter(on_behalf_of_partner_id=filters.partner_id)
    if filters.session_id is not None:
        entries = entries.filter(management_session_id=filters.session_id)
    # Dates are days in the current time zone; "to" includes its whole day.
    start, end = day_range(filters.date_from, filters.date_to)
    if start is not None:
        entries = entries.filter(created_at__gte=start)
    if end is not None:
        entries = entries.filter(created_at__lt=end)
    return entries


def actions_for(org: Organisation) -> list[str]:
    """The distinct actions present in the organisation's log, for the filter's choices."""
    return list(AuditEntry.objects.filter(org=org).order_by("action").values_list("action", flat=True).distinct())


def acting_partners_for(org: Organisation) -> list[Organisation]:
    """The partners (and the operator) that acted for the organisation, for the filter's choices."""
    acted = AuditEntry.objects.filter(org=org, on_behalf_of_partner__isnull=False).values("on_behalf_of_partner_id")
    return list(Organisation.objects.filter(pk__in=acted).order_by("name", "id"))


def page_of(
    org: Organisation,
    *,
    filters: AuditFilters,
    before: int | None = None,
    after: int | None = None,
    size: int = PAGE_SIZE,
) -> Keyset[AuditEntry]:
    """Keyset pagination by id: the `size` entries older than `before`, or newer than `after`, or the newest."""
    return keyset_page(entries_for(org, filters=filters), before=before, after=after, size=size)
