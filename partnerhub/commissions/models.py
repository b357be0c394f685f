"""Commissions (DESIGN §8): tiers and the category × tier rate table, the tier history, the
append-only commission ledger, its rollups, payouts and payout details.

Amounts in the ledger, its rollups and payouts are stored as integers in the currency's minor unit
(``amount_minor``): sums in SQL stay exact on every database (SQLite would add decimals as floats).
They are read back as ``Decimal`` through :func:`partnerhub.core.money.from_minor`.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from partnerhub.core.money import amount_field, currency_field, from_minor


class Tier(models.Model):
    """A partner level from `min_customers` customers with an active paid product (seed 004). The tiers
    of a program are ordered by their thresholds; a tier ends where the next begins."""

    program = models.ForeignKey("partners.Program", on_delete=models.CASCADE, related_name="tiers")
    name = models.CharField(_("name"), max_length=60)
    min_customers = models.PositiveIntegerField(_("from customers"))

    class Meta:
        ordering = ["program_id", "min_customers"]
        constraints = [
            models.UniqueConstraint(fields=["program", "min_customers"], name="one_tier_per_threshold"),
            models.UniqueConstraint(fields=["program", "name"], name="one_tier_per_name"),
            models.CheckConstraint(condition=Q(min_customers__gte=1), name="tier_threshold_positive"),
        ]

    def __str__(self) -> str:
        return self.name


class Audience(models.TextChoices):
    PARTNER = "partner", _("Partners")
    AFFILIATE = "affiliate", _("Affiliates")


class Rate(models.Model):
    """The commission in percent for one product category: per tier for partners (no tier: the
    program's base rate), one rate for affiliates. A missing row is 0 %."""

    program = models.ForeignKey("partners.Program", on_delete=models.CASCADE, related_name="rates")
    audience = models.CharField(max_length=16, choices=Audience.choices, default=Audience.PARTNER)
    category = models.ForeignKey("catalog.Category", on_delete=models.CASCADE, related_name="+")
    tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.CASCADE, related_name="rates")
    percent = models.DecimalField(_("rate (%)"), max_digits=5, decimal_places=2)

    class Meta:
        ordering = ["program_id", "audience", "category_id", "tier_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "audience", "category", "tier"],
                condition=Q(tier__isnull=False),
                name="one_rate_per_category_tier",
            ),
            models.UniqueConstraint(
                fields=["program", "audience", "category"],
                condition=Q(tier__isnull=True),
                name="one_base_rate_per_category",
            ),
            models.CheckConstraint(condition=Q(percent__gte=0, percent__lte=100), name="rate_percent_range"),
            models.CheckConstraint(condition=Q(audience__in=Audience.values), name="rate_audience_valid"),
            models.CheckConstraint(
                condition=Q(audience="partner") | Q(tier__isnull=True), name="affiliate_rate_without_tier"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.category_id}/{self.tier_id}: {self.percent}%"


class TierChange(models.Model):
    """Append-only history of a partner's tier: the tier in force from `effective_at` (None: no tier).
    A commission uses the tier in force when its billing event occurred."""

    partner = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="tier_changes")
    tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    tier_name = models.CharField(max_length=60, blank=True)
    previous_tier_name = models.CharField(max_length=60, blank=True)
    customers = models.PositiveIntegerField(default=0)
    effective_at = models.DateTimeField(default=timezone.now)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["partner_id", "-effective_at", "-id"]
        indexes = [models.Index(fields=["partner", "effective_at"], name="tier_change_partner_time")]

    def __str__(self) -> str:
        return f"{self.partner_id}: {self.tier_name or '-'} from {self.effective_at:%Y-%m-%d}"


