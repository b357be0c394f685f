"""``partnerhub billing_daily``: the daily billing run for cron (every step is idempotent)."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from partnerhub.billing.services import end_due_products, mark_overdue_invoices, recount_relative_licences


class Command(BaseCommand):
    help = "End products whose cancellation or trial ran out, recount relative licences, mark overdue invoices."

    def handle(self, *args: Any, **options: Any) -> None:
        # Ending first: a product cancelled at the end of its term is not recounted into a new one.
        ended = end_due_products()
        recounted = recount_relative_licences()
        overdue = mark_overdue_invoices()
        self.stdout.write(f"Ended {ended} product(s), recounted {recounted} licence(s), {overdue} invoice(s) overdue.")
