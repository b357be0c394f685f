"""Organisations, memberships and member invitations (DESIGN §2)."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partnerhub.access.perms import Perm, Role, parse_perms
from partnerhub.core.tokens import HashedTokenMixin

INVITATION_VALIDITY = timedelta(days=7)


class Organisation(models.Model):
    """Every account is an organisation: a customer by default, the operator when flagged."""

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    is_operator = models.BooleanField(_("operator"), default=False)
    # Set when the operator approves a partner application (partner program area).
    is_partner = models.BooleanField(_("partner"), default=False)
    # Set when the organisation's affiliate account is approved (affiliates area, DESIGN §7).
    is_affiliate = models.BooleanField(_("affiliate"), default=False)
    country = models.CharField(_("country"), max_length=2, blank=True)
    website = models.URLField(_("website"), blank=True)
    billing_email = models.EmailField(_("billing email"), blank=True)
    # The postal address (a partner fills it in when it creates the customer, seed 004 "New client").
    street = models.CharField(_("street and number"), max_length=200, blank=True)
    postcode = models.CharField(_("postcode"), max_length=20, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    # Premium-support customers carry a VIP code that support staff look up (seed 001).
    vip_code = models.CharField(_("VIP code"), max_length=12, null=True, blank=True, unique=True)
    # The customer wants an email whenever a partner or support opens a management session.
    notify_management_sessions = models.BooleanField(_("email me when someone acts for us"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["name", "id"]
        constraints = [
            # One installation serves one vendor: at most one operator organisation.
            models.UniqueConstraint(fields=["is_operator"], condition=Q(is_operator=True), name="one_operator_org"),
        ]

    def __str__(self) -> str:
        return self.name


class Membership(models.Model):
    """A user's role in an organisation, plus extra permissions beyond the role."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    org = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    extra_perms = models.JSONField(_("extra permissions"), default=list, blank=True)
    # Partner staff limited to the customers assigned to them (partnerships.StaffAssignment).
    assigned_customers_only = models.BooleanField(_("only assigned customers"), default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["org_id", "id"]
        constraints = [
            models.UniqueConstraint(fields=["user", "org"], name="one_membership_per_user_and_org"),
            models.CheckConstraint(condition=Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.org} ({self.role})"

    @property
    def extra(self) -> frozenset[Perm]:
        return parse_perms(self.extra_perms)


class InvitationQuerySet(models.QuerySet["Invitation"]):
    def pending(self) -> InvitationQuerySet:
        return self.filter(accepted_at=None, cancelled_at=None, expires_at__gt=timezone.now())


class Invitation(HashedTokenMixin, models.Model):
    """A single-use, expiring invitation to join an organisation with a role."""

    org = models.ForeignKey(Organisation, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("email address"))
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    extra_perms = models.JSONField(_("extra permissions"), default=list, blank=True)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)

    objects = InvitationQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(role__in=Role.values), name="invitation_role_valid"),
            # One open invitation per address and organisation; resending reuses it.
            models.UniqueConstraint(
                fields=["org", "email"],
                condition=Q(accepted_at=None, cancelled_at=None),
                name="one_open_invitation_per_email",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.email} → {self.org}"

    @property
    def extra(self) -> frozenset[Perm]:
        return parse_perms(self.extra_perms)

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.cancelled_at:
            return "cancelled"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"
