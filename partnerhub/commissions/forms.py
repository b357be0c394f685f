"""Forms of the commission pages: the ledger's filters and the operator's tiers, rate table and
settings. They parse input; the services decide what is allowed."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from partnerhub.catalog.models import Category
from partnerhub.commissions.models import Audience, EntryStatus, EntryType, Tier
from partnerhub.commissions.queries import LedgerFilters
from partnerhub.commissions.services import MAX_THRESHOLD, TIER_NAME_MAX_LENGTH, RateCell
from partnerhub.core.days import DayOrderMixin, day_field, day_range
from partnerhub.core.money import Currency
from partnerhub.partners.models import Program


class LedgerFilterForm(DayOrderMixin):
    """The ledger list's query string; an invalid field is shown with its error and filters nothing."""

    type = forms.ChoiceField(label=_("Type"), required=False, choices=[("", _("All types")), *EntryType.choices])
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All statuses")), *EntryStatus.choices]
    )
    currency = forms.ChoiceField(
        label=_("Currency"), required=False, choices=[("", _("All currencies")), *Currency.choices]
    )
    customer = forms.SlugField(label=_("Customer (short name)"), required=False, max_length=60)
    date_from = day_field(_("Event from"))
    date_to = day_field(_("Event to"))
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    after = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    FILTERS = ("type", "status", "currency", "customer", "date_from", "date_to")

    def value(self, name: str) -> Any:
        self.is_valid()
        return self.cleaned_data.get(name)

    def filters(self) -> LedgerFilters:
        """Days are whole days in the current time zone; "to" includes its day."""
        self.is_valid()
        start, end = self.value("date_from"), self.value("date_to")
        since, until = day_range(start, end) if not (start and end and start > end) else (None, None)
        return LedgerFilters(
            type=self.value("type") or "",
            status=self.value("status") or "",
            currency=self.value("currency") or "",
            customer=self.value("customer") or "",
            since=since,
            until=until,
        )

    @property
    def filtered(self) -> bool:
        return any(self.value(name) for name in self.FILTERS)


# --- the operator's program page ------------------------------------------------------------------------


class TierForm(forms.Form):
    name = forms.CharField(label=_("Tier name"), max_length=TIER_NAME_MAX_LENGTH)
    min_customers = forms.IntegerField(
        label=_("From customers"),
        min_value=1,
        max_value=MAX_THRESHOLD,
        help_text=_("Customers with at least one active paid product."),
    )


def _percent_field(label: str) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=False,
        min_value=Decimal(0),
        max_value=Decimal(100),
        max_digits=5,
        decimal_places=2,
        localize=True,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off", "size": "6"}),
    )


class RateTableForm(forms.Form):
    """One field per cell: category × (no tier, each tier, affiliates). Empty: no rate (0 %)."""

    def __init__(self, *args: Any, categories: list[Category], tiers: list[Tier], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.categories, self.tiers = categories, tiers
        self.cells: dict[str, RateCell] = {}
        self.rows: list[tuple[Category, list[str]]] = []
        for category in categories:
            cells = [RateCell(category.pk, None)]
            cells += [RateCell(category.pk, tier.pk) for tier in tiers]
            cells.append(RateCell(category.pk, None, Audience.AFFILIATE))
            names = []
            for cell in cells:
                name = f"rate-{cell.key.replace('/', '-')}"
                column = (
                    _("Affiliates")
                    if cell.audience == Audience.AFFILIATE
                    else next((t.name for t in tiers if t.pk == cell.tier_id), _("No tier"))
                )
                self.fields[name] = _percent_field(f"{category.name} – {column} (%)")
                self.cells[name] = cell
                names.append(name)
            self.rows.append((category, names))

    def bound_rows(self) -> list[tuple[Category, list[forms.BoundField]]]:
        return [(category, [self[name] for name in names]) for category, names in self.rows]

    def rates(self) -> dict[RateCell, Decimal | None]:
        return {cell: self.cleaned_data.get(name) for name, cell in self.cells.items()}


class CommissionSettingsForm(forms.ModelForm):  # type: ignore[type-arg]
    class Meta:
        model = Program
        fields = [
            "hold_days",
            "payout_minimum",
            "demotion_grace_days",
            "affiliate_months",
            "attribution_window_days",
            "attribution_model",
            "click_dedupe_minutes",
            "affiliate_auto_approve",
        ]
        help_texts = {
            "hold_days": _("New commissions stay pending this long before they are approved."),
            "payout_minimum": _("Below this amount the balance carries over to the next month."),
            "demotion_grace_days": _("A partner keeps a higher tier this long after falling below it (0: at once)."),
            "affiliate_months": _("Empty: affiliates earn for as long as the customer pays."),
            "attribution_window_days": _("A signup this long after a click on an affiliate link still counts."),
        }
