from django.urls import path

from partnerhub.billing import wallet_views

urlpatterns = [
    path("o/<slug:org_slug>/wallet/", wallet_views.wallet_detail, name="wallet_detail"),
]
