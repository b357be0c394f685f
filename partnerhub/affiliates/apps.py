from django.apps import AppConfig


class AffiliatesConfig(AppConfig):
    name = "partnerhub.affiliates"
    label = "affiliates"
    verbose_name = "Affiliates"
