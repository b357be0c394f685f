"""Acting for a customer (DESIGN §5): management sessions and operator support access.

A :class:`ManagementSession` is partner staff (or operator support staff) working inside a customer's
organisation. While it is open, the browser reaches that customer only with the delegated permissions
of its branch (the partner's grant, or the support access), never with the user's own membership.
It ends explicitly, after 30 minutes without a request, or when its basis (grant, partnership,
support access) goes away: ``partnerhub.access.policy`` decides that on every request.

A :class:`SupportAccess` is the customer letting the operator's support staff in until a given time.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partnerhub.access.perms import Perm, parse_perms

SESSION_IDLE_TIMEOUT = timedelta(minutes=30)
SUPPORT_ACCESS_MIN_DAYS = 1
SUPPORT_ACCESS_MAX_DAYS = 14


class Via(models.TextChoices):
    PARTNER = "partner", _("Partner")
    SUPPORT = "support", _("Operator support")


class EndCause(models.TextChoices):
    ENDED = "ended", _("Ended by the user")
    TIMEOUT = "timeout", _("Idle time-out")
    REVOKED = "revoked", _("Access withdrawn")


class SupportAccessQuerySet(models.QuerySet["SupportAccess"]):
    def in_force(self) -> SupportAccessQuerySet:
        return self.filter(revoked_at=None, valid_until__gt=timezone.now())


class SupportAccess(models.Model):
    """The customer lets operator support staff act in its organisation until ``valid_until``."""

    customer = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="support_accesses")
    scopes = models.JSONField(_("permissions"), default=list, blank=True)
    note = models.CharField(_("note for support"), max_length=500, blank=True)
    granted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    granted_at = models.DateTimeField(default=timezone.now)
    valid_until = models.DateTimeField(_("valid until"))
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = SupportAccessQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["customer", "valid_until"], name="support_access_customer")]

    def __str__(self) -> str:
        return f"support access to {self.customer_id} until {self.valid_until:%Y-%m-%d %H:%M}"

    @property
    def scope_set(self) -> frozenset[Perm]:
        return parse_perms(self.scopes)

    @property
    def is_in_force(self) -> bool:
        return self.revoked_at is None and self.valid_until > timezone.now()


class ManagementSession(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    customer = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="management_sessions")
    via = models.CharField(_("acting as"), max_length=16, choices=Via.choices)
    # The partner organisation (via partner) or the operator organisation (via support).
    acting_org = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="+")
    partnership = models.ForeignKey(
        "partnerships.Partnership", null=True, blank=True, on_delete=models.PROTECT, related_name="sessions"
    )
    support_access = models.ForeignKey(
        SupportAccess, null=True, blank=True, on_delete=models.PROTECT, related_name="sessions"
    )
    reason = models.CharField(_("reason"), max_length=500)
    started_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)
    ended_at = models.DateTimeField(null=True, blank=True)
    end_cause = models.CharField(max_length=16, choices=EndCause.choices, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["customer", "-id"], name="mgmt_session_customer")]
        constraints = [
            models.CheckConstraint(condition=Q(via__in=Via.values), name="mgmt_session_via_valid"),
            models.CheckConstraint(
                condition=(
                    Q(via="partner", partnership__isnull=False) | Q(via="support", support_access__isnull=False)
                ),
                name="mgmt_session_has_basis",
            ),
            # One open session per user and customer.
            models.UniqueConstraint(
                fields=["user", "customer"], condition=Q(ended_at=None), name="one_open_mgmt_session"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} in {self.customer} ({self.via})"

    @property
    def is_open(self) -> bool:
        return self.ended_at is None and self.last_seen_at > timezone.now() - SESSION_IDLE_TIMEOUT
