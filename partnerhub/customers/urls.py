from django.urls import path

from partnerhub.customers import property_views, views

urlpatterns = [
    path("o/<slug:org_slug>/customers/", views.customer_list, name="customer_list"),
    path("o/<slug:org_slug>/customers/export/", views.customer_export, name="customer_export"),
    path("o/<slug:org_slug>/customers/new/", views.client_new, name="client_new"),
    path("o/<slug:org_slug>/customers/<int:customer_id>/", views.customer_detail, name="customer_detail"),
    path("o/<slug:org_slug>/customers/<int:customer_id>/values/", views.customer_values, name="customer_values"),
    path("o/<slug:org_slug>/customers/properties/", property_views.property_list, name="customer_property_list"),
    path(
        "o/<slug:org_slug>/customers/properties/<int:prop_id>/",
        property_views.property_edit,
        name="customer_property_edit",
    ),
    path(
        "o/<slug:org_slug>/customers/properties/<int:prop_id>/move/",
        property_views.property_move,
        name="customer_property_move",
    ),
    path(
        "o/<slug:org_slug>/customers/properties/<int:prop_id>/delete/",
        property_views.property_delete,
        name="customer_property_delete",
    ),
]
