"""Forms of My customers: the list's filters (with one filter per custom property), property
definitions, a customer's values, and the "New client" form (seed 004)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from partnerhub.catalog.models import Product
from partnerhub.customers import values as v
from partnerhub.customers.queries import Filters, PropFilter, Sort, parse_sort
from partnerhub.partnerships.models import CustomProperty, GrantMode, Origin, PropertyKind

YES_NO = [("", _("Any")), ("yes", _("Yes")), ("no", _("No"))]


def _no_nul(value: str) -> None:
    if "\x00" in value:
        raise ValidationError(_("Null characters are not allowed."))


class CustomerFilterForm(forms.Form):
    """The list's search, filters, sort and cursor; one or two fields per custom property."""

    q = forms.CharField(label=_("Search"), required=False, max_length=200, validators=[_no_nul])
    origin = forms.ChoiceField(label=_("Origin"), required=False, choices=[("", _("Any")), *Origin.choices])
    mode = forms.ChoiceField(label=_("Access"), required=False, choices=[("", _("Any")), *GrantMode.choices])
    product = forms.ModelChoiceField(
        label=_("Has product"), required=False, queryset=Product.objects.order_by("name"), empty_label=_("Any")
    )
    trial = forms.BooleanField(label=_("Has trial products"), required=False)
    paying = forms.BooleanField(label=_("Has active paid products"), required=False)
    open_invoices = forms.BooleanField(label=_("Has open invoices"), required=False)
    sort = forms.CharField(required=False, max_length=60, widget=forms.HiddenInput)
    cursor = forms.CharField(required=False, max_length=1000, widget=forms.HiddenInput)

    def __init__(self, data: Any, *, props: list[CustomProperty]) -> None:
        super().__init__(data)
        self.props = props
        for prop in props:
            self.fields.update(self._prop_fields(prop))

    @staticmethod
    def _prop_fields(prop: CustomProperty) -> dict[str, forms.Field]:
        name = f"p_{prop.key}"
        label = prop.name
        if prop.kind == PropertyKind.CHOICE:
            choices = [("", _("Any")), *((c, c) for c in prop.choices)]
            return {name: forms.ChoiceField(label=label, required=False, choices=choices)}
        if prop.kind == PropertyKind.BOOLEAN:
            return {name: forms.ChoiceField(label=label, required=False, choices=YES_NO)}
        if prop.kind == PropertyKind.TEXT:
            return {name: forms.CharField(label=label, required=False, max_length=200, validators=[_no_nul])}
        widget = forms.DateInput(attrs={"type": "date"}) if prop.kind == PropertyKind.DATE else forms.TextInput()
        return {
            f"{name}_min": forms.CharField(label=_("%(name)s from") % {"name": label}, required=False, widget=widget),
            f"{name}_max": forms.CharField(label=_("%(name)s to") % {"name": label}, required=False, widget=widget),
        }

    def prop_field_names(self) -> list[str]:
        return [name for name in self.fields if name.startswith("p_")]

    def _clean_bound(self, prop: CustomProperty, name: str) -> Any:
        raw = self.cleaned_data.get(name) or ""
        try:
            return v.parse_value(prop, raw)
        except ValidationError as exc:
            self.add_error(name, exc)
            return None

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        for prop in self.props:
            name = f"p_{prop.key}"
            if prop.kind in (PropertyKind.NUMBER, PropertyKind.DATE):
                data[f"{name}_min"] = self._clean_bound(prop, f"{name}_min")
                data[f"{name}_max"] = self._clean_bound(prop, f"{name}_max")
        return data

    def _prop_filter(self, prop: CustomProperty) -> PropFilter:
        name = f"p_{prop.key}"
        data = self.cleaned_data
        if prop.kind == PropertyKind.CHOICE:
            return PropFilter(prop, equals=data.get(name) or None)
        if prop.kind == PropertyKind.BOOLEAN:
            answer = data.get(name)
            return PropFilter(prop, equals=None if not answer else answer == "yes")
        if prop.kind == PropertyKind.TEXT:
            return PropFilter(prop, contains=(data.get(name) or "").strip())
        return PropFilter(prop, low=data.get(f"{name}_min"), high=data.get(f"{name}_max"))

    def filters(self) -> Filters:
        """The valid filters (an invalid field filters nothing; the page shows its error)."""
        if not self.is_bound:
            return Filters()
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        product = data.get("product")
        props = tuple(f for prop in self.props if (f := self._prop_filter(prop)).active)
        return Filters(
            q=(data.get("q") or "").strip(),
            origin=data.get("origin") or "",
            mode=data.get("mode") or "",
            product_id=product.pk if product else None,
            trial=bool(data.get("trial")),
            paying=bool(data.get("paying")),
            open_invoices=bool(data.get("open_invoices")),
            props=props,
        )

    def sort_order(self) -> Sort:
        raw = self.data.get("sort", "") if self.is_bound else ""
        return parse_sort(str(raw), self.props)

    def cursor_value(self) -> str:
        raw = self.data.get("cursor", "") if self.is_bound else ""
        return str(raw)[:1000]

    @property
    def filtering(self) -> bool:
        """True when any filter (not only the sort or the page) narrows the list."""
        return (
            any(self.data.get(name) for name in self.fields if name not in ("sort", "cursor"))
            if self.is_bound
            else False
        )


class PropertyForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    kind = forms.ChoiceField(label=_("Type"), choices=PropertyKind.choices)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("Only for the type Choice: one choice per line."),
    )


class PropertyEditForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=80)
    choices = forms.CharField(
        label=_("Choices"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("One choice per line. A choice still used by a customer cannot be removed."),
    )


def value_field(prop: CustomProperty) -> forms.Field:
    """The input of one custom property: checked by the services, typed here for the browser."""
    if prop.kind == PropertyKind.CHOICE:
        return forms.ChoiceField(label=prop.name, required=False, choices=[("", "—"), *((c, c) for c in prop.choices)])
    if prop.kind == PropertyKind.BOOLEAN:
        return forms.ChoiceField(
            label=prop.name, required=False, choices=[("", "—"), ("yes", _("Yes")), ("no", _("No"))]
        )
    if prop.kind == PropertyKind.DATE:
        return forms.CharField(label=prop.name, required=False, widget=forms.DateInput(attrs={"type": "date"}))
    if prop.kind == PropertyKind.NUMBER:
        return forms.CharField(
            label=prop.name, required=False, max_length=40, widget=forms.TextInput(attrs={"inputmode": "decimal"})
        )
    return forms.CharField(label=prop.name, required=False, max_length=v.MAX_TEXT)


class ValuesForm(forms.Form):
    """A customer's custom values, one field per property (named by its key)."""

    def __init__(self, data: Any = None, *, props: list[CustomProperty], initial: dict[str, str] | None = None) -> None:
        super().__init__(data, initial=initial, prefix="v")
        self.props = props
        for prop in props:
            self.fields[prop.key] = value_field(prop)

    def raw_values(self) -> dict[str, str]:
        return {prop.key: str(self.cleaned_data.get(prop.key) or "") for prop in self.props}


class ClientForm(forms.Form):
    """New client (seed 004): general data and address; the additional fields are a ValuesForm."""

    name = forms.CharField(label=_("Organisation name"), max_length=200, validators=[_no_nul])
    contact_name = forms.CharField(label=_("Contact name"), max_length=150, required=False, validators=[_no_nul])
    contact_email = forms.EmailField(label=_("Contact email"), help_text=_("Gets an email with a registration link."))
    billing_email = forms.EmailField(label=_("Billing email"), required=False)
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    street = forms.CharField(label=_("Street and number"), max_length=200, required=False, validators=[_no_nul])
    postcode = forms.CharField(label=_("Postcode"), max_length=20, required=False, validators=[_no_nul])
    city = forms.CharField(label=_("City"), max_length=100, required=False, validators=[_no_nul])
    country = forms.CharField(
        label=_("Country"), max_length=2, min_length=2, required=False, help_text=_("Two letters, e.g. CH, DE, AT.")
    )

    GENERAL = ("name", "contact_name", "contact_email", "billing_email", "website", "language")
    ADDRESS = ("street", "postcode", "city", "country")

    def general_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.GENERAL]

    def address_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.ADDRESS]

    def clean_country(self) -> str:
        return str(self.cleaned_data.get("country") or "").upper()

    def service_kwargs(self) -> dict[str, Any]:
        data = self.cleaned_data
        address = {key: data[key] for key in ("street", "postcode", "city") if data.get(key)}
        return {
            "name": data["name"],
            "contact_email": data["contact_email"],
            "contact_name": data.get("contact_name") or "",
            "billing_email": data.get("billing_email") or "",
            "website": data.get("website") or "",
            "country": data.get("country") or "",
            "language": data["language"],
            "address": address or None,
        }
