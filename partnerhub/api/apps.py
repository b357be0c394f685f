from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "partnerhub.api"
    label = "partnerhub_api"
    verbose_name = "Api"
