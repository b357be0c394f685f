"""The program's eligibility rules (DESIGN §3, seed 001): evaluating an application against them, and
the operator's writes that set them (flags and minimum yearly volumes per currency).

Unmet rules never block an application: the form shows them live, the application stores their codes
(``Application.unmet_rules``) and the reviewer sees them highlighted.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils.translation import gettext as _

from partnerhub.access.operator import require_operator
from partnerhub.access.perms import Perm
from partnerhub.access.policy import Actor
from partnerhub.audit.services import record
from partnerhub.core.errors import ServiceError
from partnerhub.core.money import MAX_AMOUNT, Currency, Money, exponent, parse_amount, round_money
from partnerhub.partners.models import EligibilityVolume, Program
from partnerhub.partners.services.program import get_program, locked_program

# Rule codes (stored in Application.unmet_rules; the API returns them).
MIN_VOLUME = "min_volume"  # the expected volume is below the minimum of its currency
VOLUME_CURRENCY = "volume_currency"  # no minimum is defined for the currency: it is not accepted
REGISTERED_COMPANY = "registered_company"
ACTIVE_WEBSITE = "active_website"
RULE_CODES = (MIN_VOLUME, VOLUME_CURRENCY, REGISTERED_COMPANY, ACTIVE_WEBSITE)

FLAGS = ("registered_company_required", "active_website_required", "partner_affiliate_exclusive", "partner_owner_mfa")


class VolumeTaken(ServiceError):
    """A minimum volume for that currency exists already (API: 409)."""


@dataclass(frozen=True)
class RuleResult:
    """One eligibility rule as it applies to an application: met or not, and why."""

    code: str
    label: str
    met: bool
    detail: str = ""


@dataclass(frozen=True)
class Candidate:
    """What the rules look at; every field may be missing while the form is being filled in."""

    register_number: str = ""
    website: str = ""
    expected_volume: Decimal | None = None
    currency: str = ""


# --- evaluating ---------------------------------------------------------------------------------------


def volumes_of(program: Program) -> list[EligibilityVolume]:
    """The program's minimum yearly volumes, by currency."""
    return list(EligibilityVolume.objects.filter(program=program).order_by("currency"))


def money_text(amount: Decimal, currency: str) -> str:
    return str(Money(round_money(amount, currency), currency))


def _alternatives(volumes: list[EligibilityVolume]) -> str:
    return _(" or ").join(money_text(v.min_amount, v.currency) for v in volumes)


def _volume_rule(volumes: list[EligibilityVolume], candidate: Candidate) -> RuleResult:
    label = _("An expected yearly volume of at least %(minimum)s") % {"minimum": _alternatives(volumes)}
    minimum = next((v for v in volumes if v.currency == candidate.currency), None)
    if candidate.currency and minimum is None:
        accepted = ", ".join(v.currency for v in volumes)
        detail = _("The program sets no minimum in %(currency)s; give the volume in %(accepted)s.") % {
            "currency": candidate.currency,
            "accepted": accepted,
        }
        return RuleResult(VOLUME_CURRENCY, label, False, detail)
    if minimum is None or candidate.expected_volume is None:
        return RuleResult(MIN_VOLUME, label, False, _("Enter the expected yearly volume and its currency."))
    if candidate.expected_volume < minimum.min_amount:
        detail = _("%(volume)s is below the minimum of %(minimum)s.") % {
            "volume": money_text(candidate.expected_volume, candidate.currency),
            "minimum": money_text(minimum.min_amount, minimum.currency),
        }
        return RuleResult(MIN_VOLUME, label, False, detail)
    return RuleResult(MIN_VOLUME, label, True)


def evaluate(program: Program, candidate: Candidate) -> list[RuleResult]:
    """Every rule the program sets, applied to `candidate` (in a fixed order)."""
    results = []
    volumes = volumes_of(program)
    if volumes:
        results.append(_volume_rule(volumes, candidate))
    if program.registered_company_required:
        met = bool(candidate.register_number.strip())
        detail = "" if met else _("Enter the number of your entry in the commercial register.")
        results.append(RuleResult(REGISTERED_COMPANY, _("A company entered in a commercial register"), met, detail))
    if program.active_website_required:
        met = bool(candidate.website.strip())
        detail = "" if met else _("Enter the address of your company's website.")
        results.append(RuleResult(ACTIVE_WEBSITE, _("An active company website"), met, detail))
    return results


def unmet_codes(results: list[RuleResult]) -> list[str]:
    """The codes of the rules `results` does not meet (what an application stores)."""
    return [result.code for result in results if not result.met]


def rule_label(code: str) -> str:
    """A stored rule code as a sentence for the reviewer (the rules may have changed since)."""
    labels = {
        MIN_VOLUME: _("The expected yearly volume is below the program's minimum."),
        VOLUME_CURRENCY: _("The program sets no minimum volume in the currency given."),
        REGISTERED_COMPANY: _("No commercial register number was given."),
        ACTIVE_WEBSITE: _("No company website was given."),
    }
    return str(labels.get(code, code))


# --- the operator's settings -------------------------------------------------------------------------


def _rules_state(program: Program) -> dict[str, Any]:
    return {flag: getattr(program, flag) for flag in FLAGS}


def _volume_state(volume: EligibilityVolume) -> dict[str, Any]:
    return {"currency": volume.currency, "min_amount": str(volume.min_amount)}


