"""Billing events: the only input of commission accrual (DESIGN §6, §8).

Three ways in, one set of rules:

- :func:`ingest_event` — one event posted by the operator's own billing system (API, single);
- :func:`ingest_batch` — up to :data:`MAX_BATCH` events in one request, with a result per event;
- :func:`record_invoice_event` — Partnerhub's own invoices, when paid or refunded.

**Idempotency.** ``BillingEvent.external_id`` is unique in the database; that constraint, not a
check before inserting, decides which of two concurrent posts of one id wins. Each event stores the
SHA-256 of its canonical payload (:func:`payload_hash`: sorted-key JSON of the normalised payload,
times in UTC, amounts quantised to the currency's minor unit). When the insert loses (IntegrityError),
the stored event is read again: the same hash is a faithful replay (the original event is returned,
nothing is written), a different hash is a conflict (:class:`EventConflict`, 409 in the API).

**Rules of an event.**

- ``external_id``: 1–100 characters, no spaces or control characters; ids starting with ``invoice:``
  are reserved for Partnerhub's own invoices.
- ``kind``: payment, renewal, refund or chargeback. Refunds and chargebacks name the event they
  reverse in ``refers_to``: it must exist, be a payment or renewal, and belong to the same
  organisation and currency. Payments and renewals have no ``refers_to``.
- ``org``: the customer organisation's short name (slug); ``currency``: a supported ISO code.
- ``occurred_at``: an ISO 8601 time with a UTC offset (a time without offset is refused).
- ``lines``: 1–:data:`MAX_LINES`, each a catalog product ``sku`` and a ``base_amount`` given as a
  decimal string (``"12.50"``; JSON numbers are refused so no float ever touches an amount). Every
  amount is positive and has no more decimals than the currency's minor unit (``"12.50"`` and
  ``"12.500"`` are fine in CHF, ``"12.505"`` is refused rather than silently rounded). For refunds
  and chargebacks the positive amount is money going back to the customer.
- **Refund bound**: everything reversed so far for one original event (all its refunds and
  chargebacks, this one included) may not exceed the original event's line total. The original
  event's row is locked (``SELECT … FOR UPDATE``) while the bound is checked, so two concurrent
  partial refunds cannot together exceed it.

**Atomicity.** Every event is written whole (the event, its lines and its audit entry) or not at all.
A batch validates every event before writing anything (invalid ones get a message and are skipped),
then writes the accepted ones set-based (a handful of bulk queries whatever the batch size) inside a
savepoint. If that savepoint fails because a concurrent writer inserted one of the same ids meanwhile,
it is rolled back and the batch is processed again event by event, each in its own savepoint, which
resolves every race into replay or conflict without half-writing anything.

**Audit.** Each created event gets one ``billing_event.created`` entry on the *operator* organisation:
billing events are the operator's bookkeeping (its billing system posts them with its own keys, and
its staff answer for them); customers see their events on their own billing-events page instead.
"""

from partnerhub.billing.events.ingest import ingest_batch, ingest_event
from partnerhub.billing.events.invoices import invoice_event_id, record_invoice_event, split_proportionally
from partnerhub.billing.events.payload import (
    AUDIT_CREATED,
    EXTERNAL_ID_MAX,
    INVOICE_PREFIX,
    MAX_BATCH,
    MAX_LINES,
    REVERSIBLE,
    REVERSING,
    EventConflict,
    EventIn,
    IngestResult,
    ItemResult,
    LineIn,
    Status,
    payload_hash,
)
from partnerhub.billing.events.queries import PAGE_SIZE, EventFilters, operator_events, org_events, page_of, totals_of
from partnerhub.core.money import MAX_AMOUNT

__all__ = [
    "AUDIT_CREATED",
    "EXTERNAL_ID_MAX",
    "INVOICE_PREFIX",
    "MAX_AMOUNT",
    "MAX_BATCH",
    "MAX_LINES",
    "PAGE_SIZE",
    "REVERSIBLE",
    "REVERSING",
    "EventConflict",
    "EventFilters",
    "EventIn",
    "IngestResult",
    "ItemResult",
    "LineIn",
    "Status",
    "ingest_batch",
    "ingest_event",
    "invoice_event_id",
    "operator_events",
    "org_events",
    "page_of",
    "payload_hash",
    "record_invoice_event",
    "split_proportionally",
    "totals_of",
]
