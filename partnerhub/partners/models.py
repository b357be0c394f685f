"""The partner program (DESIGN §3, §6): its settings and eligibility rules, partner applications and
the profile an approved partner gets."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partnerhub.core.money import amount_field, currency_field

PERCENT = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


class AttributionModel(models.TextChoices):
    FIRST_CLICK = "first", _("First click")
    LAST_CLICK = "last", _("Last click")


class Program(models.Model):
    """One partner program per installation, run by the operator organisation."""

    operator = models.OneToOneField("orgs.Organisation", on_delete=models.PROTECT, related_name="program")
    name = models.CharField(_("name"), max_length=120, default="Partner program")
    reseller_pricing = models.BooleanField(_("reseller pricing"), default=True)
    partner_discount_percent = models.DecimalField(
        _("partner discount (%)"), max_digits=5, decimal_places=2, default=Decimal(20), validators=PERCENT
    )
    # Eligibility rules (seed 001): besides the minimum yearly volumes (EligibilityVolume), an entry in a
    # commercial register and a website. Unmet rules do not block an application: the reviewer sees them.
    registered_company_required = models.BooleanField(_("registered company required"), default=False)
    active_website_required = models.BooleanField(_("active website required"), default=False)
    # Infomaniak: partner and affiliate are mutually exclusive; REDDCRYPT: partners have an affiliate link.
    partner_affiliate_exclusive = models.BooleanField(_("partner and affiliate are exclusive"), default=False)
    # Owners of partner organisations must protect their account with an authenticator app (accounts.mfa).
    partner_owner_mfa = models.BooleanField(_("partner owners must use two-factor authentication"), default=False)

    # Affiliate tracking (DESIGN §7).
    affiliate_auto_approve = models.BooleanField(_("approve affiliate applications automatically"), default=False)
    attribution_window_days = models.PositiveIntegerField(
        _("attribution window (days)"), default=60, validators=[MinValueValidator(1), MaxValueValidator(365)]
    )
    attribution_model = models.CharField(
        _("attribution"), max_length=8, choices=AttributionModel.choices, default=AttributionModel.LAST_CLICK
    )
    # Clicks from one source on one link within this many minutes count once.
    click_dedupe_minutes = models.PositiveIntegerField(
        _("repeated clicks count once within (minutes)"),
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(1440)],
    )
    # Affiliate commissions only for this many months after the signup (empty: for as long as the customer pays).
    affiliate_months = models.PositiveIntegerField(
        _("affiliate commission for the first months only"),
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(120)],
    )

    # Commissions, tiers and payouts (DESIGN §8).
    hold_days = models.PositiveIntegerField(
        _("hold period (days)"), default=30, validators=[MinValueValidator(0), MaxValueValidator(365)]
    )
    payout_minimum = models.DecimalField(
        _("minimum payout"), max_digits=12, decimal_places=2, default=Decimal(50), validators=[MinValueValidator(0)]
    )
    # A partner keeps a higher tier for this many days after falling below it (0: drops at once).
    demotion_grace_days = models.PositiveIntegerField(
        _("demotion grace period (days)"), default=0, validators=[MaxValueValidator(365)]
    )

    class Meta:
        verbose_name = _("partner program")

    def __str__(self) -> str:
        return self.name


class VolumeTier(models.Model):
    """From `min_quantity` units of one product in an order, `percent` off the partner price (seed 001)."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="volume_tiers")
    min_quantity = models.PositiveIntegerField(_("from quantity"))
    percent = models.DecimalField(_("discount (%)"), max_digits=5, decimal_places=2, validators=PERCENT)

    class Meta:
        ordering = ["program_id", "min_quantity"]
        constraints = [
            models.UniqueConstraint(fields=["program", "min_quantity"], name="one_volume_tier_per_quantity"),
            models.CheckConstraint(condition=Q(percent__gte=0, percent__lte=100), name="volume_percent_range"),
            models.CheckConstraint(condition=Q(min_quantity__gte=1), name="volume_min_quantity_positive"),
        ]

    def __str__(self) -> str:
        return f"≥{self.min_quantity}: −{self.percent}%"


class EligibilityVolume(models.Model):
    """A minimum expected yearly volume in one currency (seed 001: CHF 2000 or EUR 1800)."""

    program = models.ForeignKey(Program, on_delete=models.CASCADE, related_name="eligibility_volumes")
    currency = currency_field()
    min_amount = amount_field(_("minimum yearly volume"))

    class Meta:
        ordering = ["program_id", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["program", "currency"], name="one_eligibility_volume_per_currency"),
            models.CheckConstraint(condition=Q(min_amount__gte=0), name="eligibility_volume_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.currency} {self.min_amount}"


class ApplicationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for review")
    APPROVED = "approved", _("Approved")
    REJECTED = "rejected", _("Rejected")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class Application(models.Model):
    """An organisation's request for partner status (seed 000 "Partnerstatus anfragen")."""

    org = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="partner_applications")
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    submitted_at = models.DateTimeField(default=timezone.now)
    company_name = models.CharField(_("company name"), max_length=200)
    register_number = models.CharField(_("commercial register number"), max_length=60, blank=True)
    country = models.CharField(_("country"), max_length=2)
    website = models.URLField(_("website"), blank=True)
    expected_volume = amount_field(_("expected yearly volume"))
    currency = currency_field()
    contact_name = models.CharField(_("contact person"), max_length=150)
    contact_email = models.EmailField(_("contact email"))
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    message = models.TextField(_("message"), blank=True, max_length=2000)
    # The eligibility rules not met when it was submitted (codes, shown to the reviewer).
    unmet_rules = models.JSONField(default=list, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=ApplicationStatus.choices, default=ApplicationStatus.PENDING
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decision_reason = models.TextField(_("reason"), blank=True, max_length=2000)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["status", "-id"], name="application_status_recent")]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ApplicationStatus.values), name="application_status_valid"),
            models.CheckConstraint(condition=Q(expected_volume__gte=0), name="application_volume_not_negative"),
            models.UniqueConstraint(fields=["org"], condition=Q(status="pending"), name="one_pending_application"),
        ]

    def __str__(self) -> str:
        return f"{self.company_name} ({self.status})"


class PartnerProfile(models.Model):
    """What an approved partner shows and is known by: company data, directory listing, affiliate code."""

    org = models.OneToOneField("orgs.Organisation", on_delete=models.PROTECT, related_name="partner_profile")
    application = models.ForeignKey(Application, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    company_name = models.CharField(_("company name"), max_length=200)
    register_number = models.CharField(_("commercial register number"), max_length=60, blank=True)
    country = models.CharField(_("country"), max_length=2)
    website = models.URLField(_("website"), blank=True)
    description = models.TextField(_("description"), blank=True, max_length=2000)
    contact_email = models.EmailField(_("contact email"))
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    listed_in_directory = models.BooleanField(_("list in the partner directory"), default=False)
    affiliate_code = models.SlugField(_("affiliate code"), max_length=32, unique=True)
    approved_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.company_name
