"""``partnerhub billing_daily``: the daily billing run for cron (every step is idempotent)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.core.management.base import BaseCommand

from partnerhub.billing.exports.jobs import purge_exports
from partnerhub.billing.services import (
    end_due_products,
    invoice_renewals,
    mark_overdue_invoices,
    recount_relative_licences,
)

logger = logging.getLogger("partnerhub.billing.daily")


class Command(BaseCommand):
    help = (
        "End products whose cancellation or trial ran out, invoice due renewals, recount the remaining "
        "relative licences, mark overdue invoices, delete expired exports."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        # The order matters:
        # 1. ending first: a product cancelled at the end of its term is not renewed into a new one;
        # 2. renewals next: they recount relative licences for the new term and move renewal dates on;
        # 3. the recount then only meets relative licences that were not renewed (e.g. no price);
        # 4. overdue after the new invoices (which are not due yet), 5. the exports purge last.
        steps: list[tuple[str, Callable[[], int]]] = [
            ("ended products", end_due_products),
            ("renewal invoices", invoice_renewals),
            ("recounted licences", recount_relative_licences),
            ("overdue invoices", mark_overdue_invoices),
            ("purged exports", purge_exports),
        ]
        for label, step in steps:
            count = step()
            logger.info("billing_daily: %s: %d", label, count)
            self.stdout.write(f"{label}: {count}")
