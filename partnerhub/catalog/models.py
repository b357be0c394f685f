"""The operator's catalog: categories, products, prices per currency (DESIGN §6)."""

from __future__ import annotations

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partnerhub.core.money import amount_field, currency_field


class Category(models.Model):
    """A product family, e.g. shared hosting or domains & SSL; commission rates are set per category."""

    slug = models.SlugField(_("short name"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=120)
    position = models.PositiveIntegerField(_("position"), default=0)

    class Meta:
        ordering = ["position", "name", "id"]
        verbose_name = _("category")
        verbose_name_plural = _("categories")

    def __str__(self) -> str:
        return self.name


class ProductKind(models.TextChoices):
    """How customers and partners filter what was bought (seed 004: services, add-ons, domains)."""

    SERVICE = "service", _("Service")
    ADDON = "addon", _("Add-on")
    DOMAIN = "domain", _("Domain")
    LICENCE = "licence", _("Licence")


class BillingPeriod(models.TextChoices):
    MONTHLY = "monthly", _("Monthly")
    YEARLY = "yearly", _("Yearly")
    ONE_TIME = "one_time", _("One-time")


class LicenceKind(models.TextChoices):
    """Absolute licences keep their quantity; relative ones follow the number of active members (seed 003)."""

    NONE = "none", _("No licence")
    ABSOLUTE = "absolute", _("Absolute quantity")
    RELATIVE = "relative", _("Relative to active members")


class Product(models.Model):
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="products")
    sku = models.SlugField(_("article number"), max_length=60, unique=True)
    name = models.CharField(_("name"), max_length=160)
    description = models.TextField(_("description"), blank=True)
    kind = models.CharField(_("kind"), max_length=16, choices=ProductKind.choices, default=ProductKind.SERVICE)
    billing_period = models.CharField(
        _("billing period"), max_length=16, choices=BillingPeriod.choices, default=BillingPeriod.MONTHLY
    )
    licence_kind = models.CharField(
        _("licence kind"), max_length=16, choices=LicenceKind.choices, default=LicenceKind.NONE
    )
    unit_label = models.CharField(_("unit"), max_length=40, blank=True, help_text=_("e.g. users, data loggers"))
    trial_days = models.PositiveIntegerField(_("trial days"), default=0)
    is_active = models.BooleanField(_("on sale"), default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["category__position", "name", "id"]
        verbose_name = _("product")
        verbose_name_plural = _("products")
        constraints = [models.CheckConstraint(condition=Q(kind__in=ProductKind.values), name="product_kind_valid")]

    def __str__(self) -> str:
        return self.name


class Price(models.Model):
    """The public price of one unit for one billing period, in one currency (no conversion)."""

    product = models.ForeignKey(Product, on_delete=models.CASCADE, related_name="prices")
    currency = currency_field()
    amount = amount_field(_("price"))

    class Meta:
        ordering = ["product_id", "currency"]
        constraints = [
            models.UniqueConstraint(fields=["product", "currency"], name="one_price_per_currency"),
            models.CheckConstraint(condition=Q(amount__gte=0), name="price_not_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.product} {self.currency} {self.amount}"
