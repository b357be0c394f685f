from django.contrib import admin
from django.urls import include, path

from partnerhub.api.urls import api

urlpatterns = [
    path("", include("partnerhub.core.urls")),
    path("", include("partnerhub.orgs.urls")),
    path("", include("partnerhub.audit.urls")),
    path("", include("partnerhub.catalog.urls")),
    path("", include("partnerhub.partners.urls")),
    path("", include("partnerhub.partnerships.urls")),
    path("", include("partnerhub.delegation.urls")),
    path("", include("partnerhub.customers.urls")),
    path("", include("partnerhub.api.web_urls")),
    path("", include("partnerhub.billing.wallet_urls")),
    path("", include("partnerhub.billing.urls")),
    path("", include("partnerhub.billing.event_urls")),
    path("", include("partnerhub.billing.exports.urls")),
    path("", include("partnerhub.commissions.urls")),
    path("", include("partnerhub.affiliates.urls")),
    path("account/", include("partnerhub.accounts.urls")),
    path("accounts/", include("allauth.urls")),
    path("api/v1/", api.urls),
    path("django-admin/", admin.site.urls),
]
