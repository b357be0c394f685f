"""The accrual-queue migration: billing events accrual had not read yet are queued, the others not,
and from then on the database queues every event stored; going back marks the others accrued."""

from __future__ import annotations

from datetime import UTC, datetime

from conftest import migrate_to
from partnerhub.orgs.models import Organisation

BEFORE = [("billing", "0007_billingevent_accrued_at_and_more"), ("commissions", "0002_ledger_guard")]
AFTER = [("billing", "0008_drop_accrued_at"), ("commissions", "0003_pending_events")]
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_unaccrued_events_are_queued(flushable_db: None) -> None:
    customer = Organisation.objects.create(name="Kunde", slug="kunde")
    try:
        old = migrate_to(BEFORE)
        BillingEvent = old.get_model("billing", "BillingEvent")

        def stored(external_id: str, accrued_at: datetime | None) -> int:
            row = BillingEvent.objects.create(
                external_id=external_id, kind="payment", org_id=customer.pk, currency="CHF", occurred_at=T0,
                payload_hash="0" * 64, accrued_at=accrued_at,
            )  # fmt: skip
            return int(row.pk)

        waiting = stored("waiting", None)
        stored("done", T0)
    finally:
        new = migrate_to(AFTER)
    PendingEvent = new.get_model("commissions", "PendingEvent")
    assert list(PendingEvent.objects.values_list("event_id", flat=True)) == [waiting]
    later = new.get_model("billing", "BillingEvent").objects.create(
        external_id="later", kind="payment", org_id=customer.pk, currency="CHF", occurred_at=T0, payload_hash="1" * 64
    )
    assert sorted(PendingEvent.objects.values_list("event_id", flat=True)) == [waiting, later.pk]
    try:
        # And back: what was off the queue is marked accrued, what was on it is not.
        old = migrate_to(BEFORE)
        unaccrued = old.get_model("billing", "BillingEvent").objects.filter(accrued_at=None)
        assert sorted(unaccrued.values_list("pk", flat=True)) == [waiting, later.pk]
    finally:
        migrate_to(AFTER)
