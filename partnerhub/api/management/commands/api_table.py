from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand
from django.utils import translation

from partnerhub.api.table import with_operations


class Command(BaseCommand):
    help = "Rewrite the operation table in docs/api.md from the OpenAPI document."

    def handle(self, *args: Any, **options: Any) -> None:
        doc = Path(settings.BASE_DIR) / "docs" / "api.md"
        with translation.override("en"):
            doc.write_text(with_operations(doc.read_text()))
        self.stdout.write(f"updated {doc.name}")
