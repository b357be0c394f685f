"""Forms of the partner program pages. They parse input; the services decide what is allowed."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from django import forms
from django.utils.translation import gettext_lazy as _

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
