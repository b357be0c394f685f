from django.urls import path

from partnerhub.api import views

urlpatterns = [
    path("o/<slug:org_slug>/api-keys/", views.api_key_list, name="api_key_list"),
    path("o/<slug:org_slug>/api-keys/new/", views.api_key_create, name="api_key_create"),
    path("o/<slug:org_slug>/api-keys/<int:key_id>/revoke/", views.api_key_revoke, name="api_key_revoke"),
]
