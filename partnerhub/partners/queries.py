"""Reads of the partner program's settings."""

from __future__ import annotations

from django.http import Http404

from partnerhub.partners.models import VolumeTier
from partnerhub.partners.services import get_program


def volume_tiers() -> list[VolumeTier]:
    """The program's volume tiers, smallest quantity first."""
    return list(VolumeTier.objects.filter(program=get_program()).order_by("min_quantity"))


def volume_tier_at(min_quantity: int) -> VolumeTier:
    """The tier starting at `min_quantity`; 404 when there is none."""
    tier = VolumeTier.objects.filter(program=get_program(), min_quantity=min_quantity).first()
    if tier is None:
        raise Http404
    return tier


def volume_tier_by_id(tier_id: int) -> VolumeTier:
    """The program's tier with this id; 404 when there is none."""
    tier = VolumeTier.objects.filter(program=get_program(), pk=tier_id).first()
    if tier is None:
        raise Http404
    return tier
