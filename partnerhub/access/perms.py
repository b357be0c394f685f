"""The permission vocabulary and the role → permission sets (DESIGN §2).

One enum, dotted names. Memberships store a role plus extra permissions; grants (later) store
scopes drawn from the same vocabulary. Nothing else in the code base invents permission names.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

from django.db import models
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


class Perm(StrEnum):
    # Own organisation.
    ORG_VIEW = "org.view"
    ORG_SETTINGS_MANAGE = "org.settings.manage"
    MEMBERS_MANAGE = "members.manage"
    PRODUCTS_MANAGE = "products.manage"
    BILLING_VIEW = "billing.view"
    BILLING_ORDER = "billing.order"
    PROVIDERS_MANAGE = "providers.manage"
    PARTNER_STATUS_REQUEST = "partner_status.request"
    TICKETS_USE = "tickets.use"
    OFFERS_RESPOND = "offers.respond"
    API_KEYS_MANAGE = "api_keys.manage"
    AUDIT_VIEW = "audit.view"
    # Partner side, held on the partner organisation.
    PARTNER_CUSTOMERS_ADMINISTER = "partner.customers.administer"
    PARTNER_CUSTOMERS_CREATE = "partner.customers.create"
    PARTNER_PORTAL_MANAGE = "partner.portal.manage"
    PARTNER_OFFERS_MANAGE = "partner.offers.manage"
    PARTNER_TICKETS_ANSWER = "partner.tickets.answer"
    # Operator side, held on the operator organisation.
    OPERATOR_APPLICATIONS_REVIEW = "operator.applications.review"
    OPERATOR_PROGRAM_MANAGE = "operator.program.manage"
    OPERATOR_PAYOUTS_MANAGE = "operator.payouts.manage"
    OPERATOR_SUPPORT_ACCESS = "operator.support.access"

    @property
    def label(self) -> str | Promise:
        return PERM_LABELS[self]

    @property
    def side(self) -> str:
        if self.value.startswith("operator."):
            return "operator"
        if self.value.startswith("partner."):
            return "partner"
        return "own"


PERM_LABELS: dict[Perm, str | Promise] = {
    Perm.ORG_VIEW: _("See the organisation"),
    Perm.ORG_SETTINGS_MANAGE: _("Change organisation settings"),
    Perm.MEMBERS_MANAGE: _("Manage members and invitations"),
    Perm.PRODUCTS_MANAGE: _("Manage products and services"),
    Perm.BILLING_VIEW: _("See invoices and billing data"),
    Perm.BILLING_ORDER: _("Place orders"),
    Perm.PROVIDERS_MANAGE: _("Choose service providers and their access"),
    Perm.PARTNER_STATUS_REQUEST: _("Request partner status"),
    Perm.TICKETS_USE: _("Open support tickets"),
    Perm.OFFERS_RESPOND: _("Accept or decline offers"),
    Perm.API_KEYS_MANAGE: _("Manage API keys"),
    Perm.AUDIT_VIEW: _("See the audit log"),
    Perm.PARTNER_CUSTOMERS_ADMINISTER: _("Administer customers (My customers, management sessions)"),
    Perm.PARTNER_CUSTOMERS_CREATE: _("Create and invite customers"),
    Perm.PARTNER_PORTAL_MANAGE: _("Manage the partner portal (dashboard, affiliate link, commissions, payouts, staff)"),
    Perm.PARTNER_OFFERS_MANAGE: _("Manage offers"),
    Perm.PARTNER_TICKETS_ANSWER: _("Answer customer tickets"),
    Perm.OPERATOR_APPLICATIONS_REVIEW: _("Review partner applications"),
    Perm.OPERATOR_PROGRAM_MANAGE: _("Manage the partner program and catalog"),
    Perm.OPERATOR_PAYOUTS_MANAGE: _("Manage payouts"),
    Perm.OPERATOR_SUPPORT_ACCESS: _("Use support access granted by customers"),
}


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    MEMBER = "member", _("Member")


OWN_ORG_PERMS: frozenset[Perm] = frozenset(p for p in Perm if p.side == "own")
PARTNER_PERMS: frozenset[Perm] = frozenset(p for p in Perm if p.side == "partner")
OPERATOR_PERMS: frozenset[Perm] = frozenset(p for p in Perm if p.side == "operator")

# Owners are the legal representatives and admins run the organisation: both hold every permission
# of their own organisation. Members see it and use support; more comes as extra permissions.
ROLE_PERMS: dict[Role, frozenset[Perm]] = {
    Role.OWNER: OWN_ORG_PERMS,
    Role.ADMIN: OWN_ORG_PERMS,
    Role.MEMBER: frozenset({Perm.ORG_VIEW, Perm.TICKETS_USE}),
}

# What the role additionally carries on a partner or operator organisation. Only owners create
# customers by default (seed 001: the legal representatives add customers).
ROLE_PARTNER_PERMS: dict[Role, frozenset[Perm]] = {
    Role.OWNER: PARTNER_PERMS,
    Role.ADMIN: PARTNER_PERMS - {Perm.PARTNER_CUSTOMERS_CREATE},
    Role.MEMBER: frozenset(),
}
ROLE_OPERATOR_PERMS: dict[Role, frozenset[Perm]] = {
    Role.OWNER: OPERATOR_PERMS,
    Role.ADMIN: OPERATOR_PERMS,
    Role.MEMBER: frozenset(),
}

# What an organisation that is an affiliate but not a partner holds of the partner side (DESIGN §7):
# the portal (referral link, commissions, payouts), nothing about customers.
AFFILIATE_PERMS: frozenset[Perm] = frozenset({Perm.PARTNER_PORTAL_MANAGE})

ROLE_RANK: dict[Role, int] = {Role.MEMBER: 0, Role.ADMIN: 1, Role.OWNER: 2}


def parse_perms(values: Iterable[str]) -> frozenset[Perm]:
    """Turn stored strings into permissions, dropping names that no longer exist."""
    known = {p.value for p in Perm}
    return frozenset(Perm(v) for v in values if v in known)
