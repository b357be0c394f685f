"""Program services: lazy program, partner discount, reseller switch, volume tiers."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django.http import Http404

from partnerhub.access.operator import NoOperator, holds_operator_perm
from partnerhub.access.perms import Perm
from partnerhub.audit.models import AuditEntry
from partnerhub.catalog.tests.factories import make_program
from partnerhub.catalog.tests.helpers import actor, audit_actions, snapshot
from partnerhub.core.errors import ServiceError
from partnerhub.partners import queries, services
from partnerhub.partners.models import Program, VolumeTier


def test_get_program_creates_it_lazily_once(operator_org):
    program = services.get_program()
    assert (program.operator, program.partner_discount_percent, program.reseller_pricing) == (
        operator_org,
        Decimal(20),
        True,
    )
    assert services.get_program() == program
    assert Program.objects.count() == 1
    assert not AuditEntry.objects.exists()


def test_get_program_without_an_operator_is_a_clear_error(db):
    with pytest.raises(NoOperator, match="no operator organisation"):
        services.get_program()
    assert not Program.objects.exists()


def test_update_program(operator_staff, operator_org):
    program = services.update_program(
        actor(operator_staff), partner_discount_percent="22.5", reseller_pricing=False, name=" Partners "
    )

    program.refresh_from_db()
    assert (program.partner_discount_percent, program.reseller_pricing, program.name) == (
        Decimal("22.50"),
        False,
        "Partners",
    )
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.org) == ("program.updated", operator_org)
    assert (entry.before or {})["partner_discount_percent"] == "20.00"
    assert entry.after == {"name": "Partners", "partner_discount_percent": "22.50", "reseller_pricing": False}


def test_update_program_without_change_records_nothing(operator_staff, operator_org):
    services.update_program(actor(operator_staff), partner_discount_percent=Decimal(20), reseller_pricing=True)
    assert not AuditEntry.objects.exists()


@pytest.mark.parametrize(
    ("value", "message"),
    [("-1", "between 0 and 100"), ("100.01", "between 0 and 100"), ("12.345", "two decimal"), ("x", "a number")],
)
def test_partner_discount_is_a_percentage(operator_staff, operator_org, value, message):
    services.get_program()
    before = snapshot()
    with pytest.raises(ServiceError, match=message):
        services.update_program(actor(operator_staff), partner_discount_percent=value, reseller_pricing=True)
    assert snapshot() == before


def test_partner_discount_refuses_floats(operator_staff, operator_org):
    with pytest.raises(TypeError):
        services.update_program(actor(operator_staff), partner_discount_percent=20.0, reseller_pricing=True)  # type: ignore[arg-type]


def test_volume_tiers(operator_staff, operator_org):
    staff = actor(operator_staff)
    services.add_volume_tier(staff, min_quantity=30, percent="25")
    services.add_volume_tier(staff, min_quantity=10, percent="10")
    tier = services.add_volume_tier(staff, min_quantity=25, percent="15")

    services.change_volume_tier(staff, tier=tier, percent="20")
    assert [(t.min_quantity, t.percent) for t in queries.volume_tiers()] == [
        (10, Decimal("10.00")),
        (25, Decimal("20.00")),
        (30, Decimal("25.00")),
    ]
    services.remove_volume_tier(staff, tier=queries.volume_tier_at(10))
    assert [t.min_quantity for t in queries.volume_tiers()] == [25, 30]
    assert audit_actions() == [
        "program.volume_tier_added",
        "program.volume_tier_added",
        "program.volume_tier_added",
        "program.volume_tier_changed",
        "program.volume_tier_removed",
    ]
    assert AuditEntry.objects.order_by("pk").values_list("before", flat=True).last() == {
        "min_quantity": 10,
        "percent": "10.00",
    }


def test_volume_tier_quantities_are_unique(operator_staff, operator_org):
    staff = actor(operator_staff)
    services.add_volume_tier(staff, min_quantity=10, percent="10")
    tier = services.add_volume_tier(staff, min_quantity=20, percent="15")
    before = snapshot()
    with pytest.raises(services.TierTaken, match="already a volume tier from 10"):
        services.add_volume_tier(staff, min_quantity=10, percent="12")
    with pytest.raises(services.TierTaken):
        services.change_volume_tier(staff, tier=tier, min_quantity=10)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("quantity", "percent", "message"),
    [(0, "10", "between 1 and"), (5, "101", "between 0 and 100"), (5, "-5", "between 0 and 100")],
)
def test_volume_tier_validation(operator_staff, operator_org, quantity, percent, message):
    services.get_program()
    before = snapshot()
    with pytest.raises(ServiceError, match=message):
        services.add_volume_tier(actor(operator_staff), min_quantity=quantity, percent=percent)
    assert snapshot() == before


def test_tiers_of_another_program_are_not_found(operator_staff, operator_org):
    tier = services.add_volume_tier(actor(operator_staff), min_quantity=10, percent="10")
    VolumeTier.objects.filter(pk=tier.pk).delete()
    with pytest.raises(Http404):
        services.remove_volume_tier(actor(operator_staff), tier=tier)
    with pytest.raises(Http404):
        queries.volume_tier_at(10)


def test_the_factory_builds_the_seed_program(operator_org):
    program = make_program(operator_org, discount="20", tiers=[(10, "10"), (25, "20"), (30, "25")])
    assert program.partner_discount_percent == Decimal(20)
    assert [t.min_quantity for t in queries.volume_tiers()] == [10, 25, 30]


@pytest.mark.parametrize("who", ["acme_owner", "globex_owner", "outsider"])
def test_customers_cannot_change_the_program(request, operator_org, who):
    user = request.getfixturevalue(who)
    make_program(operator_org, tiers=[(10, "10")])
    tier = VolumeTier.objects.get()
    before = snapshot()
    for call in (
        lambda: services.update_program(actor(user), partner_discount_percent="50", reseller_pricing=False),
        lambda: services.add_volume_tier(actor(user), min_quantity=5, percent="5"),
        lambda: services.change_volume_tier(actor(user), tier=tier, percent="90"),
        lambda: services.remove_volume_tier(actor(user), tier=tier),
    ):
        with pytest.raises((Http404, PermissionDenied)):
            call()
    assert snapshot() == before
    assert holds_operator_perm(actor(user), Perm.OPERATOR_PROGRAM_MANAGE) is False


def test_operator_staff_holds_the_program_permission(operator_staff):
    assert holds_operator_perm(actor(operator_staff), Perm.OPERATOR_PROGRAM_MANAGE) is True
