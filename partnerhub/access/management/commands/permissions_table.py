from typing import Any

from django.core.management.base import BaseCommand
from django.utils import translation

from partnerhub.access.table import permissions_markdown


class Command(BaseCommand):
    help = "Print the permission table (Markdown) for docs/permissions.md."

    def handle(self, *args: Any, **options: Any) -> None:
        with translation.override("en"):
            self.stdout.write(permissions_markdown(), ending="")
