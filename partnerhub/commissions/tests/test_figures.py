"""The partner's figures (seed 000 dashboard): customers, open invitations, active, in trial."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from partnerhub.access.perms import Role
from partnerhub.billing.models import ProductStatus
from partnerhub.commissions.models import PartnerStats
from partnerhub.commissions.tests.factories import customer_org, holding, link, partner_org, seed_program
from partnerhub.commissions.tiers import count_figures, refresh_partner_stats
from partnerhub.orgs.models import Invitation
from partnerhub.partnerships.models import Flow, Origin, Partnership, PartnershipStatus

pytestmark = pytest.mark.django_db


def test_figures_count_what_seed_000_names(operator_org):
    seed_program(operator_org)
    partner = partner_org("bergwerk")
    paying, trying, idle, invited, ended = (customer_org(s) for s in ("paying", "trying", "idle", "invited", "ended"))
    for customer in (paying, trying, idle, invited):
        link(partner, customer)
    link(partner, ended, until=timezone.now() - timedelta(hours=1))
    holding(paying)
    holding(paying, "domain-ch", ProductStatus.TRIAL)
    holding(trying, status=ProductStatus.TRIAL)
    holding(ended)  # an ended partnership no longer counts
    Partnership.objects.filter(customer=invited).update(flow=Flow.CREATED)
    Invitation.objects.create(
        org=invited, email="boss@invited.test", role=Role.OWNER, token_hash="x" * 64, expires_at=timezone.now()
    )
    stranger = customer_org("stranger")
    Partnership.objects.create(
        partner=partner,
        customer=stranger,
        flow=Flow.REQUESTED,
        origin=Origin.PARTNER,
        status=PartnershipStatus.PENDING,
        expires_at=timezone.now() + timedelta(days=30),
    )
    figures = count_figures([partner.pk])[partner.pk]
    assert (figures.customers, figures.open_invitations, figures.active_customers, figures.trial_customers) == (
        4,
        2,
        1,
        2,
    )
    refresh_partner_stats([partner.pk])
    stats = PartnerStats.objects.get(partner=partner)
    assert (stats.customers, stats.open_invitations, stats.active_customers, stats.trial_customers) == (4, 2, 1, 2)
    assert stats.tier_id is None  # one active customer: below Bronze
    Invitation.objects.filter(org=invited).update(accepted_at=timezone.now())
    assert count_figures([partner.pk])[partner.pk].open_invitations == 1
