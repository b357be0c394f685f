"""Forms of the catalog pages. They parse input; the services decide what is allowed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from partnerhub.catalog.models import BillingPeriod, Category, LicenceKind, ProductKind
from partnerhub.core.money import MINOR_UNITS, Currency

# Every currency the operator can price in gets a field; CHF and EUR come first.
PRICE_CURRENCIES: list[str] = ["CHF", "EUR", *(c for c in Currency.values if c not in {"CHF", "EUR"})]


def price_field_name(currency: str) -> str:
    return f"price_{currency}"


class CategoryForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=120)
    slug = forms.SlugField(
        label=_("Short name"),
        max_length=60,
        help_text=_("Used in addresses and the API (letters, digits, hyphens, underscores)."),
    )
    position = forms.IntegerField(
        label=_("Position"), min_value=0, initial=0, help_text=_("Categories are listed by position, then by name.")
    )


class ProductForm(forms.Form):
    category = forms.ModelChoiceField(label=_("Category"), queryset=Category.objects.none(), empty_label=None)
    name = forms.CharField(label=_("Name"), max_length=160)
    sku = forms.SlugField(
        label=_("Article number"),
        max_length=60,
        help_text=_("Unique; used in orders and the API (letters, digits, hyphens, underscores)."),
    )
    description = forms.CharField(label=_("Description"), required=False, widget=forms.Textarea(attrs={"rows": 4}))
    kind = forms.ChoiceField(label=_("Kind"), choices=ProductKind.choices)
    billing_period = forms.ChoiceField(label=_("Billing period"), choices=BillingPeriod.choices)
    licence_kind = forms.ChoiceField(
        label=_("Licence kind"),
        choices=LicenceKind.choices,
        help_text=_(
            "Absolute licences keep the quantity ordered; relative ones follow the number of active members "
            "and are recounted at each renewal."
        ),
    )
    unit_label = forms.CharField(
        label=_("Unit"),
        max_length=40,
        required=False,
        help_text=_("What a quantity counts, e.g. users or data loggers."),
    )
    trial_days = forms.IntegerField(
        label=_("Trial days"), min_value=0, max_value=365, initial=0, help_text=_("0: no trial.")
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        category = self.fields["category"]
        assert isinstance(category, forms.ModelChoiceField)
        category.queryset = Category.objects.order_by("position", "name", "id")
        for currency in PRICE_CURRENCIES:
            self.fields[price_field_name(currency)] = forms.DecimalField(
                label=_("Price in %(currency)s") % {"currency": currency},
                required=False,
                min_value=Decimal(0),
                max_digits=18,
                localize=True,
                widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
                help_text=_("Rounded to %(places)s decimal places. Empty: not sold in %(currency)s.")
                % {"places": MINOR_UNITS[currency], "currency": currency},
            )

    def price_fields(self) -> list[forms.BoundField]:
        return [self[price_field_name(currency)] for currency in PRICE_CURRENCIES]

    def product_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.fields if not name.startswith("price_")]

    def prices(self) -> dict[str, Decimal | None]:
        """Currency → price, None where the field was left empty (not sold in that currency)."""
        return {currency: self.cleaned_data.get(price_field_name(currency)) for currency in PRICE_CURRENCIES}

    def product_data(self) -> dict[str, Any]:
        return {name: value for name, value in self.cleaned_data.items() if not name.startswith("price_")}


class ProductFilterForm(forms.Form):
    STATUS_CHOICES = [("", _("All")), ("active", _("On sale")), ("retired", _("Retired"))]

    category = forms.ModelChoiceField(
        label=_("Category"),
        queryset=Category.objects.none(),
        required=False,
        to_field_name="slug",
        empty_label=_("All"),
    )
    kind = forms.ChoiceField(label=_("Kind"), choices=[("", _("All")), *ProductKind.choices], required=False)
    status = forms.ChoiceField(label=_("Status"), choices=STATUS_CHOICES, required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        category = self.fields["category"]
        assert isinstance(category, forms.ModelChoiceField)
        category.queryset = Category.objects.order_by("position", "name", "id")
