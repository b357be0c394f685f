"""What customers have and pay: customer products, orders, invoices, wallets, billing events (DESIGN §6)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from partnerhub.catalog.models import ProductKind
from partnerhub.core.money import amount_field, currency_field


class ProductStatus(models.TextChoices):
    TRIAL = "trial", _("Trial")
    ACTIVE = "active", _("Active")
    SUSPENDED = "suspended", _("Suspended")
    CANCELLED = "cancelled", pgettext_lazy("product status", "Cancelled")


class CustomerProduct(models.Model):
    """A product an organisation has (a "service", "article" or "licence" in the seeds)."""

    org = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="customer_products")
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    status = models.CharField(_("status"), max_length=16, choices=ProductStatus.choices, default=ProductStatus.ACTIVE)
    started_on = models.DateField(_("start"), default=timezone.localdate)
    renews_on = models.DateField(_("renewal date"), null=True, blank=True)
    trial_ends_on = models.DateField(_("trial ends"), null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # The length of one term; the renewal date moves on by this much (0: one-time, never renews).
    term_months = models.PositiveIntegerField(_("term (months)"), default=1)
    # The customer cancelled: the product stays usable until the renewal date, then ends.
    cancel_at_term_end = models.BooleanField(_("cancels at the end of the term"), default=False)
    order_line = models.ForeignKey(
        "billing.OrderLine", null=True, blank=True, on_delete=models.SET_NULL, related_name="customer_products"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["org", "status"], name="custprod_org_status"),
            models.Index(fields=["status", "renews_on"], name="custprod_status_renewal"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ProductStatus.values), name="custprod_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.product} × {self.quantity} ({self.org})"


class OrderStatus(models.TextChoices):
    PLACED = "placed", _("Placed")
    CANCELLED = "cancelled", _("Cancelled")


class Order(models.Model):
    """An order for a customer, placed by the customer itself or by a partner for it (seed 004)."""

    org = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="orders")
    placed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    placed_by_org = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="+")
    payer = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="paid_orders")
    currency = currency_field()
    status = models.CharField(_("status"), max_length=16, choices=OrderStatus.choices, default=OrderStatus.PLACED)
    subtotal = amount_field(_("subtotal"))
    discount_total = amount_field(_("discount"))
    total = amount_field(_("total"))
    cashback_total = amount_field(_("cashback"), default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["org", "-id"], name="order_org_recent")]

    def __str__(self) -> str:
        return f"O-{self.pk:06d}" if self.pk else "O-new"


class OrderLine(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveIntegerField()
    product = models.ForeignKey("catalog.Product", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=16, choices=ProductKind.choices)
    description = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField()
    term_months = models.PositiveIntegerField(default=1)
    unit_price = amount_field(_("unit price"))
    list_total = amount_field(_("public price"))
    partner_discount = amount_field(_("partner discount"), default=0)
    volume_discount = amount_field(_("volume discount"), default=0)
    discount = amount_field(_("discount"), default=0)
    total = amount_field(_("total"))
    cashback = amount_field(_("cashback"), default=0)

    class Meta:
        ordering = ["order_id", "line_no"]
        constraints = [
            models.UniqueConstraint(fields=["order", "line_no"], name="one_order_line_number"),
            models.CheckConstraint(condition=Q(total__gte=0), name="order_line_total_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.description} × {self.quantity}"


class InvoiceStatus(models.TextChoices):
    OPEN = "open", _("Open")
    PAID = "paid", _("Paid")
    OVERDUE = "overdue", _("Overdue")
    CANCELLED = "cancelled", _("Cancelled")
    REFUNDED = "refunded", _("Refunded")


class InvoiceSequence(models.Model):
    """The operator's gapless invoice counter per currency (locked with SELECT … FOR UPDATE)."""

    currency = currency_field(unique=True)
    last_number = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.currency}: {self.last_number}"


class InvoiceKind(models.TextChoices):
    ORDER = "order", _("Order")
    RENEWAL = "renewal", _("Renewal")


