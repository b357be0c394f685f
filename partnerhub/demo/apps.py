from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "partnerhub.demo"
    label = "demo"
    verbose_name = "Demo"
