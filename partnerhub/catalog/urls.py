from django.urls import path

from partnerhub.catalog import views

urlpatterns = [
    path("o/<slug:org_slug>/catalog/", views.product_list, name="catalog_product_list"),
    path("o/<slug:org_slug>/catalog/products/new/", views.product_create, name="catalog_product_create"),
    path("o/<slug:org_slug>/catalog/products/<slug:sku>/edit/", views.product_edit, name="catalog_product_edit"),
    path("o/<slug:org_slug>/catalog/products/<slug:sku>/retire/", views.product_retire, name="catalog_product_retire"),
    path(
        "o/<slug:org_slug>/catalog/products/<slug:sku>/reactivate/",
        views.product_reactivate,
        name="catalog_product_reactivate",
    ),
    path("o/<slug:org_slug>/catalog/categories/", views.category_list, name="catalog_category_list"),
    path("o/<slug:org_slug>/catalog/categories/new/", views.category_create, name="catalog_category_create"),
    path("o/<slug:org_slug>/catalog/categories/<int:category_id>/", views.category_edit, name="catalog_category_edit"),
]
