from django.apps import AppConfig


class DelegationConfig(AppConfig):
    name = "partnerhub.delegation"
    label = "delegation"
    verbose_name = "Delegated access"
