from django.apps import AppConfig


class CustomersConfig(AppConfig):
    name = "partnerhub.customers"
    label = "customers"
    verbose_name = "My customers"
