"""Payout statements and the operator's payout actions (DESIGN §8)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.http import Http404

from conftest import actor, add_member, make_user
from partnerhub.access.perms import Role
from partnerhub.audit.models import AuditEntry
from partnerhub.commissions.models import EntryStatus, LedgerEntry, Payout, PayoutStatus, Totals
from partnerhub.commissions.payouts import services
from partnerhub.commissions.payouts.statements import create_due_statements, create_statements, previous_month
from partnerhub.commissions.tasks import run_daily
from partnerhub.commissions.tests.factories import seed_program
from partnerhub.commissions.tests.payout_helpers import (
    Earner,
    approve,
    at,
    details,
    month,
    snapshot,
    totals_match,
)
from partnerhub.core.errors import ServiceError

pytestmark = pytest.mark.django_db


@pytest.fixture
def program(operator_org):
    return seed_program(operator_org)


@pytest.fixture
def earner(program):
    return Earner(program)


@pytest.fixture
def earner_owner(earner):
    user = make_user("owner@bergwerk.test", "Berta Berg")
    add_member(user, earner.org, Role.OWNER)
    return user


def _february_payout(earner: Earner, amount: str = "100.00") -> Payout:
    earner.earn(amount, at(2026, 1, 5))
    approve(at(2026, 2, 10))
    assert create_statements(month(2026, 2), now=at(2026, 3, 1, 6)).created == 1
    return Payout.objects.get(beneficiary=earner.org)


# --- statements ---------------------------------------------------------------------------------------------


def test_statement_gathers_the_approved_entries_of_the_month(earner):
    earner.earn("30.00", at(2026, 1, 5))
    earner.earn("40.00", at(2026, 1, 6))
    approve(at(2026, 2, 10))
    run = create_statements(month(2026, 2), now=at(2026, 3, 1, 6))
    assert (run.created, run.carried_over) == (1, 0)
    payout = Payout.objects.get()
    assert (payout.period, payout.currency, payout.amount_minor, payout.status) == (
        month(2026, 2),
        "CHF",
        7000,
        PayoutStatus.OPEN,
    )
    assert set(LedgerEntry.objects.values_list("payout_id", flat=True)) == {payout.pk}
    assert AuditEntry.objects.filter(action="payout.created", org=earner.org).count() == 1
    assert totals_match()


def test_below_the_minimum_carries_over_to_the_next_month(earner):
    earner.earn("30.00", at(2026, 1, 5))
    approve(at(2026, 2, 10))
    run = create_statements(month(2026, 2), now=at(2026, 3, 1, 6))
    assert (run.created, run.carried_over) == (0, 1)
    assert not Payout.objects.exists()
    earner.earn("25.00", at(2026, 2, 20))
    approve(at(2026, 3, 25))
    assert create_statements(month(2026, 3), now=at(2026, 4, 1, 6)).created == 1
    payout = Payout.objects.get()
    assert (payout.period, payout.amount_minor) == (month(2026, 3), 5500)
    assert LedgerEntry.objects.filter(payout=payout).count() == 2


def test_the_minimum_is_the_programs_setting(program, earner):
    program.payout_minimum = 200
    program.save()
    _ = earner.earn("150.00", at(2026, 1, 5))
    approve(at(2026, 2, 10))
    assert create_statements(month(2026, 2), now=at(2026, 3, 1, 6)).created == 0
    program.payout_minimum = 150
    program.save()
    assert create_statements(month(2026, 2), now=at(2026, 3, 1, 6)).created == 1


def test_entries_approved_after_the_month_wait_for_the_next_statement(earner):
    earner.earn("60.00", at(2026, 1, 5))
    approve(at(2026, 2, 10))
    earner.earn("70.00", at(2026, 1, 31))
    approve(at(2026, 3, 2))  # approved in March: not part of February's statement
    create_statements(month(2026, 2), now=at(2026, 3, 5))
    payout = Payout.objects.get()
    assert payout.amount_minor == 6000
    assert LedgerEntry.objects.filter(payout__isnull=True, status=EntryStatus.APPROVED).count() == 1


def test_a_month_not_over_issues_nothing(earner):
    earner.earn("60.00", at(2026, 1, 5))
    approve(at(2026, 2, 10))
    assert create_statements(month(2026, 2), now=at(2026, 2, 28, 23)).created == 0
    assert not Payout.objects.exists()


def test_statements_are_idempotent(earner, program):
    other = Earner(program, "talweg")
    earner.earn("60.00", at(2026, 1, 5))
    other.earn("80.00", at(2026, 1, 5))
    approve(at(2026, 2, 10))
    assert create_statements(month(2026, 2), now=at(2026, 3, 1, 6)).created == 2
    before = snapshot()
    assert create_statements(month(2026, 2), now=at(2026, 3, 2, 6)).created == 0
    assert create_due_statements(now=at(2026, 3, 20)).created == 0
    assert snapshot() == before


def test_daily_run_catches_up_on_the_previous_month(earner):
    earner.earn("60.00", at(2026, 1, 5))
    approve(at(2026, 2, 10))
    assert create_due_statements(now=at(2026, 3, 17)).created == 1  # the 1st was missed
    assert Payout.objects.get().period == month(2026, 2)
    result = run_daily()
    assert "statements" in result
    assert previous_month(month(2026, 1)) == month(2025, 12)


def test_currencies_get_separate_statements(earner):
    earner.earn("60.00", at(2026, 1, 5))
    from partnerhub.commissions.accrual import accrue_pending
    from partnerhub.commissions.tests.factories import event

    event(earner.customer, "payment", [("web-hosting", "300.00")], at=at(2026, 1, 6), currency="EUR")
    accrue_pending()
    approve(at(2026, 2, 10))
    create_statements(month(2026, 2), now=at(2026, 3, 1, 6))
    assert sorted(Payout.objects.values_list("currency", "amount_minor")) == [("CHF", 6000), ("EUR", 6000)]


def test_reversal_of_a_paid_entry_is_deducted_from_the_next_payout(earner, operator_staff):
    details(earner.org)
    staff = actor(operator_staff)
    original = earner.earn("100.00", at(2026, 1, 5))
    approve(at(2026, 2, 10))
    create_statements(month(2026, 2), now=at(2026, 3, 1, 6))
    payout = Payout.objects.get()
    services.approve_payout(staff, payout=payout)
    services.mark_payout_paid(staff, payout=payout, reference="BANK-1")
    assert totals_match()
    # The paid commission is refunded in March; a new one of 30 follows: the balance is −70.
    earner.refund(original, at(2026, 3, 3))
    earner.earn("30.00", at(2026, 3, 4))
    approve(at(2026, 4, 10))
    run = create_statements(month(2026, 4), now=at(2026, 5, 1, 6))
    assert (run.created, run.carried_over) == (0, 1)
    assert totals_match()
    # May brings 200: the next payout is 200 − 70 = 130 and holds the reversal.
    earner.earn("200.00", at(2026, 4, 20))
    approve(at(2026, 5, 25))
    create_statements(month(2026, 5), now=at(2026, 6, 1, 6))
    june = Payout.objects.get(period=month(2026, 5))
    assert june.amount_minor == 13000
    assert LedgerEntry.objects.filter(payout=june, amount_minor__lt=0).count() == 1
    services.approve_payout(staff, payout=june)
    services.mark_payout_paid(staff, payout=june, reference="BANK-2")
    totals = Totals.objects.get(beneficiary=earner.org)
    assert (totals.paid_minor, totals.approved_minor, totals.earned_minor) == (23000, 0, 23000)
    assert totals_match()


# --- operator actions ---------------------------------------------------------------------------------------


def test_approve_snapshots_the_details_and_emails_the_beneficiary(
    earner, earner_owner, operator_staff, operator_org, django_capture_on_commit_callbacks
):
    payout = _february_payout(earner)
    details(earner.org, earner_owner)
    with django_capture_on_commit_callbacks(execute=True):
        services.approve_payout(actor(operator_staff), payout=payout)
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.APPROVED
    assert (payout.account_holder, payout.iban, payout.approved_by) == (
        "Bergwerk GmbH",
        "CH9300762011623852957",
        operator_staff,
    )
    # A later change of details does not rewrite the approved payout.
    earner.org.payout_details.iban = "DE89370400440532013000"
    earner.org.payout_details.save()
    payout.refresh_from_db()
    assert payout.iban == "CH9300762011623852957"
    assert [m.to for m in mail.outbox] == [[earner_owner.email]]
    assert "approved" in mail.outbox[0].subject
    assert "2957" in mail.outbox[0].body and "CH9300762011623852957" not in mail.outbox[0].body
    entries = AuditEntry.objects.filter(action="payout.approved")
    assert {e.org_id for e in entries} == {earner.org.pk, operator_org.pk}
    first = entries.get(org=earner.org)
    assert (first.before or {})["status"] == "open" and (first.after or {})["status"] == "approved"
    assert totals_match()


def test_approve_without_details_is_refused_with_a_clear_message(earner, operator_staff):
    payout = _february_payout(earner)
    before = snapshot()
    with pytest.raises(services.PayoutConflict, match="payout details"):
        services.approve_payout(actor(operator_staff), payout=payout)
    assert snapshot() == before


def test_mark_paid_moves_entries_and_totals(earner, earner_owner, operator_staff, django_capture_on_commit_callbacks):
    payout = _february_payout(earner)
    details(earner.org)
    staff = actor(operator_staff)
    services.approve_payout(staff, payout=payout)
    with django_capture_on_commit_callbacks(execute=True):
        services.mark_payout_paid(staff, payout=payout, reference="  UBS  2026-03-15 ")
    payout.refresh_from_db()
    assert (payout.status, payout.reference, payout.paid_by) == (PayoutStatus.PAID, "UBS 2026-03-15", operator_staff)
    assert set(LedgerEntry.objects.values_list("status", flat=True)) == {EntryStatus.PAID}
    assert LedgerEntry.objects.filter(paid_at__isnull=True).count() == 0
    totals = Totals.objects.get(beneficiary=earner.org)
    assert (totals.approved_minor, totals.paid_minor) == (0, 10000)
    assert totals_match()
    assert "paid" in mail.outbox[-1].subject and "UBS 2026-03-15" in mail.outbox[-1].body


def test_mark_paid_needs_a_reference_and_an_approved_payout(earner, operator_staff):
    payout = _february_payout(earner)
    details(earner.org)
    staff = actor(operator_staff)
    before = snapshot()
    with pytest.raises(services.PayoutConflict):
        services.mark_payout_paid(staff, payout=payout, reference="X")  # still open
    services.approve_payout(staff, payout=payout)
    before = snapshot()
    with pytest.raises(ServiceError) as refused:
        services.mark_payout_paid(staff, payout=payout, reference="   ")
    assert "reference" in refused.value.message_dict
    with pytest.raises(ServiceError):
        services.mark_payout_paid(staff, payout=payout, reference="x" * 101)
    assert snapshot() == before


def test_cancel_releases_the_entries_into_the_next_statement(earner, operator_staff):
    payout = _february_payout(earner)
    details(earner.org)
    staff = actor(operator_staff)
    services.approve_payout(staff, payout=payout)
    services.cancel_payout(staff, payout=payout)
    payout.refresh_from_db()
    assert payout.status == PayoutStatus.CANCELLED
    assert LedgerEntry.objects.filter(payout__isnull=True, status=EntryStatus.APPROVED).count() == 1
    assert totals_match()
    # February is not issued again; March's statement takes the released entries.
    assert create_statements(month(2026, 2), now=at(2026, 3, 2)).created == 0
    assert create_statements(month(2026, 3), now=at(2026, 4, 1, 6)).created == 1
    march = Payout.objects.get(period=month(2026, 3))
    assert march.amount_minor == 10000
    assert LedgerEntry.objects.get().payout_id == march.pk
    with pytest.raises(services.PayoutConflict):
        services.cancel_payout(staff, payout=payout)


def test_paid_payouts_cannot_be_cancelled_or_approved_again(earner, operator_staff):
    payout = _february_payout(earner)
    details(earner.org)
    staff = actor(operator_staff)
    services.approve_payout(staff, payout=payout)
    services.mark_payout_paid(staff, payout=payout, reference="R1")
    before = snapshot()
    for action in (services.cancel_payout, services.approve_payout):
        with pytest.raises(services.PayoutConflict):
            action(staff, payout=payout)
    with pytest.raises(services.PayoutConflict):
        services.mark_payout_paid(staff, payout=payout, reference="R2")
    assert snapshot() == before


@pytest.mark.parametrize("who", ["member", "partner", "outsider"])
def test_actions_need_operator_payouts_manage(who, earner, earner_owner, operator_org, operator_staff):
    payout = _february_payout(earner)
    details(earner.org)
    if who == "member":
        user = make_user("member@operator.test")
        add_member(user, operator_org, Role.MEMBER)
    elif who == "partner":
        user = earner_owner
    else:
        user = make_user("nobody@example.test")
    before = snapshot()
    for action, kwargs in (
        (services.approve_payout, {}),
        (services.cancel_payout, {}),
        (services.mark_payout_paid, {"reference": "R"}),
    ):
        with pytest.raises((PermissionDenied, Http404)):
            action(actor(user), payout=payout, **kwargs)
    assert snapshot() == before
    # Operator members with the extra permission may.
    clerk = make_user("clerk@operator.test")
    add_member(clerk, operator_org, Role.MEMBER, ["operator.payouts.manage"])
    services.approve_payout(actor(clerk), payout=payout)
    assert totals_match()


# --- payout details -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("iban", "stored"),
    [
        ("CH93 0076 2011 6238 5295 7", "CH9300762011623852957"),
        ("de89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("GB82WEST12345698765432", "GB82WEST12345698765432"),
    ],
)
def test_valid_ibans_are_stored_compact(earner, earner_owner, iban, stored):
    data = services.DetailsData(account_holder=" Berta  Berg ", iban=iban, bic="")
    saved = services.set_payout_details(actor(earner_owner), org=earner.org, data=data)
    assert (saved.iban, saved.account_holder) == (stored, "Berta Berg")


@pytest.mark.parametrize(
    ("iban", "message"),
    [
        ("", "Enter the IBAN"),
        ("CH94 0076 2011 6238 5295 7", "check digits"),
        ("CH93 0076 2011 6238 5295", "wrong length"),
        ("XX93 0076 2011 6238 5295 7", "country code"),
        ("CH93-0076-2011", "only letters and digits"),
        ("€", "only letters and digits"),
    ],
)
def test_invalid_ibans_are_refused(earner, earner_owner, iban, message):
    before = snapshot()
    with pytest.raises(ServiceError) as refused:
        services.set_payout_details(
            actor(earner_owner), org=earner.org, data=services.DetailsData(account_holder="B", iban=iban)
        )
    assert message in refused.value.message_dict["iban"][0]
    assert snapshot() == before


def test_holder_required_and_bic_checked(earner, earner_owner):
    with pytest.raises(ServiceError) as refused:
        services.set_payout_details(
            actor(earner_owner),
            org=earner.org,
            data=services.DetailsData(account_holder="  ", iban="CH9300762011623852957", bic="NOTABIC!"),
        )
    assert set(refused.value.message_dict) == {"account_holder", "bic"}
    saved = services.set_payout_details(
        actor(earner_owner),
        org=earner.org,
        data=services.DetailsData(account_holder="Berta", iban="CH9300762011623852957", bic="ubswchzh80a"),
    )
    assert saved.bic == "UBSWCHZH80A"


def test_details_change_is_audited_with_a_masked_iban(earner, earner_owner):
    first = services.DetailsData(account_holder="Berta", iban="CH9300762011623852957")
    services.set_payout_details(actor(earner_owner), org=earner.org, data=first)
    second = services.DetailsData(account_holder="Berta", iban="DE89370400440532013000")
    services.set_payout_details(actor(earner_owner), org=earner.org, data=second)
    entries = list(AuditEntry.objects.filter(action="payout_details.changed").order_by("id"))
    assert entries[0].before is None and (entries[0].after or {})["iban"].endswith("2957")
    assert (entries[1].before or {})["iban"].endswith("2957") and (entries[1].after or {})["iban"].endswith("3000")
    for entry in entries:
        text = str(entry.before) + str(entry.after)
        assert "CH9300762011623852957" not in text and "DE89370400440532013000" not in text


def test_details_need_partner_portal_manage(earner, earner_owner, globex_owner):
    member = make_user("member@bergwerk.test")
    add_member(member, earner.org, Role.MEMBER)
    data = services.DetailsData(account_holder="Mallory", iban="CH9300762011623852957")
    before = snapshot()
    with pytest.raises(PermissionDenied):
        services.set_payout_details(actor(member), org=earner.org, data=data)
    with pytest.raises(Http404):
        services.set_payout_details(actor(globex_owner), org=earner.org, data=data)
    assert snapshot() == before


def test_hold_is_respected_before_statements(earner):
    earner.earn("100.00", at(2026, 1, 5))
    approve(at(2026, 1, 20))  # still in the 30-day hold
    assert create_statements(month(2026, 1), now=at(2026, 2, 1, 6)).created == 0
    approve(at(2026, 1, 5) + timedelta(days=31))
    assert create_statements(month(2026, 2), now=at(2026, 3, 1, 6)).created == 1
