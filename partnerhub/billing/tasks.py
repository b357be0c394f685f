"""Scheduled billing tasks (run daily by cron through ``partnerhub billing_daily`` or the task worker).

Each is idempotent: running it twice on the same day changes nothing the second time.
"""

from __future__ import annotations

from django.tasks import task

from partnerhub.billing.services import (
    end_due_products,
    invoice_renewals,
    mark_overdue_invoices,
    recount_relative_licences,
)


@task()
def recount_licences_task() -> int:
    """Relative licences due for renewal follow their organisation's active members (seed 003)."""
    return recount_relative_licences()


@task()
def end_due_products_task() -> int:
    """Products cancelled at the end of a finished term, and expired trials, end."""
    return end_due_products()


@task()
def mark_overdue_invoices_task() -> int:
    """Open invoices past their due date become overdue."""
    return mark_overdue_invoices()


@task()
def invoice_renewals_task() -> int:
    """Active products due for renewal get their renewal invoice, one per organisation and currency."""
    return invoice_renewals()
