"""Affiliate tracking (DESIGN §7): affiliate accounts and their referral code, recorded clicks, and the
referral that binds a signed-up customer organisation to its referrer for good."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AffiliateStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    SUSPENDED = "suspended", _("Suspended")


class Affiliate(models.Model):
    """An organisation that earns from its referral link: a partner (when the program allows both) or
    an individual's organisation that joined as affiliate only. Only approved affiliates are tracked."""

    org = models.OneToOneField("orgs.Organisation", on_delete=models.PROTECT, related_name="affiliate")
    code = models.SlugField(_("referral code"), max_length=32, unique=True)
    status = models.CharField(
        _("status"), max_length=16, choices=AffiliateStatus.choices, default=AffiliateStatus.PENDING
    )
    # How the affiliate means to promote the product (the simple application, reviewed by the operator).
    message = models.TextField(_("how will you promote us?"), blank=True, max_length=2000)
    website = models.URLField(_("website"), blank=True)
    applied_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True, max_length=2000)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "-id"], name="affiliate_status_recent")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=AffiliateStatus.values), name="affiliate_status_valid"),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def is_approved(self) -> bool:
        return self.status == AffiliateStatus.APPROVED


class ClickSalt(models.Model):
    """The day's random salt for hashing visitor addresses; salts older than two days are deleted, so a
    stored hash can no longer be tied back to an address."""

    day = models.DateField(unique=True)
    salt = models.CharField(max_length=64)

    def __str__(self) -> str:
        return str(self.day)


class Click(models.Model):
    """One visit through a referral link (bots are not recorded). `counted` is false for a repeat from
    the same source within the program's window."""

    affiliate = models.ForeignKey(Affiliate, on_delete=models.PROTECT, related_name="clicks")
    created_at = models.DateTimeField(default=timezone.now)
    ip_hash = models.CharField(max_length=64)
    user_agent = models.CharField(max_length=300, blank=True)
    landing_page = models.CharField(max_length=500, blank=True)
    referrer = models.CharField(max_length=500, blank=True)
    counted = models.BooleanField(default=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["affiliate", "created_at"], name="click_affiliate_time"),
            models.Index(fields=["affiliate", "ip_hash", "created_at"], name="click_affiliate_source"),
        ]

    def __str__(self) -> str:
        return f"{self.affiliate_id} @ {self.created_at:%Y-%m-%d %H:%M}"


class Referral(models.Model):
    """A customer organisation that signed up through an affiliate's link: bound for good, server-side.
    Its paid billing events earn the affiliate `affiliate` commissions unless a partner manages them."""

    customer = models.OneToOneField("orgs.Organisation", on_delete=models.PROTECT, related_name="referral")
    affiliate = models.ForeignKey(Affiliate, on_delete=models.PROTECT, related_name="referrals")
    click = models.ForeignKey(Click, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    signed_up_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["affiliate", "created_at"], name="referral_affiliate_time")]

    def __str__(self) -> str:
        return f"{self.customer_id} ← {self.affiliate_id}"


class ReferralClaim(models.Model):
    """A user who arrived through a referral link, remembered server-side at signup (or when a logged-in
    user carries the cookie), so that the link still counts when the cookie is gone. It binds the next
    organisation the user creates within the attribution window, once; ``used_at`` marks that."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="referral_claim")
    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="+")
    click = models.ForeignKey(Click, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    clicked_at = models.DateTimeField()
    claimed_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.user_id} → {self.affiliate_id}"


class Recommendation(models.Model):
    """The referral link sent by email to one address ("Recommend"); kept for the throttle and the audit."""

    affiliate = models.ForeignKey(Affiliate, on_delete=models.CASCADE, related_name="recommendations")
    email = models.EmailField()
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["affiliate", "created_at"], name="recommend_affiliate_time"),
            models.Index(fields=["email", "created_at"], name="recommend_email_time"),
        ]

    def __str__(self) -> str:
        return f"{self.affiliate_id} → {self.email}"
