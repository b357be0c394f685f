"""Forms of the billing pages: list filters (GET) and the few inputs of actions."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from partnerhub.billing.models import InvoiceStatus, OrderStatus, ProductStatus
from partnerhub.billing.queries import Filters, Offer
from partnerhub.catalog.models import ProductKind
from partnerhub.core.days import DayOrderMixin
from partnerhub.core.money import Currency

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")


class _FilterForm(DayOrderMixin):
    """A list's query string; invalid values are shown and ignored."""

    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)

    def filters(self) -> Filters:
        self.is_valid()
        data = self.cleaned_data
        return Filters(
            status=data.get("status") or "",
            kind=data.get("kind") or "",
            org=(data.get("org") or "").strip(),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )

    def position(self) -> int | None:
        """The ``?before=`` id of the page asked for (None: the newest page)."""
        self.is_valid()
        value = self.cleaned_data.get("before")
        return int(value) if value else None


def _choices(label: Any, choices: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
    return [("", label), *choices]


class ProductFilterForm(_FilterForm):
    status = forms.ChoiceField(label=_("Status"), required=False, choices=_choices(_("All"), ProductStatus.choices))
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=_choices(_("All kinds"), ProductKind.choices))


class OperatorProductFilterForm(ProductFilterForm):
    org = forms.SlugField(label=_("Organisation (short name)"), required=False, max_length=60)


class OrderFilterForm(_FilterForm):
    kind = forms.ChoiceField(label=_("Kind"), required=False, choices=_choices(_("All kinds"), ProductKind.choices))
    status = forms.ChoiceField(label=_("Status"), required=False, choices=_choices(_("All"), OrderStatus.choices))
    date_from = forms.DateField(label=_("From"), required=False, widget=DATE)
    date_to = forms.DateField(label=_("To"), required=False, widget=DATE)


class InvoiceFilterForm(_FilterForm):
    status = forms.ChoiceField(label=_("Status"), required=False, choices=_choices(_("All"), InvoiceStatus.choices))
    date_from = forms.DateField(label=_("From"), required=False, widget=DATE)
    date_to = forms.DateField(label=_("To"), required=False, widget=DATE)


class OperatorInvoiceFilterForm(InvoiceFilterForm):
    org = forms.SlugField(label=_("Organisation (short name)"), required=False, max_length=60)


class QuantityForm(forms.Form):
    quantity = forms.IntegerField(label=_("Quantity"), min_value=1, max_value=100_000)


class RefundForm(forms.Form):
    amount = forms.DecimalField(label=_("Amount to refund"), min_value=0, max_digits=14, decimal_places=2)


class CurrencyForm(forms.Form):
    currency = forms.ChoiceField(label=_("Currency"), choices=Currency.choices)


class OrderForm(forms.Form):
    """Quantities (and terms) per product on sale in one currency; empty or 0 means not ordered."""

    currency = forms.ChoiceField(choices=Currency.choices, widget=forms.HiddenInput)

    def __init__(self, *args: Any, offers: list[Offer], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.offers = offers
        for offer in offers:
            pk = offer.product.pk
            self.fields[f"qty_{pk}"] = forms.IntegerField(
                label=offer.product.name, required=False, min_value=0, max_value=100_000
            )
            self.fields[f"term_{pk}"] = forms.IntegerField(
                label=_("Term (months)"), required=False, min_value=1, max_value=60
            )

    def rows(self) -> list[tuple[Offer, forms.BoundField, forms.BoundField]]:
        return [(o, self[f"qty_{o.product.pk}"], self[f"term_{o.product.pk}"]) for o in self.offers]

    def lines(self) -> list[tuple[Any, int, int | None]]:
        """The requested (product, quantity, term) lines of a valid form."""
        data = self.cleaned_data
        return [
            (o.product, data[f"qty_{o.product.pk}"], data.get(f"term_{o.product.pk}"))
            for o in self.offers
            if data.get(f"qty_{o.product.pk}")
        ]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if not any(data.get(f"qty_{o.product.pk}") for o in self.offers):
            raise forms.ValidationError(_("Enter a quantity for at least one product."))
        return data
