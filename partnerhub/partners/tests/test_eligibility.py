"""Eligibility: evaluating the rules (boundaries at the minimum, currencies without a rule) and the
operator's settings services."""

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied

from conftest import actor
from partnerhub.core.errors import ServiceError
from partnerhub.partners.models import EligibilityVolume, Program
from partnerhub.partners.services import eligibility
from partnerhub.partners.services.eligibility import Candidate, evaluate, unmet_codes
from partnerhub.partners.tests.helpers import actions, snapshot

COMPLETE = {"register_number": "CHE-1", "website": "https://a.example"}


def codes(program, **fields):
    return unmet_codes(evaluate(program, Candidate(**{**COMPLETE, **fields})))


@pytest.mark.parametrize(
    ("volume", "currency", "unmet"),
    [
        ("2000", "CHF", []),  # exactly the minimum meets it
        ("2000.00", "CHF", []),
        ("1999.99", "CHF", ["min_volume"]),  # one centime below does not
        ("2000.01", "CHF", []),
        ("1800", "EUR", []),
        ("1799.99", "EUR", ["min_volume"]),
        ("1999", "EUR", []),  # each currency has its own minimum
        ("0", "CHF", ["min_volume"]),
    ],
)
def test_minimum_volume_boundaries(program, volume, currency, unmet):
    assert codes(program, expected_volume=Decimal(volume), currency=currency) == unmet


def test_a_currency_without_a_minimum_is_not_accepted(program):
    results = evaluate(program, Candidate(**COMPLETE, expected_volume=Decimal(1_000_000), currency="USD"))

    assert unmet_codes(results) == ["volume_currency"]
    assert "no minimum in USD" in results[0].detail
    assert "CHF, EUR" in results[0].detail


def test_missing_volume_is_unmet_while_filling_in(program):
    assert codes(program, expected_volume=None, currency="") == ["min_volume"]


def test_registered_company_and_website_rules(program):
    results = evaluate(
        program, Candidate(register_number=" ", website="", expected_volume=Decimal(5000), currency="CHF")
    )

    assert unmet_codes(results) == ["registered_company", "active_website"]
    assert [r.met for r in results] == [True, False, False]


def test_without_rules_everything_is_eligible(operator_org):
    program = Program.objects.create(operator=operator_org)

    assert evaluate(program, Candidate()) == []


def test_switched_off_rules_are_not_evaluated(program):
    program.registered_company_required = False
    program.active_website_required = False
    program.save()

    assert codes(program, register_number="", website="", expected_volume=Decimal(1), currency="EUR") == ["min_volume"]


def test_rule_labels_name_the_minimums(program):
    [volume_rule, *_rest] = evaluate(program, Candidate(**COMPLETE, expected_volume=Decimal(1), currency="CHF"))

    assert "CHF 2000.00" in volume_rule.label and "EUR 1800.00" in volume_rule.label
    assert "CHF 1.00 is below the minimum of CHF 2000.00" in volume_rule.detail


# --- settings ----------------------------------------------------------------------------------------


def test_update_rules_is_audited_on_the_operator(program, operator_staff, operator_org):
    eligibility.update_eligibility_rules(
        actor(operator_staff),
        registered_company_required=False,
        active_website_required=True,
        partner_affiliate_exclusive=True,
        partner_owner_mfa=True,
    )

    program.refresh_from_db()
    assert (program.registered_company_required, program.partner_affiliate_exclusive, program.partner_owner_mfa) == (
        False,
        True,
        True,
    )
    assert actions() == ["program.eligibility_changed"]


def test_unchanged_rules_record_nothing(program, operator_staff):
    eligibility.update_eligibility_rules(
        actor(operator_staff),
        registered_company_required=True,
        active_website_required=True,
        partner_affiliate_exclusive=False,
        partner_owner_mfa=False,
    )

    assert actions() == []


def test_set_volume_adds_then_changes(program, operator_staff):
    eligibility.set_eligibility_volume(actor(operator_staff), currency="usd", min_amount="2200")
    eligibility.set_eligibility_volume(actor(operator_staff), currency="CHF", min_amount="2500.50")

    assert dict(EligibilityVolume.objects.values_list("currency", "min_amount")) == {
        "CHF": Decimal("2500.50"),
        "EUR": Decimal(1800),
        "USD": Decimal(2200),
    }
    assert actions() == ["program.eligibility_volume_added", "program.eligibility_volume_changed"]


@pytest.mark.parametrize(
    ("currency", "amount", "message"),
    [
        ("XXX", "10", "Unknown currency"),
        ("CHF", "-1", "zero or more"),
        ("CHF", "abc", "must be a number"),
        ("CHF", "10.001", "decimal places"),
        ("JPY", "10.5", "decimal places"),
    ],
)
def test_set_volume_refuses_bad_input(program, operator_staff, currency, amount, message):
    before = snapshot()

    with pytest.raises(ServiceError, match=message):
        eligibility.set_eligibility_volume(actor(operator_staff), currency=currency, min_amount=amount)

    assert snapshot() == before


def test_add_volume_twice_is_a_conflict(program, operator_staff):
    with pytest.raises(eligibility.VolumeTaken):
        eligibility.add_eligibility_volume(actor(operator_staff), currency="CHF", min_amount="1")


def test_remove_volume(program, operator_staff):
    volume = EligibilityVolume.objects.get(currency="EUR")

    eligibility.remove_eligibility_volume(actor(operator_staff), volume=volume)

    assert list(EligibilityVolume.objects.values_list("currency", flat=True)) == ["CHF"]
    assert actions() == ["program.eligibility_volume_removed"]


def test_replace_sets_exactly_the_given_volumes(program, operator_staff):
    eligibility.replace_eligibility(
        actor(operator_staff),
        rules={
            "registered_company_required": True,
            "active_website_required": False,
            "partner_affiliate_exclusive": False,
            "partner_owner_mfa": False,
        },
        volumes={"CHF": "3000", "GBP": "1500"},
    )

    assert dict(EligibilityVolume.objects.values_list("currency", "min_amount")) == {
        "CHF": Decimal(3000),
        "GBP": Decimal(1500),
    }


def test_replace_is_all_or_nothing(program, operator_staff):
    before = snapshot()

    with pytest.raises(ServiceError):
        eligibility.replace_eligibility(
            actor(operator_staff),
            rules=dict.fromkeys(eligibility.FLAGS, False),
            volumes={"CHF": "3000", "EUR": "-5"},
        )

    assert snapshot() == before


@pytest.mark.parametrize("who", ["acme_owner", "reviewer"])
def test_only_program_managers_change_the_rules(request, program, who):
    user = request.getfixturevalue(who)
    before = snapshot()

    with pytest.raises((PermissionDenied, Exception)) as refused:
        eligibility.set_eligibility_volume(actor(user), currency="CHF", min_amount="1")
    with pytest.raises(type(refused.value)):
        eligibility.update_eligibility_rules(
            actor(user),
            registered_company_required=False,
            active_website_required=False,
            partner_affiliate_exclusive=False,
            partner_owner_mfa=False,
        )

    assert type(refused.value).__name__ in {"PermissionDenied", "Http404"}
    assert snapshot() == before
