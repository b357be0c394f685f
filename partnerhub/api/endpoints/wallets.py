"""The organisation's prepaid wallets (read-only): balances per currency and their entries."""

from __future__ import annotations

from datetime import datetime

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Schema

from partnerhub.access.perms import Perm
from partnerhub.api.endpoints import org_of
from partnerhub.api.pagination import Page, PageParams, paginate
from partnerhub.api.problems import ApiProblem
from partnerhub.api.routing import operation
from partnerhub.billing.models import Wallet, WalletEntry
from partnerhub.billing.wallets import balances, entries_for
from partnerhub.core.money import Currency, round_money

router = Router(tags=["wallets"])


class WalletOut(Schema):
    currency: str
    balance: str  # a decimal string in the currency's minor unit, e.g. "69.44"
    entry_count: int


class WalletEntryOut(Schema):
    id: int
    currency: str
    kind: str
    amount: str  # a decimal string in the currency's minor unit; reversals are negative
    description: str
    order_line_id: int | None
    reverses_id: int | None
    created_at: datetime

    @staticmethod
    def resolve_currency(obj: WalletEntry) -> str:
        return obj.wallet.currency

    @staticmethod
    def resolve_amount(obj: WalletEntry) -> str:
        return str(round_money(obj.amount, obj.wallet.currency))


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/wallets",
    perm=Perm.BILLING_VIEW,
    response=list[WalletOut],
    summary="List the organisation's wallets with their balances",
)
def list_wallets(request: HttpRequest, org_slug: str) -> list[WalletOut]:
    return [
        WalletOut(currency=w.currency, balance=str(w.balance), entry_count=w.entry_count)
        for w in balances(org_of(request))
    ]


@operation(
    router,
    "GET",
    "/orgs/{org_slug}/wallets/{currency}/entries",
    perm=Perm.BILLING_VIEW,
    response=Page[WalletEntryOut],
    summary="List the entries of one wallet, newest first",
)
def list_wallet_entries(
    request: HttpRequest, org_slug: str, currency: Currency, page: Query[PageParams]
) -> Page[WalletEntryOut]:
    org = org_of(request)
    if not Wallet.objects.filter(org=org, currency=currency).exists():
        raise ApiProblem(404, _("This organisation has no wallet in %(currency)s.") % {"currency": currency})
    return paginate(entries_for(org, currency), page, WalletEntryOut)
