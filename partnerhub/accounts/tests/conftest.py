import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _fresh_cache():
    """allauth keeps rate-limit counters and used TOTP codes in the (process-wide) locmem cache."""
    cache.clear()
    yield
    cache.clear()
