"""Routes of the commissions area (payouts: ``payout_urls``)."""

from django.urls import include, path

from partnerhub.commissions.views import dashboard, ledger, program

urlpatterns = [
    # A partner's or affiliate's own pages.
    path("o/<slug:org_slug>/dashboard/", dashboard.dashboard, name="partner_dashboard"),
    path("o/<slug:org_slug>/commissions/", ledger.ledger, name="commission_ledger"),
    path("o/<slug:org_slug>/commissions/export/", ledger.ledger_export, name="commission_ledger_export"),
    # The operator's commission terms.
    path("o/<slug:org_slug>/program/commissions/", program.commission_program, name="commission_program"),
    path("o/<slug:org_slug>/program/commissions/settings/", program.commission_settings, name="commission_settings"),
    path("o/<slug:org_slug>/program/commissions/tiers/", program.commission_tier_add, name="commission_tier_add"),
    path(
        "o/<slug:org_slug>/program/commissions/tiers/<int:tier_id>/",
        program.commission_tier_change,
        name="commission_tier_change",
    ),
    path(
        "o/<slug:org_slug>/program/commissions/tiers/<int:tier_id>/remove/",
        program.commission_tier_remove,
        name="commission_tier_remove",
    ),
    path("o/<slug:org_slug>/program/commissions/rates/", program.commission_rates, name="commission_rates"),
    # The payout pages.
    path("", include("partnerhub.commissions.payout_urls")),
]
