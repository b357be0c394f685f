"""The export options: the file format (the filters are the list's own filter form)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from partnerhub.billing.exports.models import ExportFormat


class ExportOptionsForm(forms.Form):
    format = forms.ChoiceField(
        label=_("Format"), choices=ExportFormat.choices, initial=ExportFormat.CSV, widget=forms.RadioSelect
    )
