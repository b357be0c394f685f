from django.apps import AppConfig


class CommissionsConfig(AppConfig):
    name = "partnerhub.commissions"
    label = "commissions"
    verbose_name = "Commissions"

    def ready(self) -> None:
        from partnerhub.commissions import signals  # noqa: F401
