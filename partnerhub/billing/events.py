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

from __future__ import annotations

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any, Literal

from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from partnerhub.access.perms import Perm
from partnerhub.access.policy import Actor, perms_for
from partnerhub.audit.models import AuditEntry
from partnerhub.audit.services import record
from partnerhub.billing.models import BillingEvent, BillingEventKind, BillingEventLine, Invoice, InvoiceLine
from partnerhub.catalog.models import Product
from partnerhub.core.errors import ServiceError
from partnerhub.core.money import MINOR_UNITS, exponent, round_money
from partnerhub.orgs.models import Organisation

MAX_BATCH = 1000
MAX_LINES = 200
EXTERNAL_ID_MAX = 100
INVOICE_PREFIX = "invoice:"
# Amounts are stored with 18 digits, 4 of them decimals.
MAX_AMOUNT = Decimal(10) ** 14
REVERSING = frozenset({BillingEventKind.REFUND, BillingEventKind.CHARGEBACK})
REVERSIBLE = frozenset({BillingEventKind.PAYMENT, BillingEventKind.RENEWAL})
_EXTERNAL_ID = re.compile(r"[^\s\x00-\x1f\x7f]+")
_SLUG = re.compile(r"[-a-zA-Z0-9_]{1,60}")

AUDIT_CREATED = "billing_event.created"

Status = Literal["created", "replayed", "conflict", "invalid"]


class EventConflict(ServiceError):
    """The external id is taken by an event with a different payload (409)."""


# --- input ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class LineIn:
    sku: str
    base_amount: str | Decimal | int


@dataclass(frozen=True, slots=True)
class EventIn:
    """One billing event as a client sends it (values are checked by the services, not here)."""

    external_id: str
    kind: str
    org: str
    currency: str
    occurred_at: datetime | str
    lines: Sequence[LineIn]
    refers_to: str = ""

    FIELDS = frozenset({"external_id", "kind", "org", "currency", "occurred_at", "lines", "refers_to"})
    LINE_FIELDS = frozenset({"sku", "base_amount"})

    @classmethod
    def from_data(cls, data: Any) -> EventIn:
        """An event from decoded JSON (a batch item); refuses missing, unknown and mistyped fields."""
        if not isinstance(data, Mapping):
            raise ServiceError(_("An event must be a JSON object."))
        unknown = sorted(str(k) for k in data if k not in cls.FIELDS)
        if unknown:
            raise ServiceError(_("Unknown fields: %(fields)s.") % {"fields": ", ".join(unknown)})
        missing = sorted(k for k in cls.FIELDS - {"refers_to"} if k not in data)
        if missing:
            raise ServiceError(_("Missing fields: %(fields)s.") % {"fields": ", ".join(missing)})
        for name in ("external_id", "kind", "org", "currency", "occurred_at"):
            if not isinstance(data[name], str):
                raise ServiceError(_("The field “%(field)s” must be a string.") % {"field": name})
        refers_to = data.get("refers_to") or ""
        if not isinstance(refers_to, str):
            raise ServiceError(_("The field “%(field)s” must be a string.") % {"field": "refers_to"})
        raw_lines = data["lines"]
        if not isinstance(raw_lines, list):
            raise ServiceError(_("The field “lines” must be a list."))
        lines = []
        for raw in raw_lines:
            if not isinstance(raw, Mapping) or set(raw) != cls.LINE_FIELDS:
                raise ServiceError(_("Every line needs exactly the fields “sku” and “base_amount”."))
            if not isinstance(raw["sku"], str):
                raise ServiceError(_("The field “%(field)s” must be a string.") % {"field": "sku"})
            if not isinstance(raw["base_amount"], str):
                raise ServiceError(_('Amounts are sent as decimal strings, e.g. "12.50".'))
            lines.append(LineIn(sku=raw["sku"], base_amount=raw["base_amount"]))
        return cls(
            external_id=data["external_id"],
            kind=data["kind"],
            org=data["org"],
            currency=data["currency"],
            occurred_at=data["occurred_at"],
            lines=lines,
            refers_to=refers_to,
        )


