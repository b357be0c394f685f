"""Every route declares its access rule (STYLE: "Enforced mechanically").

(a) Every view reachable through ``config.urls`` carries ``access_rule`` ("public", "login" or a Perm),
    set by the decorators in ``partnerhub.access.decorators``. Third-party includes that do their
    own checks are listed in ``ALLOWED_INCLUDES`` with the reason.
(b) Every API operation names its rule in the OpenAPI document (``x-permission``), and operations
    that need a permission on an organisation have ``{org_slug}`` in their path, or are operator-wide
    (``x-organisation: operator``, registered with ``routing.operator_operation``) with an operator.* rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, get_resolver, include, path

from partnerhub.access.decorators import LOGIN, PUBLIC, public
from partnerhub.access.perms import Perm
from partnerhub.api.urls import api

# Route prefixes (as written in config.urls) whose views are not ours and guard themselves.
ALLOWED_INCLUDES: dict[str, str] = {
    # django-allauth: login, signup, password reset, MFA, email confirmation. Its views are public
    # by nature or check the login themselves.
    "accounts/": "allauth",
    # Django admin: its own login, superusers only (DESIGN §1).
    "django-admin/": "Django admin",
}

# The ninja API include is walked by (b); of its Django views only these are not operations: the
# interactive docs and the OpenAPI document (declared public through NinjaAPI(docs_decorator=public)),
# and ninja's root view, which only ever answers 404 and exists so ninja can reverse its own paths.
API_PREFIX = "api/v1/"
API_NON_OPERATION_VIEWS = {"openapi-json": PUBLIC, "openapi-view": PUBLIC}
API_ROOT_VIEW = "api-root"


def access_rule(view: Callable[..., Any]) -> object:
    """The rule declared on `view` or on any function it wraps (decorators copy ``__dict__``)."""
    current: Any = view
    while current is not None:
        for candidate in (current, getattr(current, "view_class", None)):
            rule = getattr(candidate, "access_rule", None)
            if rule is not None:
                return rule
        current = getattr(current, "__wrapped__", None)
    return None


def is_valid_rule(rule: object) -> bool:
    return rule in (PUBLIC, LOGIN) or isinstance(rule, Perm)


def walk(patterns: Sequence[URLPattern | URLResolver], prefix: str = "") -> Iterator[tuple[str, URLPattern]]:
    """Every URL pattern with its full route, skipping the allowed third-party includes."""
    for entry in patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            if route in ALLOWED_INCLUDES:
                continue
            yield from walk(entry.url_patterns, route)
        else:
            yield route, entry


def undeclared_views(patterns: Sequence[URLPattern | URLResolver]) -> list[str]:
    """Routes whose view declares no valid access rule (API operations are checked by (b))."""
    problems = []
    for route, pattern in walk(patterns):
        if route.startswith(API_PREFIX):
            if pattern.name == API_ROOT_VIEW:
                continue
            if pattern.name in API_NON_OPERATION_VIEWS:
                if access_rule(pattern.callback) != API_NON_OPERATION_VIEWS[pattern.name]:
                    problems.append(f"{route} ({pattern.name})")
                continue
            # An operation: covered by the OpenAPI walk below.
            continue
        if not is_valid_rule(access_rule(pattern.callback)):
            problems.append(f"{route} ({pattern.name or pattern.lookup_str})")
    return problems


def operations_without_rule(schema: dict[str, Any]) -> list[str]:
    """API operations whose ``x-permission`` is missing or invalid, or org rules without {org_slug}."""
    problems = []
    methods = {"get", "put", "post", "patch", "delete", "head", "options"}
    for api_path, item in schema["paths"].items():
        for method, op in item.items():
            if method not in methods:
                continue
            rule = op.get("x-permission")
            if rule in (PUBLIC, LOGIN):
                continue
            if rule not in {p.value for p in Perm}:
                problems.append(f"{method.upper()} {api_path}: x-permission={rule!r}")
            elif op.get("x-organisation") == "operator":
                # routing.operator_operation: checked on the operator organisation, resolved server-side.
                if Perm(rule).side != "operator":
                    problems.append(f"{method.upper()} {api_path}: {rule} is not an operator permission")
            elif "{org_slug}" not in api_path:
                problems.append(f"{method.upper()} {api_path}: {rule} without {{org_slug}}")
    return problems


def test_every_view_declares_its_access_rule() -> None:
    assert undeclared_views(get_resolver().url_patterns) == []


def test_the_walk_covers_our_own_apps() -> None:
    routes = {route for route, _pattern in walk(get_resolver().url_patterns)}
    assert "healthz" in routes
    assert "o/<slug:org_slug>/api-keys/" in routes
    assert "api/v1/openapi.json" in routes


def bare_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("no rule here")


@public
def declared_view(request: HttpRequest) -> HttpResponse:
    return HttpResponse("public")


def test_the_checker_reports_an_undeclared_view() -> None:
    nested = [path("bare/", bare_view, name="bare"), path("fine/", declared_view, name="fine")]
    patterns: list[URLPattern | URLResolver] = [path("", include((nested, "temp"))), path("top/", bare_view)]
    assert undeclared_views(patterns) == [
        "bare/ (bare)",
        "top/ (partnerhub.access.tests.test_route_coverage.bare_view)",
    ]


def test_the_checker_reports_a_wrong_rule() -> None:
    def sloppy(request: HttpRequest) -> HttpResponse:
        return HttpResponse()

    sloppy.access_rule = "everyone"  # type: ignore[attr-defined]
    assert undeclared_views([path("sloppy/", sloppy, name="sloppy")]) == ["sloppy/ (sloppy)"]


def test_every_api_operation_declares_its_permission() -> None:
    schema = api.get_openapi_schema()
    assert schema["paths"], "the API has operations"
    assert operations_without_rule(schema) == []


def test_the_operation_checker_reports_missing_and_misplaced_rules() -> None:
    schema = {
        "paths": {
            "/a": {"get": {}},
            "/b": {"post": {"x-permission": "org.view"}},
            "/orgs/{org_slug}/c": {"get": {"x-permission": "org.view"}, "parameters": []},
            "/d": {"get": {"x-permission": "sudo"}},
            "/e": {"get": {"x-permission": "operator.program.manage", "x-organisation": "operator"}},
            "/f": {"get": {"x-permission": "billing.view", "x-organisation": "operator"}},
        }
    }
    assert operations_without_rule(schema) == [
        "GET /a: x-permission=None",
        "POST /b: org.view without {org_slug}",
        "GET /d: x-permission='sudo'",
        "GET /f: billing.view is not an operator permission",
    ]
