"""The operator's commission terms (DESIGN §8, seed 004): tiers, the category × tier rate table and the
program's commission settings.

Every write needs ``operator.program.manage`` (``access.operator.require_operator``), runs in one
transaction with the program row locked, and records an audit entry with the state before and after.
Changing tiers moves thresholds, so the same transaction refreshes every partner's figures and tier
(:func:`~.tiers.refresh_partner_stats`, set-based); the tier changes it records are effective now —
commissions already written keep the tier they were computed with.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.utils.translation import gettext as _

from partnerhub.access.checks import require
from partnerhub.access.operator import require_operator
from partnerhub.access.perms import Perm
from partnerhub.access.policy import Actor
from partnerhub.audit.services import record
from partnerhub.catalog.models import Category
from partnerhub.commissions.models import Audience, Rate, Tier, TierChange
from partnerhub.commissions.tiers import refresh_partner_stats
from partnerhub.core.errors import ServiceError
from partnerhub.core.money import parse_amount
from partnerhub.orgs.models import Organisation
from partnerhub.partners.models import AttributionModel, Program
from partnerhub.partners.services.program import locked_program, parse_percent

TIER_NAME_MAX_LENGTH = 60
MAX_THRESHOLD = 1_000_000


# --- tiers ---------------------------------------------------------------------------------------------


def _tier_state(tier: Tier) -> dict[str, Any]:
    return {"name": tier.name, "min_customers": tier.min_customers}


def _clean_tier(name: str, min_customers: int) -> tuple[str, int]:
    name = (name or "").strip()
    if not name:
        raise ServiceError(_("Enter a name for the tier."))
    if len(name) > TIER_NAME_MAX_LENGTH:
        raise ServiceError(_("The tier name is too long (at most %(max)s characters).") % {"max": TIER_NAME_MAX_LENGTH})
    if isinstance(min_customers, bool) or not isinstance(min_customers, int):
        raise TypeError("a threshold is an int")
    if min_customers < 1 or min_customers > MAX_THRESHOLD:
        raise ServiceError(
            _("The threshold must be a whole number of customers between 1 and %(max)s.")
            % {"max": f"{MAX_THRESHOLD:,}"}
        )
    return name, min_customers


def _check_unique(program: Program, name: str, min_customers: int, *, exclude: int | None = None) -> None:
    others = Tier.objects.filter(program=program)
    if exclude is not None:
        others = others.exclude(pk=exclude)
    if others.filter(name__iexact=name).exists():
        raise ServiceError(_("There is already a tier named %(name)s.") % {"name": name})
    if others.filter(min_customers=min_customers).exists():
        raise ServiceError(
            _("There is already a tier from %(count)s customers. Change that one instead.") % {"count": min_customers}
        )


def add_tier(actor: Actor, *, name: str, min_customers: int) -> Tier:
    """A new tier from `min_customers` customers with an active paid product; names and thresholds unique."""
    operator = require_operator(actor, Perm.OPERATOR_PROGRAM_MANAGE)
    name, min_customers = _clean_tier(name, min_customers)
    with transaction.atomic():
        program = locked_program()
        _check_unique(program, name, min_customers)
        try:
            with transaction.atomic():
                tier = Tier.objects.create(program=program, name=name, min_customers=min_customers)
        except IntegrityError:
            raise ServiceError(_("That tier name or threshold is taken.")) from None
        record(actor, "commissions.tier_added", org=operator, obj=tier, after=_tier_state(tier))
        refresh_partner_stats()
    return tier


def _locked_tier(program: Program, tier_id: int) -> Tier:
    tier = Tier.objects.select_for_update().filter(pk=tier_id, program=program).first()
    if tier is None:
        raise Http404
    return tier


def change_tier(actor: Actor, *, tier: Tier, name: str, min_customers: int) -> Tier:
    """Rename a tier or move its threshold."""
    operator = require_operator(actor, Perm.OPERATOR_PROGRAM_MANAGE)
    name, min_customers = _clean_tier(name, min_customers)
    with transaction.atomic():
        program = locked_program()
        locked = _locked_tier(program, tier.pk)
        before = _tier_state(locked)
        if before == {"name": name, "min_customers": min_customers}:
            return locked
        _check_unique(program, name, min_customers, exclude=locked.pk)
        locked.name, locked.min_customers = name, min_customers
        try:
            with transaction.atomic():
                locked.save(update_fields=["name", "min_customers"])
        except IntegrityError:
            raise ServiceError(_("That tier name or threshold is taken.")) from None
        record(actor, "commissions.tier_changed", org=operator, obj=locked, before=before, after=_tier_state(locked))
        if before["min_customers"] != min_customers:
            refresh_partner_stats()
    return locked


def remove_tier(actor: Actor, *, tier: Tier) -> None:
    """Delete a tier no partner has ever held (with its rates); partners in it move to the tier they now reach.

    A tier in some partner's history stays (the history names it): rename it or move its threshold.
    """
    operator = require_operator(actor, Perm.OPERATOR_PROGRAM_MANAGE)
    with transaction.atomic():
        program = locked_program()
        locked = _locked_tier(program, tier.pk)
        if TierChange.objects.filter(tier=locked).exists():
            raise ServiceError(
                _("Partners have held the tier %(name)s, so their history keeps it. Rename it or change its threshold.")
                % {"name": locked.name}
            )
        before = _tier_state(locked)
        before["rates"] = {
            slug: str(percent) for slug, percent in locked.rates.values_list("category__slug", "percent")
        }
        record(actor, "commissions.tier_removed", org=operator, obj=locked, before=before)
        locked.delete()
        refresh_partner_stats()


# --- the rate table ----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RateCell:
    """One cell of the rate table: partners in a tier (None: no tier, the base rate) or affiliates."""

    category_id: int
    tier_id: int | None
    audience: str = Audience.PARTNER

    @property
    def key(self) -> str:
        if self.audience == Audience.AFFILIATE:
            return f"{self.category_id}/affiliate"
        return f"{self.category_id}/{self.tier_id or 'base'}"


def _table(program: Program) -> dict[RateCell, Decimal]:
    return {
        RateCell(category_id, tier_id, audience): percent
        for audience, category_id, tier_id, percent in Rate.objects.filter(program=program).values_list(
            "audience", "category_id", "tier_id", "percent"
        )
    }


def _state(table: Mapping[RateCell, Decimal], slugs: Mapping[int, str], tiers: Mapping[int, str]) -> dict[str, str]:
    def label(cell: RateCell) -> str:
        slug = slugs.get(cell.category_id, str(cell.category_id))
        if cell.audience == Audience.AFFILIATE:
            return f"{slug}/affiliate"
        return f"{slug}/{tiers.get(cell.tier_id, '?') if cell.tier_id else 'base'}"

    return {label(cell): str(percent) for cell, percent in sorted(table.items(), key=lambda kv: label(kv[0]))}


def set_rates(actor: Actor, *, rates: Mapping[RateCell, str | int | Decimal | None]) -> int:
    """Set the given cells of the rate table at once (None or "": no rate, i.e. 0 %); returns how many
    cells changed. Every value is checked before anything is written: one bad cell changes nothing."""
    operator = require_operator(actor, Perm.OPERATOR_PROGRAM_MANAGE)
    wanted: dict[RateCell, Decimal | None] = {}
    for cell, value in rates.items():
        if cell.audience not in Audience.values or (cell.audience == Audience.AFFILIATE and cell.tier_id is not None):
            raise ServiceError(_("Affiliates have one rate per category, without tiers."))
        wanted[cell] = None if value is None or value == "" else parse_percent(value, label=_("A rate"))
    with transaction.atomic():
        program = locked_program()
        slugs = dict(Category.objects.values_list("id", "slug"))
        tiers = dict(Tier.objects.filter(program=program).values_list("id", "name"))
        for cell in wanted:
            if cell.category_id not in slugs or (cell.tier_id is not None and cell.tier_id not in tiers):
                raise ServiceError(_("The rate table changed meanwhile: reload the page and try again."))
        current = _table(program)
        before = _state(current, slugs, tiers)
        changed = 0
        for cell, percent in wanted.items():
            old = current.get(cell)
            if old == percent:
                continue
            rows = Rate.objects.filter(program=program, audience=cell.audience, category_id=cell.category_id)
            rows = rows.filter(tier__isnull=True) if cell.tier_id is None else rows.filter(tier_id=cell.tier_id)
            if percent is None:
                rows.delete()
            elif old is None:
                Rate.objects.create(
                    program=program,
                    audience=cell.audience,
                    category_id=cell.category_id,
                    tier_id=cell.tier_id,
                    percent=percent,
                )
            else:
                rows.update(percent=percent)
            changed += 1
        if changed:
            after = _state(_table(program), slugs, tiers)
            record(actor, "commissions.rates_changed", org=operator, obj=program, before=before, after=after)
    return changed


# --- the program's commission settings -------------------------------------------------------------------------

SETTINGS = (
    "hold_days",
    "payout_minimum",
    "demotion_grace_days",
    "affiliate_months",
    "attribution_window_days",
    "attribution_model",
    "click_dedupe_minutes",
    "affiliate_auto_approve",
)


def _settings_state(program: Program) -> dict[str, Any]:
    state = {name: getattr(program, name) for name in SETTINGS}
    state["payout_minimum"] = str(program.payout_minimum)
    return state


def update_commission_settings(actor: Actor, **values: Any) -> Program:
    """Change the hold period, payout minimum, demotion grace, affiliate months and the attribution
    settings. Unknown names are refused (TypeError); values are checked with the program's validators."""
    operator = require_operator(actor, Perm.OPERATOR_PROGRAM_MANAGE)
    unknown = set(values) - set(SETTINGS)
    if unknown:
        raise TypeError(f"not a commission setting: {sorted(unknown)}")
    if "attribution_model" in values and values["attribution_model"] not in AttributionModel.values:
        raise ServiceError(_("Choose first click or last click."))
    with transaction.atomic():
        program = locked_program()
        before = _settings_state(program)
        for name, value in values.items():
            if name == "payout_minimum":
                try:
                    value = parse_amount(value)
                except ValueError:
                    raise ServiceError(_("Enter the minimum payout as an amount, e.g. 50.00.")) from None
            setattr(program, name, value)
        try:
            program.clean_fields(exclude=[f.name for f in Program._meta.fields if f.name not in values])
        except ValidationError as exc:
            raise ServiceError(" ".join(exc.messages)) from None
        if program.payout_minimum != program.payout_minimum.quantize(Decimal("0.01")):
            raise ServiceError(_("The minimum payout may have at most two decimal places."))
        after = _settings_state(program)
        if after != before:
            program.save(update_fields=list(values))
            record(actor, "commissions.settings_changed", org=operator, obj=program, before=before, after=after)
    return program


# --- the ledger export ---------------------------------------------------------------------------------


def record_ledger_export(actor: Actor, *, org: Organisation, fmt: str, filters: dict[str, str]) -> None:
    """An export of the commission ledger leaves the system: recorded on the organisation."""
    require(actor, Perm.PARTNER_PORTAL_MANAGE, org)
    with transaction.atomic():
        record(actor, "commissions.ledger_exported", org=org, after={"format": fmt, "filters": filters})
