from django.urls import path

from partnerhub.partners.views import applications, partner, program, review

urlpatterns = [
    # The operator's program settings.
    path("o/<slug:org_slug>/program/", program.program_settings, name="program_settings"),
    path("o/<slug:org_slug>/program/volume-tiers/", program.volume_tier_add, name="volume_tier_add"),
    path(
        "o/<slug:org_slug>/program/volume-tiers/<int:tier_id>/", program.volume_tier_change, name="volume_tier_change"
    ),
    path(
        "o/<slug:org_slug>/program/volume-tiers/<int:tier_id>/remove/",
        program.volume_tier_remove,
        name="volume_tier_remove",
    ),
    path("o/<slug:org_slug>/program/eligibility/", program.eligibility_rules, name="eligibility_rules"),
    path(
        "o/<slug:org_slug>/program/eligibility/volumes/", program.eligibility_volume_set, name="eligibility_volume_set"
    ),
    path(
        "o/<slug:org_slug>/program/eligibility/volumes/<str:currency>/remove/",
        program.eligibility_volume_remove,
        name="eligibility_volume_remove",
    ),
    # Requesting partner status.
    path("partner-status/", applications.partner_status_entry, name="partner_status_entry"),
    path("o/<slug:org_slug>/partner-status/", applications.partner_status, name="partner_status"),
    path("o/<slug:org_slug>/partner-status/check/", applications.partner_status_check, name="partner_status_check"),
    path(
        "o/<slug:org_slug>/partner-status/<int:application_id>/withdraw/",
        applications.application_withdraw,
        name="application_withdraw",
    ),
    # The operator's review queue.
    path("o/<slug:org_slug>/applications/", review.application_list, name="application_list"),
    path("o/<slug:org_slug>/applications/<int:application_id>/", review.application_detail, name="application_detail"),
    path(
        "o/<slug:org_slug>/applications/<int:application_id>/approve/",
        review.application_approve,
        name="application_approve",
    ),
    path(
        "o/<slug:org_slug>/applications/<int:application_id>/reject/",
        review.application_reject,
        name="application_reject",
    ),
    # An approved partner's own pages.
    path("o/<slug:org_slug>/partner/profile/", partner.partner_profile, name="partner_profile"),
    path("o/<slug:org_slug>/partner/staff/", partner.partner_staff, name="partner_staff"),
    path(
        "o/<slug:org_slug>/partner/staff/<int:membership_id>/",
        partner.partner_staff_change,
        name="partner_staff_change",
    ),
]