@dataclass(frozen=True, slots=True)
class _Line:
    sku: str
    amount: Decimal
    product_id: int | None = None
    category_slug: str = ""
    line_no: int = 0


@dataclass(slots=True)
class _Event:
    """A validated, normalised event (what is hashed and stored)."""

    external_id: str
    kind: str
    org_slug: str
    currency: str
    occurred_at: datetime
    refers_to: str
    lines: list[_Line]
    hash: str = ""

    def canonical(self) -> dict[str, Any]:
        return {
            "external_id": self.external_id,
            "kind": self.kind,
            "org": self.org_slug,
            "currency": self.currency,
            "occurred_at": self.occurred_at.astimezone(UTC).isoformat(),
            "refers_to": self.refers_to,
            "lines": [{"sku": line.sku, "base_amount": str(line.amount)} for line in self.lines],
        }

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal(0))


def payload_hash(canonical: Mapping[str, Any]) -> str:
    """SHA-256 of the sorted-key, whitespace-free JSON of a normalised payload."""
    text = json.dumps(canonical, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _amount(value: object, currency: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | Decimal | int):
        raise ServiceError(_('Amounts are sent as decimal strings, e.g. "12.50".'))
    text = str(value).strip()
    if len(text) > 40 or not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
        raise ServiceError(_("“%(value)s” is not an amount.") % {"value": text[:40]})
    amount = Decimal(text)
    if abs(amount) >= MAX_AMOUNT:
        raise ServiceError(_("The amount %(value)s is too large.") % {"value": text})
    quantum = exponent(currency)
    normalised = amount.quantize(quantum)
    if normalised != amount:
        raise ServiceError(
            _("The amount %(value)s has more decimals than %(currency)s allows.")
            % {"value": text, "currency": currency}
        )
    if normalised <= 0:
        raise ServiceError(_("Amounts must be positive (refunds too: they say how much goes back)."))
    return normalised


def _moment(value: datetime | str) -> datetime:
    try:
        moment = value if isinstance(value, datetime) else parse_datetime(str(value).strip()[:64])
    except ValueError:  # well-formed but impossible, e.g. month 13
        moment = None
    if moment is None:
        raise ServiceError(_("“occurred_at” is not an ISO 8601 date and time."))
    if timezone.is_naive(moment):
        raise ServiceError(_("“occurred_at” needs a UTC offset, e.g. 2026-01-31T12:00:00Z."))
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        raise ServiceError(_("“occurred_at” is out of range.")) from None


def _normalise(payload: EventIn | Mapping[str, Any]) -> _Event:
    """Check everything that needs no database; raises ServiceError with a message for the client."""
    item = payload if isinstance(payload, EventIn) else EventIn.from_data(payload)
    external_id = item.external_id
    if not external_id or len(external_id) > EXTERNAL_ID_MAX or not _EXTERNAL_ID.fullmatch(external_id):
        raise ServiceError(
            _("The external id must have 1 to %(max)d characters, without spaces.") % {"max": EXTERNAL_ID_MAX}
        )
    if item.kind not in BillingEventKind.values:
        raise ServiceError(
            _("Unknown kind “%(kind)s”; use one of: %(kinds)s.")
            % {"kind": item.kind[:40], "kinds": ", ".join(BillingEventKind.values)}
        )
    if item.currency not in MINOR_UNITS:
        raise ServiceError(_("The currency “%(currency)s” is not supported.") % {"currency": item.currency[:10]})
    refers_to = item.refers_to or ""
    if item.kind in REVERSING and not refers_to:
        raise ServiceError(_("A refund or chargeback names the event it reverses in “refers_to”."))
    if item.kind not in REVERSING and refers_to:
        raise ServiceError(_("Only refunds and chargebacks refer to another event."))
    if refers_to and (len(refers_to) > EXTERNAL_ID_MAX or not _EXTERNAL_ID.fullmatch(refers_to)):
        raise ServiceError(_("“refers_to” is not an external id."))
    if not _SLUG.fullmatch(item.org):
        raise ServiceError(_("“org” is the organisation's short name (letters, digits, hyphens)."))
    if not 1 <= len(item.lines) <= MAX_LINES:
        raise ServiceError(_("An event has 1 to %(max)d lines.") % {"max": MAX_LINES})
    lines = []
    for line in item.lines:
        if not _SLUG.fullmatch(line.sku):
            raise ServiceError(_("Every line names a product by its article number (sku)."))
        lines.append(_Line(sku=line.sku, amount=_amount(line.base_amount, item.currency)))
    event = _Event(
        external_id=external_id,
        kind=item.kind,
        org_slug=item.org,
        currency=item.currency,
        occurred_at=_moment(item.occurred_at),
        refers_to=refers_to,
        lines=lines,
    )
    event.hash = payload_hash(event.canonical())
    return event


# --- results -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IngestResult:
    event: BillingEvent
    created: bool


@dataclass(frozen=True, slots=True)
class ItemResult:
    """What happened to one event of a batch (`index` is its position in the request)."""

    index: int
    external_id: str
    status: Status
    event_id: int | None = None
    message: str = ""


# --- access --------------------------------------------------------------------------------------


def operator_org() -> Organisation | None:
    """The installation's single operator organisation (None before it is set up)."""
    return Organisation.objects.filter(is_operator=True).first()


def _require_operator(actor: Actor) -> Organisation:
    """Billing events are posted and listed by operator staff with the program permission."""
    user = actor.user
    if not user.is_authenticated or not user.is_active:
        raise PermissionDenied
    operator = operator_org()
    if operator is None:
        raise PermissionDenied
    perms = perms_for(user, operator, api_key=actor.api_key)
    if Perm.OPERATOR_PROGRAM_MANAGE not in perms:
        raise PermissionDenied
    return operator


def _require_billing_view(actor: Actor, org: Organisation) -> None:
    user = actor.user
    if not user.is_authenticated or not user.is_active:
        raise PermissionDenied
    perms = perms_for(user, org, api_key=actor.api_key)
    if not perms:
        raise Http404
    if Perm.BILLING_VIEW not in perms:
        raise PermissionDenied


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
    return IngestResult(row, created=True)


# --- services ------------------------------------------------------------------------------------


def ingest_event(actor: Actor, *, payload: EventIn) -> IngestResult:
    """Store one event posted by the operator's billing system (idempotent by its external id).

    Returns the event and whether it was created now. Raises :class:`EventConflict` when the id was
    used for a different payload, ``ServiceError`` when the event breaks a rule, ``PermissionDenied``
    unless the actor is operator staff with ``operator.program.manage``.
    """
    operator = _require_operator(actor)
    event = _normalise(payload)
    if event.external_id.startswith(INVOICE_PREFIX):
        raise ServiceError(_("External ids starting with “invoice:” are reserved for Partnerhub's own invoices."))
    with transaction.atomic():
        org_id = _orgs([event.org_slug]).get(event.org_slug)
        if org_id is None:
            # A replay needs no lookups beyond the id; an unknown organisation is still refused.
            raise ServiceError(_("There is no organisation “%(org)s”.") % {"org": event.org_slug[:60]})
        org = Organisation.objects.get(pk=org_id)
        _resolve_lines(event, _products(line.sku for line in event.lines))
        return _write_one(actor, event, org, audit_org=operator, source="api")


def ingest_batch(actor: Actor, *, payloads: Sequence[EventIn | Mapping[str, Any]]) -> list[ItemResult]:
    """Store up to :data:`MAX_BATCH` events; one result per event, in the order given.

    Items may be :class:`EventIn` or decoded JSON objects (checked here, so one malformed item is
    reported as invalid instead of refusing the whole batch). Statuses: ``created``, ``replayed``
    (same id and payload as a stored event, or as an earlier item of this batch: nothing written),
    ``conflict`` (same id, different payload) and ``invalid`` (with a message). Invalid events do
    not stop the others and never leave rows behind.
    """
    operator = _require_operator(actor)
    if len(payloads) > MAX_BATCH:
        raise ServiceError(_("A batch has at most %(max)d events.") % {"max": MAX_BATCH})
    results: list[ItemResult | None] = [None] * len(payloads)
    parsed: list[tuple[int, _Event]] = []
    for index, payload in enumerate(payloads):
        try:
            event = _normalise(payload)
            if event.external_id.startswith(INVOICE_PREFIX):
                raise ServiceError(
                    _("External ids starting with “invoice:” are reserved for Partnerhub's own invoices.")
                )
        except ServiceError as exc:
            results[index] = ItemResult(index, _raw_id(payload), "invalid", message=_message(exc))
            continue
        parsed.append((index, event))

    with transaction.atomic():
        try:
            with transaction.atomic():
                for index, result in _write_set(actor, operator, parsed):
                    results[index] = result
        except IntegrityError:
            # A concurrent writer stored one of these ids after we looked: the set's savepoint is
            # gone; go event by event, each in its own savepoint (races become replays/conflicts).
            for index, result in _write_each(actor, operator, parsed):
                results[index] = result
    return [result for result in results if result is not None]


def _raw_id(payload: object) -> str:
    if isinstance(payload, EventIn):
        value: object = payload.external_id
    else:
        value = payload.get("external_id", "") if isinstance(payload, Mapping) else ""
    return value[:EXTERNAL_ID_MAX] if isinstance(value, str) else ""


def _message(exc: ServiceError) -> str:
    return " ".join(str(message) for message in exc.messages)


@dataclass(slots=True)
class _Pending:
    index: int
    event: _Event
    row: BillingEvent | None = None
    # Items that replay this pending event (same id earlier in the batch): filled in after insert.
    replays: list[int] = field(default_factory=list)


def _write_set(actor: Actor, operator: Organisation, parsed: list[tuple[int, _Event]]) -> list[tuple[int, ItemResult]]:
    """The batch path: bulk lookups, validation in memory, then three bulk inserts."""
    originals = _load_originals((e.refers_to for _, e in parsed if e.kind in REVERSING), lock=True)
    stored = _stored_hashes({e.external_id for _, e in parsed})
    orgs = _orgs(e.org_slug for _, e in parsed)
    products = _products(line.sku for _, e in parsed for line in e.lines)

    out: list[tuple[int, ItemResult]] = []
    pending: dict[str, _Pending] = {}
    for index, event in parsed:
        ext = event.external_id
        if ext in stored:
            pk, digest = stored[ext]
            out.append((index, _replay_or_conflict(index, ext, pk, digest == event.hash)))
            continue
        if ext in pending:
            earlier = pending[ext]
            if earlier.event.hash == event.hash:
                earlier.replays.append(index)
            else:
                out.append((index, _replay_or_conflict(index, ext, None, False)))
            continue
        try:
            org_id = orgs.get(event.org_slug)
            if org_id is None:
                raise ServiceError(_("There is no organisation “%(org)s”.") % {"org": event.org_slug[:60]})
            _resolve_lines(event, products)
            _check_reference(event, org_id, originals)
        except ServiceError as exc:
            out.append((index, ItemResult(index, ext, "invalid", message=_message(exc))))
            continue
        if event.kind in REVERSING:
            originals[event.refers_to].reversed += event.total
        elif event.kind in REVERSIBLE:
            originals[ext] = _Original(org_id=org_id, currency=event.currency, kind=event.kind, total=event.total)
        item = _Pending(index, event, _new_event(event, org_id, source="api"))
        pending[ext] = item

    items = list(pending.values())
    rows = BillingEvent.objects.bulk_create([item.row for item in items if item.row is not None])
    for item, row in zip(items, rows, strict=True):
        item.row = row
    BillingEventLine.objects.bulk_create(
        [line for item in items if item.row is not None for line in _new_lines(item.row, item.event)],
        batch_size=2000,
    )
    AuditEntry.objects.bulk_create(
        [_audit_entry(actor, item.row, item.event, operator) for item in items if item.row is not None],
        batch_size=1000,
    )
    for item in items:
        assert item.row is not None
        out.append((item.index, ItemResult(item.index, item.event.external_id, "created", event_id=item.row.pk)))
        for replay in item.replays:
            out.append((replay, ItemResult(replay, item.event.external_id, "replayed", event_id=item.row.pk)))
    return out


def _stored_hashes(external_ids: set[str]) -> dict[str, tuple[int, str]]:
    """Id and payload hash of the already stored events among `external_ids`."""
    rows = BillingEvent.objects.filter(external_id__in=external_ids).values_list("id", "external_id", "payload_hash")
    return {ext: (pk, digest) for pk, ext, digest in rows}


def _replay_or_conflict(index: int, ext: str, pk: int | None, same: bool) -> ItemResult:
    if same:
        return ItemResult(index, ext, "replayed", event_id=pk)
    return ItemResult(
        index,
        ext,
        "conflict",
        event_id=pk,
        message=_("The event “%(id)s” was already received with a different content.") % {"id": ext},
    )


def _write_each(actor: Actor, operator: Organisation, parsed: list[tuple[int, _Event]]) -> list[tuple[int, ItemResult]]:
    """The fallback path: one savepoint per event, through the same code as a single post."""
    orgs = _orgs(e.org_slug for _, e in parsed)
    org_rows = {org.pk: org for org in Organisation.objects.filter(pk__in=orgs.values())}
    products = _products(line.sku for _, e in parsed for line in e.lines)
    out: list[tuple[int, ItemResult]] = []
    for index, event in parsed:
        ext = event.external_id
        try:
            with transaction.atomic():
                org_id = orgs.get(event.org_slug)
                if org_id is None:
                    raise ServiceError(_("There is no organisation “%(org)s”.") % {"org": event.org_slug[:60]})
                _resolve_lines(event, products)
                result = _write_one(actor, event, org_rows[org_id], audit_org=operator, source="api")
        except EventConflict as exc:
            stored_pk = BillingEvent.objects.filter(external_id=ext).values_list("id", flat=True).first()
            out.append((index, ItemResult(index, ext, "conflict", event_id=stored_pk, message=_message(exc))))
            continue
        except ServiceError as exc:
            out.append((index, ItemResult(index, ext, "invalid", message=_message(exc))))
            continue
        status: Status = "created" if result.created else "replayed"
        out.append((index, ItemResult(index, ext, status, event_id=result.event.pk)))
    return out


# --- Partnerhub's own invoices -------------------------------------------------------------------


def invoice_event_id(invoice: Invoice, suffix: str) -> str:
    """``invoice:CHF-000123:paid``, ``invoice:CHF-000123:refund:2``."""
    return f"{INVOICE_PREFIX}{invoice.display_number}:{suffix}"


def split_proportionally(weights: Sequence[Decimal], amount: Decimal, currency: str) -> list[Decimal]:
    """Share `amount` among lines in proportion to `weights`, in whole minor units, summing exactly.

    Largest-remainder (Hamilton) apportionment: each line first gets its exact share rounded *down*
    to the minor unit; the minor units still missing go one each to the lines with the largest
    remainders (ties: the earlier line). Whenever rounding every share half-up already adds up to
    `amount`, this gives exactly that result; otherwise it moves the fewest possible minor units.
    With 0 ≤ amount ≤ sum(weights) and weights in whole minor units, no share is negative and no
    share exceeds its weight.
    """
    quantum = exponent(currency)
    total = sum(weights, Decimal(0))
    if amount < 0 or amount > total:
        raise ValueError("amount must lie between 0 and the sum of the weights")
    if amount != amount.quantize(quantum):
        raise ValueError("amount has more decimals than the currency's minor unit")
    if total == 0:
        return [Decimal(0).quantize(quantum) for _ in weights]
    units = int((amount / quantum).to_integral_value())
    exact = [weight * units / total for weight in weights]
    floors = [int(share.to_integral_value(rounding=ROUND_FLOOR)) for share in exact]
    missing = units - sum(floors)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in by_remainder[:missing]:
        floors[i] += 1
    return [(Decimal(units_i) * quantum).quantize(quantum) for units_i in floors]


def record_invoice_event(
    invoice: Invoice, kind: str, *, amount: Decimal | None = None, actor: Actor | None = None
) -> BillingEvent:
    """The billing event of one of Partnerhub's own invoices; call it inside the invoice's transaction.

    - ``kind="payment"`` when the invoice is paid: one line per invoice line with a positive total
      (product, its category, the line total), ``external_id`` ``invoice:<CUR>-<number>:paid``,
      ``occurred_at`` = ``invoice.paid_at`` (or now). Calling it again for the same invoice returns
      the stored payment event (nothing new is written).
    - ``kind="refund"`` when (part of) it is refunded: `amount` (default: everything not refunded
      yet) is split over the paid event's lines in proportion to what is still unrefunded on each
      line (:func:`split_proportionally`: sums to `amount` exactly, no line above what is left of
      it, none negative; lines whose share is zero are left out, each line keeps the paid line's
      number). ``external_id`` ``invoice:<CUR>-<number>:refund:<n>`` (n = 1, 2, … per invoice).

    No access check: the invoice service calling it has done that. Raises ``ServiceError`` for a
    refund without a recorded payment, or an amount that is not positive or exceeds what is left.
    Writes one ``billing_event.created`` audit entry (operator organisation, like the API's).
    """
    if kind == BillingEventKind.PAYMENT:
        return _record_invoice_payment(invoice, actor)
    if kind == BillingEventKind.REFUND:
        return _record_invoice_refund(invoice, amount, actor)
    raise ValueError(f"record_invoice_event: kind must be payment or refund, not {kind!r}")


def _invoice_line_source(line: InvoiceLine) -> tuple[str, int | None, str]:
    sku = line.product.sku if line.product is not None else ""
    return sku, line.product_id, line.category_slug or (line.product.category.slug if line.product else "")


def _record_invoice_payment(invoice: Invoice, actor: Actor | None) -> BillingEvent:
    external_id = invoice_event_id(invoice, "paid")
    # Asked again for the same invoice (a retried task, say): the payment is recorded already.
    # (Only a shortcut: two concurrent first calls are still decided by the unique constraint.)
    stored = BillingEvent.objects.filter(external_id=external_id, invoice_id=invoice.pk).first()
    if stored is not None:
        return stored
    currency = invoice.currency
    lines = []
    for line in invoice.lines.select_related("product__category").order_by("line_no"):
        amount = line.total.quantize(exponent(currency))
        if amount <= 0:
            continue
        sku, product_id, category = _invoice_line_source(line)
        lines.append(_Line(sku=sku, amount=amount, product_id=product_id, category_slug=category, line_no=line.line_no))
    event = _Event(
        external_id=external_id,
        kind=BillingEventKind.PAYMENT,
        org_slug=invoice.org.slug,
        currency=currency,
        occurred_at=(invoice.paid_at or timezone.now()).astimezone(UTC),
        refers_to="",
        lines=lines,
    )
    event.hash = payload_hash(event.canonical())
    with transaction.atomic():
        return _write_one(
            actor, event, invoice.org, audit_org=operator_org(), source="invoice", invoice_id=invoice.pk
        ).event


def _record_invoice_refund(invoice: Invoice, amount: Decimal | None, actor: Actor | None) -> BillingEvent:
    currency = invoice.currency
    quantum = exponent(currency)
    paid_id = invoice_event_id(invoice, "paid")
    with transaction.atomic():
        paid = BillingEvent.objects.select_for_update().filter(external_id=paid_id).first()
        if paid is None:
            raise ServiceError(_("The invoice %(number)s has no recorded payment to refund.") % {"number": invoice})
        paid_lines = list(paid.lines.order_by("line_no"))
        refunded: dict[int, Decimal] = defaultdict(Decimal)
        for line_no, value in BillingEventLine.objects.filter(
            event__refers_to=paid_id, event__kind__in=list(REVERSING)
        ).values_list("line_no", "base_amount"):
            refunded[line_no] += value
        left = [max(line.base_amount - refunded[line.line_no], Decimal(0)).quantize(quantum) for line in paid_lines]
        remaining = sum(left, Decimal(0))
        wanted = remaining if amount is None else amount
        if isinstance(wanted, float) or wanted != wanted.quantize(quantum):
            raise ServiceError(_("The amount has more decimals than %(currency)s allows.") % {"currency": currency})
        wanted = wanted.quantize(quantum)
        if wanted <= 0:
            raise ServiceError(_("There is nothing left to refund on this invoice."))
        if wanted > remaining:
            raise ServiceError(
                _("Only %(left)s %(currency)s of this invoice are left to refund.")
                % {"left": remaining, "currency": currency}
            )
        shares = split_proportionally(left, wanted, currency)
        count = BillingEvent.objects.filter(
            refers_to=paid_id, invoice_id=invoice.pk, kind=BillingEventKind.REFUND
        ).count()
        lines = [
            _Line(
                sku=line.product_sku,
                amount=share,
                product_id=line.product_id,
                category_slug=line.category_slug,
                line_no=line.line_no,
            )
            for line, share in zip(paid_lines, shares, strict=True)
            if share > 0
        ]
        event = _Event(
            external_id=invoice_event_id(invoice, f"refund:{count + 1}"),
            kind=BillingEventKind.REFUND,
            org_slug=invoice.org.slug,
            currency=currency,
            occurred_at=timezone.now().astimezone(UTC),
            refers_to=paid_id,
            lines=lines,
        )
        event.hash = payload_hash(event.canonical())
        return _write_one(
            actor, event, invoice.org, audit_org=operator_org(), source="invoice", invoice_id=invoice.pk
        ).event


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
    _require_operator(actor)
    return _filtered(BillingEvent.objects.select_related("org"), filters or EventFilters())


def org_events(actor: Actor, *, org: Organisation, filters: EventFilters | None = None) -> QuerySet[BillingEvent]:
    """One customer's own events, for its members with ``billing.view``."""
    _require_billing_view(actor, org)
    own = replace(filters or EventFilters(), org="")
    return _filtered(BillingEvent.objects.filter(org=org).select_related("org"), own)


PAGE_SIZE = 50


@dataclass(frozen=True, slots=True)
class EventPage:
    """One page of events, newest received first, with the keys of the neighbouring pages (None: none)."""

    events: list[BillingEvent]
    older_than: int | None
    newer_than: int | None


def page_of(
    events: QuerySet[BillingEvent], *, before: int | None = None, after: int | None = None, size: int = PAGE_SIZE
) -> EventPage:
    """Keyset pagination by id: the `size` events older than `before`, or newer than `after`, or the newest."""
    if after is not None:
        chunk = list(events.filter(id__gt=after).order_by("id")[: size + 1])
        has_newer = len(chunk) > size
        rows = list(reversed(chunk[:size]))
        has_older = bool(rows) and events.filter(id__lt=rows[-1].pk).exists()
    else:
        newest_first = events.order_by("-id")
        chunk = list((newest_first.filter(id__lt=before) if before is not None else newest_first)[: size + 1])
        has_older = len(chunk) > size
        rows = chunk[:size]
        has_newer = before is not None and bool(rows) and events.filter(id__gt=rows[0].pk).exists()
    return EventPage(
        events=rows,
        older_than=rows[-1].pk if has_older else None,
        newer_than=rows[0].pk if has_newer else None,
    )


def totals_of(events: Iterable[BillingEvent]) -> dict[int, Decimal]:
    """Each event's line total, rounded to its currency (one query for the whole page)."""
    by_id = {event.pk: event for event in events}
    totals: dict[int, Decimal] = dict.fromkeys(by_id, Decimal(0))
    for event_id, amount in BillingEventLine.objects.filter(event_id__in=list(by_id)).values_list(
        "event_id", "base_amount"
    ):
        totals[event_id] += amount
    return {pk: round_money(total, by_id[pk].currency) for pk, total in totals.items()}
