"""Every write of the partner program's settings (DESIGN §3, §6): partner discount, reseller pricing,
volume tiers.

The program belongs to the operator organisation; only its staff with ``operator.program.manage``
change it. Each service checks access through partnerhub.access (``access.operator``), runs in one
transaction and records an audit entry on the operator organisation in it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils.translation import gettext as _

from partnerhub.access.operator import operator_organisation, require_operator
from partnerhub.access.perms import Perm
from partnerhub.access.policy import Actor
from partnerhub.audit.services import record
from partnerhub.core.errors import ServiceError
from partnerhub.core.money import parse_amount
from partnerhub.partners.models import Program, VolumeTier

HUNDRED = Decimal(100)
PERCENT_QUANTUM = Decimal("0.01")
PROGRAM_NAME_MAX_LENGTH = 120
MAX_TIER_QUANTITY = 1_000_000


class TierTaken(ServiceError):
    """Another volume tier already starts at that quantity (API: 409)."""


# --- parsing -----------------------------------------------------------------------------------------


def parse_percent(value: str | int | Decimal, *, label: str) -> Decimal:
    """A percentage between 0 and 100 with at most two decimals; floats are refused (TypeError)."""
    try:
        percent = parse_amount(value)
    except ValueError:
        raise ServiceError(_("%(label)s must be a number.") % {"label": label}) from None
    if percent < 0 or percent > HUNDRED:
        raise ServiceError(_("%(label)s must be between 0 and 100.") % {"label": label})
    if percent != percent.quantize(PERCENT_QUANTUM):
        raise ServiceError(_("%(label)s may have at most two decimal places.") % {"label": label})
    return percent.quantize(PERCENT_QUANTUM)


def _parse_quantity(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("a quantity is an int")
    if value < 1 or value > MAX_TIER_QUANTITY:
        raise ServiceError(
            _("The quantity must be a whole number between 1 and %(max)s.") % {"max": f"{MAX_TIER_QUANTITY:,}"}
        )
    return value


# --- the program ---------------------------------------------------------------------------------------


def get_program() -> Program:
    """The installation's program; created with its defaults on first use. NoOperator without an operator.

    Not audited: reading the defaults changes nothing anyone decided.
    """
    operator = operator_organisation()
    program = Program.objects.filter(operator=operator).first()
    if program is not None:
        return program
    try:
        with transaction.atomic():
            return Program.objects.create(operator=operator)
    except IntegrityError:
        # Another request created it in the meantime.
        return Program.objects.get(operator=operator)


def _program_state(program: Program) -> dict[str, Any]:
    return {
        "name": program.name,
        "partner_discount_percent": str(program.partner_discount_percent),
        "reseller_pricing": program.reseller_pricing,
    }


def _tier_state(tier: VolumeTier) -> dict[str, Any]:
    return {"min_quantity": tier.min_quantity, "percent": str(tier.percent)}


def locked_program() -> Program:
    return Program.objects.select_for_update().get(pk=get_program().pk)


def update_program(
    actor: Actor,
    *,
    partner_discount_percent: str | int | Decimal,
    reseller_pricing: bool,
    name: str | None = None,
) -> Program:
    """Change the partner discount, the reseller-pricing switch (and the name); operator.program.manage."""
    operator = require_operator(actor, Perm.OPERATOR_PROGRAM_MANAGE)
    discount = parse_percent(partner_discount_percent, label=_("The partner discount"))
    if name is not None:
        name = name.strip()
        if not name:
            raise ServiceError(_("Enter a name for the program."))
        if len(name) > PROGRAM_NAME_MAX_LENGTH:
            raise ServiceError(_("The name is too long."))
    with transaction.atomic():
        program = locked_program()
        before = _program_state(program)
        program.partner_discount_percent = discount
        program.reseller_pricing = bool(reseller_pricing)
        if name is not None:
            program.name = name
        if _program_state(program) != before:
            program.save(update_fields=["partner_discount_percent", "reseller_pricing", "name"])
            record(actor, "program.updated", org=operator, obj=program, before=before, after=_program_state(program))
    return program


def _taken(min_quantity: int) -> ServiceError:
    return TierTaken(
        _("There is already a volume tier from %(quantity)s units. Change that one instead.")
        % {"quantity": min_quantity}
    )


def add_volume_tier(actor: Actor, *, min_quantity: int, percent: str | int | Decimal) -> VolumeTier:
    """From `min_quantity` units, `percent` off the partner price; one tier per quantity."""
    operator = require_operator(actor, Perm.OPERATOR_PROGRAM_MANAGE)
    quantity = _parse_quantity(min_quantity)
    value = parse_percent(percent, label=_("The volume discount"))
    with transaction.atomic():
        program = locked_program()
        try:
            with transaction.atomic():
                tier = VolumeTier.objects.create(program=program, min_quantity=quantity, percent=value)
        except IntegrityError:
            raise _taken(quantity) from None
        record(actor, "program.volume_tier_added", org=operator, obj=tier, after=_tier_state(tier))
    return tier


def change_volume_tier(
    actor: Actor, *, tier: VolumeTier, min_quantity: int | None = None, percent: str | int | Decimal | None = None
) -> VolumeTier:
    """Move a tier to another quantity or change its discount; quantities stay unique."""
    operator = require_operator(actor, Perm.OPERATOR_PROGRAM_MANAGE)
    quantity = None if min_quantity is None else _parse_quantity(min_quantity)
    value = None if percent is None else parse_percent(percent, label=_("The volume discount"))
    with transaction.atomic():
        program = locked_program()
        locked = VolumeTier.objects.select_for_update().filter(pk=tier.pk, program=program).first()
        if locked is None:
            raise Http404
        before = _tier_state(locked)
        if quantity is not None:
            locked.min_quantity = quantity
        if value is not None:
            locked.percent = value
        if _tier_state(locked) != before:
            try:
                with transaction.atomic():
                    locked.save(update_fields=["min_quantity", "percent"])
            except IntegrityError:
                raise _taken(locked.min_quantity) from None
            record(
                actor, "program.volume_tier_changed", org=operator, obj=locked, before=before, after=_tier_state(locked)
            )
    return locked


def remove_volume_tier(actor: Actor, *, tier: VolumeTier) -> None:
    """Delete a volume tier; orders already placed keep the discount they were given."""
    operator = require_operator(actor, Perm.OPERATOR_PROGRAM_MANAGE)
    with transaction.atomic():
        program = locked_program()
        locked = VolumeTier.objects.select_for_update().filter(pk=tier.pk, program=program).first()
        if locked is None:
            raise Http404
        record(actor, "program.volume_tier_removed", org=operator, obj=locked, before=_tier_state(locked))
        locked.delete()
