from django.urls import path

from partnerhub.partnerships.views import customer, partner

urlpatterns = [
    path("partnerships/answer/<str:token>/", partner.answer_link, name="partnership_answer"),
    # The customer's side: My service providers.
    path("o/<slug:org_slug>/providers/", customer.providers, name="providers"),
    path("o/<slug:org_slug>/providers/choose/", customer.provider_choose, name="provider_choose"),
    path("o/<slug:org_slug>/providers/invite/", customer.provider_invite, name="provider_invite"),
    path("o/<slug:org_slug>/providers/<int:partnership_id>/", customer.provider_detail, name="provider_detail"),
    path("o/<slug:org_slug>/providers/<int:partnership_id>/review/", customer.request_review, name="request_review"),
    path("o/<slug:org_slug>/providers/<int:partnership_id>/decline/", customer.request_decline, name="request_decline"),
    path("o/<slug:org_slug>/providers/<int:partnership_id>/grant/", customer.grant_edit, name="grant_edit"),
    path("o/<slug:org_slug>/providers/<int:partnership_id>/extend/", customer.grant_extend, name="grant_extend"),
    path("o/<slug:org_slug>/providers/<int:partnership_id>/revoke/", customer.grant_revoke, name="grant_revoke"),
    path("o/<slug:org_slug>/providers/<int:partnership_id>/end/", customer.provider_end, name="provider_end"),
    path(
        "o/<slug:org_slug>/providers/<int:partnership_id>/resend/",
        customer.invitation_resend,
        name="provider_invitation_resend",
    ),
    path(
        "o/<slug:org_slug>/providers/<int:partnership_id>/cancel/",
        customer.invitation_cancel,
        name="provider_invitation_cancel",
    ),
    # The partner's side.
    path("o/<slug:org_slug>/partnerships/", partner.partner_partnerships, name="partner_partnerships"),
    path("o/<slug:org_slug>/partnerships/request/", partner.request_new, name="partnership_request_new"),
    path(
        "o/<slug:org_slug>/partnerships/<int:partnership_id>/",
        partner.partner_partnership_detail,
        name="partner_partnership_detail",
    ),
    path(
        "o/<slug:org_slug>/partnerships/<int:partnership_id>/accept/",
        partner.invitation_accept,
        name="partnership_invitation_accept",
    ),
    path(
        "o/<slug:org_slug>/partnerships/<int:partnership_id>/decline/",
        partner.invitation_decline,
        name="partnership_invitation_decline",
    ),
    path(
        "o/<slug:org_slug>/partnerships/<int:partnership_id>/resend/",
        partner.request_resend,
        name="partnership_request_resend",
    ),
    path(
        "o/<slug:org_slug>/partnerships/<int:partnership_id>/cancel/",
        partner.request_cancel,
        name="partnership_request_cancel",
    ),
    path("o/<slug:org_slug>/partnerships/<int:partnership_id>/end/", partner.partner_end, name="partner_end"),
]
