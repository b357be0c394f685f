"""Billing events as clients send them and as they are stored: the rules of one event.

Checking and normalising a payload needs no database (:func:`_normalise`); the normalised event is
hashed (:func:`payload_hash`) so that a replay can be told from a conflict. See the package
docstring for the rules.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from partnerhub.billing.models import BillingEvent, BillingEventKind
from partnerhub.core.errors import ServiceError
from partnerhub.core.money import MAX_AMOUNT, MINOR_UNITS, exponent

MAX_BATCH = 1000
MAX_LINES = 200
EXTERNAL_ID_MAX = 100
INVOICE_PREFIX = "invoice:"
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
