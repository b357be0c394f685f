"""Forms of the delegated-access area: the session reason, support access, the desk search."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from partnerhub.access.perms import Perm
from partnerhub.delegation.models import SUPPORT_ACCESS_MAX_DAYS, SUPPORT_ACCESS_MIN_DAYS
from partnerhub.delegation.queries import SIDE_ACTING, SIDE_CUSTOMER
from partnerhub.delegation.services.sessions import REASON_MAX_LENGTH
from partnerhub.delegation.services.support import NOTE_MAX_LENGTH


class StartSessionForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=REASON_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Why you act for this customer now, e.g. “Ticket 4711: set up the new mailboxes”. The customer sees it."
        ),
    )


class SupportAccessForm(forms.Form):
    days = forms.IntegerField(
        label=_("For how many days"),
        min_value=SUPPORT_ACCESS_MIN_DAYS,
        max_value=SUPPORT_ACCESS_MAX_DAYS,
        initial=7,
        widget=forms.NumberInput(attrs={"class": "input-narrow"}),
        help_text=_("From 1 to 14 days. You can revoke it earlier at any time."),
    )
    note = forms.CharField(
        label=_("Note for support"),
        max_length=NOTE_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Optional, e.g. what support should look at."),
    )
    scopes = forms.MultipleChoiceField(
        label=_("What support may do"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Support can always see the organisation. Without any box ticked it can change nothing."),
    )

    def __init__(self, *args: Any, perms: Iterable[Perm], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["scopes"]
        assert isinstance(field, forms.MultipleChoiceField)
        field.choices = [(p.value, p.label) for p in perms]
        if not self.is_bound:
            self.initial.setdefault("scopes", [p.value for p in perms])


class NotificationsForm(forms.Form):
    notify = forms.BooleanField(
        label=_("Email our owners and admins whenever a partner or support opens a management session"),
        required=False,
    )


class DeskSearchForm(forms.Form):
    q = forms.CharField(
        label=_("Support code, VIP code, or organisation name"),
        max_length=200,
        required=False,
    )

    def query(self) -> str:
        return (self.cleaned_data.get("q") or "").strip() if self.is_valid() else ""


class SessionListForm(forms.Form):
    side = forms.ChoiceField(
        required=False,
        choices=[(SIDE_CUSTOMER, _("In this organisation")), (SIDE_ACTING, _("By our staff elsewhere"))],
    )
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    after = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)
