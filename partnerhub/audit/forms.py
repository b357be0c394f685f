"""The audit log's filter form (GET parameters, shared by the page and the CSV export)."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils.translation import gettext_lazy as _

from partnerhub.audit.actions import action_label
from partnerhub.audit.queries import AuditFilters

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

# Days outside these bounds cannot be turned into moments in every time zone (year 1, year 9999).
EARLIEST_DAY = date(1900, 1, 1)
LATEST_DAY = date(9998, 12, 31)


def _day_field(label: StrOrPromise) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        widget=forms.DateInput(
            attrs={"type": "date", "min": EARLIEST_DAY.isoformat(), "max": LATEST_DAY.isoformat()}, format="%Y-%m-%d"
        ),
        validators=[
            MinValueValidator(EARLIEST_DAY, _("Enter a date on or after %(limit_value)s.")),
            MaxValueValidator(LATEST_DAY, _("Enter a date on or before %(limit_value)s.")),
        ],
    )


class AuditFilterForm(forms.Form):
    action = forms.ChoiceField(label=_("Action"), required=False)
    actor = forms.CharField(label=_("Actor email contains"), required=False, max_length=254)
    date_from = _day_field(_("From"))
    date_to = _day_field(_("To"))
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    after = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args: Any, actions: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["action"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("All actions")), *((action, action_label(action)) for action in actions)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and start > end:
            raise forms.ValidationError(_("The start date must not be after the end date."))
        return data

    def filters(self) -> AuditFilters:
        """The filters from the fields that are valid (the form shows the errors of the others)."""
        self.is_valid()
        data = self.cleaned_data
        return AuditFilters(
            action=data.get("action") or "",
            actor=(data.get("actor") or "").strip(),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
        )
