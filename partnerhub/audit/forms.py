"""The audit log's filter form (GET parameters, shared by the page and the CSV export)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from partnerhub.audit.actions import action_label
from partnerhub.audit.queries import AuditFilters
from partnerhub.core.days import DayOrderMixin, day_field
from partnerhub.orgs.models import Organisation

# The partner filter's value for "any partner or support".
PARTNER_ACTIVITY = "any"


class AuditFilterForm(DayOrderMixin):
    action = forms.ChoiceField(label=_("Action"), required=False)
    actor = forms.CharField(label=_("Actor email contains"), required=False, max_length=254)
    partner = forms.ChoiceField(label=_("Acting for us"), required=False)
    session = forms.IntegerField(label=_("Management session"), required=False, min_value=1, widget=forms.HiddenInput)
    date_from = day_field(_("From"))
    date_to = day_field(_("To"))
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    after = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def __init__(self, *args: Any, actions: list[str], partners: Sequence[Organisation] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["action"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", _("All actions")), *((action, action_label(action)) for action in actions)]
        partner = self.fields["partner"]
        assert isinstance(partner, forms.ChoiceField)
        partner.choices = [
            ("", _("Everyone")),
            (PARTNER_ACTIVITY, _("Partner and support activity only")),
            *((str(org.pk), org.name) for org in partners),
        ]

    def filters(self) -> AuditFilters:
        """The filters from the fields that are valid (the form shows the errors of the others)."""
        self.is_valid()
        data = self.cleaned_data
        return AuditFilters(
            action=data.get("action") or "",
            actor=(data.get("actor") or "").strip(),
            date_from=data.get("date_from"),
            date_to=data.get("date_to"),
            partner_only=data.get("partner") == PARTNER_ACTIVITY,
            partner_id=int(partner) if (partner := data.get("partner")) and partner.isdigit() else None,
            session_id=data.get("session"),
        )
