from django.apps import AppConfig


class AffiliatesConfig(AppConfig):
    name = "partnerhub.affiliates"
    label = "affiliates"
    verbose_name = "Affiliates"

    def ready(self) -> None:
        from allauth.account.signals import user_signed_up
        from django.contrib.auth.signals import user_logged_in

        from partnerhub.affiliates import signals

        user_signed_up.connect(signals.on_signed_up, dispatch_uid="affiliates.claim_on_signup")
        user_logged_in.connect(signals.on_logged_in, dispatch_uid="affiliates.claim_on_login")
