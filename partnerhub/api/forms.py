"""The API key form of the portal: name, permissions (only those the user may hand out), expiry."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from django import forms
from django.core.validators import MaxValueValidator
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partnerhub.access.perms import Perm

# The expiry is the day after the chosen one: it must still be a representable moment (year 9999 at most).
LATEST_EXPIRY_DAY = date(9998, 12, 31)


class ApiKeyForm(forms.Form):
    name = forms.CharField(
        label=_("Name"), max_length=100, help_text=_("What the key is for, e.g. “Accounting export”.")
    )
    perms = forms.MultipleChoiceField(
        label=_("Permissions"),
        widget=forms.CheckboxSelectMultiple,
        help_text=_("The key can never do more than you can do yourself."),
    )
    expires_on = forms.DateField(
        label=_("Expires on"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date", "max": LATEST_EXPIRY_DAY.isoformat()}),
        help_text=_("Optional. The key stops working at the end of this day."),
        validators=[MaxValueValidator(LATEST_EXPIRY_DAY, _("Choose a day on or before %(limit_value)s."))],
    )

    def __init__(self, *args: Any, grantable: frozenset[Perm], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["perms"].choices = [(p.value, p.label) for p in Perm if p in grantable]  # type: ignore[attr-defined]

    def clean_expires_on(self) -> Any:
        day = self.cleaned_data.get("expires_on")
        if day is not None and day < timezone.localdate():
            raise forms.ValidationError(_("Choose today or a later day."))
        return day

    @property
    def expires_at(self) -> datetime | None:
        """The first moment after the chosen day, in the current time zone."""
        day = self.cleaned_data.get("expires_on")
        if day is None:
            return None
        return timezone.make_aware(datetime.combine(day + timedelta(days=1), time.min))
