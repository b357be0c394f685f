"""pytest plugin loaded before Django: the suite runs in the ``test`` settings profile."""

import os

os.environ["PARTNERHUB_MODE"] = "test"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
