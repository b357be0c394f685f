from django.urls import path

from partnerhub.billing import event_views

urlpatterns = [
    path("o/<slug:org_slug>/billing/events/", event_views.operator_event_list, name="operator_billing_event_list"),
    path(
        "o/<slug:org_slug>/billing/events/<int:event_id>/",
        event_views.operator_event_detail,
        name="operator_billing_event_detail",
    ),
    path("o/<slug:org_slug>/billing-events/", event_views.event_list, name="billing_event_list"),
    path("o/<slug:org_slug>/billing-events/<int:event_id>/", event_views.event_detail, name="billing_event_detail"),
]
