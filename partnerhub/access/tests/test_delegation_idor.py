"""IDOR sweep: every route with an integer object id, called with ids of another tenant's objects → 404.

The sweep walks the URL resolver (HTML routes) and the OpenAPI document (API operations). For every
route with an ``<int:…>`` parameter it finds the callers who hold the route's permission on the
organisation in the URL (a member of tenant A on A; the staff of A's partner on A, through the API and
inside a management session; the same staff on their partner organisation) and calls it with the ids
of tenant B's objects. Every such call must answer 404: the object does not exist for them.

**A route whose parameter is not in** :data:`FOREIGN_IDS` **fails the test**: add the parameter name
with a function returning the id of one of tenant B's objects. Operator-wide routes (operator.*
permissions: operator staff act on every organisation by design) are listed, not swept.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.urls import get_resolver
from django.utils import timezone

from conftest import PASSWORD, add_member, make_user
from partnerhub.access.perms import Perm, Role
from partnerhub.access.policy import perms_for
from partnerhub.access.tests.delegation_factories import (
    api_key,
    customer_product,
    link,
    make_invoice,
    make_order,
    make_org,
    make_partner,
    management_session,
    open_in_browser,
    support_access,
)
from partnerhub.access.tests.test_route_coverage import access_rule, walk
from partnerhub.api.tests.helpers import reauthenticated
from partnerhub.api.urls import api
from partnerhub.orgs.models import Invitation, Membership, Organisation

DELEGABLE_ALL = [
    "org.settings.manage",
    "members.manage",
    "products.manage",
    "billing.view",
    "billing.order",
    "tickets.use",
    "offers.respond",
    "audit.view",
]


@dataclass
class World:
    a: Organisation
    partner_a: Organisation
    b: Organisation
    partner_b: Organisation
    people: dict[str, Any]
    objects: dict[str, int]


def build_world() -> World:
    a, b = make_org("tenant-a"), make_org("tenant-b")
    partner_a, partner_b = make_partner("partner-a"), make_partner("partner-b")
    people: dict[str, Any] = {
        name: make_user(f"{name}@idor.test") for name in ("a_owner", "pa_owner", "b_owner", "pb_owner")
    }
    add_member(people["a_owner"], a, Role.OWNER)
    add_member(people["pa_owner"], partner_a, Role.OWNER)
    owner_b = add_member(people["b_owner"], b, Role.OWNER)
    staff_b = add_member(people["pb_owner"], partner_b, Role.OWNER)
    link_a = link(partner_a, a, scopes=DELEGABLE_ALL)
    link_b = link(partner_b, b, scopes=DELEGABLE_ALL)
    people["session_a"] = management_session(people["pa_owner"], link_a)
    objects = _foreign_objects(b, partner_b, people["b_owner"], people["pb_owner"], owner_b, staff_b, link_b)
    return World(a=a, partner_a=partner_a, b=b, partner_b=partner_b, people=people, objects=objects)


def _foreign_objects(
    b: Organisation,
    partner_b: Organisation,
    owner: Any,
    staff: Any,
    owner_b: Membership,
    staff_b: Membership,
    link_b: Any,
) -> dict[str, int]:
    """Tenant B's objects, one of each kind a route may name."""
    from partnerhub.api.models import ApiKey
    from partnerhub.billing.exports.models import ExportJob
    from partnerhub.billing.models import BillingEvent
    from partnerhub.partners.models import Application
    from partnerhub.partnerships.models import CustomProperty, StaffAssignment

    order = make_order(b, owner)
    key, _secret = api_key(b, owner, [Perm.ORG_VIEW])
    invitation = Invitation.objects.create(
        org=b, email="new@b.test", token_hash="idor" * 16, expires_at=timezone.now() + timedelta(days=7)
    )
    event = BillingEvent.objects.create(
        external_id="idor-b", kind="payment", org=b, currency="CHF", occurred_at=timezone.now(), payload_hash="0" * 64
    )
    application = Application.objects.create(
        org=b,
        company_name="B",
        country="CH",
        expected_volume=Decimal(1000),
        currency="CHF",
        contact_name="B",
        contact_email="b@b.test",
    )
    prop = CustomProperty.objects.create(partner=partner_b, name="Tier", key="tier", kind="text")
    support = support_access(b, scopes=["billing.view"], until=timezone.now() + timedelta(days=3))
    return {
        "product": customer_product(b).pk,
        "order": order.pk,
        "invoice": make_invoice(b, order=order).pk,
        "membership": owner_b.pk,
        "staff_membership": staff_b.pk,
        "invitation": invitation.pk,
        "key": ApiKey.objects.get(pk=key.pk).pk,
        "partnership": link_b.pk,
        "customer": b.pk,
        "session": management_session(staff, link_b).pk,
        "support": support.pk,
        "property": prop.pk,
        "application": application.pk,
        "job": ExportJob.objects.create(org=b, requested_by=owner, dataset="invoices", format="csv").pk,
        "event": event.pk,
        "assignment": StaffAssignment.objects.create(membership=staff_b, customer=b).pk,
        "payout": _payout(partner_b),
    }


