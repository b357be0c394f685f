"""Declaring an API operation's permission and enforcing it with the access module.

Every operation is registered through :func:`operation`, which writes the rule into the OpenAPI
document (``x-permission``) and wraps the function with the same check the HTML views use. The
route-coverage test fails on any operation without ``x-permission``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.http import HttpRequest
from ninja import Router

from partnerhub.access.decorators import LOGIN, PUBLIC, actor_from
from partnerhub.access.perms import Perm
from partnerhub.access.policy import perms_for
from partnerhub.api.auth import AUTH
from partnerhub.api.problems import ApiProblem

Func = Callable[..., Any]


def _resolve_org(request: HttpRequest, org_slug: str, perm: Perm) -> None:
    from partnerhub.orgs.models import Organisation

    org = Organisation.objects.filter(slug=org_slug).first()
    api_key = getattr(request, "api_key", None)
    perms = perms_for(request.user, org, api_key=api_key) if org else frozenset()  # type: ignore[arg-type]
    if org is None or not perms:
        raise ApiProblem(404, "No such organisation.")
    if perm not in perms:
        raise ApiProblem(403, f"This action needs the permission '{perm}'.")
    request.org = org  # type: ignore[attr-defined]
    request.perms = perms  # type: ignore[attr-defined]


def operation(router: Router, method: str, path: str, *, perm: Perm | str, **kwargs: Any) -> Callable[[Func], Func]:
    """Register `path` on `router`, guarded by `perm` on the organisation named in ``{org_slug}``.

    `perm` may also be ``"login"`` (any authenticated caller, own account only) or ``"public"``.
    """
    extra = dict(kwargs.pop("openapi_extra", None) or {})
    extra["x-permission"] = str(perm)
    if perm == PUBLIC:
        kwargs.setdefault("auth", None)
    else:
        kwargs.setdefault("auth", AUTH)

    def decorator(func: Func) -> Func:
        @wraps(func)
        def wrapper(request: HttpRequest, *args: Any, **kw: Any) -> Any:
            if isinstance(perm, Perm):
                if "org_slug" not in kw:
                    raise TypeError(f"{func.__name__}: an organisation operation needs {{org_slug}} in its path")
                _resolve_org(request, kw["org_slug"], perm)
            if perm != PUBLIC:
                request.actor = actor_from(request)  # type: ignore[attr-defined]
            return func(request, *args, **kw)

        router.api_operation([method.upper()], path, openapi_extra=extra, **kwargs)(wrapper)
        return wrapper

    return decorator


__all__ = ["LOGIN", "PUBLIC", "operation"]
