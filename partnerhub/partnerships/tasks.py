"""Scheduled partnership tasks (run daily by cron through ``partnerhub partnerships_daily`` or the worker).

Idempotent: a second run on the same day changes nothing and sends no email twice.
"""

from __future__ import annotations

from django.tasks import task

from partnerhub.partnerships.services import expire_pending, grant_maintenance


def run_daily() -> dict[str, int]:
    """Expire pending partnerships past their 30 days, then auto-extend grants and send expiry warnings."""
    expired = expire_pending()
    return {"expired": expired, **grant_maintenance()}


@task()
def partnerships_daily_task() -> dict[str, int]:
    """The daily run as a background task (same steps as the management command)."""
    return run_daily()
