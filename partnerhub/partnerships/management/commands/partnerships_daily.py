"""``partnerhub partnerships_daily``: the daily partnerships run for cron (every step is idempotent)."""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand

from partnerhub.partnerships.tasks import run_daily

logger = logging.getLogger("partnerhub.partnerships.daily")


class Command(BaseCommand):
    help = (
        "Mark pending partnership requests and invitations older than 30 days expired, extend grants set to "
        "auto-extend that end within a day, and email the expiry warnings 14 and 3 days before grants end."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = run_daily()
        logger.info("partnerships_daily: %s", counts)
        self.stdout.write(f"{counts['expired']} expired, {counts['extended']} extended, {counts['warned']} warned")
