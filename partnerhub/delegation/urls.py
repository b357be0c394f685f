from django.urls import path

from partnerhub.delegation import views

urlpatterns = [
    path(
        "o/<slug:org_slug>/customers/<int:customer_id>/session/",
        views.partner_session_start,
        name="management_session_start",
    ),
    path(
        "o/<slug:org_slug>/support/customers/<int:customer_id>/session/",
        views.support_session_start,
        name="support_session_start",
    ),
    path("sessions/<int:session_id>/end/", views.session_end, name="management_session_end"),
    path("o/<slug:org_slug>/sessions/", views.session_list, name="management_session_list"),
    path(
        "o/<slug:org_slug>/sessions/<int:session_id>/end/",
        views.session_terminate,
        name="management_session_terminate",
    ),
    path("o/<slug:org_slug>/support-access/", views.support_access, name="support_access"),
    path("o/<slug:org_slug>/support-access/grant/", views.support_access_grant, name="support_access_grant"),
    path(
        "o/<slug:org_slug>/support-access/<int:support_id>/revoke/",
        views.support_access_revoke,
        name="support_access_revoke",
    ),
    path(
        "o/<slug:org_slug>/support-access/notifications/",
        views.session_notifications,
        name="management_session_notifications",
    ),
    path("o/<slug:org_slug>/support/", views.support_desk, name="support_desk"),
    path("o/<slug:org_slug>/support/orgs/<int:customer_id>/vip-code/", views.vip_code_assign, name="vip_code_assign"),
    path(
        "o/<slug:org_slug>/support/orgs/<int:customer_id>/vip-code/remove/",
        views.vip_code_remove,
        name="vip_code_remove",
    ),
]
