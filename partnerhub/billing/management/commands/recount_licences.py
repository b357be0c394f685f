"""``partnerhub recount_licences``: recount relative licences due for renewal (for cron, daily)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from partnerhub.billing.services import recount_relative_licences


class Command(BaseCommand):
    help = "Set relative licences due for renewal to the number of active members and move their renewal date on."

    def handle(self, *args: Any, **options: Any) -> None:
        count = recount_relative_licences()
        self.stdout.write(f"Recounted {count} relative licence(s).")
