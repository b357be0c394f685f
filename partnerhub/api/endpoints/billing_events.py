"""Billing events: posted by the operator's billing system (single and batch), listed by the operator
and by each customer for itself. Rules and idempotency: partnerhub.billing.events."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import BaseModel, Field

from partnerhub.access.perms import Perm
from partnerhub.api.endpoints import actor_of, org_of
from partnerhub.api.pagination import Page, PageParams, paginate
from partnerhub.api.problems import ApiProblem, from_validation_error
from partnerhub.api.routing import operation, operator_operation
from partnerhub.api.schemas import Body
from partnerhub.billing.events import (
    MAX_BATCH,
    EventConflict,
    EventFilters,
    EventIn,
    LineIn,
    ingest_batch,
    ingest_event,
    operator_events,
    org_events,
)
from partnerhub.billing.models import BillingEvent, BillingEventKind
from partnerhub.core.money import round_money

router = Router(tags=["billing events"])


class BillingEventLineBody(Body):
    sku: str = Field(max_length=60, description="Article number of a catalog product.")
    base_amount: str = Field(
        max_length=40,
        description='Positive decimal string, at most the currency\'s minor unit (e.g. "12.50"). For refunds '
        "and chargebacks: the amount going back.",
    )


class BillingEventBody(Body):
    external_id: str = Field(max_length=100, description="Your unique id of the event; reposting it is safe.")
    kind: BillingEventKind
    org: str = Field(max_length=60, description="Short name (slug) of the customer organisation.")
    currency: str = Field(max_length=3, description="ISO 4217 code, e.g. CHF or EUR.")
    occurred_at: datetime = Field(description="When it happened, with a UTC offset.")
    refers_to: str = Field(
        "", max_length=100, description="Refunds and chargebacks: external id of the payment or renewal."
    )
    lines: list[BillingEventLineBody] = Field(min_length=1, max_length=200)

    def to_event(self) -> EventIn:
        return EventIn(
            external_id=self.external_id,
            kind=str(self.kind),
            org=self.org,
            currency=self.currency,
            occurred_at=self.occurred_at,
            refers_to=self.refers_to,
            lines=[LineIn(sku=line.sku, base_amount=line.base_amount) for line in self.lines],
        )


class BillingEventBatchBody(Body):
    events: list[BillingEventBody | Any] = Field(
        min_length=1,
        max_length=MAX_BATCH,
        description="Up to 1,000 events, each shaped like the single post; a malformed one is reported as "
        "invalid in its result and does not stop the others.",
    )


class BillingEventLineOut(Schema):
    line_no: int
    product_sku: str
    category_slug: str
    base_amount: str


class BillingEventOut(Schema):
    id: int
    external_id: str
    kind: str
    org: str
    currency: str
    occurred_at: datetime
    refers_to: str
    source: str
    invoice: str | None
    total: str
    lines: list[BillingEventLineOut]
    created_at: datetime

    @staticmethod
    def resolve_org(obj: BillingEvent) -> str:
        return obj.org.slug

    @staticmethod
    def resolve_invoice(obj: BillingEvent) -> str | None:
        return obj.invoice.display_number if obj.invoice is not None else None

    @staticmethod
    def resolve_lines(obj: BillingEvent) -> list[dict[str, Any]]:
        return [
            {
                "line_no": line.line_no,
                "product_sku": line.product_sku,
                "category_slug": line.category_slug,
                "base_amount": str(round_money(line.base_amount, obj.currency)),
            }
            for line in obj.lines.all()
        ]

    @staticmethod
    def resolve_total(obj: BillingEvent) -> str:
        total = sum((line.base_amount for line in obj.lines.all()), Decimal(0))
        return str(round_money(total, obj.currency))


class BatchItemOut(Schema):
    index: int = Field(description="Position of the event in the request.")
    external_id: str
    status: str = Field(description="created, replayed, conflict or invalid.")
    event_id: int | None
    message: str


class BatchOut(Schema):
    created: int
    replayed: int
    conflict: int
    invalid: int
    results: list[BatchItemOut]


class EventQuery(BaseModel):
    org: str = Field("", max_length=60, pattern=r"^[-a-zA-Z0-9_]*$", description="Only this organisation (slug).")
    kind: BillingEventKind | None = None
    since: datetime | None = Field(None, description="occurred_at on or after.")
    until: datetime | None = Field(None, description="occurred_at before.")


class OwnEventQuery(BaseModel):
    kind: BillingEventKind | None = None
    since: datetime | None = Field(None, description="occurred_at on or after.")
    until: datetime | None = Field(None, description="occurred_at before.")


def _moment(value: datetime | None, name: str) -> datetime | None:
    """A time filter as an aware UTC moment; naive times count as UTC, impossible ones answer 422."""
    if value is None:
        return None
    try:
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:
        raise ApiProblem(
            422,
            _("The time is out of range."),
            errors=[{"loc": ["query", name], "msg": _("The time is out of range."), "type": "range"}],
        ) from None


def _filters(org: str, kind: BillingEventKind | None, since: datetime | None, until: datetime | None) -> EventFilters:
    return EventFilters(org=org, kind=kind or "", since=_moment(since, "since"), until=_moment(until, "until"))


def _stored(event: BillingEvent) -> BillingEvent:
    return BillingEvent.objects.select_related("org", "invoice").prefetch_related("lines").get(pk=event.pk)


@operator_operation(
    router,
    "POST",
    "/billing-events",
    perm=Perm.OPERATOR_PROGRAM_MANAGE,
    response={201: BillingEventOut, 200: BillingEventOut},
    summary="Post a billing event",
    description="Idempotent by `external_id`: 201 with the new event; 200 with the stored event when the "
    "same event is posted again (nothing is written); 409 when the id was used for different content; 422 "
    "when the event breaks a rule (unknown organisation or product, refund above what is left, …).",
)
def post_event(request: HttpRequest, data: BillingEventBody) -> Status[BillingEvent]:
    try:
        result = ingest_event(actor_of(request), payload=data.to_event())
    except EventConflict as exc:
        raise from_validation_error(exc, 409) from exc
    return Status(201 if result.created else 200, _stored(result.event))


@operator_operation(
    router,
    "POST",
    "/billing-events/batch",
    perm=Perm.OPERATOR_PROGRAM_MANAGE,
    response=BatchOut,
    summary="Post up to 1,000 billing events",
    description="One result per event, in request order: created, replayed (nothing written), conflict "
    "(the id is taken by different content) or invalid (with a message). Each event is written whole or not "
    "at all; invalid events do not stop the others. More than 1,000 events answer 422.",
)
def post_batch(request: HttpRequest, data: BillingEventBatchBody) -> dict[str, Any]:
    payloads = [item.to_event() if isinstance(item, BillingEventBody) else item for item in data.events]
    results = ingest_batch(actor_of(request), payloads=payloads)
    counts = Counter(result.status for result in results)
    return {
        "created": counts["created"],
        "replayed": counts["replayed"],
        "conflict": counts["conflict"],
        "invalid": counts["invalid"],
        "results": results,
    }


@operator_operation(
    router,
    "GET",
    "/billing-events",
    perm=Perm.OPERATOR_PROGRAM_MANAGE,
    response=Page[BillingEventOut],
    summary="List all billing events",
    description="Newest first (by occurred_at); filter by organisation, kind and time.",
)
def list_events(request: HttpRequest, filters: Query[EventQuery], page: Query[PageParams]) -> Page[BillingEventOut]:
    events = operator_events(
        actor_of(request),
        filters=_filters(filters.org, filters.kind, filters.since, filters.until),
    )
    return paginate(
        events.select_related("invoice").prefetch_related("lines"), page, BillingEventOut, order_by="-occurred_at"
    )


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/billing-events",
    perm=Perm.BILLING_VIEW,
    response=Page[BillingEventOut],
    summary="List the organisation's billing events",
    description="Newest first (by occurred_at); filter by kind and time.",
)
def list_own_events(
    request: HttpRequest, org_slug: str, filters: Query[OwnEventQuery], page: Query[PageParams]
) -> Page[BillingEventOut]:
    events = org_events(
        actor_of(request),
        org=org_of(request),
        filters=_filters("", filters.kind, filters.since, filters.until),
    )
    return paginate(
        events.select_related("invoice").prefetch_related("lines"), page, BillingEventOut, order_by="-occurred_at"
    )
