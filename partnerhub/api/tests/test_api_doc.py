from pathlib import Path

from django.utils import translation

from partnerhub.api.table import with_operations

DOC = Path(__file__).resolve().parents[3] / "docs" / "api.md"


def test_docs_operation_table_matches_the_api():
    current = DOC.read_text()
    with translation.override("en"):
        assert current == with_operations(current), "run: partnerhub api_table"
