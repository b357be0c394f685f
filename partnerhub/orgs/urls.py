from django.urls import path

from partnerhub.orgs import views

urlpatterns = [
    path("org/new/", views.org_create, name="org_create"),
    path("org/switch/", views.org_switch, name="org_switch"),
    path("invitations/<str:token>/", views.invitation_accept, name="invitation_accept"),
    path("o/<slug:org_slug>/", views.org_overview, name="org_overview"),
    path("o/<slug:org_slug>/settings/", views.org_settings, name="org_settings"),
    path("o/<slug:org_slug>/leave/", views.org_leave, name="org_leave"),
    path("o/<slug:org_slug>/members/", views.member_list, name="member_list"),
    path("o/<slug:org_slug>/members/invite/", views.member_invite, name="member_invite"),
    path("o/<slug:org_slug>/members/<int:membership_id>/", views.member_change, name="member_change"),
    path("o/<slug:org_slug>/members/<int:membership_id>/remove/", views.member_remove, name="member_remove"),
    path(
        "o/<slug:org_slug>/invitations/<int:invitation_id>/resend/",
        views.invitation_resend,
        name="invitation_resend",
    ),
    path(
        "o/<slug:org_slug>/invitations/<int:invitation_id>/cancel/",
        views.invitation_cancel,
        name="invitation_cancel",
    ),
]
