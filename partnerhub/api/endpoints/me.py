"""Account-level operations: who am I."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router

from partnerhub.accounts.models import User
from partnerhub.accounts.services import update_profile
from partnerhub.api.endpoints import actor_of
from partnerhub.api.routing import LOGIN, operation
from partnerhub.api.schemas import MeOut, MeUpdate

router = Router(tags=["me"])


@operation(router, "GET", "/me", perm=LOGIN, response=MeOut, summary="The calling user")
def me(request: HttpRequest) -> User:
    return actor_of(request).user


@operation(
    router,
    "PATCH",
    "/me",
    perm=LOGIN,
    response=MeOut,
    api_keys=False,
    summary="Change your name or language",
    description="Fields left out keep their value. Not available with an API key.",
)
def update_me(request: HttpRequest, data: MeUpdate) -> User:
    actor = actor_of(request)
    return update_profile(
        actor,
        name=actor.user.name if data.name is None else data.name,
        language=actor.user.language if data.language is None else data.language,
    )
