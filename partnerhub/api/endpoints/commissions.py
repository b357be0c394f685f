"""Commissions: a partner's or affiliate's dashboard figures and ledger entries, the program's tiers and
rate table (read by partners, written by the operator), and the operator's commission settings.
Rules: partnerhub.commissions (queries, services)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema, Status
from pydantic import BaseModel, Field

from partnerhub.access.perms import Perm
from partnerhub.api.endpoints import actor_of, org_of
from partnerhub.api.pagination import Page, PageParams, paginate
from partnerhub.api.problems import ApiProblem
from partnerhub.api.routing import operation
from partnerhub.api.schemas import Body
from partnerhub.catalog.models import Category
from partnerhub.commissions import queries, services
from partnerhub.commissions.models import Audience, EntryStatus, EntryType, LedgerEntry, Rate, Tier
from partnerhub.core.money import Currency, round_money
from partnerhub.partners.models import AttributionModel, Program
from partnerhub.partners.services import get_program

router = Router(tags=["commissions"])


# --- dashboard -------------------------------------------------------------------------------------------


class TierRef(Schema):
    id: int
    name: str
    min_customers: int


class CurrencyTotalsOut(Schema):
    currency: str
    earned: str = Field(description="Every commission minus reversals, whatever its status.")
    paid: str
    pending: str
    approved: str
    open: str = Field(description="pending + approved.")
    entries: int


class CategoryRatesOut(Schema):
    category: str
    name: str
    current: str = Field(description="Percent in the current tier (no tier: the base rate).")
    next: str | None = Field(description="Percent in the next tier; null at the highest tier.")
    affiliate: str


class MonthOut(Schema):
    month: date
    amount: str


class SeriesOut(Schema):
    currency: str
    months: list[MonthOut]


class DashboardOut(Schema):
    customers: int
    open_invitations: int
    active_customers: int
    trial_customers: int
    totals: list[CurrencyTotalsOut]
    tier: TierRef | None
    tier_since: datetime | None
    next_tier: TierRef | None
    customers_to_next_tier: int
    progress_percent: int
    rates: list[CategoryRatesOut]
    monthly: list[SeriesOut] = Field(description="Commission per month, the last 12 months, per currency.")
    refreshed_at: datetime | None


def _money(amount: Any, currency: str) -> str:
    return str(round_money(amount, currency))


def _tier(t: Any) -> dict[str, Any] | None:
    return {"id": t.id, "name": t.name, "min_customers": t.min_customers} if t is not None else None


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/dashboard",
    perm=Perm.PARTNER_PORTAL_MANAGE,
    response=DashboardOut,
    summary="Read the partner dashboard figures",
    description="Customers, open invitations, active customers, customers in trial; commission totals per "
    "currency; the tier, progress to the next and the rates there; commission per month. Read from "
    "maintained rollups.",
)
def get_dashboard(request: HttpRequest, org_slug: str) -> dict[str, Any]:
    board = queries.dashboard(org_of(request))
    return {
        "customers": board.customers,
        "open_invitations": board.open_invitations,
        "active_customers": board.active_customers,
        "trial_customers": board.trial_customers,
        "totals": [
            {
                "currency": t.currency,
                "earned": _money(t.earned, t.currency),
                "paid": _money(t.paid, t.currency),
                "pending": _money(t.pending, t.currency),
                "approved": _money(t.approved, t.currency),
                "open": _money(t.open, t.currency),
                "entries": t.entries,
            }
            for t in board.totals
        ],
        "tier": _tier(board.tier),
        "tier_since": board.tier_since,
        "next_tier": _tier(board.next_tier),
        "customers_to_next_tier": board.customers_to_next,
        "progress_percent": board.progress_percent,
        "rates": [
            {
                "category": r.slug,
                "name": r.name,
                "current": str(r.current),
                "next": str(r.next) if r.next is not None else None,
                "affiliate": str(r.affiliate),
            }
            for r in board.rates
        ],
        "monthly": [
            {
                "currency": s.currency,
                "months": [{"month": p.month, "amount": _money(p.amount, s.currency)} for p in s.points],
            }
            for s in board.series
        ],
        "refreshed_at": board.refreshed_at,
    }


# --- ledger ------------------------------------------------------------------------------------------------


class LedgerEntryOut(Schema):
    id: int
    type: str = Field(description="partner, self or affiliate.")
    status: str = Field(description="pending, approved or paid.")
    customer: str
    currency: str
    amount: str
    base_amount: str
    rate: str
    tier: str
    category: str
    product_sku: str
    billing_event: str
    reverses: int | None
    occurred_at: datetime
    hold_until: datetime
    approved_at: datetime | None
    paid_at: datetime | None
    payout: int | None

    @staticmethod
    def resolve_customer(obj: LedgerEntry) -> str:
        return obj.customer.slug

    @staticmethod
    def resolve_amount(obj: LedgerEntry) -> str:
        return str(obj.amount)

    @staticmethod
    def resolve_base_amount(obj: LedgerEntry) -> str:
        return str(round_money(obj.base_amount, obj.currency))

    @staticmethod
    def resolve_rate(obj: LedgerEntry) -> str:
        return str(obj.rate)

    @staticmethod
    def resolve_tier(obj: LedgerEntry) -> str:
        return obj.tier_name

    @staticmethod
    def resolve_category(obj: LedgerEntry) -> str:
        return obj.category_slug

    @staticmethod
    def resolve_billing_event(obj: LedgerEntry) -> str:
        return obj.event.external_id

    @staticmethod
    def resolve_reverses(obj: LedgerEntry) -> int | None:
        return obj.reverses_id

    @staticmethod
    def resolve_payout(obj: LedgerEntry) -> int | None:
        return obj.payout_id


class LedgerQuery(BaseModel):
    type: EntryType | None = None
    status: EntryStatus | None = None
    currency: Currency | None = None
    customer: str = Field("", max_length=60, pattern=r"^[-a-zA-Z0-9_]*$", description="Customer short name.")
    since: datetime | None = Field(None, description="Billing event time on or after.")
    until: datetime | None = Field(None, description="Billing event time before.")


def _moment(value: datetime | None, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)
    except OverflowError:
        raise ApiProblem(
            422,
            _("The time is out of range."),
            errors=[{"loc": ["query", name], "msg": _("The time is out of range."), "type": "range"}],
        ) from None


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/commissions",
    perm=Perm.PARTNER_PORTAL_MANAGE,
    response=Page[LedgerEntryOut],
    summary="List the organisation's commission ledger",
    description="Commissions and reversals the organisation earns, newest first; filter by type, status, "
    "currency, customer and billing-event time.",
)
def list_entries(
    request: HttpRequest, org_slug: str, filters: Query[LedgerQuery], page: Query[PageParams]
) -> Page[LedgerEntryOut]:
    rows = queries.ledger_entries(
        org_of(request),
        queries.LedgerFilters(
            type=str(filters.type or ""),
            status=str(filters.status or ""),
            currency=str(filters.currency or ""),
            customer=filters.customer,
            since=_moment(filters.since, "since"),
            until=_moment(filters.until, "until"),
        ),
    )
    return paginate(rows.select_related("customer", "event"), page, LedgerEntryOut)


# --- tiers and rates ---------------------------------------------------------------------------------------


class RateOut(Schema):
    category: str
    tier: str | None = Field(description="Tier name; null: the base rate (partners) or the affiliate rate.")
    audience: str = Field(description="partner or affiliate.")
    percent: str


class TermsOut(Schema):
    tiers: list[TierRef]
    rates: list[RateOut]


def _terms() -> dict[str, Any]:
    program = get_program()
    tiers = list(Tier.objects.filter(program=program).order_by("min_customers"))
    rates = Rate.objects.filter(program=program).select_related("category", "tier")
    return {
        "tiers": [_tier(t) for t in tiers],
        "rates": [
            {
                "category": r.category.slug,
                "tier": r.tier.name if r.tier else None,
                "audience": r.audience,
                "percent": str(r.percent),
            }
            for r in sorted(rates, key=lambda r: (r.audience, r.category.position, r.category.slug, r.tier_id or 0))
        ],
    }


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/commission-terms",
    perm=Perm.PARTNER_PORTAL_MANAGE,
    response=TermsOut,
    summary="Read the program's tiers and rate table",
    description="For partners and affiliates: the tiers (from how many customers with an active paid product) "
    "and the commission rate per category and tier, plus the affiliate rates.",
)
def get_terms(request: HttpRequest, org_slug: str) -> dict[str, Any]:
    return _terms()


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/program/commission-terms",
    perm=Perm.OPERATOR_PROGRAM_MANAGE,
    response=TermsOut,
    summary="Read the tiers and rate table (operator)",
)
def get_program_terms(request: HttpRequest, org_slug: str) -> dict[str, Any]:
    return _terms()


class TierIn(Body):
    name: str = Field(max_length=60)
    min_customers: int = Field(ge=1, le=services.MAX_THRESHOLD)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/program/tiers",
    perm=Perm.OPERATOR_PROGRAM_MANAGE,
    response={201: TierRef},
    summary="Add a tier",
    description="Names and thresholds are unique; every partner's tier is recomputed.",
)
def add_tier(request: HttpRequest, org_slug: str, data: TierIn) -> Status[Tier]:
    return Status(201, services.add_tier(actor_of(request), name=data.name, min_customers=data.min_customers))


def _program_tier(tier_id: int) -> Tier:
    from django.shortcuts import get_object_or_404

    return get_object_or_404(Tier, pk=tier_id, program=get_program())


@operation(
    router,
    "PUT",
    "/orgs/{org_slug}/program/tiers/{tier_id}",
    perm=Perm.OPERATOR_PROGRAM_MANAGE,
    response=TierRef,
    summary="Rename a tier or move its threshold",
)
def change_tier(request: HttpRequest, org_slug: str, tier_id: int, data: TierIn) -> Tier:
    return services.change_tier(
        actor_of(request), tier=_program_tier(tier_id), name=data.name, min_customers=data.min_customers
    )


@operation(
    router,
    "DELETE",
    "/orgs/{org_slug}/program/tiers/{tier_id}",
    perm=Perm.OPERATOR_PROGRAM_MANAGE,
    response={204: None},
    summary="Remove a tier",
    description="Only a tier no partner has held yet (422 otherwise); its rates go with it.",
)
def remove_tier(request: HttpRequest, org_slug: str, tier_id: int) -> Status[None]:
    services.remove_tier(actor_of(request), tier=_program_tier(tier_id))
    return Status(204, None)


class RateIn(Body):
    category: str = Field(max_length=60, description="Category short name.")
    tier: str | None = Field(None, max_length=60, description="Tier name; null: the base rate or the affiliate rate.")
    audience: Audience = Audience.PARTNER
    percent: str | None = Field(
        max_length=12, description='Decimal string 0–100, at most two decimals ("12.50"); null: no rate (0 %).'
    )


class RatesIn(Body):
    rates: list[RateIn] = Field(min_length=1, max_length=1000)


@operation(
    router,
    "PATCH",
    "/orgs/{org_slug}/program/commission-rates",
    perm=Perm.OPERATOR_PROGRAM_MANAGE,
    response=TermsOut,
    summary="Set cells of the rate table",
    description="All cells or none: one invalid value (422) changes nothing. Cells left out keep their rate.",
)
def patch_rates(request: HttpRequest, org_slug: str, data: RatesIn) -> dict[str, Any]:
    program = get_program()
    categories = dict(Category.objects.values_list("slug", "id"))
    tiers = dict(Tier.objects.filter(program=program).values_list("name", "id"))
    cells: dict[services.RateCell, str | None] = {}
    for index, rate in enumerate(data.rates):
        if rate.category not in categories:
            raise _unknown(index, "category", _("There is no category %(name)s.") % {"name": rate.category})
        if rate.tier is not None and rate.tier not in tiers:
            raise _unknown(index, "tier", _("There is no tier %(name)s.") % {"name": rate.tier})
        tier_id = tiers[rate.tier] if rate.tier is not None else None
        cells[services.RateCell(categories[rate.category], tier_id, str(rate.audience))] = rate.percent
    services.set_rates(actor_of(request), rates=cells)
    return _terms()


def _unknown(index: int, field: str, message: str) -> ApiProblem:
    return ApiProblem(422, message, errors=[{"loc": ["body", "rates", index, field], "msg": message, "type": "value"}])


# --- commission settings -------------------------------------------------------------------------------------


class CommissionSettingsOut(Schema):
    hold_days: int
    payout_minimum: str
    demotion_grace_days: int
    affiliate_months: int | None
    attribution_window_days: int
    attribution_model: str
    click_dedupe_minutes: int
    affiliate_auto_approve: bool

    @staticmethod
    def resolve_payout_minimum(obj: Program) -> str:
        return str(obj.payout_minimum)


class CommissionSettingsIn(Body):
    hold_days: int | None = Field(None, ge=0, le=365)
    payout_minimum: str | None = Field(None, max_length=16, pattern=r"^\d{1,10}(\.\d{1,2})?$")
    demotion_grace_days: int | None = Field(None, ge=0, le=365)
    affiliate_months: int | None = Field(None, ge=1, le=120)
    attribution_window_days: int | None = Field(None, ge=1, le=365)
    attribution_model: AttributionModel | None = None
    click_dedupe_minutes: int | None = Field(None, ge=1, le=1440)
    affiliate_auto_approve: bool | None = None


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/program/commission-settings",
    perm=Perm.OPERATOR_PROGRAM_MANAGE,
    response=CommissionSettingsOut,
    summary="Read the commission settings",
)
def get_settings(request: HttpRequest, org_slug: str) -> Program:
    return get_program()


@operation(
    router,
    "PATCH",
    "/orgs/{org_slug}/program/commission-settings",
    perm=Perm.OPERATOR_PROGRAM_MANAGE,
    response=CommissionSettingsOut,
    summary="Change commission settings",
    description="Fields left out stay; `affiliate_months: null` means for as long as the customer pays.",
)
def patch_settings(request: HttpRequest, org_slug: str, data: CommissionSettingsIn) -> Program:
    values = data.model_dump(exclude_unset=True)
    for name in list(values):
        if values[name] is None and name != "affiliate_months":
            del values[name]
    if "attribution_model" in values:
        values["attribution_model"] = str(values["attribution_model"])
    return services.update_commission_settings(actor_of(request), **values)
