"""Forms of the organisations area. They parse input; the services decide what is allowed."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django import forms
from django.core.validators import RegexValidator
from django.utils.translation import gettext_lazy as _

from partnerhub.access.perms import Perm, Role


class OrganisationCreateForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    slug = forms.SlugField(
        label=_("Short name"),
        max_length=60,
        required=False,
        help_text=_(
            "Used in addresses (letters, digits, hyphens, underscores). Leave empty to derive it from the name."
        ),
    )


class OrganisationSettingsForm(forms.Form):
    name = forms.CharField(label=_("Name"), max_length=200)
    country = forms.CharField(
        label=_("Country"),
        max_length=2,
        required=False,
        help_text=_("Two-letter ISO code, e.g. CH, DE or BG."),
        validators=[RegexValidator(r"^[A-Za-z]{2}$", _("Enter a two-letter country code."))],
    )
    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    billing_email = forms.EmailField(label=_("Billing email"), required=False)


def _perm_choices(perms: Iterable[Perm]) -> list[tuple[str, Any]]:
    return [(str(p), p.label) for p in perms]


class MemberRoleForm(forms.Form):
    """Role and extra permissions, offered only as far as the actor may grant them."""

    role = forms.ChoiceField(label=_("Role"))
    extra_perms = forms.MultipleChoiceField(
        label=_("Extra permissions"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("In addition to the role. Owners and admins already hold every permission of the organisation."),
    )

    def __init__(self, *args: Any, roles: Iterable[Role], perms: Iterable[Perm], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        role_field = self.fields["role"]
        extra_field = self.fields["extra_perms"]
        assert isinstance(role_field, forms.ChoiceField)
        assert isinstance(extra_field, forms.MultipleChoiceField)
        role_field.choices = [(role.value, role.label) for role in roles]
        extra_field.choices = _perm_choices(perms)


class InviteForm(MemberRoleForm):
    email = forms.EmailField(label=_("Email address"))
    field_order = ["email", "role", "extra_perms"]
