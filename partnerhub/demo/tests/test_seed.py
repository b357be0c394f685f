from django.core.management import call_command

from partnerhub.access.perms import Perm
from partnerhub.access.policy import can
from partnerhub.accounts.models import User
from partnerhub.audit.models import AuditEntry
from partnerhub.demo.seed import DEMO_PASSWORD, LOGINS, seed
from partnerhub.orgs.models import Membership, Organisation


def test_seed_creates_every_printed_login_with_the_printed_password(db):
    assert seed() is True
    for login in LOGINS:
        user = User.objects.get(email=login.email)
        assert user.check_password(DEMO_PASSWORD)
        assert user.active_org is not None


def test_seed_is_idempotent(db):
    seed()
    counts = (Organisation.objects.count(), Membership.objects.count(), AuditEntry.objects.count())
    assert seed() is False
    assert (Organisation.objects.count(), Membership.objects.count(), AuditEntry.objects.count()) == counts


def test_seeded_roles_mean_what_the_logins_say(db):
    seed()
    operator = User.objects.get(email="operator@demo.partnerhub.test")
    staff = User.objects.get(email="staff@bergwerk.demo.partnerhub.test")
    admin = User.objects.get(email="admin@sonnenschein.demo.partnerhub.test")
    assert can(operator, Perm.OPERATOR_PROGRAM_MANAGE, Organisation.objects.get(is_operator=True))
    bergwerk = Organisation.objects.get(slug="bergwerk")
    assert can(staff, Perm.PARTNER_CUSTOMERS_ADMINISTER, bergwerk)
    assert not can(staff, Perm.MEMBERS_MANAGE, bergwerk)
    assert can(admin, Perm.MEMBERS_MANAGE, Organisation.objects.get(slug="cafe-sonnenschein"))


def test_seed_demo_command_prints_the_logins(db, capsys):
    call_command("seed_demo", skip_checks=True)
    out = capsys.readouterr().out
    for login in LOGINS:
        assert login.email in out
    assert DEMO_PASSWORD in out


def test_every_seeded_organisation_has_an_owner(db):
    from partnerhub.access.perms import Role

    seed()
    for org in Organisation.objects.all():
        assert Membership.objects.filter(org=org, role=Role.OWNER).exists(), org


def test_seed_demo_refuses_to_run_in_production_mode(db, settings):
    import pytest
    from django.core.management.base import CommandError

    settings.MODE = "production"
    with pytest.raises(CommandError):
        call_command("seed_demo", skip_checks=True)
    assert not Organisation.objects.exists()


def test_demo_billing_covers_every_status(db):
    from partnerhub.billing.models import (
        BillingEvent,
        CustomerProduct,
        Invoice,
        InvoiceStatus,
        ProductStatus,
    )
    from partnerhub.catalog.models import Category, Price

    seed()
    assert set(Invoice.objects.values_list("status", flat=True)) == set(InvoiceStatus.values)
    assert set(CustomerProduct.objects.values_list("status", flat=True)) == set(ProductStatus.values)
    assert Category.objects.count() == 6
    assert set(Price.objects.values_list("currency", flat=True)) == {"CHF", "EUR"}
    kinds = set(BillingEvent.objects.values_list("kind", flat=True))
    assert {"payment", "refund", "renewal"} <= kinds
