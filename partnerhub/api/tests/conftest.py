"""Fixtures for the API tests: keys made through the real service."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest
from django.core.cache import cache

from partnerhub.access.perms import Perm
from partnerhub.access.policy import Actor
from partnerhub.accounts.models import User
from partnerhub.api.models import ApiKey
from partnerhub.api.services import create_api_key
from partnerhub.orgs.models import Organisation

MakeKey = Callable[..., tuple[ApiKey, str]]


@pytest.fixture(autouse=True)
def fresh_rate_limits() -> None:
    """allauth counts re-authentications per user in the cache, and user ids repeat across tests."""
    cache.clear()


@pytest.fixture
def make_key() -> MakeKey:
    """An API key created through the service, returned with its secret."""

    def build(
        user: User, org: Organisation, perms: list[Perm], *, name: str = "Test key", expires_at: datetime | None = None
    ) -> tuple[ApiKey, str]:
        return create_api_key(Actor(user=user), org=org, name=name, perms=perms, expires_at=expires_at)

    return build
