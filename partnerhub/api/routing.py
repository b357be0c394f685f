"""Declaring an API operation's permission and enforcing it with the access module.

Every operation is registered through :func:`operation`, which writes the rule into the OpenAPI
document (``x-permission``) and wraps the function with the same check the HTML views use. The
route-coverage test fails on any operation without ``x-permission``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils.translation import gettext as _
from ninja import Router

from partnerhub.access.checks import resolve_access
from partnerhub.access.decorators import LOGIN, PUBLIC, actor_from
from partnerhub.access.perms import Perm
from partnerhub.api.auth import AUTH
from partnerhub.api.problems import ApiProblem, Problem

Func = Callable[..., Any]


def _resolve_org(request: HttpRequest, org_slug: str, perm: Perm) -> None:
    api_key = getattr(request, "api_key", None)
    try:
        org, access = resolve_access(request.user, org_slug, perm, api_key=api_key)  # type: ignore[arg-type]
    except Http404:
        raise ApiProblem(404, _("No such organisation.")) from None
    except PermissionDenied:
        raise ApiProblem(403, _("This action needs the permission '%(perm)s'.") % {"perm": perm}) from None
    request.org = org  # type: ignore[attr-defined]
    request.access = access  # type: ignore[attr-defined]
    request.perms = access.perms  # type: ignore[attr-defined]


def error_responses(method: str, perm: Perm | str) -> dict[int, type[Problem]]:
    """The problem answers an operation can give, from its rule and method (documented in OpenAPI)."""
    codes = {422}
    if perm != PUBLIC:
        codes |= {401, 403}  # 403: a missing permission, or a session write without the CSRF token
    if isinstance(perm, Perm):
        codes.add(404)
    if method.upper() != "GET":
        codes |= {400, 409}  # 400: a body that is not JSON
    return dict.fromkeys(sorted(codes), Problem)


def operation(
    router: Router,
    method: str,
    path: str,
    *,
    perm: Perm | str,
    response: Any,
    api_keys: bool = True,
    **kwargs: Any,
) -> Callable[[Func], Func]:
    """Register `path` on `router`, guarded by `perm` on the organisation named in ``{org_slug}``.

    `perm` may also be ``"login"`` (any authenticated caller, own account only) or ``"public"``.
    `response` may be one schema (answered with 200) or a ``{status: schema}`` dict; the error
    answers (problem+json) are added to it. ``api_keys=False`` refuses callers authenticated with
    an API key (403): keys act within one organisation, not on the person's own account.
    """
    if not (perm in (PUBLIC, LOGIN) or isinstance(perm, Perm)):
        raise ValueError(f"{path}: perm must be a Perm, LOGIN or PUBLIC, not {perm!r}")
    extra: dict[str, Any] = {"x-permission": str(perm)}
    if not api_keys:
        extra["x-api-keys"] = False
    if perm == PUBLIC:
        kwargs.setdefault("auth", None)
    if isinstance(perm, Perm) and "{org_slug}" not in path:
        raise ValueError(f"{path}: an organisation operation needs {{org_slug}} in its path")

    def guard(func: Func, request: HttpRequest, kw: dict[str, Any]) -> None:
        if isinstance(perm, Perm):
            if "org_slug" not in kw:
                raise TypeError(f"{func.__name__}: an organisation operation needs {{org_slug}} in its path")
            _resolve_org(request, kw["org_slug"], perm)
        if not api_keys and getattr(request, "api_key", None) is not None:
            raise ApiProblem(403, _("This operation is not available with an API key."))
        if perm != PUBLIC:
            request.actor = actor_from(request)  # type: ignore[attr-defined]

    return _register(router, method, path, perm=perm, response=response, extra=extra, guard=guard, **kwargs)


def _register(
    router: Router,
    method: str,
    path: str,
    *,
    perm: Perm | str,
    response: Any,
    extra: dict[str, Any],
    guard: Callable[[Func, HttpRequest, dict[str, Any]], None],
    **kwargs: Any,
) -> Callable[[Func], Func]:
    """Register `path` with the OpenAPI extras and error answers of `perm`; `guard` runs before the function."""
    kwargs["openapi_extra"] = {**(kwargs.pop("openapi_extra", None) or {}), **extra}
    kwargs.setdefault("auth", AUTH)
    responses: dict[int, Any] = dict(response) if isinstance(response, dict) else {200: response}
    for code, schema in error_responses(method, perm).items():
        responses.setdefault(code, schema)
    kwargs["response"] = responses

    def decorator(func: Func) -> Func:
        @wraps(func)
        def wrapper(request: HttpRequest, *args: Any, **kw: Any) -> Any:
            guard(func, request, kw)
            return func(request, *args, **kw)

        # ninja resolves string annotations in the *wrapper's* module; hand it the operation's own,
        # evaluated in the operation's module (which uses `from __future__ import annotations`).
        wrapper.__signature__ = inspect.signature(func, eval_str=True)  # type: ignore[attr-defined]
        router.api_operation([method.upper()], path, **kwargs)(wrapper)
        return wrapper

    return decorator


def _resolve_operator(request: HttpRequest, perm: Perm) -> None:
    from partnerhub.access.operator import operator_perms

    org, perms = operator_perms(actor_from(request))
    if org is None or perm not in perms:
        # The path names no organisation, so there is nothing to hide: refuse with 403.
        raise ApiProblem(403, _("This action needs the permission '%(perm)s'.") % {"perm": perm})
    request.org = org  # type: ignore[attr-defined]
    request.perms = perms  # type: ignore[attr-defined]


def operator_operation(
    router: Router, method: str, path: str, *, perm: Perm, response: Any, **kwargs: Any
) -> Callable[[Func], Func]:
    """Register an operator-wide `path` (no ``{org_slug}``), guarded by the operator permission `perm`.

    `perm` is checked, through the access module like :func:`operation`, on the installation's single
    operator organisation, which is resolved server-side (``request.org``); everyone else gets 403.
    The OpenAPI document names the rule (``x-permission``) and ``x-organisation: operator``.
    """
    if not isinstance(perm, Perm) or perm.side != "operator":
        raise ValueError(f"{path}: an operator operation needs an operator.* permission, not {perm!r}")
    if "{org_slug}" in path:
        raise ValueError(f"{path}: an operator operation names no organisation; use operation()")
    extra: dict[str, Any] = {"x-permission": str(perm), "x-organisation": "operator"}

    def guard(func: Func, request: HttpRequest, kw: dict[str, Any]) -> None:
        _resolve_operator(request, perm)
        request.actor = actor_from(request)  # type: ignore[attr-defined]

    return _register(router, method, path, perm=perm, response=response, extra=extra, guard=guard, **kwargs)


__all__ = ["LOGIN", "PUBLIC", "operation", "operator_operation"]
