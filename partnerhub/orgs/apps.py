from django.apps import AppConfig


class OrgsConfig(AppConfig):
    name = "partnerhub.orgs"
    label = "orgs"
    verbose_name = "Orgs"
