"""The organisation's prepaid wallets: balances per currency and their entries (read-only)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from partnerhub.access.decorators import require_perm
from partnerhub.access.perms import Perm
from partnerhub.billing.wallets import balances, page_of
from partnerhub.core.htmx import render_page
from partnerhub.core.money import Currency, round_money


class WalletFilterForm(forms.Form):
    """The page's query string: a currency and a keyset position; invalid values are ignored."""

    currency = forms.ChoiceField(
        label=_("Currency"), required=False, choices=[("", _("All currencies")), *Currency.choices]
    )
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    after = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def value(self, name: str) -> Any:
        """The field's cleaned value, or None when it is missing or invalid (the other fields still count)."""
        self.is_valid()
        return self.cleaned_data.get(name)


@require_perm(Perm.BILLING_VIEW)
def wallet_detail(request: HttpRequest) -> HttpResponse:
    """The wallets of the organisation in the URL: a balance per currency, entries newest first."""
    org = request.org  # type: ignore[attr-defined]
    form = WalletFilterForm(request.GET)
    currency = form.value("currency") or None
    before, after = form.value("before"), form.value("after")
    page = page_of(org, currency=currency, before=before, after=after)
    context = {
        "org": org,
        "form": form,
        "wallets": balances(org),
        "page": page,
        # Stored with four decimals; shown in the currency's minor unit.
        "rows": [(entry, round_money(entry.amount, entry.wallet.currency)) for entry in page.rows],
        "currency": currency,
        "paged": before is not None or after is not None,
    }
    return render_page(request, "billing/wallet.html", context, partial="entries")
