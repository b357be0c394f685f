"""Storing one validated event: references, products, the rows, the audit entry, lost races.

Shared by the API (single and batch fallback) and Partnerhub's own invoices; callers hold a
transaction and have checked access.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from partnerhub.access.policy import Actor
from partnerhub.audit.models import AuditEntry
from partnerhub.audit.services import record
from partnerhub.billing.events.payload import (
    AUDIT_CREATED,
    EXTERNAL_ID_MAX,
    REVERSIBLE,
    REVERSING,
    EventConflict,
    IngestResult,
    _Event,
    _Line,
)
from partnerhub.billing.events.signals import events_stored
from partnerhub.billing.models import BillingEvent, BillingEventLine
from partnerhub.catalog.models import Product
from partnerhub.core.errors import ServiceError
from partnerhub.core.money import round_money
from partnerhub.orgs.models import Organisation

# --- what is known about referred events ---------------------------------------------------------


@dataclass(slots=True)
class _Original:
    """An event that refunds may refer to: its owner, currency, kind, total and how much is reversed."""

    org_id: int
    currency: str
    kind: str
    total: Decimal
    reversed: Decimal = Decimal(0)


def _load_originals(external_ids: Iterable[str], *, lock: bool) -> dict[str, _Original]:
    ids = sorted(set(external_ids))
    if not ids:
        return {}
    rows = BillingEvent.objects.filter(external_id__in=ids).order_by("id")
    if lock:
        # One lock per original, taken in id order (no deadlock between two batches).
        rows = rows.select_for_update()
    found = {
        ext: (pk, org_id, currency, kind)
        for pk, ext, org_id, currency, kind in rows.values_list("id", "external_id", "org_id", "currency", "kind")
    }
    # Summed here, not with SQL SUM: SQLite adds decimals as floats.
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for ext, amount in BillingEventLine.objects.filter(event_id__in=[v[0] for v in found.values()]).values_list(
        "event__external_id", "base_amount"
    ):
        totals[ext] += amount
    reversed_: dict[str, Decimal] = defaultdict(Decimal)
    for ext, amount in BillingEventLine.objects.filter(
        event__refers_to__in=list(found), event__kind__in=list(REVERSING)
    ).values_list("event__refers_to", "base_amount"):
        reversed_[ext] += amount
    return {
        ext: _Original(
            org_id=org_id,
            currency=currency,
            kind=kind,
            total=totals[ext],
            reversed=reversed_[ext],
        )
        for ext, (_pk, org_id, currency, kind) in found.items()
    }


def _check_reference(event: _Event, org_id: int, originals: Mapping[str, _Original]) -> None:
    if event.kind not in REVERSING:
        return
    original = originals.get(event.refers_to)
    if original is None or original.org_id != org_id:
        raise ServiceError(
            _("The event “%(ref)s” this one refers to does not exist for this organisation.")
            % {"ref": event.refers_to[:EXTERNAL_ID_MAX]}
        )
    if original.kind not in REVERSIBLE:
        raise ServiceError(_("Only payments and renewals can be refunded or charged back."))
    if original.currency != event.currency:
        raise ServiceError(
            _("The event refers to an event in %(currency)s; use the same currency.") % {"currency": original.currency}
        )
    left = round_money(original.total - original.reversed, event.currency)
    if event.total > left:
        raise ServiceError(
            _("This reverses %(amount)s %(currency)s, but only %(left)s %(currency)s of “%(ref)s” is left to reverse.")
            % {"amount": event.total, "currency": event.currency, "left": left, "ref": event.refers_to}
        )


def _resolve_lines(event: _Event, products: Mapping[str, tuple[int, str]]) -> None:
    missing = sorted({line.sku for line in event.lines if line.sku not in products})
    if missing:
        raise ServiceError(_("Unknown products: %(skus)s.") % {"skus": ", ".join(s[:60] for s in missing)})
    event.lines = [
        _Line(
            sku=line.sku,
            amount=line.amount,
            product_id=products[line.sku][0],
            category_slug=products[line.sku][1],
            line_no=number,
        )
        for number, line in enumerate(event.lines, start=1)
    ]


def _products(skus: Iterable[str]) -> dict[str, tuple[int, str]]:
    return {
        sku: (pk, category)
        for pk, sku, category in Product.objects.filter(sku__in=set(skus)).values_list("id", "sku", "category__slug")
    }


def _orgs(slugs: Iterable[str]) -> dict[str, int]:
    return dict(Organisation.objects.filter(slug__in=set(slugs)).values_list("slug", "id"))


# --- writing -------------------------------------------------------------------------------------


def _new_event(event: _Event, org_id: int, *, source: str, invoice_id: int | None = None) -> BillingEvent:
    return BillingEvent(
        external_id=event.external_id,
        kind=event.kind,
        org_id=org_id,
        currency=event.currency,
        occurred_at=event.occurred_at,
        refers_to=event.refers_to,
        invoice_id=invoice_id,
        payload_hash=event.hash,
        source=source,
    )


def _new_lines(row: BillingEvent, event: _Event) -> list[BillingEventLine]:
    return [
        BillingEventLine(
            event_id=row.pk,
            line_no=line.line_no,
            product_id=line.product_id,
            product_sku=line.sku,
            category_slug=line.category_slug,
            base_amount=line.amount,
        )
        for line in event.lines
    ]


def _audit_entry(actor: Actor | None, row: BillingEvent, event: _Event, org: Organisation | None) -> AuditEntry:
    """The same entry `audit.services.record` writes, unsaved, so a batch can insert them in bulk."""
    user = actor.user if actor and actor.user.is_authenticated else None
    return AuditEntry(
        actor=user,
        actor_email=user.email if user else "",
        org=org,
        action=AUDIT_CREATED,
        object_type=BillingEvent._meta.label_lower,
        object_id=str(row.pk),
        object_repr=row.external_id[:200],
        after=_audit_after(event),
        ip=actor.ip if actor else None,
        user_agent=actor.user_agent if actor else "",
        api_key_id=actor.api_key.pk if actor and actor.api_key else None,
    )


def _audit_after(event: _Event) -> dict[str, Any]:
    return {
        "external_id": event.external_id,
        "kind": event.kind,
        "org": event.org_slug,
        "currency": event.currency,
        "total": str(event.total),
        "refers_to": event.refers_to,
    }


def _existing_outcome(event: _Event) -> BillingEvent | None:
    """The stored event with `event`'s id: returned when the payload is the same, else a conflict."""
    stored = BillingEvent.objects.filter(external_id=event.external_id).first()
    if stored is None:
        return None
    if stored.payload_hash != event.hash:
        raise EventConflict(
            _("The event “%(id)s” was already received with a different content.") % {"id": event.external_id}
        )
    return stored


def _write_one(
    actor: Actor | None,
    event: _Event,
    org: Organisation,
    *,
    audit_org: Organisation | None,
    source: str,
    invoice_id: int | None = None,
) -> IngestResult:
    """Store one validated event, or return the stored one; the caller holds a transaction."""
    # Lock the original before looking at this id: a concurrent post of the same refund waits
    # here, then finds it stored (replay) instead of counting it against the bound.
    originals = _load_originals([event.refers_to], lock=True) if event.kind in REVERSING else {}
    stored = _existing_outcome(event)
    if stored is not None:
        return IngestResult(stored, created=False)
    _check_reference(event, org.pk, originals)
    try:
        with transaction.atomic():
            row = _new_event(event, org.pk, source=source, invoice_id=invoice_id)
            row.save(force_insert=True)
    except IntegrityError:
        # Lost the race for this id: the winner's event is committed now.
        stored = _existing_outcome(event)
        if stored is None:
            raise
        return IngestResult(stored, created=False)
    BillingEventLine.objects.bulk_create(_new_lines(row, event))
    record(actor, AUDIT_CREATED, org=audit_org, obj=row, after=_audit_after(event))
    events_stored.send(sender=BillingEvent, event_ids=[row.pk])
    return IngestResult(row, created=True)
