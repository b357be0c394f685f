"""Reading the audit log. Every read starts from the organisation the access decorator resolved."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from django.db.models import QuerySet
from django.utils import timezone

from partnerhub.audit.models import AuditEntry
from partnerhub.orgs.models import Organisation

PAGE_SIZE = 50


@dataclass(frozen=True)
class AuditFilters:
    """What the audit log page and its export are narrowed to (empty values filter nothing)."""

    action: str = ""
    actor: str = ""
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class AuditPage:
    """One page of entries, newest first, with the keys of the neighbouring pages (None: no such page)."""

    entries: list[AuditEntry]
    older_than: int | None
    newer_than: int | None


def _start_of(day: date) -> datetime | None:
    """The first moment of `day` in the current time zone; None when no moment is that early or late."""
    try:
        start = timezone.make_aware(datetime.combine(day, time.min))
        start.astimezone(UTC)  # the database compares in UTC: the day must exist there too
    except OverflowError:
        return None
    return start


def _day_after(day: date) -> date | None:
    return None if day == date.max else day + timedelta(days=1)


def entries_for(org: Organisation, *, filters: AuditFilters) -> QuerySet[AuditEntry]:
    """The organisation's own entries matching `filters`, newest first."""
    entries = AuditEntry.objects.filter(org=org).select_related("on_behalf_of_partner").order_by("-id")
    if filters.action:
        entries = entries.filter(action=filters.action)
    if filters.actor:
        entries = entries.filter(actor_email__icontains=filters.actor)
    # Dates are days in the current time zone; "to" includes its whole day. A day beyond what a
    # moment can express bounds nothing: every entry is after the first and before the last one.
    start = _start_of(filters.date_from) if filters.date_from else None
    if start is not None:
        entries = entries.filter(created_at__gte=start)
    day_after = _day_after(filters.date_to) if filters.date_to else None
    end = _start_of(day_after) if day_after else None
    if end is not None:
        entries = entries.filter(created_at__lt=end)
    return entries


def actions_for(org: Organisation) -> list[str]:
    """The distinct actions present in the organisation's log, for the filter's choices."""
    return list(AuditEntry.objects.filter(org=org).order_by("action").values_list("action", flat=True).distinct())


def page_of(
    org: Organisation,
    *,
    filters: AuditFilters,
    before: int | None = None,
    after: int | None = None,
    size: int = PAGE_SIZE,
) -> AuditPage:
    """Keyset pagination by id: the `size` entries older than `before`, or newer than `after`, or the newest."""
    entries = entries_for(org, filters=filters)
    if after is not None:
        # Walk forwards from `after`, then show that slice newest first like every other page.
        chunk = list(entries.filter(id__gt=after).order_by("id")[: size + 1])
        has_newer = len(chunk) > size
        rows = list(reversed(chunk[:size]))
        has_older = bool(rows) and entries.filter(id__lt=rows[-1].pk).exists()
    else:
        if before is not None:
            entries = entries.filter(id__lt=before)
        chunk = list(entries[: size + 1])
        has_older = len(chunk) > size
        rows = chunk[:size]
        has_newer = (
            before is not None and bool(rows) and entries_for(org, filters=filters).filter(id__gt=rows[0].pk).exists()
        )
    return AuditPage(
        entries=rows,
        older_than=rows[-1].pk if has_older else None,
        newer_than=rows[0].pk if has_newer else None,
    )