def _payout(beneficiary: Organisation) -> int:
    from datetime import date

    from partnerhub.commissions.models import Payout

    return Payout.objects.create(beneficiary=beneficiary, currency="CHF", period=date(2026, 1, 1), amount_minor=5000).pk


# Parameter name → which of tenant B's objects it names. Extend this when you add a route.
FOREIGN_IDS: dict[str, str] = {
    "product_id": "product",
    "customer_product_id": "product",
    "order_id": "order",
    "invoice_id": "invoice",
    "membership_id": "membership",
    "member_id": "membership",
    "staff_id": "staff_membership",
    "invitation_id": "invitation",
    "key_id": "key",
    "api_key_id": "key",
    "partnership_id": "partnership",
    "provider_id": "partnership",
    "grant_id": "partnership",
    "customer_id": "customer",
    "org_id": "customer",
    "session_id": "session",
    "support_id": "support",
    "support_access_id": "support",
    "prop_id": "property",
    "property_id": "property",
    "application_id": "application",
    "job_id": "job",
    "export_id": "job",
    "event_id": "event",
    "assignment_id": "assignment",
    "payout_id": "payout",
}


@dataclass(frozen=True)
class Route:
    kind: str  # "html" or "api"
    path: str  # with {name} placeholders
    method: str
    rule: object  # a Perm, "login" or "public"
    ints: tuple[str, ...]


def html_routes() -> Iterator[Route]:
    for route, pattern in walk(get_resolver().url_patterns):
        ints = tuple(re.findall(r"<int:(\w+)>", route))
        if ints and not route.startswith("api/"):
            path = "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
            yield Route("html", path, "GET", access_rule(pattern.callback), ints)


def api_routes() -> Iterator[Route]:
    schema = api.get_openapi_schema()
    for path, item in schema["paths"].items():
        for method, op in item.items():
            ints = tuple(
                p["name"]
                for p in op.get("parameters", [])
                if p.get("in") == "path" and p.get("schema", {}).get("type") == "integer"
            )
            if ints:
                rule = op.get("x-permission")
                yield Route("api", path, method.upper(), Perm(rule) if rule in set(Perm) else rule, ints)


def operator_wide(route: Route) -> bool:
    return isinstance(route.rule, Perm) and route.rule.side == "operator"


# Field values that pass validation, so that the object lookup (not the body) decides the answer.
VALID = {
    "password": PASSWORD,
    "accept": True,
    "reason": "idor",
    "days": 30,
    "mode": "full",
    "scopes": [],
    "values": {},
    "role": "member",
    "name": "x",
    "status": "cancelled",
    "quantity": 2,
}
BY_TYPE: dict[str, Any] = {"string": "x", "integer": 1, "number": 1, "boolean": False, "array": [], "object": {}}
FORM = {"quantity": "2", "reason": "idor", "password": PASSWORD, "name": "x", "role": "member"}


def body_for(route: Route, schema: dict[str, Any]) -> dict[str, Any] | None:
    """A body the operation's schema accepts: known fields with valid values, required ones filled."""
    if route.kind != "api":
        return None
    op = schema["paths"][route.path][route.method.lower()]
    content = op.get("requestBody", {}).get("content", {}).get("application/json")
    if content is None:
        return None
    spec = _resolve(content["schema"], schema)
    props = {name: _resolve(value, schema) for name, value in spec.get("properties", {}).items()}
    body = {name: VALID[name] for name in props if name in VALID}
    for name in spec.get("required", []):
        if name not in body:
            body[name] = BY_TYPE.get(props.get(name, {}).get("type", "string"), "x")
    return body


