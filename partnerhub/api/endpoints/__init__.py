"""The API's operations, one router per area. Every one is registered through ``routing.operation``."""

from __future__ import annotations

from typing import cast

from django.http import HttpRequest

from partnerhub.access.policy import Actor
from partnerhub.orgs.models import Organisation


def actor_of(request: HttpRequest) -> Actor:
    """The actor ``routing.operation`` resolved for this request."""
    return cast(Actor, request.actor)  # type: ignore[attr-defined]


def org_of(request: HttpRequest) -> Organisation:
    """The organisation ``routing.operation`` resolved from ``{org_slug}`` (access already checked)."""
    return cast(Organisation, request.org)  # type: ignore[attr-defined]
