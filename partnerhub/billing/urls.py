from django.urls import path

from partnerhub.billing import views

urlpatterns = [
    path("o/<slug:org_slug>/products/", views.product_list, name="product_list"),
    path("o/<slug:org_slug>/products/<int:product_id>/quantity/", views.product_quantity, name="product_quantity"),
    path("o/<slug:org_slug>/products/<int:product_id>/cancel/", views.product_cancel, name="product_cancel"),
    path("o/<slug:org_slug>/products/<int:product_id>/resume/", views.product_resume, name="product_resume"),
    path("o/<slug:org_slug>/products/<int:product_id>/convert/", views.product_convert, name="product_convert"),
    path("o/<slug:org_slug>/orders/", views.order_list, name="order_list"),
    path("o/<slug:org_slug>/orders/new/", views.order_new, name="order_new"),
    path("o/<slug:org_slug>/orders/<int:order_id>/", views.order_detail, name="order_detail"),
    path("o/<slug:org_slug>/invoices/", views.invoice_list, name="invoice_list"),
    path("o/<slug:org_slug>/invoices/<int:invoice_id>/", views.invoice_detail, name="invoice_detail"),
    path("o/<slug:org_slug>/invoices/<int:invoice_id>/print/", views.invoice_print, name="invoice_print"),
    path("o/<slug:org_slug>/invoices/<int:invoice_id>/pdf/", views.invoice_pdf, name="invoice_pdf"),
    path("o/<slug:org_slug>/billing/invoices/", views.operator_invoice_list, name="operator_invoice_list"),
    path(
        "o/<slug:org_slug>/billing/invoices/<int:invoice_id>/pay/",
        views.operator_invoice_pay,
        name="operator_invoice_pay",
    ),
    path(
        "o/<slug:org_slug>/billing/invoices/<int:invoice_id>/refund/",
        views.operator_invoice_refund,
        name="operator_invoice_refund",
    ),
    path(
        "o/<slug:org_slug>/billing/invoices/<int:invoice_id>/cancel/",
        views.operator_invoice_cancel,
        name="operator_invoice_cancel",
    ),
    path(
        "o/<slug:org_slug>/billing/invoices/<int:invoice_id>/print/",
        views.operator_invoice_print,
        name="operator_invoice_print",
    ),
    path(
        "o/<slug:org_slug>/billing/invoices/<int:invoice_id>/pdf/",
        views.operator_invoice_pdf,
        name="operator_invoice_pdf",
    ),
    path("o/<slug:org_slug>/billing/products/", views.operator_product_list, name="operator_product_list"),
    path(
        "o/<slug:org_slug>/billing/products/<int:product_id>/suspend/",
        views.operator_product_suspend,
        name="operator_product_suspend",
    ),
    path(
        "o/<slug:org_slug>/billing/products/<int:product_id>/reactivate/",
        views.operator_product_reactivate,
        name="operator_product_reactivate",
    ),
    path(
        "o/<slug:org_slug>/billing/products/<int:product_id>/cancel/",
        views.operator_product_cancel,
        name="operator_product_cancel",
    ),
]
