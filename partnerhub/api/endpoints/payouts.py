"""Payouts (DESIGN §8): a beneficiary's payouts, their entries and statements, the payout details;
the operator's review (list, approve, mark paid, cancel).

Amounts are decimal strings (never JSON numbers). Changing the payout details needs the caller's
password in the body and is not available with an API key. A refusal caused by a payout's state
(approved or paid already, no payout details to pay into) answers 409; invalid input 422.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, datetime
from enum import StrEnum

from django.http import HttpRequest, HttpResponseBase
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema
from pydantic import BaseModel, Field

from partnerhub.access.perms import Perm
from partnerhub.api.endpoints import actor_of, org_of
from partnerhub.api.pagination import Page, PageParams, paginate
from partnerhub.api.problems import ApiProblem, from_validation_error
from partnerhub.api.routing import operation
from partnerhub.api.schemas import Body
from partnerhub.billing.pdf import FontMissing
from partnerhub.commissions.models import LedgerEntry, Payout, PayoutDetails, PayoutStatus
from partnerhub.commissions.payouts import exports, queries, services
from partnerhub.commissions.payouts.queries import Balance

router = Router(tags=["payouts"])

PORTAL = Perm.PARTNER_PORTAL_MANAGE
PAYOUTS = Perm.OPERATOR_PAYOUTS_MANAGE


@contextmanager
def _conflicts() -> Iterator[None]:
    try:
        yield
    except services.PayoutConflict as exc:
        raise from_validation_error(exc, 409) from exc


# --- schemas -----------------------------------------------------------------------------------------


class PayoutOut(Schema):
    id: int
    number: str = Field(description="The statement number shown in the portal, e.g. P-000042.")
    beneficiary: str = Field(description="Short name of the organisation paid.")
    period: date = Field(description="First day of the month the statement covers.")
    currency: str
    amount: str
    status: PayoutStatus
    created_at: datetime
    approved_at: datetime | None
    paid_at: datetime | None
    reference: str
    account_holder: str = Field(description="The account paid into, fixed when approved.")
    iban: str

    @staticmethod
    def resolve_number(obj: Payout) -> str:
        return str(obj)

    @staticmethod
    def resolve_beneficiary(obj: Payout) -> str:
        return str(obj.beneficiary.slug)

    @staticmethod
    def resolve_amount(obj: Payout) -> str:
        return f"{obj.amount:f}"


class EntryOut(Schema):
    id: int
    occurred_at: datetime
    customer: str
    type: str
    currency: str
    amount: str
    base_amount: str
    rate: str
    tier: str
    product_sku: str
    category: str
    reverses: int | None = Field(description="The entry a reversal reverses (refund, chargeback).")

    @staticmethod
    def resolve_customer(obj: LedgerEntry) -> str:
        return str(obj.customer.slug)

    @staticmethod
    def resolve_amount(obj: LedgerEntry) -> str:
        return f"{obj.amount:f}"

    @staticmethod
    def resolve_base_amount(obj: LedgerEntry) -> str:
        return f"{obj.base_amount:f}"

    @staticmethod
    def resolve_rate(obj: LedgerEntry) -> str:
        return f"{obj.rate:f}"

    @staticmethod
    def resolve_tier(obj: LedgerEntry) -> str:
        return obj.tier_name

    @staticmethod
    def resolve_category(obj: LedgerEntry) -> str:
        return obj.category_slug

    @staticmethod
    def resolve_reverses(obj: LedgerEntry) -> int | None:
        return obj.reverses_id


class BalanceOut(BaseModel):
    currency: str
    amount: str = Field(description="Approved, not in a payout yet; negative after reversed paid commissions.")
    entries: int


class DetailsOut(Schema):
    account_holder: str
    iban: str
    bic: str
    updated_at: datetime


class DetailsIn(Body):
    account_holder: str = Field(max_length=200)
    iban: str = Field(max_length=50, description="With or without spaces; checked (country, length, check digits).")
    bic: str = Field("", max_length=20)
    password: str = Field(description="Your password: changing where payouts go is a sensitive change.")


class StatementFormat(StrEnum):
    CSV = "csv"
    XLSX = "xlsx"
    PDF = "pdf"


class StatementQuery(BaseModel):
    format: StatementFormat = StatementFormat.CSV


class ReviewFilter(BaseModel):
    status: PayoutStatus | None = None


class PayIn(Body):
    reference: str = Field(max_length=100, description="The payment reference of the bank transfer.")


STATEMENT_DOC = {
    "responses": {
        "200": {
            "description": "The statement: one row per entry.",
            "content": {
                "text/csv": {},
                exports.XLSX_TYPE: {},
                "application/pdf": {},
            },
        }
    }
}


def _statement(
    request: HttpRequest, payout: Payout, fmt: StatementFormat, *, operator: bool = False
) -> HttpResponseBase:
    services.record_statement_download(actor_of(request), payout=payout, fmt=str(fmt.value), operator=operator)
    if fmt == StatementFormat.CSV:
        return exports.csv_response(payout)
    if fmt == StatementFormat.XLSX:
        return exports.xlsx_response(payout)
    try:
        return exports.pdf_response(payout)
    except FontMissing as exc:
        raise ApiProblem(503, _("PDF files cannot be made on this server right now.")) from exc


# --- the beneficiary's side ------------------------------------------------------------------------------


@operation(router, "GET", "/orgs/{org_slug}/payouts", perm=PORTAL, response=Page[PayoutOut], summary="List payouts")
def list_payouts(request: HttpRequest, org_slug: str, page: Query[PageParams]) -> Page[PayoutOut]:
    return paginate(queries.payouts_of(org_of(request)).select_related("beneficiary"), page, PayoutOut)


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/payouts/balance",
    perm=PORTAL,
    response=list[BalanceOut],
    summary="Balance carried over to the next statement",
    description="Approved commissions not in a payout yet, per currency.",
)
def payout_balance(request: HttpRequest, org_slug: str) -> list[BalanceOut]:
    return [_balance(b) for b in queries.carried_over(org_of(request))]


def _balance(balance: Balance) -> BalanceOut:
    return BalanceOut(currency=balance.currency, amount=f"{balance.amount:f}", entries=balance.entries)


@operation(
    router, "GET", "/orgs/{org_slug}/payouts/{payout_id}", perm=PORTAL, response=PayoutOut, summary="Get a payout"
)
def get_payout(request: HttpRequest, org_slug: str, payout_id: int) -> Payout:
    return queries.payout_of(org_of(request), payout_id)


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/payouts/{payout_id}/entries",
    perm=PORTAL,
    response=Page[EntryOut],
    summary="List the entries of a payout",
)
def payout_entries(request: HttpRequest, org_slug: str, payout_id: int, page: Query[PageParams]) -> Page[EntryOut]:
    return paginate(queries.entries_of(queries.payout_of(org_of(request), payout_id)), page, EntryOut, order_by="id")


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/payouts/{payout_id}/statement",
    perm=PORTAL,
    response={200: None, 503: None},
    summary="Download a payout statement (CSV, XLSX or PDF)",
    openapi_extra=STATEMENT_DOC,
)
def payout_statement(
    request: HttpRequest, org_slug: str, payout_id: int, query: Query[StatementQuery]
) -> HttpResponseBase:
    return _statement(request, queries.payout_of(org_of(request), payout_id), query.format)


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/payout-details",
    perm=PORTAL,
    response=DetailsOut,
    summary="Get the payout details",
    description="404 while none were entered.",
)
def get_payout_details(request: HttpRequest, org_slug: str) -> PayoutDetails:
    details = queries.details_of(org_of(request))
    if details is None:
        raise ApiProblem(404, _("No payout details were entered yet."))
    return details


@operation(
    router,
    "PUT",
    "/orgs/{org_slug}/payout-details",
    perm=PORTAL,
    response=DetailsOut,
    api_keys=False,
    summary="Set the payout details",
    description="Needs the caller's password. The IBAN is stored compact; a BIC is optional. Payouts approved "
    "already keep the account they were approved for.",
)
def put_payout_details(request: HttpRequest, org_slug: str, data: DetailsIn) -> PayoutDetails:
    if not request.user.check_password(data.password):
        raise ApiProblem(
            403,
            _("Enter your password to confirm this change."),
            errors=[{"loc": ["body", "password"], "msg": _("Wrong password."), "type": "password"}],
        )
    details = services.DetailsData(account_holder=data.account_holder, iban=data.iban, bic=data.bic)
    return services.set_payout_details(actor_of(request), org=org_of(request), data=details)


# --- the operator's review --------------------------------------------------------------------------------


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/payout-review",
    perm=PAYOUTS,
    response=Page[PayoutOut],
    summary="List every payout for review (operator)",
    description="Newest first; filter by `status`.",
)
def review_payouts(
    request: HttpRequest, org_slug: str, page: Query[PageParams], filters: Query[ReviewFilter]
) -> Page[PayoutOut]:
    return paginate(queries.payouts_for_review(str(filters.status or "")), page, PayoutOut)


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/payout-review/{payout_id}",
    perm=PAYOUTS,
    response=PayoutOut,
    summary="Get a payout (operator)",
)
def review_payout(request: HttpRequest, org_slug: str, payout_id: int) -> Payout:
    return queries.payout_for_review(payout_id)


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/payout-review/{payout_id}/entries",
    perm=PAYOUTS,
    response=Page[EntryOut],
    summary="List the entries of a payout (operator)",
)
def review_entries(request: HttpRequest, org_slug: str, payout_id: int, page: Query[PageParams]) -> Page[EntryOut]:
    return paginate(queries.entries_of(queries.payout_for_review(payout_id)), page, EntryOut, order_by="id")


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/payout-review/{payout_id}/statement",
    perm=PAYOUTS,
    response={200: None, 503: None},
    summary="Download a payout statement (operator)",
    openapi_extra=STATEMENT_DOC,
)
def review_statement(
    request: HttpRequest, org_slug: str, payout_id: int, query: Query[StatementQuery]
) -> HttpResponseBase:
    return _statement(request, queries.payout_for_review(payout_id), query.format, operator=True)


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/payout-review/{payout_id}/approve",
    perm=PAYOUTS,
    response=PayoutOut,
    summary="Approve a payout (operator)",
    description="Fixes the beneficiary's current payout details for this payout and emails them. Not open, "
    "or no payout details entered: 409.",
)
def approve_payout(request: HttpRequest, org_slug: str, payout_id: int) -> Payout:
    with _conflicts():
        return services.approve_payout(actor_of(request), payout=queries.payout_for_review(payout_id))


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/payout-review/{payout_id}/pay",
    perm=PAYOUTS,
    response=PayoutOut,
    summary="Mark a payout paid (operator)",
    description="Its entries become paid. Not approved: 409; no reference: 422.",
)
def pay_payout(request: HttpRequest, org_slug: str, payout_id: int, data: PayIn) -> Payout:
    with _conflicts():
        return services.mark_payout_paid(
            actor_of(request), payout=queries.payout_for_review(payout_id), reference=data.reference
        )


@operation(
    router,
    "POST",
    "/orgs/{org_slug}/payout-review/{payout_id}/cancel",
    perm=PAYOUTS,
    response=PayoutOut,
    summary="Cancel a payout (operator)",
    description="Open or approved only (else 409); its entries go into the next month's statement.",
)
def cancel_payout(request: HttpRequest, org_slug: str, payout_id: int) -> Payout:
    with _conflicts():
        return services.cancel_payout(actor_of(request), payout=queries.payout_for_review(payout_id))