class PartnerStats(models.Model):
    """The maintained figures of one partner: customer counts and the current tier. Refreshed when a
    customer's products or partnerships change and reconciled nightly (set-based)."""

    partner = models.OneToOneField("orgs.Organisation", on_delete=models.CASCADE, related_name="partner_stats")
    customers = models.PositiveIntegerField(default=0)
    open_invitations = models.PositiveIntegerField(default=0)
    active_customers = models.PositiveIntegerField(default=0)
    trial_customers = models.PositiveIntegerField(default=0)
    tier = models.ForeignKey(Tier, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    tier_since = models.DateTimeField(null=True, blank=True)
    # Set while the partner counts fewer customers than its tier needs (the demotion grace period).
    below_since = models.DateTimeField(null=True, blank=True)
    refreshed_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"stats of {self.partner_id}"


class EntryType(models.TextChoices):
    """Why the beneficiary earns (seed 000 "Typ"): it brought the customer in, the customer chose it,
    or the customer signed up through its affiliate link."""

    PARTNER = "partner", _("Partner")
    SELF = "self", _("Self")
    AFFILIATE = "affiliate", _("Affiliate")


class EntryStatus(models.TextChoices):
    PENDING = "pending", pgettext_lazy("commission status", "Pending")
    APPROVED = "approved", pgettext_lazy("commission status", "Approved")
    PAID = "paid", pgettext_lazy("commission status", "Paid")


class LedgerEntry(models.Model):
    """One commission or reversal; append-only.

    Database triggers refuse DELETE and every UPDATE except the forward status transition
    (pending → approved → paid, with its time and payout). Corrections are reversals: new rows with
    a negative amount linked to the entry they reverse.

    **Exactly once**: ``(event, line_no)`` is unique. A commission's key is its billing-event line; a
    reversal's key is the refund or chargeback event and the line number of the entry it reverses.
    """

    beneficiary = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="ledger_entries")
    customer = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="+")
    type = models.CharField(_("type"), max_length=16, choices=EntryType.choices)
    currency = currency_field()
    amount_minor = models.BigIntegerField()
    base_amount = amount_field(_("base amount"))
    rate = models.DecimalField(_("rate (%)"), max_digits=5, decimal_places=2)
    tier_name = models.CharField(_("tier"), max_length=60, blank=True)
    category_slug = models.CharField(max_length=60)
    product_sku = models.CharField(max_length=60)
    event = models.ForeignKey("billing.BillingEvent", on_delete=models.PROTECT, related_name="+")
    line_no = models.PositiveIntegerField()
    reverses = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversals")
    occurred_at = models.DateTimeField()
    hold_until = models.DateTimeField()
    created_at = models.DateTimeField(default=timezone.now)
    # The status transition record: the only columns that change, forward only.
    status = models.CharField(_("status"), max_length=16, choices=EntryStatus.choices, default=EntryStatus.PENDING)
    approved_at = models.DateTimeField(null=True, blank=True)
    payout = models.ForeignKey("Payout", null=True, blank=True, on_delete=models.PROTECT, related_name="entries")
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        verbose_name_plural = "ledger entries"
        indexes = [
            models.Index(fields=["beneficiary", "-id"], name="ledger_beneficiary_recent"),
            models.Index(fields=["beneficiary", "currency", "status"], name="ledger_beneficiary_status"),
            models.Index(fields=["status", "hold_until"], name="ledger_status_hold"),
            models.Index(fields=["payout"], name="ledger_payout"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["event", "line_no"], name="one_ledger_entry_per_event_line"),
            models.CheckConstraint(condition=Q(status__in=EntryStatus.values), name="ledger_status_valid"),
            models.CheckConstraint(condition=Q(type__in=EntryType.values), name="ledger_type_valid"),
            models.CheckConstraint(
                condition=Q(reverses__isnull=True, amount_minor__gt=0) | Q(reverses__isnull=False, amount_minor__lt=0),
                name="ledger_sign_by_kind",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.amount} {self.currency}"

    @property
    def amount(self) -> Decimal:
        return from_minor(self.amount_minor, self.currency)

    @property
    def is_reversal(self) -> bool:
        return self.reverses_id is not None


class PendingEvent(models.Model):
    """A billing event accrual has not seen yet. A database trigger adds one row for every billing event
    stored, however it is inserted (``triggers.queue_events``); accrual takes them in id order and
    deletes them in the transaction that writes their entries. A narrow queue, so marking a batch done
    deletes small rows instead of rewriting wide, much-indexed event rows; putting an event back
    replays it (only missing entries are written)."""

    event = models.OneToOneField("billing.BillingEvent", primary_key=True, on_delete=models.CASCADE, related_name="+")

    def __str__(self) -> str:
        return str(self.event_id)


class Totals(models.Model):
    """Rollup per beneficiary and currency, maintained in the transaction that changes the ledger."""

    beneficiary = models.ForeignKey("orgs.Organisation", on_delete=models.CASCADE, related_name="+")
    currency = currency_field()
    earned_minor = models.BigIntegerField(default=0)
    pending_minor = models.BigIntegerField(default=0)
    approved_minor = models.BigIntegerField(default=0)
    paid_minor = models.BigIntegerField(default=0)
    entries = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["beneficiary", "currency"], name="one_totals_per_currency")]

    def __str__(self) -> str:
        return f"{self.beneficiary_id} {self.currency}"


