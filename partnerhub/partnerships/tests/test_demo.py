"""The demo partnerships: every flow and state the portal shows, on top of the demo program."""

from __future__ import annotations

from partnerhub.demo.seed import seed
from partnerhub.orgs.models import Membership, Organisation
from partnerhub.partnerships.demo import CREATED_CUSTOMER, seed_partnerships
from partnerhub.partnerships.models import GrantCoverage, Partnership


def _seed_demo() -> None:
    from partnerhub.accounts.models import User
    from partnerhub.demo.seed import _user

    seed()
    partner = Organisation.objects.get(slug="bergwerk")
    owner = User.objects.get(email="owner@bergwerk.demo.partnerhub.test")
    cafe = Organisation.objects.get(slug="cafe-sonnenschein")
    rila = Organisation.objects.get(slug="rila-soft")
    seed_partnerships(
        partner=partner,
        owner=owner,
        customers={
            "cafe": (cafe, User.objects.get(email="admin@sonnenschein.demo.partnerhub.test")),
            "rila": (rila, User.objects.get(email="ivan@rila.demo.partnerhub.test")),
        },
        request_email="lena@affiliate.demo.partnerhub.test",
        contact=_user("info@alpenblick.demo.partnerhub.test", "Anna Alpenblick", "de"),
    )


def test_demo_partnerships_cover_every_flow(db):
    _seed_demo()
    rows = {p.customer.slug: p for p in Partnership.objects.select_related("customer", "grant")}
    assert (rows["cafe-sonnenschein"].status, rows["cafe-sonnenschein"].grant.mode) == ("active", "full")
    assert "billing.order" not in rows["cafe-sonnenschein"].grant.scopes
    assert (rows["rila-soft"].status, rows["rila-soft"].grant.mode) == ("active", "restricted")
    assert rows["lena-berger-media"].status == "pending"
    created = Partnership.objects.get(customer__name=CREATED_CUSTOMER)
    assert created.flow == "created" and created.status == "active"
    assert Membership.objects.filter(org=created.customer, role="owner").exists()


def test_demo_partnerships_are_seeded_once(db):
    _seed_demo()
    count = Partnership.objects.count()
    seed_partnerships(
        partner=Organisation.objects.get(slug="bergwerk"),
        owner=Membership.objects.get(org__slug="bergwerk", role="owner").user,
        customers={},
        request_email="",
        contact=Membership.objects.get(org__slug="bergwerk", role="owner").user,
    )
    assert Partnership.objects.count() == count


def test_every_activated_demo_partnership_has_its_coverage(db):
    """Accrual reads GrantCoverage: every flow that activates a partnership writes it, from activation."""
    _seed_demo()
    activated = Partnership.objects.filter(activated_at__isnull=False).select_related("grant")
    assert activated.count() >= 3
    for partnership in activated:
        first = GrantCoverage.objects.filter(partnership=partnership).order_by("effective_at", "id").first()
        assert first is not None, partnership
        assert first.effective_at == partnership.activated_at
        assert first.mode == partnership.grant.mode
