"""The grant-coverage migration: every partnership ever active gets what it manages (or managed when
it ended) from its activation on, so accrual of events posted after the upgrade pays as before."""

from __future__ import annotations

from datetime import UTC, datetime

from conftest import migrate_to
from partnerhub.billing.models import CustomerProduct
from partnerhub.catalog.tests.factories import make_category, make_product
from partnerhub.orgs.models import Organisation

BEFORE = [("partnerships", "0003_partnership_ended_product_ids")]
AFTER = [("partnerships", "0005_remove_partnership_ended_product_ids")]
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_backfill_covers_active_ended_and_pending_partnerships(flushable_db: None) -> None:
    partner = Organisation.objects.create(name="Bergwerk", slug="bergwerk", is_partner=True)
    customers = [Organisation.objects.create(name=f"C{i}", slug=f"c{i}") for i in range(4)]
    hosting = make_product(make_category("shared-hosting"), "web-hosting")
    vps = make_product(make_category("cloud-vps"), "vps-s")
    held = CustomerProduct.objects.create(org=customers[1], product=hosting)
    try:
        old = migrate_to(BEFORE)
        Partnership = old.get_model("partnerships", "Partnership")
        Grant = old.get_model("partnerships", "Grant")
        GrantProduct = old.get_model("partnerships", "GrantProduct")

        def partnership(customer: Organisation, status: str, mode: str, **extra: object) -> int:
            row = Partnership.objects.create(
                partner_id=partner.pk, customer_id=customer.pk, flow="chosen", origin="self", status=status, **extra
            )
            Grant.objects.create(partnership=row, mode=mode)
            return int(row.pk)

        full = partnership(customers[0], "active", "full", activated_at=T0)
        restricted = partnership(customers[1], "active", "restricted", activated_at=T0)
        GrantProduct.objects.create(grant=Grant.objects.get(partnership_id=restricted), customer_product_id=held.pk)
        ended = partnership(
            customers[2], "ended", "restricted", activated_at=T0, ended_at=T0.replace(month=5),
            ended_product_ids=[vps.pk],
        )  # fmt: skip
        partnership(customers[3], "pending", "full")
    finally:
        new = migrate_to(AFTER)
    GrantCoverage = new.get_model("partnerships", "GrantCoverage")
    rows = {c.partnership_id: (c.effective_at, c.mode, c.product_ids) for c in GrantCoverage.objects.all()}
    assert rows == {
        full: (T0, "full", []),
        restricted: (T0, "restricted", [hosting.pk]),
        ended: (T0, "restricted", [vps.pk]),
    }
