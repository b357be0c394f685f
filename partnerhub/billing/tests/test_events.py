"""Billing-event ingestion: idempotency, validation, refund bounds, batches (partnerhub.billing.events)."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied

from conftest import add_member, make_user
from partnerhub.access.perms import Perm, Role
from partnerhub.access.policy import Actor
from partnerhub.accounts.models import User
from partnerhub.audit.models import AuditEntry
from partnerhub.billing.events import (
    MAX_BATCH,
    EventConflict,
    EventIn,
    LineIn,
    ingest_batch,
    ingest_event,
    payload_hash,
)
from partnerhub.billing.models import BillingEvent, BillingEventLine
from partnerhub.catalog.models import Category, Product
from partnerhub.core.errors import ServiceError
from partnerhub.orgs.models import Organisation

WHEN = "2026-03-01T10:00:00+01:00"


@pytest.fixture
def catalog(db: None) -> dict[str, Product]:
    hosting = Category.objects.create(slug="shared-hosting", name="Shared hosting")
    domains = Category.objects.create(slug="domains-ssl", name="Domains & SSL")
    return {
        "web": Product.objects.create(category=hosting, sku="web-basic", name="Web Basic"),
        "domain": Product.objects.create(category=domains, sku="domain-ch", name="Domain .ch"),
    }


@pytest.fixture
def staff(operator_staff: User) -> Actor:
    return Actor(user=operator_staff)


def event(external_id: str = "ev-1", **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "external_id": external_id,
        "kind": "payment",
        "org": "acme",
        "currency": "CHF",
        "occurred_at": WHEN,
        "lines": [{"sku": "web-basic", "base_amount": "120.00"}, {"sku": "domain-ch", "base_amount": "15.50"}],
    }
    data.update(changes)
    return data


def event_in(external_id: str = "ev-1", **changes: Any) -> EventIn:
    return EventIn.from_data(event(external_id, **changes))


def counts() -> tuple[int, int, int]:
    return BillingEvent.objects.count(), BillingEventLine.objects.count(), AuditEntry.objects.count()


def test_a_payment_is_stored_with_lines_and_one_audit_entry(staff, acme, catalog, operator_org):
    result = ingest_event(staff, payload=event_in())
    assert result.created
    stored = BillingEvent.objects.get(external_id="ev-1")
    assert stored.org == acme and stored.kind == "payment" and stored.source == "api"
    assert stored.occurred_at == datetime(2026, 3, 1, 9, tzinfo=UTC)
    lines = list(stored.lines.values_list("line_no", "product_id", "product_sku", "category_slug", "base_amount"))
    assert lines == [
        (1, catalog["web"].pk, "web-basic", "shared-hosting", Decimal("120.00")),
        (2, catalog["domain"].pk, "domain-ch", "domains-ssl", Decimal("15.50")),
    ]
    entry = AuditEntry.objects.get(action="billing_event.created")
    assert entry.org == operator_org and entry.object_id == str(stored.pk)
    assert entry.after is not None and entry.after["total"] == "135.50"


def test_a_faithful_replay_returns_the_original_and_writes_nothing(staff, acme, catalog):
    first = ingest_event(staff, payload=event_in())
    before = counts()
    # Same event, differently spelled: other offset for the same instant, amounts without trailing zero.
    again = ingest_event(
        staff,
        payload=event_in(
            occurred_at="2026-03-01T09:00:00Z",
            lines=[{"sku": "web-basic", "base_amount": "120"}, {"sku": "domain-ch", "base_amount": "15.5"}],
        ),
    )
    assert not again.created
    assert again.event.pk == first.event.pk
    assert counts() == before


def test_a_conflicting_replay_is_refused_and_changes_nothing(staff, acme, catalog):
    ingest_event(staff, payload=event_in())
    before = counts()
    with pytest.raises(EventConflict):
        ingest_event(staff, payload=event_in(lines=[{"sku": "web-basic", "base_amount": "99.00"}]))
    assert counts() == before
    assert BillingEvent.objects.get().lines.count() == 2


def test_the_hash_is_canonical():
    assert payload_hash({"b": 1, "a": "ä"}) == payload_hash({"a": "ä", "b": 1})
    assert payload_hash({"a": "1.00"}) != payload_hash({"a": "1.0"})


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"kind": "gift"}, "Unknown kind"),
        ({"currency": "XYZ"}, "not supported"),
        ({"org": "nobody"}, "no organisation"),
        ({"occurred_at": "2026-03-01T10:00:00"}, "UTC offset"),
        ({"occurred_at": "yesterday"}, "ISO 8601"),
        ({"lines": []}, "1 to"),
        ({"lines": [{"sku": "web-basic", "base_amount": "0.00"}]}, "positive"),
        ({"lines": [{"sku": "web-basic", "base_amount": "-5.00"}]}, "positive"),
        ({"lines": [{"sku": "web-basic", "base_amount": "1.005"}]}, "more decimals"),
        ({"lines": [{"sku": "web-basic", "base_amount": "1e3"}]}, "not an amount"),
        ({"lines": [{"sku": "web-basic", "base_amount": 12.5}]}, "decimal strings"),
        ({"lines": [{"sku": "nope", "base_amount": "1.00"}]}, "Unknown products"),
        ({"external_id": ""}, "external id"),
        ({"external_id": "x" * 101}, "external id"),
        ({"external_id": "has space"}, "external id"),
        ({"external_id": "invoice:CHF-000001:paid"}, "reserved"),
        ({"refers_to": "ev-0"}, "Only refunds"),
        ({"kind": "refund"}, "refers_to"),
        ({"colour": "blue"}, "Unknown fields"),
        ({"external_id": "ev\n"}, "external id"),
        ({"external_id": "ev\x00"}, "external id"),
        ({"org": "ac\x00me"}, "short name"),
        ({"org": "acme\n"}, "short name"),
        ({"lines": [{"sku": "web\x00basic", "base_amount": "1.00"}]}, "article number"),
        ({"lines": [{"sku": "web-basic", "base_amount": "9" * 39}]}, "too large"),
        ({"lines": [{"sku": "web-basic", "base_amount": "9" * 41}]}, "not an amount"),
        ({"lines": [{"sku": "web-basic", "base_amount": "100000000000000.00"}]}, "too large"),
        ({"lines": [{"sku": "web-basic", "base_amount": "1000000000000.00"}]}, "too large"),  # core.money.MAX_AMOUNT
        ({"kind": "refund", "refers_to": "invoice:CHF-000001:paid"}, "refund the invoice"),
        ({"occurred_at": "2026-13-45T10:00:00Z"}, "ISO 8601"),
        ({"occurred_at": "0001-01-01T00:00:00+05:00"}, "out of range"),
        ({"kind": "refund", "refers_to": "ev\x00"}, "not an external id"),
    ],
)
def test_invalid_events_are_refused_without_a_trace(staff, acme, catalog, changes, message):
    before = counts()
    with pytest.raises(ServiceError) as info:
        ingest_event(staff, payload=EventIn.from_data(event(**changes)))
    assert message in str(info.value)
    assert counts() == before


def test_yen_amounts_have_no_decimals(staff, acme, catalog):
    with pytest.raises(ServiceError):
        ingest_event(staff, payload=event_in(currency="JPY", lines=[{"sku": "web-basic", "base_amount": "10.50"}]))
    result = ingest_event(staff, payload=event_in(currency="JPY", lines=[{"sku": "web-basic", "base_amount": "1050"}]))
    assert result.event.lines.get().base_amount == Decimal(1050)


# --- refunds and chargebacks ---------------------------------------------------------------------


def refund(external_id: str, amount: str, *, kind: str = "refund", refers_to: str = "ev-1", **changes: Any) -> EventIn:
    return event_in(
        external_id, kind=kind, refers_to=refers_to, lines=[{"sku": "web-basic", "base_amount": amount}], **changes
    )


def test_partial_refunds_and_chargebacks_may_add_up_to_the_original_total_but_not_beyond(staff, acme, catalog):
    ingest_event(staff, payload=event_in())  # 135.50
    assert ingest_event(staff, payload=refund("rf-1", "100.00")).created
    assert ingest_event(staff, payload=refund("cb-1", "35.00", kind="chargeback")).created
    before = counts()
    with pytest.raises(ServiceError, match=r"only 0\.50 CHF"):
        ingest_event(staff, payload=refund("rf-2", "0.51"))
    assert counts() == before
    assert ingest_event(staff, payload=refund("rf-2", "0.50")).created
    # A replay of a refund is still a replay once the bound is reached.
    assert not ingest_event(staff, payload=refund("rf-2", "0.50")).created


def test_a_single_refund_above_the_original_is_refused(staff, acme, catalog):
    ingest_event(staff, payload=event_in())
    with pytest.raises(ServiceError, match="left to reverse"):
        ingest_event(staff, payload=refund("rf-1", "135.51"))
    assert BillingEvent.objects.count() == 1


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"refers_to": "missing"}, "does not exist"),
        ({"currency": "EUR"}, "same currency"),
        ({"org": "globex"}, "does not exist"),
        ({"refers_to": "rf-1"}, "Only payments and renewals"),
    ],
)
def test_refunds_must_refer_to_a_payment_of_the_same_org_and_currency(staff, acme, globex, catalog, changes, message):
    ingest_event(staff, payload=event_in())
    ingest_event(staff, payload=refund("rf-1", "1.00"))
    before = counts()
    with pytest.raises(ServiceError, match=message):
        ingest_event(staff, payload=refund("rf-x", "1.00", **changes))
    assert counts() == before


# --- access --------------------------------------------------------------------------------------


def test_only_operator_staff_with_the_program_permission_may_post(
    acme, acme_owner, catalog, operator_org, outsider, globex_owner
):
    member = make_user("member@operator.test")
    add_member(member, operator_org, Role.MEMBER)
    reviewer = make_user("reviewer@operator.test")
    add_member(reviewer, operator_org, Role.MEMBER, [Perm.OPERATOR_APPLICATIONS_REVIEW.value])
    inactive = make_user("gone@operator.test")
    add_member(inactive, operator_org, Role.OWNER)
    inactive.is_active = False
    inactive.save()
    for user in (acme_owner, outsider, globex_owner, member, reviewer, inactive):
        with pytest.raises(PermissionDenied):
            ingest_event(Actor(user=user), payload=event_in())
        with pytest.raises(PermissionDenied):
            ingest_batch(Actor(user=user), payloads=[event_in()])
    assert counts() == (0, 0, 0)


def test_a_program_manager_member_may_post(acme, catalog, operator_org):
    manager = make_user("manager@operator.test")
    add_member(manager, operator_org, Role.MEMBER, [Perm.OPERATOR_PROGRAM_MANAGE.value])
    assert ingest_event(Actor(user=manager), payload=event_in()).created


def test_without_an_operator_organisation_nobody_may_post(acme, acme_owner, catalog):
    assert not Organisation.objects.filter(is_operator=True).exists()
    with pytest.raises(PermissionDenied):
        ingest_event(Actor(user=acme_owner), payload=event_in())


# --- batches -------------------------------------------------------------------------------------


def test_a_batch_reports_every_event_and_invalid_ones_leave_no_rows(staff, acme, catalog, operator_org):
    ingest_event(staff, payload=event_in("old"))
    payloads: list[Any] = [
        event("b-1"),
        event("b-2", lines=[{"sku": "web-basic", "base_amount": "10.00"}, {"sku": "nope", "base_amount": "1.00"}]),
        event("old"),  # faithful replay of a stored event
        event("old", currency="EUR"),  # conflict with it
        "not an object",
        event("b-3", kind="renewal"),
        event("b-1"),  # replay of an earlier item of this batch
        event("b-3", kind="payment"),  # conflict with an earlier item
        refund("b-4", "100.00", refers_to="b-1"),  # refund of an event created in this batch
        refund("b-5", "40.00", refers_to="b-1"),  # would exceed it together with b-4
    ]
    before_events, before_lines, before_audit = counts()
    results = ingest_batch(staff, payloads=payloads)
    assert [(r.index, r.external_id, r.status) for r in results] == [
        (0, "b-1", "created"),
        (1, "b-2", "invalid"),
        (2, "old", "replayed"),
        (3, "old", "conflict"),
        (4, "", "invalid"),
        (5, "b-3", "created"),
        (6, "b-1", "replayed"),
        (7, "b-3", "conflict"),
        (8, "b-4", "created"),
        (9, "b-5", "invalid"),
    ]
    assert "Unknown products: nope" in results[1].message
    assert "left to reverse" in results[9].message
    assert results[6].event_id == results[0].event_id
    assert results[2].event_id == BillingEvent.objects.get(external_id="old").pk
    assert set(BillingEvent.objects.values_list("external_id", flat=True)) == {"old", "b-1", "b-3", "b-4"}
    assert BillingEvent.objects.count() == before_events + 3
    assert BillingEventLine.objects.count() == before_lines + 2 + 2 + 1
    created_audit = AuditEntry.objects.filter(action="billing_event.created", org=operator_org)
    assert AuditEntry.objects.count() == before_audit + 3 and created_audit.count() == 4
    assert not BillingEvent.objects.filter(external_id="b-2").exists()


def test_replaying_a_whole_batch_writes_nothing(staff, acme, catalog):
    payloads = [event(f"r-{i}") for i in range(20)]
    assert {r.status for r in ingest_batch(staff, payloads=payloads)} == {"created"}
    before = counts()
    again = ingest_batch(staff, payloads=payloads)
    assert {r.status for r in again} == {"replayed"}
    assert counts() == before


def test_a_batch_has_at_most_a_thousand_events(staff, acme, catalog):
    with pytest.raises(ServiceError):
        ingest_batch(staff, payloads=[event(f"e-{i}") for i in range(MAX_BATCH + 1)])
    assert counts()[0] == 0


def test_event_in_can_be_built_directly(staff, acme, catalog):
    payload = EventIn(
        external_id="direct",
        kind="renewal",
        org="acme",
        currency="EUR",
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        lines=[LineIn(sku="web-basic", base_amount=Decimal("9.90"))],
    )
    assert ingest_event(staff, payload=payload).created
    [result] = ingest_batch(staff, payloads=[payload])
    assert result.status == "replayed"


# --- lost races (the unique constraint decides, not the look-up before inserting) ---------------


def test_a_single_post_that_loses_the_race_returns_the_winner(staff, acme, catalog, monkeypatch):
    from partnerhub.billing.events import store as events

    winner = ingest_event(staff, payload=event_in()).event
    before = counts()
    real = events._existing_outcome
    calls: list[str] = []

    def not_yet_visible(item: Any) -> Any:
        # The first look happens "before the other writer committed": it sees nothing.
        calls.append(item.external_id)
        return None if len(calls) == 1 else real(item)

    monkeypatch.setattr(events, "_existing_outcome", not_yet_visible)
    again = ingest_event(staff, payload=event_in())
    assert len(calls) == 2  # looked again after the IntegrityError
    assert not again.created and again.event.pk == winner.pk
    assert counts() == before
    with pytest.raises(EventConflict):
        calls.clear()
        ingest_event(staff, payload=event_in(currency="EUR"))
    assert counts() == before


def test_a_batch_that_loses_a_race_falls_back_to_one_savepoint_per_event(staff, acme, catalog, monkeypatch):
    from partnerhub.billing.events import ingest as events

    ingest_event(staff, payload=event_in("taken"))
    before_events, before_lines, before_audit = counts()
    monkeypatch.setattr(events, "_stored_hashes", lambda ids: {})  # "taken" looks free: the insert fails
    results = ingest_batch(
        staff,
        payloads=[
            event("new-1"),
            event("taken"),
            event("taken", currency="EUR"),
            event("bad", org="x"),
            event("new-2"),
        ],
    )
    assert [r.status for r in results] == ["created", "replayed", "conflict", "invalid", "created"]
    assert results[1].event_id == results[2].event_id == BillingEvent.objects.get(external_id="taken").pk
    assert counts() == (before_events + 2, before_lines + 4, before_audit + 2)
