from django.urls import path

from partnerhub.affiliates.views import affiliate, review

urlpatterns = [
    # The referral link (public).
    path("r/<str:code>/", affiliate.affiliate_click, name="affiliate_click"),
    # The organisation's affiliate account.
    path("o/<slug:org_slug>/affiliate/", affiliate.affiliate_page, name="affiliate_page"),
    path("o/<slug:org_slug>/affiliate/apply/", affiliate.affiliate_apply, name="affiliate_apply"),
    path("o/<slug:org_slug>/affiliate/recommend/", affiliate.affiliate_recommend, name="affiliate_recommend"),
    # The operator's queue.
    path("o/<slug:org_slug>/affiliates/", review.review_list, name="affiliate_review_list"),
    path("o/<slug:org_slug>/affiliates/<int:affiliate_id>/", review.review_detail, name="affiliate_review_detail"),
    path("o/<slug:org_slug>/affiliates/<int:affiliate_id>/approve/", review.review_approve, name="affiliate_approve"),
    path("o/<slug:org_slug>/affiliates/<int:affiliate_id>/reject/", review.review_reject, name="affiliate_reject"),
    path("o/<slug:org_slug>/affiliates/<int:affiliate_id>/suspend/", review.review_suspend, name="affiliate_suspend"),
    path(
        "o/<slug:org_slug>/affiliates/<int:affiliate_id>/reactivate/",
        review.review_reactivate,
        name="affiliate_reactivate",
    ),
]
