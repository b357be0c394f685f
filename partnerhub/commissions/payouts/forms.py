"""Forms of the payout pages: the payout details, the payment reference, the review filter."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from partnerhub.commissions.models import PayoutStatus
from partnerhub.commissions.payouts.services import HOLDER_MAX_LENGTH, REFERENCE_MAX_LENGTH


class PayoutDetailsForm(forms.Form):
    """Checked by the service (holder, IBAN, BIC: every error at once); the form only bounds the input."""

    account_holder = forms.CharField(label=_("Account holder"), max_length=HOLDER_MAX_LENGTH, required=False)
    iban = forms.CharField(
        label=_("IBAN"),
        max_length=50,
        required=False,
        help_text=_("With or without spaces, e.g. CH93 0076 2011 6238 5295 7."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    bic = forms.CharField(
        label=_("BIC (optional)"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )


class ReferenceForm(forms.Form):
    reference = forms.CharField(
        label=_("Payment reference"),
        max_length=REFERENCE_MAX_LENGTH,
        help_text=_("The reference of the bank transfer; the partner sees it."),
    )


class PayoutFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *PayoutStatus.choices])
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    after = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def value(self, name: str) -> Any:
        self.is_valid()
        return self.cleaned_data.get(name) if hasattr(self, "cleaned_data") else None


class PageForm(forms.Form):
    before = forms.IntegerField(required=False, min_value=1)
    after = forms.IntegerField(required=False, min_value=0)

    def value(self, name: str) -> Any:
        self.is_valid()
        return self.cleaned_data.get(name) if hasattr(self, "cleaned_data") else None
