"""The profile form: what a user may change about themselves outside allauth's pages."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _

from partnerhub.accounts.models import User


class ProfileForm(forms.Form):
    name = forms.CharField(
        label=_("Name"),
        max_length=User._meta.get_field("name").max_length,
        required=False,
        help_text=_("Shown to the other members of your organisations."),
    )
    language = forms.ChoiceField(
        label=_("Language"),
        choices=settings.LANGUAGES,
        help_text=_("The language of the portal and of the emails we send you."),
    )