def _resolve(spec: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in spec:
        spec = schema["components"]["schemas"][spec["$ref"].rsplit("/", 1)[1]]
    return spec


def callers(world: World) -> Iterator[tuple[str, Client, Organisation, str | None]]:
    """(who, client, organisation in the URL, API key secret) for every way into tenant A."""
    people = world.people
    member = Client()
    member.force_login(people["a_owner"])
    yield "member of A on A", reauthenticated(member), world.a, None
    staff = Client()
    staff.force_login(people["pa_owner"])
    reauthenticated(staff)
    open_in_browser(staff, [people["session_a"]])
    yield "staff of A's partner on A", staff, world.a, None
    yield "staff of A's partner on their partner", staff, world.partner_a, None
    _key, secret = api_key(world.partner_a, people["pa_owner"])
    yield "API key of A's partner on A", Client(), world.a, secret


def holds(world: World, who: str, org: Organisation, route: Route) -> bool:
    """Does this caller pass the route's own permission check on `org` (so the id decides)?"""
    user = world.people["a_owner" if who.startswith("member") else "pa_owner"]
    if not isinstance(route.rule, Perm):
        return True
    if route.kind == "html" and org == world.a and who.startswith("staff"):
        session = world.people["session_a"].pk
        return route.rule in perms_for(user, org, session_id=session)
    if route.kind == "html" and who.startswith("API"):
        return False
    return route.rule in perms_for(user, org)


def call(client: Client, route: Route, url: str, secret: str | None, body: dict[str, Any] | None) -> int:
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    if route.kind == "api":
        if body is None:
            return client.generic(route.method, url, headers=headers).status_code
        data = json.dumps(body)
        return client.generic(
            route.method, url, data=data, content_type="application/json", headers=headers
        ).status_code
    status = client.get(url, headers=headers).status_code
    return client.post(url, FORM, headers=headers).status_code if status == 405 else status


@pytest.fixture
def quiet() -> Iterator[None]:
    loggers = [logging.getLogger(name) for name in ("django.request", "django.security")]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    yield
    for logger, level in zip(loggers, levels, strict=True):
        logger.setLevel(level)


def test_foreign_ids_answer_404_everywhere(db: None, settings: Any, quiet: None) -> None:
    settings.API_RATE_LIMIT = "1000000/m"
    world = build_world()
    routes = [*html_routes(), *api_routes()]
    unknown = sorted(
        {f"{name} (in {r.path})" for r in routes if not operator_wide(r) for name in r.ints if name not in FOREIGN_IDS}
    )
    assert not unknown, (
        "Routes with object ids the IDOR sweep does not know: add each parameter name to FOREIGN_IDS in "
        f"partnerhub/access/tests/test_delegation_idor.py naming one of tenant B's objects (see _foreign_objects): {unknown}"
    )
    problems, swept, listed, refused = [], set(), [], []
    schema = api.get_openapi_schema()
    ways = list(callers(world))
    for route in routes:
        if operator_wide(route):
            listed.append(f"{route.method} {route.path}")
            continue
        values = {name: world.objects[FOREIGN_IDS[name]] for name in route.ints}
        missing = dict.fromkeys(route.ints, 2_000_000_000)
        body = body_for(route, schema)
        for who, client, org, secret in ways:
            if (route.kind == "html" and secret is not None) or not holds(world, who, org, route):
                continue
            status = call(client, route, route.path.format(org_slug=org.slug, **values), secret, body)
            if status == 404:
                swept.add(route)
                continue
            # Refused before any lookup (the same answer as for an id that exists nowhere): not a leak,
            # but not a sweep of this route either.
            if (
                status == 403
                and call(client, route, route.path.format(org_slug=org.slug, **missing), secret, body) == 403
            ):
                refused.append(f"{route.method} {route.path} as {who}")
                continue
            problems.append(f"{route.method} {route.path.format(org_slug=org.slug, **values)} as {who}: {status}")
    unswept = sorted(f"{r.method} {r.path} ({r.rule})" for r in routes if r not in swept and not operator_wide(r))
    print(
        f"IDOR sweep: {len(swept)} routes answered 404 to foreign ids, {len(refused)} calls refused before the "
        f"lookup, {len(listed)} operator-wide routes listed"
    )
    assert not problems, "foreign ids must answer 404:\n" + "\n".join(problems)
    assert not unswept, f"no caller of the sweep reaches these routes' lookup (add one): {unswept}"
