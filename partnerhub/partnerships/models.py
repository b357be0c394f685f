"""Partner ↔ customer relationships (DESIGN §4) and the grant each one carries (DESIGN §5).

A :class:`Partnership` links one partner organisation to one customer organisation. It is created
``pending`` by one of four flows and becomes ``active`` when the other side agrees (or at once when the
customer itself chose the partner or the partner created the customer). Its :class:`Grant` is what the
customer decided the partner may do: mode, scopes, payment means, validity. Who may act on what is
decided only by ``partnerhub.access.policy`` from these rows.

A product is managed by at most one partner: a restricted grant names its products in
:class:`GrantProduct`, whose customer product is unique across all grants (rows are removed when a grant
stops naming the product or the partnership ends); a customer has at most one active full partnership,
and a full partner manages every product no restricted grant names.
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from partnerhub.access.perms import Perm, parse_perms
from partnerhub.core.tokens import HashedTokenMixin

PENDING_VALIDITY = timedelta(days=30)
DEFAULT_GRANT_DAYS = 365
MAX_GRANT_DAYS = 730
# Expiry warnings are sent this many days before a grant ends.
GRANT_WARNING_DAYS = (14, 3)


class PartnershipStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    ACTIVE = "active", _("Active")
    ENDED = "ended", _("Ended")
    DECLINED = "declined", _("Declined")
    CANCELLED = "cancelled", pgettext_lazy("partnership status", "Cancelled")
    EXPIRED = "expired", _("Expired")


OPEN_STATUSES = (PartnershipStatus.PENDING, PartnershipStatus.ACTIVE)


class Origin(models.TextChoices):
    """Drives the commission type (seed 000): brought in by the partner, or chosen by the customer."""

    PARTNER = "partner", _("Brought in by the partner")
    SELF = "self", _("Chosen by the customer")


class Flow(models.TextChoices):
    """How the partnership came about (DESIGN §4, the four ways)."""

    CREATED = "created", _("Partner created the customer")
    REQUESTED = "requested", _("Partner requested management")
    INVITED = "invited", _("Customer invited the partner")
    CHOSEN = "chosen", _("Customer chose the partner")

    @property
    def origin(self) -> Origin:
        return Origin.PARTNER if self in (Flow.CREATED, Flow.REQUESTED) else Origin.SELF

    @property
    def answered_by_side(self) -> str:
        """Who must agree to a pending partnership of this flow: "customer" or "partner"."""
        return "partner" if self == Flow.INVITED else "customer"


class GrantMode(models.TextChoices):
    FULL = "full", _("Full: the whole organisation")
    RESTRICTED = "restricted", _("Restricted: selected products only")


class PaymentMeans(models.TextChoices):
    CUSTOMER = "customer", _("The customer's payment means")
    PARTNER = "partner", _("The partner's payment means")


class PartnershipQuerySet(models.QuerySet["Partnership"]):
    def open(self) -> PartnershipQuerySet:
        return self.filter(status__in=OPEN_STATUSES)

    def active(self) -> PartnershipQuerySet:
        return self.filter(status=PartnershipStatus.ACTIVE)

    def pending(self) -> PartnershipQuerySet:
        """Pending and not yet past their 30 days (the nightly task marks the others expired)."""
        return self.filter(status=PartnershipStatus.PENDING, expires_at__gt=timezone.now())


class Partnership(HashedTokenMixin, models.Model):
    partner = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="customer_partnerships")
    customer = models.ForeignKey("orgs.Organisation", on_delete=models.PROTECT, related_name="partner_partnerships")
    flow = models.CharField(_("how it began"), max_length=16, choices=Flow.choices)
    origin = models.CharField(_("origin"), max_length=16, choices=Origin.choices)
    status = models.CharField(
        _("status"), max_length=16, choices=PartnershipStatus.choices, default=PartnershipStatus.PENDING
    )
    message = models.TextField(_("message"), blank=True, max_length=2000)
    # The single-use link in the email to the side that must answer (hash only; cleared once used).
    token_hash = models.CharField(max_length=64, null=True, blank=True, unique=True)
    # The address a pending request went to (flow "requested": the customer's admins are looked up by it).
    invited_email = models.EmailField(_("email address"), blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField(null=True, blank=True)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    activated_at = models.DateTimeField(null=True, blank=True)
    # Ending stops all future commissions for this customer (seed 004): accrual reads this time.
    ended_at = models.DateTimeField(null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    ended_by_side = models.CharField(max_length=16, blank=True)
    end_reason = models.CharField(_("reason"), max_length=500, blank=True)

    objects = PartnershipQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["customer", "status"], name="partnership_customer_status"),
            models.Index(fields=["partner", "status", "customer"], name="partnership_partner_status"),
            models.Index(fields=["status", "expires_at"], name="partnership_status_expiry"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(status__in=PartnershipStatus.values), name="partnership_status_valid"),
            models.CheckConstraint(condition=Q(flow__in=Flow.values), name="partnership_flow_valid"),
            models.CheckConstraint(condition=Q(origin__in=Origin.values), name="partnership_origin_valid"),
            models.CheckConstraint(condition=~Q(partner=models.F("customer")), name="partnership_not_with_itself"),
            # One open (pending or active) partnership per pair; ended ones stay as history.
            models.UniqueConstraint(
                fields=["partner", "customer"],
                condition=Q(status__in=["pending", "active"]),
                name="one_open_partnership_per_pair",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.partner} → {self.customer} ({self.status})"

    @property
    def is_pending(self) -> bool:
        return self.status == PartnershipStatus.PENDING and (
            self.expires_at is None or self.expires_at > timezone.now()
        )

    @property
    def display_status(self) -> str:
        """The status as people see it: a pending request past its 30 days is expired already."""
        if self.status == PartnershipStatus.PENDING and not self.is_pending:
            return PartnershipStatus.EXPIRED
        return str(self.status)


class Grant(models.Model):
    """What the customer lets the partner do (DESIGN §5); one per partnership, changed in place.

    Every change bumps ``version`` and is recorded with before/after in the audit log, which is the
    grant's history. While the partnership is pending only the ``requested_*`` fields are meaningful.
    """

    partnership = models.OneToOneField(Partnership, on_delete=models.PROTECT, related_name="grant")
    requested_mode = models.CharField(max_length=16, choices=GrantMode.choices, default=GrantMode.FULL)
    requested_scopes = models.JSONField(default=list, blank=True)
    requested_product_ids = models.JSONField(default=list, blank=True)
    mode = models.CharField(_("mode"), max_length=16, choices=GrantMode.choices, default=GrantMode.FULL)
    scopes = models.JSONField(_("permissions"), default=list, blank=True)
    payment_means = models.CharField(
        _("payment means"), max_length=16, choices=PaymentMeans.choices, default=PaymentMeans.CUSTOMER
    )
    validity_days = models.PositiveIntegerField(_("validity (days)"), default=DEFAULT_GRANT_DAYS)
    auto_extend = models.BooleanField(_("extend automatically"), default=False)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    granted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)
    # The expiry warnings already sent for the current validity (cleared when it is extended).
    warned_days = models.JSONField(default=list, blank=True)

    class Meta:
        indexes = [models.Index(fields=["valid_until"], name="grant_valid_until")]
        constraints = [
            models.CheckConstraint(condition=Q(mode__in=GrantMode.values), name="grant_mode_valid"),
            models.CheckConstraint(condition=Q(payment_means__in=PaymentMeans.values), name="grant_means_valid"),
            models.CheckConstraint(
                condition=Q(validity_days__gte=1, validity_days__lte=MAX_GRANT_DAYS), name="grant_validity_range"
            ),
            # Payment means belong to full grants only: a restricted grant always uses the customer's.
            models.CheckConstraint(
                condition=Q(mode="full") | Q(payment_means="customer"), name="grant_partner_means_full_only"
            ),
        ]

    def __str__(self) -> str:
        return f"grant v{self.version} for {self.partnership_id}"

    @property
    def scope_set(self) -> frozenset[Perm]:
        return parse_perms(self.scopes)

    @property
    def requested_scope_set(self) -> frozenset[Perm]:
        return parse_perms(self.requested_scopes)

    @property
    def is_in_force(self) -> bool:
        return self.revoked_at is None and self.valid_until is not None and self.valid_until > timezone.now()


class GrantCoverage(models.Model):
    """What an active partnership manages from ``effective_at`` on (DESIGN §8 "the partner managing that
    product at the event's time"): the whole organisation (full) or the catalog products its restricted
    grant names. Append-only: one row when the partnership becomes active and one more whenever a new
    grant changes the mode or the products; the partnership's ``activated_at``/``ended_at`` bound it.
    Accrual reads it, so an event that arrives late still pays whoever managed its product when it
    occurred, however the grant changed since.
    """

    partnership = models.ForeignKey(Partnership, on_delete=models.PROTECT, related_name="coverage")
    effective_at = models.DateTimeField()
    mode = models.CharField(max_length=16, choices=GrantMode.choices)
    product_ids = models.JSONField(default=list, blank=True)  # catalog product ids, sorted (restricted)

    class Meta:
        indexes = [models.Index(fields=["partnership", "effective_at"], name="grant_coverage_at")]
        constraints = [models.CheckConstraint(condition=Q(mode__in=GrantMode.values), name="grant_coverage_mode")]

    def __str__(self) -> str:
        return f"{self.partnership_id}: {self.mode} from {self.effective_at:%Y-%m-%d %H:%M}"


class GrantProduct(models.Model):
    """A customer product a restricted grant hands to the partner. Unique: one managing partner."""

    grant = models.ForeignKey(Grant, on_delete=models.CASCADE, related_name="products")
    customer_product = models.OneToOneField(
        "billing.CustomerProduct", on_delete=models.CASCADE, related_name="grant_product"
    )

    def __str__(self) -> str:
        return f"{self.grant_id}: {self.customer_product_id}"


class StaffAssignment(models.Model):
    """Partner staff limited to assigned customers (``Membership.assigned_customers_only``) see these."""

    membership = models.ForeignKey("orgs.Membership", on_delete=models.CASCADE, related_name="assignments")
    customer = models.ForeignKey("orgs.Organisation", on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["membership", "customer"], name="one_assignment_per_staff_and_customer")
        ]

    def __str__(self) -> str:
        return f"{self.membership_id} → {self.customer_id}"


class PropertyKind(models.TextChoices):
    TEXT = "text", _("Text")
    NUMBER = "number", _("Number")
    DATE = "date", _("Date")
    BOOLEAN = "boolean", _("Yes/no")
    CHOICE = "choice", _("Choice")


class CustomProperty(models.Model):
    """A partner-defined column of My customers (seed 002 "Tabelle bearbeiten")."""

    partner = models.ForeignKey("orgs.Organisation", on_delete=models.CASCADE, related_name="custom_properties")
    name = models.CharField(_("name"), max_length=80)
    key = models.SlugField(_("key"), max_length=40)
    kind = models.CharField(_("type"), max_length=16, choices=PropertyKind.choices)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    position = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["partner_id", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["partner", "key"], name="one_custom_property_key_per_partner"),
            models.CheckConstraint(condition=Q(kind__in=PropertyKind.values), name="custom_property_kind_valid"),
        ]

    def __str__(self) -> str:
        return self.name


class CustomValue(models.Model):
    """One customer's value of one custom property, in the column of its kind (sortable, filterable)."""

    prop = models.ForeignKey(CustomProperty, on_delete=models.CASCADE, related_name="values")
    customer = models.ForeignKey("orgs.Organisation", on_delete=models.CASCADE, related_name="+")
    text = models.CharField(max_length=500, blank=True)
    number = models.DecimalField(max_digits=20, decimal_places=6, null=True, blank=True)
    date = models.DateField(null=True, blank=True)
    boolean = models.BooleanField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["prop", "customer"], name="one_value_per_property_and_customer")]
        indexes = [
            # (value, customer): the keyset order of My customers sorted by a custom column.
            models.Index(fields=["prop", "text", "customer"], name="custom_value_text"),
            models.Index(fields=["prop", "number", "customer"], name="custom_value_number"),
            models.Index(fields=["prop", "date", "customer"], name="custom_value_date"),
            models.Index(fields=["prop", "boolean", "customer"], name="custom_value_boolean"),
        ]

    def __str__(self) -> str:
        return f"{self.prop_id}/{self.customer_id}"
