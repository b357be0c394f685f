"""Fail when a translation catalogue is incomplete or its compiled .mo is not built from the current .po.

Run by scripts/qa: every user-facing string must be translated into German and Bulgarian.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCALE = ROOT / "partnerhub" / "locale"
LANGUAGES = ("de", "bg")


def gettext_tool(*args: str) -> str:
    return subprocess.run(list(args), check=True, capture_output=True, text=True).stdout  # noqa: S603


def main() -> int:
    problems = []
    for language in LANGUAGES:
        po = LOCALE / language / "LC_MESSAGES" / "django.po"
        if not po.exists():
            problems.append(f"{po.relative_to(ROOT)} is missing (run: make messages)")
            continue
        mo = po.with_suffix(".mo")
        for flag, what in (("--untranslated", "untranslated"), ("--only-fuzzy", "fuzzy")):
            output = gettext_tool("msgattrib", flag, "--no-wrap", str(po))
            # msgattrib always prints the header entry; anything beyond it is a problem.
            entries = [line for line in output.splitlines() if line.startswith("msgid ")][1:]
            if entries:
                problems.append(f"{po.relative_to(ROOT)}: {len(entries)} {what} entries, e.g. {entries[0]}")
        with tempfile.TemporaryDirectory() as tmp:
            fresh = Path(tmp) / "fresh.mo"
            gettext_tool("msgfmt", "--check", "-o", str(fresh), str(po))
            if not mo.exists() or mo.read_bytes() != fresh.read_bytes():
                problems.append(f"{mo.relative_to(ROOT)} is not compiled from its .po (run: make messages)")
    for line in problems:
        print(line, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
