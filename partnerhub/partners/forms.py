"""Forms of the partner program pages. They parse input; the services decide what is allowed."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django import forms
from django.utils.translation import gettext_lazy as _

from partnerhub.access.perms import Perm
from partnerhub.core.money import Currency, parse_amount
from partnerhub.partners.models import ApplicationStatus
from partnerhub.partners.services.eligibility import Candidate

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise


def _percent_field(label: str | _StrPromise, *, help_text: str | _StrPromise) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        min_value=Decimal(0),
        max_value=Decimal(100),
        max_digits=5,
        decimal_places=2,
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
        help_text=help_text,
    )


class ProgramForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    partner_discount_percent = _percent_field(
        _("Partner discount (%)"),
        help_text=_("Partners' price = public price minus this discount."),
    )
    reseller_pricing = forms.BooleanField(
        label=_("Reseller pricing"),
        required=False,
        help_text=_(
            "When on, partners get the partner discount and volume discounts, as a discount or as cashback "
            "to their prepaid wallet."
        ),
    )


class VolumeTierForm(forms.Form):
    min_quantity = forms.IntegerField(label=_("From quantity"), min_value=1, max_value=1_000_000)
    percent = _percent_field(_("Discount (%)"), help_text=_("Off the partner price, on the whole order line."))


# --- eligibility rules ----------------------------------------------------------------------------------


class EligibilityRulesForm(forms.Form):
    registered_company_required = forms.BooleanField(
        label=_("Registered company required"),
        required=False,
        help_text=_("Applicants give the number of their entry in a commercial register (or SIRET or similar)."),
    )
    active_website_required = forms.BooleanField(
        label=_("Active website required"), required=False, help_text=_("Applicants give their company's website.")
    )
    partner_affiliate_exclusive = forms.BooleanField(
        label=_("Partner and affiliate are exclusive"),
        required=False,
        help_text=_("When on, an organisation is either a partner or an affiliate, never both."),
    )
    partner_owner_mfa = forms.BooleanField(
        label=_("Partner owners must use two-factor authentication"),
        required=False,
        help_text=_("Owners of partner organisations must set up an authenticator app before using the portal."),
    )


class EligibilityVolumeForm(forms.Form):
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices)
    min_amount = forms.DecimalField(
        label=_("Minimum yearly volume"),
        min_value=Decimal(0),
        max_digits=14,
        decimal_places=2,
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )


# --- requesting partner status ------------------------------------------------------------------------


class ApplicationForm(forms.Form):
    company_name = forms.CharField(label=_("Company name"), max_length=200)
    register_number = forms.CharField(
        label=_("Commercial register number"),
        max_length=60,
        required=False,
        help_text=_("E.g. CHE-123.456.789, a SIRET or the number in an equivalent register."),
    )
    country = forms.CharField(
        label=_("Country"),
        max_length=2,
        min_length=2,
        help_text=_("Two-letter code, e.g. CH, DE, AT."),
        widget=forms.TextInput(attrs={"autocomplete": "country", "size": 3}),
    )
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    expected_volume = forms.DecimalField(
        label=_("Expected yearly volume"),
        min_value=Decimal(0),
        max_digits=14,
        decimal_places=2,
        localize=True,
        help_text=_("The yearly total of the products you expect to manage for your customers."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices)
    contact_name = forms.CharField(label=_("Contact person"), max_length=150)
    contact_email = forms.EmailField(label=_("Contact email"))
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=40, required=False)
    message = forms.CharField(
        label=_("Message"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )

    def candidate(self) -> Candidate:
        """What the eligibility rules look at, from whatever was entered so far (valid or not)."""
        data = self.cleaned_data if self.is_bound and hasattr(self, "cleaned_data") else {}
        raw = self.data if self.is_bound else self.initial
        volume = data.get("expected_volume")
        if volume is None:
            try:
                volume = parse_amount(str(raw.get("expected_volume", "")).replace("'", "").replace(",", "."))
            except (ValueError, TypeError):
                volume = None
        return Candidate(
            register_number=str(raw.get("register_number", "") or ""),
            website=str(raw.get("website", "") or ""),
            expected_volume=volume if volume is not None and volume >= 0 else None,
            currency=str(raw.get("currency", "") or ""),
        )


class DecisionForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when rejecting: the applicant reads it in the email."),
    )


class ReviewFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *ApplicationStatus.choices])
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    after = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def value(self, name: str) -> Any:
        self.is_valid()
        return self.cleaned_data.get(name) if hasattr(self, "cleaned_data") else None


# --- the partner's own pages ----------------------------------------------------------------------------


class ProfileForm(forms.Form):
    company_name = forms.CharField(label=_("Company name"), max_length=200)
    register_number = forms.CharField(label=_("Commercial register number"), max_length=60, required=False)
    country = forms.CharField(label=_("Country"), min_length=2, max_length=2, help_text=_("Two-letter code, e.g. CH."))
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    description = forms.CharField(
        label=_("Description"), max_length=2000, required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    contact_email = forms.EmailField(label=_("Contact email"))
    contact_phone = forms.CharField(label=_("Contact phone"), max_length=40, required=False)
    listed_in_directory = forms.BooleanField(
        label=_("List us in the partner directory"),
        required=False,
        help_text=_("Customers looking for a partner find your company name, country, website and description."),
    )


class StaffForm(forms.Form):
    perms = forms.MultipleChoiceField(
        label=_("Partner permissions"),
        required=False,
        choices=[(str(p), p.label) for p in Perm if p.side == "partner"],
        widget=forms.CheckboxSelectMultiple,
    )
    assigned_customers_only = forms.BooleanField(
        label=_("Only assigned customers"),
        required=False,
        help_text=_("When on, this person administers only the customers assigned below."),
    )
    customers = forms.TypedMultipleChoiceField(
        label=_("Assigned customers"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args: Any, customers: list[tuple[int, str]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["customers"]
        assert isinstance(field, forms.TypedMultipleChoiceField)
        field.choices = customers
