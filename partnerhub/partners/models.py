"""The partner program's settings (DESIGN §3, §6). Partner applications and profiles follow here."""

from __future__ import annotations

from decimal import Decimal

from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

PERCENT = [MinValueValidator(Decimal(0)), MaxValueValidator(Decimal(100))]


class Program(models.Model):
    """One partner program per installation, run by the operator organisation."""

    operator = models.OneToOneField("orgs.Organisation", on_delete=models.PROTECT, related_name="program")
    name = models.CharField(_("name"), max_length=120, default="Partner program")
    reseller_pricing = models.BooleanField(_("reseller pricing"), default=True)
    partner_discount_percent = models.DecimalField(
        _("partner discount (%)"), max_digits=5, decimal_places=2, default=Decimal(20), validators=PERCENT
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