def update_eligibility_rules(
    actor: Actor,
    *,
    registered_company_required: bool,
    active_website_required: bool,
    partner_affiliate_exclusive: bool,
    partner_owner_mfa: bool,
) -> Program:
    """Set the program's rule switches; operator.program.manage."""
    operator = require_operator(actor, Perm.OPERATOR_PROGRAM_MANAGE)
    values = {
        "registered_company_required": registered_company_required,
        "active_website_required": active_website_required,
        "partner_affiliate_exclusive": partner_affiliate_exclusive,
        "partner_owner_mfa": partner_owner_mfa,
    }
    with transaction.atomic():
        program = locked_program()
        before = _rules_state(program)
        for flag, value in values.items():
            setattr(program, flag, bool(value))
        if _rules_state(program) != before:
            program.save(update_fields=list(FLAGS))
            record(
                actor,
                "program.eligibility_changed",
                org=operator,
                obj=program,
                before=before,
                after=_rules_state(program),
            )
    return program


def parse_currency(value: str) -> str:
    """One of the supported currencies, else a clear error."""
    currency = str(value).strip().upper()
    if currency not in Currency.values:
        raise ServiceError(_("Unknown currency “%(currency)s”.") % {"currency": value})
    return currency


def parse_min_amount(value: str | int | Decimal, currency: str) -> Decimal:
    """A non-negative amount in `currency`'s minor unit (floats are refused with TypeError)."""
    try:
        amount = parse_amount(value)
    except ValueError:
        raise ServiceError(_("The minimum volume must be a number.")) from None
    if amount < 0 or amount >= MAX_AMOUNT:
        raise ServiceError(_("The minimum volume must be zero or more and below %(max)s.") % {"max": MAX_AMOUNT})
    if amount != amount.quantize(exponent(currency)):
        raise ServiceError(
            _("The minimum volume has more decimal places than %(currency)s allows.") % {"currency": currency}
        )
    return amount


def set_eligibility_volume(actor: Actor, *, currency: str, min_amount: str | int | Decimal) -> EligibilityVolume:
    """Add the minimum yearly volume of `currency`, or change it when one exists."""
    operator = require_operator(actor, Perm.OPERATOR_PROGRAM_MANAGE)
    code = parse_currency(currency)
    amount = parse_min_amount(min_amount, code)
    with transaction.atomic():
        program = locked_program()
        volume = EligibilityVolume.objects.select_for_update().filter(program=program, currency=code).first()
        if volume is None:
            volume = EligibilityVolume.objects.create(program=program, currency=code, min_amount=amount)
            record(actor, "program.eligibility_volume_added", org=operator, obj=volume, after=_volume_state(volume))
        elif volume.min_amount != amount:
            before = _volume_state(volume)
            volume.min_amount = amount
            volume.save(update_fields=["min_amount"])
            record(
                actor,
                "program.eligibility_volume_changed",
                org=operator,
                obj=volume,
                before=before,
                after=_volume_state(volume),
            )
    return volume


def add_eligibility_volume(actor: Actor, *, currency: str, min_amount: str | int | Decimal) -> EligibilityVolume:
    """Add a minimum for a currency that has none yet (one per currency: VolumeTaken otherwise)."""
    operator = require_operator(actor, Perm.OPERATOR_PROGRAM_MANAGE)
    code = parse_currency(currency)
    amount = parse_min_amount(min_amount, code)
    with transaction.atomic():
        program = locked_program()
        try:
            with transaction.atomic():
                volume = EligibilityVolume.objects.create(program=program, currency=code, min_amount=amount)
        except IntegrityError:
            raise VolumeTaken(
                _("There is already a minimum volume in %(currency)s. Change that one instead.") % {"currency": code}
            ) from None
        record(actor, "program.eligibility_volume_added", org=operator, obj=volume, after=_volume_state(volume))
    return volume


def remove_eligibility_volume(actor: Actor, *, volume: EligibilityVolume) -> None:
    """Delete a currency's minimum; applications already submitted keep the codes they were given."""
    operator = require_operator(actor, Perm.OPERATOR_PROGRAM_MANAGE)
    with transaction.atomic():
        program = locked_program()
        locked = EligibilityVolume.objects.select_for_update().filter(pk=volume.pk, program=program).first()
        if locked is None:
            raise Http404
        record(actor, "program.eligibility_volume_removed", org=operator, obj=locked, before=_volume_state(locked))
        locked.delete()


def replace_eligibility(
    actor: Actor, *, rules: Mapping[str, bool], volumes: Mapping[str, str | int | Decimal]
) -> Program:
    """Set the switches and exactly these minimum volumes (the API's PUT), all or nothing."""
    require_operator(actor, Perm.OPERATOR_PROGRAM_MANAGE)
    parsed = {parse_currency(currency): amount for currency, amount in volumes.items()}
    for currency, amount in parsed.items():
        parsed[currency] = parse_min_amount(amount, currency)
    with transaction.atomic():
        program = update_eligibility_rules(actor, **{flag: bool(rules[flag]) for flag in FLAGS})
        for volume in volumes_of(program):
            if volume.currency not in parsed:
                remove_eligibility_volume(actor, volume=volume)
        for currency, amount in parsed.items():
            set_eligibility_volume(actor, currency=currency, min_amount=amount)
    return get_program()
