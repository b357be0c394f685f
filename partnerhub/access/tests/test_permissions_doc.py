from pathlib import Path

from django.utils import translation

from partnerhub.access.table import permissions_markdown

DOC = Path(__file__).resolve().parents[3] / "docs" / "permissions.md"


def test_docs_permission_table_matches_the_code():
    with translation.override("en"):
        expected = permissions_markdown()
    assert DOC.read_text() == expected, "run: partnerhub permissions_table > docs/permissions.md"
