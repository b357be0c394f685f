"""Seed the demo program and print its logins."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from partnerhub.demo.seed import DEMO_PASSWORD, LOGINS, seed


class Command(BaseCommand):
    help = "Create the demo program (idempotent) and print the demo logins."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.MODE == "production":
            raise CommandError(
                "The demo creates accounts with a published password; it runs only with PARTNERHUB_MODE=local."
            )
        created = seed()
        self.stdout.write(self.style.SUCCESS("Demo program created." if created else "Demo program already present."))
        self.stdout.write(f"\n  Open {settings.SITE_URL}/ and log in with password '{DEMO_PASSWORD}':\n")
        width = max(len(login.who) for login in LOGINS)
        for login in LOGINS:
            self.stdout.write(f"    {login.who.ljust(width)}  {login.email:<42} {login.org}")
        self.stdout.write("\n  Emails the demo sends are printed here in the console.\n")