class MonthlyTotal(models.Model):
    """Rollup of commissions (reversals included) per beneficiary, currency and month of the event."""

    beneficiary = models.ForeignKey("orgs.Organisation", on_delete=models.CASCADE, related_name="+")
    currency = currency_field()
    month = models.DateField()
    amount_minor = models.BigIntegerField(default=0)

    class Meta:
        ordering = ["beneficiary_id", "currency", "month"]
        constraints = [
            models.UniqueConstraint(fields=["beneficiary", "currency", "month"], name="one_monthly_total"),
        ]

    def __str__(self) -> str:
        return f"{self.beneficiary_id} {self.currency} {self.month:%Y-%m}"


class PayoutStatus(models.TextChoices):
    OPEN = "open", _("To review")
    APPROVED = "approved", pgettext_lazy("payout status", "Approved")
    PAID = "paid", pgettext_lazy("payout status", "Paid")
    CANCELLED = "cancelled", pgettext_lazy("payout status", "Cancelled")


class Payout(models.Model):
    """A monthly statement of one beneficiary's approved entries in one currency."""

    beneficiary = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="payouts")
    currency = currency_field()
    period = models.DateField(_("month"))
    amount_minor = models.BigIntegerField()
    status = models.CharField(_("status"), max_length=16, choices=PayoutStatus.choices, default=PayoutStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    paid_at = models.DateTimeField(null=True, blank=True)
    reference = models.CharField(_("payment reference"), max_length=100, blank=True)
    # The payout details in force when it was approved (a later change does not rewrite history).
    account_holder = models.CharField(max_length=200, blank=True)
    iban = models.CharField(max_length=34, blank=True)

    class Meta:
        ordering = ["-period", "-id"]
        indexes = [
            models.Index(fields=["status", "-id"], name="payout_status_recent"),
            models.Index(fields=["beneficiary", "-period"], name="payout_beneficiary_recent"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=PayoutStatus.values), name="payout_status_valid"),
            models.CheckConstraint(condition=Q(amount_minor__gt=0), name="payout_amount_positive"),
            models.UniqueConstraint(
                fields=["beneficiary", "currency", "period"],
                condition=~Q(status="cancelled"),
                name="one_payout_per_month",
            ),
        ]

    def __str__(self) -> str:
        return f"P-{self.pk:06d}" if self.pk else "P-new"

    @property
    def amount(self) -> Decimal:
        return from_minor(self.amount_minor, self.currency)


class PayoutDetails(models.Model):
    """Where a beneficiary's payouts go (validated IBAN and account holder)."""

    org = models.OneToOneField("orgs.Organisation", on_delete=models.CASCADE, related_name="payout_details")
    account_holder = models.CharField(_("account holder"), max_length=200)
    iban = models.CharField(_("IBAN"), max_length=34)
    bic = models.CharField(_("BIC"), max_length=11, blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    def __str__(self) -> str:
        return f"{self.account_holder} {self.iban[:4]}…"
