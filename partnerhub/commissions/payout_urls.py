"""Routes of the payout pages (included from the root URLconf)."""

from django.urls import path

from partnerhub.commissions.views import payouts

urlpatterns = [
    # The beneficiary's side (partner.portal.manage).
    path("o/<slug:org_slug>/payouts/", payouts.payout_list, name="payout_list"),
    path("o/<slug:org_slug>/payouts/details/", payouts.payout_details, name="payout_details"),
    path("o/<slug:org_slug>/payouts/details/save/", payouts.payout_details_save, name="payout_details_save"),
    path("o/<slug:org_slug>/payouts/<int:payout_id>/", payouts.payout_detail, name="payout_detail"),
    path(
        "o/<slug:org_slug>/payouts/<int:payout_id>/statement/",
        payouts.payout_download,
        name="payout_download",
    ),
    # The operator's review (operator.payouts.manage).
    path("o/<slug:org_slug>/payouts/review/", payouts.payout_review, name="payout_review"),
    path(
        "o/<slug:org_slug>/payouts/review/<int:payout_id>/", payouts.payout_review_detail, name="payout_review_detail"
    ),
    path(
        "o/<slug:org_slug>/payouts/review/<int:payout_id>/statement/",
        payouts.payout_review_download,
        name="payout_review_download",
    ),
    path("o/<slug:org_slug>/payouts/review/<int:payout_id>/approve/", payouts.payout_approve, name="payout_approve"),
    path("o/<slug:org_slug>/payouts/review/<int:payout_id>/pay/", payouts.payout_pay, name="payout_pay"),
    path("o/<slug:org_slug>/payouts/review/<int:payout_id>/cancel/", payouts.payout_cancel, name="payout_cancel"),
]