class Invoice(models.Model):
    number = models.PositiveIntegerField()
    # What is invoiced: an order, or the renewal of products already held (its payment is a renewal event).
    kind = models.CharField(_("kind"), max_length=16, choices=InvoiceKind.choices, default=InvoiceKind.ORDER)
    currency = currency_field()
    org = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="invoices")
    order = models.ForeignKey(Order, null=True, blank=True, on_delete=models.PROTECT, related_name="invoices")
    status = models.CharField(_("status"), max_length=16, choices=InvoiceStatus.choices, default=InvoiceStatus.OPEN)
    issued_at = models.DateTimeField(default=timezone.now)
    due_on = models.DateField(_("due"))
    paid_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    subtotal = amount_field(_("subtotal"))
    discount_total = amount_field(_("discount"), default=0)
    total = amount_field(_("total"))
    refunded_amount = amount_field(_("refunded"), default=0)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["org", "-id"], name="invoice_org_recent"),
            models.Index(fields=["status", "due_on"], name="invoice_status_due"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["currency", "number"], name="invoice_number_unique_per_currency"),
            models.CheckConstraint(condition=Q(status__in=InvoiceStatus.values), name="invoice_status_valid"),
            models.CheckConstraint(condition=Q(kind__in=InvoiceKind.values), name="invoice_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.display_number

    @property
    def display_number(self) -> str:
        return f"{self.currency}-{self.number:06d}"


class InvoiceLine(models.Model):
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    line_no = models.PositiveIntegerField()
    product = models.ForeignKey("catalog.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    category_slug = models.CharField(max_length=60, blank=True)
    description = models.CharField(max_length=200)
    quantity = models.PositiveIntegerField()
    unit_price = amount_field(_("unit price"))
    discount = amount_field(_("discount"), default=0)
    total = amount_field(_("total"))

    class Meta:
        ordering = ["invoice_id", "line_no"]
        constraints = [models.UniqueConstraint(fields=["invoice", "line_no"], name="one_invoice_line_number")]

    def __str__(self) -> str:
        return f"{self.description} × {self.quantity}"


class Wallet(models.Model):
    """An organisation's prepaid account in one currency; its balance is the sum of its entries."""

    org = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="wallets")
    currency = currency_field()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["org", "currency"], name="one_wallet_per_currency")]

    def __str__(self) -> str:
        return f"{self.org} {self.currency}"


class WalletEntryKind(models.TextChoices):
    CASHBACK = "cashback", _("Cashback")
    REVERSAL = "reversal", _("Reversal")


class WalletEntry(models.Model):
    """Append-only: corrections are new entries (reversals), never edits (database triggers refuse them)."""

    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="entries")
    kind = models.CharField(max_length=16, choices=WalletEntryKind.choices)
    amount = amount_field(_("amount"))
    description = models.CharField(max_length=200)
    order_line = models.ForeignKey(OrderLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    reverses = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.amount}"


class BillingEventKind(models.TextChoices):
    PAYMENT = "payment", _("Payment")
    RENEWAL = "renewal", _("Renewal")
    REFUND = "refund", _("Refund")
    CHARGEBACK = "chargeback", _("Chargeback")


class BillingEvent(models.Model):
    """A payment, renewal, refund or chargeback: the only input of commission accrual.

    `external_id` is unique: posting the same event again returns the stored one (idempotency);
    `payload_hash` tells a faithful replay from a different event reusing an id (409).
    """

    external_id = models.CharField(max_length=100, unique=True)
    kind = models.CharField(max_length=16, choices=BillingEventKind.choices)
    org = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="billing_events")
    currency = currency_field()
    occurred_at = models.DateTimeField(db_index=True)
    refers_to = models.CharField(max_length=100, blank=True, help_text="external id of the refunded event")
    invoice = models.ForeignKey(Invoice, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    payload_hash = models.CharField(max_length=64)
    source = models.CharField(max_length=16, default="api")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["org", "-occurred_at"], name="billing_event_org_recent"),
            # Refunds and chargebacks of an event (refund bound, detail page).
            models.Index(fields=["refers_to"], name="billing_event_refers_to"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(kind__in=BillingEventKind.values), name="billing_event_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.external_id


class BillingEventLine(models.Model):
    event = models.ForeignKey(BillingEvent, on_delete=models.PROTECT, related_name="lines")
    line_no = models.PositiveIntegerField()
    product = models.ForeignKey("catalog.Product", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    product_sku = models.CharField(max_length=60)
    category_slug = models.CharField(max_length=60)
    base_amount = amount_field(_("base amount"))

    class Meta:
        ordering = ["event_id", "line_no"]
        constraints = [models.UniqueConstraint(fields=["event", "line_no"], name="one_billing_event_line_number")]

    def __str__(self) -> str:
        return f"{self.product_sku} {self.base_amount}"


# Background exports live in their own package; importing the model here registers it in this app.
from partnerhub.billing.exports.models import ExportJob  # noqa: E402, F401
