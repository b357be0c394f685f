"""The REST API at /api/v1/: one NinjaAPI, one router per domain area."""

from __future__ import annotations

from ninja import NinjaAPI

from partnerhub.api import problems
from partnerhub.api.auth import AUTH

api = NinjaAPI(
    title="Partnerhub API",
    version="1",
    description=(
        "Everything the portal does, through the same services and the same access rule. "
        "Authenticate with the portal session (send the CSRF token on writes) or an API key "
        "(`Authorization: Bearer phk_…`). Errors are `application/problem+json`. Every operation "
        "names the permission it needs in `x-permission`."
    ),
    auth=AUTH,
    urls_namespace="api",
)
problems.install(api)


def _add_routers() -> None:
    from partnerhub.api.endpoints import router as core_router

    api.add_router("", core_router)


_add_routers()
