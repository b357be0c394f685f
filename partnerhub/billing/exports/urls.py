from django.urls import path

from partnerhub.billing.exports import views

urlpatterns = [
    path("o/<slug:org_slug>/exports/", views.export_list, name="export_list"),
    path("o/<slug:org_slug>/exports/<int:job_id>/download/", views.export_download, name="export_download"),
    path("o/<slug:org_slug>/products/export/", views.export_products, name="export_products"),
    path("o/<slug:org_slug>/orders/export/", views.export_orders, name="export_orders"),
    path("o/<slug:org_slug>/orders/lines/export/", views.export_order_lines, name="export_order_lines"),
    path("o/<slug:org_slug>/invoices/export/", views.export_invoices, name="export_invoices"),
    path("o/<slug:org_slug>/billing-events/export/", views.export_events, name="export_events"),
    path("o/<slug:org_slug>/billing/invoices/export/", views.export_all_invoices, name="export_all_invoices"),
    path("o/<slug:org_slug>/billing/events/export/", views.export_all_events, name="export_all_events"),
]
