"""The services of the operator's billing system: :func:`ingest_event` and :func:`ingest_batch`."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from partnerhub.access.operator import require_operator
from partnerhub.access.perms import Perm
from partnerhub.access.policy import Actor
from partnerhub.audit.models import AuditEntry
from partnerhub.billing.events.payload import (
    EXTERNAL_ID_MAX,
    INVOICE_PREFIX,
    MAX_BATCH,
    REVERSIBLE,
    REVERSING,
    EventConflict,
    EventIn,
    IngestResult,
    ItemResult,
    Status,
    _Event,
    _normalise,
)
from partnerhub.billing.events.signals import events_stored
from partnerhub.billing.events.store import (
    _audit_entry,
    _check_reference,
    _load_originals,
    _new_event,
    _new_lines,
    _orgs,
    _Original,
    _products,
    _resolve_lines,
    _write_one,
)
from partnerhub.billing.models import BillingEvent, BillingEventLine
from partnerhub.core.errors import ServiceError
from partnerhub.orgs.models import Organisation

# --- services ------------------------------------------------------------------------------------


def _refuse_reserved(event: _Event) -> None:
    """Ids starting with ``invoice:`` belong to Partnerhub's own invoice events, which are posted and
    reversed only by the invoice services (refund_invoice), never through the billing-event API."""
    if event.external_id.startswith(INVOICE_PREFIX):
        raise ServiceError(_("External ids starting with “invoice:” are reserved for Partnerhub's own invoices."))
    if event.refers_to.startswith(INVOICE_PREFIX):
        raise ServiceError(
            _(
                "Events of Partnerhub's own invoices (“invoice:…”) cannot be reversed here: "
                "refund the invoice in Partnerhub instead."
            )
        )


def ingest_event(actor: Actor, *, payload: EventIn) -> IngestResult:
    """Store one event posted by the operator's billing system (idempotent by its external id).

    Returns the event and whether it was created now. Raises :class:`EventConflict` when the id was
    used for a different payload, ``ServiceError`` when the event breaks a rule, ``PermissionDenied``
    unless the actor is operator staff with ``operator.program.manage``.
    """
    operator = require_operator(actor, Perm.OPERATOR_PROGRAM_MANAGE, conceal=False)
    event = _normalise(payload)
    _refuse_reserved(event)
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
    operator = require_operator(actor, Perm.OPERATOR_PROGRAM_MANAGE, conceal=False)
    if len(payloads) > MAX_BATCH:
        raise ServiceError(_("A batch has at most %(max)d events.") % {"max": MAX_BATCH})
    results: list[ItemResult | None] = [None] * len(payloads)
    parsed: list[tuple[int, _Event]] = []
    for index, payload in enumerate(payloads):
        try:
            event = _normalise(payload)
            _refuse_reserved(event)
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
    if rows:
        events_stored.send(sender=BillingEvent, event_ids=[row.pk for row in rows])
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
