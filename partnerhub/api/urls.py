"""The REST API at /api/v1/: one NinjaAPI, one router per domain area."""

from __future__ import annotations

from importlib import import_module
from typing import Any

from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema

from partnerhub.access.decorators import public
from partnerhub.api import problems
from partnerhub.api.auth import AUTH
from partnerhub.api.throttling import ApiRateThrottle


class PartnerhubAPI(NinjaAPI):
    """ninja's API, with error answers documented as ``application/problem+json`` (what they are)."""

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> OpenAPISchema:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        for item in schema["paths"].values():
            for op in item.values():
                for code, answer in op.get("responses", {}).items():
                    content = answer.get("content", {})
                    if int(code) >= 400 and "application/json" in content:
                        answer["content"] = {problems.PROBLEM_CONTENT_TYPE: content["application/json"]}
        return schema


api = PartnerhubAPI(
    throttle=[ApiRateThrottle()],
    title="Partnerhub API",
    version="1",
    description=(
        "Everything the portal does, through the same services and the same access rule. "
        "Authenticate with the portal session (send the CSRF token on writes) or an API key "
        "(`Authorization: Bearer phk_…`). Errors are `application/problem+json`. Every operation "
        "names the permission it needs in `x-permission`. Lists are cursor-paginated: pass the "
        "`next_cursor` of one page as `cursor` to get the next."
    ),
    auth=AUTH,
    urls_namespace="api",
    # The interactive docs and the OpenAPI document describe the API to anyone; every operation
    # they list still checks its own permission.
    docs_decorator=public,
)
problems.install(api)


def _add_routers() -> None:
    from partnerhub.api.endpoints import api_keys, audit, me, members, orgs, wallets

    for module in (me, orgs, members, audit, api_keys, wallets):
        api.add_router("", module.router)
    api.add_router("", import_module("partnerhub.api.endpoints.billing_events").router)
    api.add_router("", import_module("partnerhub.api.endpoints.catalog").router)
    api.add_router("", import_module("partnerhub.api.endpoints.billing").router)
    api.add_router("", import_module("partnerhub.api.endpoints.exports").router)
    for area in ("partners", "partnerships", "delegation", "customers", "affiliates", "commissions", "payouts"):
        api.add_router("", import_module(f"partnerhub.api.endpoints.{area}").router)


_add_routers()
