"""``partnerhub close_idle_sessions``: end management sessions idle for 30 minutes (for cron, e.g. hourly).

Requests end their own idle session already; this keeps the customers' session lists exact for
sessions nobody came back to.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from partnerhub.delegation.services import close_idle_sessions


class Command(BaseCommand):
    help = "End management sessions that had no request for 30 minutes (recorded as timed out)."

    def handle(self, *args: Any, **options: Any) -> None:
        count = close_idle_sessions()
        self.stdout.write(f"Ended {count} idle management session(s).")
