from django.apps import AppConfig


class BillingConfig(AppConfig):
    name = "partnerhub.billing"
    label = "billing"
    verbose_name = "Billing"
