"""Forms of the partnerships area. They parse input; the services decide what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from partnerhub.access.perms import Perm
from partnerhub.billing.models import CustomerProduct
from partnerhub.partnerships.models import DEFAULT_GRANT_DAYS, MAX_GRANT_DAYS, GrantMode, PaymentMeans
from partnerhub.partnerships.queries import SCOPE_ORDER
from partnerhub.partnerships.services import GrantInput


class GrantForm(forms.Form):
    """The access a customer grants (or a partner requests): mode, scopes, products, means, validity."""

    mode = forms.ChoiceField(label=_("Access"), choices=GrantMode.choices, widget=forms.RadioSelect)
    scopes = forms.MultipleChoiceField(
        label=_("Permissions"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_(
            "Seeing the organisation is always included. Leave all unticked to let them only look. "
            "With restricted access the partner cannot place orders."
        ),
    )
    products = forms.TypedMultipleChoiceField(
        label=_("Products (restricted access only)"), required=False, coerce=int, widget=forms.CheckboxSelectMultiple
    )
    payment_means = forms.ChoiceField(
        label=_("Payment means (full access only)"), choices=PaymentMeans.choices, widget=forms.RadioSelect
    )
    validity_days = forms.IntegerField(
        label=_("Valid for (days)"),
        min_value=1,
        max_value=MAX_GRANT_DAYS,
        initial=DEFAULT_GRANT_DAYS,
        error_messages={
            "min_value": _("A grant must be valid for at least 1 day."),
            "max_value": _("A grant can be valid for at most %(limit_value)s days."),
        },
    )
    auto_extend = forms.BooleanField(label=_("Extend automatically before it ends"), required=False)

    def __init__(
        self,
        *args: Any,
        products: list[CustomerProduct] | None = None,
        grant: GrantInput | None = None,
        full_only: bool = False,
        **kwargs: Any,
    ) -> None:
        if grant is not None and "initial" not in kwargs:
            kwargs["initial"] = {
                "mode": grant.mode,
                "scopes": [str(p) for p in grant.scopes],
                "products": sorted(grant.product_ids),
                "payment_means": grant.payment_means,
                "validity_days": grant.validity_days,
                "auto_extend": grant.auto_extend,
            }
        super().__init__(*args, **kwargs)
        self.initial.setdefault("mode", GrantMode.FULL)
        self.initial.setdefault("payment_means", PaymentMeans.CUSTOMER)
        self.initial.setdefault("scopes", [str(p) for p in SCOPE_ORDER])
        scopes = self.fields["scopes"]
        assert isinstance(scopes, forms.MultipleChoiceField)
        scopes.choices = [(str(p), p.label) for p in SCOPE_ORDER]
        product_field = self.fields["products"]
        assert isinstance(product_field, forms.TypedMultipleChoiceField)
        product_field.choices = [(cp.pk, f"{cp.product.name} × {cp.quantity}") for cp in products or []]
        if full_only or not products:
            mode = self.fields["mode"]
            assert isinstance(mode, forms.ChoiceField)
            mode.choices = [(GrantMode.FULL.value, GrantMode.FULL.label)]
            del self.fields["products"]

    def grant_input(self) -> GrantInput:
        data = self.cleaned_data
        return GrantInput(
            mode=data["mode"],
            scopes=frozenset(Perm(s) for s in data["scopes"]),
            product_ids=frozenset(data.get("products") or ()),
            # The means field reads "full access only": with restricted access the customer always pays.
            payment_means=data["payment_means"] if data["mode"] == GrantMode.FULL else PaymentMeans.CUSTOMER,
            validity_days=data["validity_days"],
            auto_extend=data["auto_extend"],
        )


class PartnerSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Partner name or email address"),
        max_length=200,
        required=False,
        help_text=_("Part of the partner's name, or the exact email address of one of its people."),
    )


class MessageForm(forms.Form):
    message = forms.CharField(
        label=_("Message (optional)"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )


class RequestForm(GrantForm):
    """A partner asks a customer (found by the email of someone managing its providers) for access."""

    email = forms.EmailField(label=_("Customer's email address"))
    customer_slug = forms.SlugField(
        label=_("Organisation short name (only if asked)"),
        required=False,
        help_text=_("Needed when the person manages several organisations."),
    )
    message = forms.CharField(
        label=_("Message (optional)"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 4})
    )
    field_order = ["email", "customer_slug"]


class ExtendForm(forms.Form):
    days = forms.IntegerField(
        label=_("Extend by (days)"),
        min_value=1,
        max_value=MAX_GRANT_DAYS,
        initial=DEFAULT_GRANT_DAYS,
        error_messages={
            "min_value": _("A grant must be valid for at least 1 day."),
            "max_value": _("A grant can be valid for at most %(limit_value)s days."),
        },
    )


class EndForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason (optional, the other side sees it)"),
        required=False,
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
    )
