"""The Content Security Policy allows no inline styles or scripts: no template may rely on them."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted(ROOT.rglob("templates/**/*.html"))
INLINE = [
    (re.compile(r"\sstyle\s*="), "a style attribute"),
    (re.compile(r"<style[\s>]"), "a <style> element"),
    (re.compile(r"<script(?![^>]*\ssrc=)(?![^>]*type=\"application/json\")[^>]*>"), "an inline <script>"),
    (re.compile(r"\son[a-z]+\s*=\s*\""), "an inline event handler"),
]


def test_templates_were_found():
    assert len(TEMPLATES) > 50


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: str(p.relative_to(ROOT)))
def test_template_has_nothing_inline_that_the_csp_blocks(template):
    text = template.read_text()
    for pattern, what in INLINE:
        assert not pattern.search(text), f"{template.relative_to(ROOT)} contains {what}"
