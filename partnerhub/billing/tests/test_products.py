"""Customer products: quantities, cancellation, suspension, trial conversion, relative licence recount."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.http import Http404
from django.utils import timezone

from conftest import add_member, make_user
from partnerhub.access.perms import Perm, Role
from partnerhub.audit.models import AuditEntry
from partnerhub.billing.models import CustomerProduct, Invoice, ProductStatus
from partnerhub.billing.services import (
    add_customer_product,
    cancel_customer_product,
    change_quantity,
    convert_trial,
    end_due_products,
    place_order,
    reactivate_customer_product,
    recount_relative_licences,
    resume_customer_product,
    suspend_customer_product,
)
from partnerhub.billing.services.common import add_months
from partnerhub.billing.tests.shop import actor, hosting, licence, snapshot
from partnerhub.catalog.tests.factories import make_price
from partnerhub.core.errors import ServiceError


def _product(org, owner, product, quantity=1) -> CustomerProduct:
    place_order(actor(owner), customer=org, lines=[(product, quantity, None)], currency="CHF")
    return CustomerProduct.objects.filter(org=org, product=product).latest("id")


def test_add_months_clamps_to_month_end():
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2026, 11, 30), 3) == date(2027, 2, 28)
    assert add_months(date(2026, 5, 15), 12) == date(2027, 5, 15)


def test_absolute_licence_quantity_changes(acme, acme_owner, acme_admin):
    cp = _product(acme, acme_owner, licence(), 5)
    assert change_quantity(actor(acme_admin), customer_product=cp, quantity=8).quantity == 8
    assert change_quantity(actor(acme_admin), customer_product=cp, quantity=2).quantity == 2
    assert AuditEntry.objects.filter(action="customer_product.quantity_changed").count() == 2


def test_adding_licences_needs_billing_order(acme, acme_owner):
    cp = _product(acme, acme_owner, licence(), 5)
    manager = make_user("products@acme.test")
    add_member(manager, acme, Role.MEMBER, [Perm.PRODUCTS_MANAGE])
    before = snapshot()
    with pytest.raises(ServiceError, match="place orders"):
        change_quantity(actor(manager), customer_product=cp, quantity=6)
    assert snapshot() == before
    assert change_quantity(actor(manager), customer_product=cp, quantity=4).quantity == 4


@pytest.mark.parametrize("kind", ["relative", "service"])
def test_only_absolute_licences_have_a_chosen_quantity(acme, acme_owner, kind):
    cp = _product(acme, acme_owner, licence(relative=True) if kind == "relative" else hosting())
    before = snapshot()
    with pytest.raises(ServiceError):
        change_quantity(actor(acme_owner), customer_product=cp, quantity=3)
    assert snapshot() == before


@pytest.mark.parametrize(("who", "error"), [("acme_member", PermissionDenied), ("globex_owner", Http404)])
def test_product_writes_are_refused_without_products_manage(request, acme, acme_owner, who, error):
    cp = _product(acme, acme_owner, licence(), 5)
    user = request.getfixturevalue(who)
    before = snapshot()
    for call in (
        lambda: change_quantity(actor(user), customer_product=cp, quantity=1),
        lambda: cancel_customer_product(actor(user), customer_product=cp),
        lambda: resume_customer_product(actor(user), customer_product=cp),
        lambda: convert_trial(actor(user), customer_product=cp),
        lambda: suspend_customer_product(actor(user), customer_product=cp),
    ):
        with pytest.raises((PermissionDenied, Http404)):
            call()
    assert snapshot() == before


def test_customer_cancels_at_term_end_and_the_task_ends_it(acme, acme_owner):
    cp = _product(acme, acme_owner, hosting())
    cp = cancel_customer_product(actor(acme_owner), customer_product=cp)
    assert cp.status == ProductStatus.ACTIVE and cp.cancel_at_term_end
    with pytest.raises(ServiceError):
        cancel_customer_product(actor(acme_owner), customer_product=cp)
    cp = resume_customer_product(actor(acme_owner), customer_product=cp)
    assert not cp.cancel_at_term_end
    cancel_customer_product(actor(acme_owner), customer_product=cp)
    assert cp.renews_on is not None
    assert end_due_products(today=cp.renews_on - timedelta(days=1)) == 0
    assert end_due_products(today=cp.renews_on) == 1
    assert end_due_products(today=cp.renews_on) == 0
    cp.refresh_from_db()
    assert cp.status == ProductStatus.CANCELLED and cp.cancelled_at is not None
    assert AuditEntry.objects.get(action="customer_product.ended").actor is None


def test_operator_suspends_reactivates_and_cancels_at_once(acme, acme_owner, operator_staff):
    cp = _product(acme, acme_owner, hosting())
    staff = actor(operator_staff)
    assert suspend_customer_product(staff, customer_product=cp).status == ProductStatus.SUSPENDED
    with pytest.raises(ServiceError):
        suspend_customer_product(staff, customer_product=cp)
    assert reactivate_customer_product(staff, customer_product=cp).status == ProductStatus.ACTIVE
    assert cancel_customer_product(staff, customer_product=cp, immediately=True).status == ProductStatus.CANCELLED
    with pytest.raises(ServiceError):
        reactivate_customer_product(staff, customer_product=cp)


def test_customer_cannot_suspend_or_cancel_at_once(acme, acme_owner, operator_org):
    cp = _product(acme, acme_owner, hosting())
    before = snapshot()
    with pytest.raises(Http404):
        suspend_customer_product(actor(acme_owner), customer_product=cp)
    with pytest.raises(Http404):
        cancel_customer_product(actor(acme_owner), customer_product=cp, immediately=True)
    assert snapshot() == before


def test_operator_adds_a_product(acme, operator_staff):
    cp = add_customer_product(actor(operator_staff), org=acme, product=licence(), quantity=3, term_months=12)
    assert (cp.status, cp.quantity, cp.renews_on) == (
        ProductStatus.ACTIVE,
        3,
        add_months(timezone.localdate(), 12),
    )


def test_trial_conversion_orders_at_current_prices(acme, acme_owner, django_capture_on_commit_callbacks):
    module = licence("module", trial_days=14)
    cp = _product(acme, acme_owner, module, 3)
    assert cp.status == ProductStatus.TRIAL
    make_price(module, "CHF", "5.00")  # the price changed during the trial
    with django_capture_on_commit_callbacks(execute=True):
        order = convert_trial(actor(acme_owner), customer_product=cp)
    cp.refresh_from_db()
    assert cp.status == ProductStatus.ACTIVE
    assert cp.renews_on == add_months(timezone.localdate(), 1)
    assert cp.order_line is not None and cp.order_line.order == order
    assert order.total == Decimal("15.00")
    assert Invoice.objects.get(order=order).total == Decimal("15.00")
    assert AuditEntry.objects.filter(action="customer_product.trial_converted").count() == 1
    assert len(mail.outbox) == 1
    with pytest.raises(ServiceError):
        convert_trial(actor(acme_owner), customer_product=cp)


def test_expired_trials_end(acme, acme_owner):
    cp = _product(acme, acme_owner, licence("module", trial_days=14))
    assert cp.trial_ends_on is not None
    assert end_due_products(today=cp.trial_ends_on) == 0
    assert end_due_products(today=cp.trial_ends_on + timedelta(days=1)) == 1


def test_relative_licences_are_recounted_at_renewal(acme, acme_owner, acme_admin, acme_member, globex, globex_owner):
    seats = licence("seats", relative=True)
    cp = _product(acme, acme_owner, seats)
    absolute = _product(acme, acme_owner, licence("fixed"), 7)
    other = _product(globex, globex_owner, seats)
    assert cp.quantity == 3 and other.quantity == 1
    newcomer = make_user("new@acme.test")
    add_member(newcomer, acme, Role.MEMBER)
    gone = make_user("gone@acme.test")
    add_member(gone, acme, Role.MEMBER)
    gone.is_active = False
    gone.save()
    due = cp.renews_on
    assert due is not None
    assert recount_relative_licences(today=due - timedelta(days=1)) == 0
    assert recount_relative_licences(today=due) == 2  # acme's and globex's seats
    assert recount_relative_licences(today=due) == 0  # idempotent
    cp.refresh_from_db()
    absolute.refresh_from_db()
    assert (cp.quantity, cp.renews_on) == (4, add_months(due, 1))
    assert absolute.quantity == 7
    entry = AuditEntry.objects.get(action="customer_product.licences_recounted", org=acme)
    assert entry.actor is None and entry.after is not None and entry.after["quantity"] == 4


def test_missed_renewals_catch_up_in_one_run(acme, acme_owner):
    cp = _product(acme, acme_owner, licence("seats", relative=True))
    CustomerProduct.objects.filter(pk=cp.pk).update(renews_on=timezone.localdate() - timedelta(days=70))
    assert recount_relative_licences() == 1
    cp.refresh_from_db()
    assert cp.renews_on is not None and cp.renews_on > timezone.localdate()
    assert recount_relative_licences() == 0


def test_recount_command(acme, acme_owner, capsys):
    cp = _product(acme, acme_owner, licence("seats", relative=True))
    CustomerProduct.objects.filter(pk=cp.pk).update(renews_on=timezone.localdate())
    call_command("recount_licences")
    assert "1" in capsys.readouterr().out
    call_command("billing_daily")
    assert "recounted licences: 0" in capsys.readouterr().out


def test_a_relative_licence_without_active_members_keeps_one_seat(acme, acme_owner):
    cp = _product(acme, acme_owner, licence("seats", relative=True))
    acme_owner.is_active = False
    acme_owner.save()
    assert cp.renews_on is not None
    assert recount_relative_licences(today=cp.renews_on) == 1
    cp.refresh_from_db()
    assert cp.quantity == 1
    entry = AuditEntry.objects.get(action="customer_product.licences_recounted", org=acme)
    assert entry.after is not None and entry.after["quantity"] == 1
