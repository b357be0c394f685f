"""Forms of the affiliate pages. They parse input; the services decide what is allowed."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from partnerhub.affiliates.models import AffiliateStatus
from partnerhub.affiliates.services.accounts import MESSAGE_MAX_LENGTH
from partnerhub.affiliates.services.recommend import MESSAGE_MAX_LENGTH as RECOMMEND_MAX_LENGTH


class ApplyForm(forms.Form):
    website = forms.URLField(
        label=_("Website"),
        required=False,
        assume_scheme="https",
        max_length=200,
        help_text=_("Where you will place the link, if you have a site (optional)."),
    )
    message = forms.CharField(
        label=_("How will you promote us?"),
        max_length=MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("A few words: your blog, newsletter, customers, social media…"),
    )


class RecommendForm(forms.Form):
    email = forms.EmailField(label=_("Email address"), max_length=254)
    message = forms.CharField(
        label=_("Personal message"),
        max_length=RECOMMEND_MAX_LENGTH,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": RECOMMEND_MAX_LENGTH}),
        help_text=_("Optional, at most 1000 characters. Your referral link is added below it."),
    )


class DecisionForm(forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when rejecting or suspending: the affiliate reads it in the email."),
    )


class ReviewFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False, choices=[("", _("All")), *AffiliateStatus.choices])
    before = forms.IntegerField(required=False, min_value=1, widget=forms.HiddenInput)
    after = forms.IntegerField(required=False, min_value=0, widget=forms.HiddenInput)

    def value(self, name: str) -> Any:
        self.is_valid()
        return self.cleaned_data.get(name) if hasattr(self, "cleaned_data") else None
