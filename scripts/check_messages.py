"""Fail when a compiled translation (.mo) is missing or older than its catalogue (.po)."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

LOCALE = Path(__file__).resolve().parent.parent / "partnerhub" / "locale"


def main() -> int:
    problems = []
    for po in sorted(LOCALE.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        with tempfile.TemporaryDirectory() as tmp:
            fresh = Path(tmp) / "fresh.mo"
            subprocess.run(["msgfmt", "--check", "-o", str(fresh), str(po)], check=True)  # noqa: S603, S607
            if not mo.exists() or mo.read_bytes() != fresh.read_bytes():
                problems.append(
                    f"{mo.relative_to(LOCALE.parent.parent)} is not compiled from its .po (run: make messages)"
                )
    for line in problems:
        print(line, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
