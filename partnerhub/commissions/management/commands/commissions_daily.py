"""``partnerhub commissions_daily``: the daily commissions run for cron (every step is idempotent)."""

from __future__ import annotations

import logging
from typing import Any

from django.core.management.base import BaseCommand

from partnerhub.commissions.tasks import run_daily

logger = logging.getLogger("partnerhub.commissions.daily")


class Command(BaseCommand):
    help = (
        "Accrue billing events not accrued yet, approve ledger entries whose hold period is over, and "
        "reconcile every partner's figures and tier."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        counts = run_daily()
        logger.info("commissions_daily: %s", counts)
        self.stdout.write(", ".join(f"{value} {key.replace('_', ' ')}" for key, value in counts.items()))
