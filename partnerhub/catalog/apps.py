from django.apps import AppConfig


class CatalogConfig(AppConfig):
    name = "partnerhub.catalog"
    label = "catalog"
    verbose_name = "Catalog"
