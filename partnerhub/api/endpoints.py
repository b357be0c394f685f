"""Account-level operations: who am I."""

from __future__ import annotations

from django.http import HttpRequest
from ninja import Router, Schema

from partnerhub.api.routing import LOGIN, operation

router = Router(tags=["me"])


class MeOut(Schema):
    id: int
    email: str
    name: str
    language: str
    support_code: str


@operation(router, "GET", "/me", perm=LOGIN, response=MeOut, summary="The calling user")
def me(request: HttpRequest) -> MeOut:
    user = request.user
    return MeOut(
        id=user.pk,
        email=user.email,  # type: ignore[union-attr]
        name=user.name,  # type: ignore[union-attr]
        language=user.language,  # type: ignore[union-attr]
        support_code=user.support_code,  # type: ignore[union-attr]
    )
