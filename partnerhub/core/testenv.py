"""pytest plugin loaded before Django: the suite runs in the ``test`` settings profile."""

import os
from pathlib import Path

os.environ["PARTNERHUB_MODE"] = "test"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
# WhiteNoise warns about a missing STATIC_ROOT; static files are served from the apps in tests.
(Path(__file__).resolve().parents[2] / "var" / "static").mkdir(parents=True, exist_ok=True)
