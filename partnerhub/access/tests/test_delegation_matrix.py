"""The authorization matrix of delegated access (issue 5, "Proof"), declared as data.

Dimensions: partner staff (six kinds) × action × grant state × grant mode and product (full, restricted
naming the product, restricted not naming it) × scope set × tenant (the partner's own customer, another
partner's customer, the partner itself, an unrelated organisation) × channel:

- ``rule``: ``policy.may(user, perm, customer, product)`` for every own-organisation permission;
- ``list``: ``policy.customers_for(user, partner, perm)`` against the customers the rule allows;
- ``api`` / ``key``: HTTP through /api/v1 with the portal session or an API key of the partner;
- ``portal``: HTML pages inside a management session; ``browser``: HTML pages without one.

The expected answer of every cell comes from :func:`reference`, written from the text of DESIGN §2
and §5 (it does not call the access module). Refused writes must leave rows, audit entries and the
outbox untouched; allowed writes must record an audit entry. The universe is built once, every
grant state on its own customer, so no cell depends on another; each HTTP cell runs inside a
savepoint that is rolled back.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.test import Client

from partnerhub.access.perms import Perm
from partnerhub.access.policy import customers_for, may
from partnerhub.access.tests.delegation_factories import (
    GRANT_STATES,
    STAFF_KINDS,
    add_staff,
    api_key,
    assign,
    catalog_product,
    customer_product,
    link,
    make_org,
    make_partner,
    management_session,
    open_in_browser,
)
from partnerhub.accounts.models import User
from partnerhub.audit.models import AuditEntry
from partnerhub.billing.models import CustomerProduct, Invoice, Order
from partnerhub.orgs.models import Organisation

NOW = datetime(2026, 6, 15, 10, 0, tzinfo=UTC)

# --- the reference: DESIGN §2 and §5 as plain data and one function --------------------------------------

# DESIGN §2, own-organisation vocabulary.
OWN = frozenset(
    Perm(name)
    for name in (
        "org.view",
        "org.settings.manage",
        "members.manage",
        "products.manage",
        "billing.view",
        "billing.order",
        "providers.manage",
        "partner_status.request",
        "tickets.use",
        "offers.respond",
        "api_keys.manage",
        "audit.view",
    )
)
# What a customer cannot delegate (providers, partner status, API keys); seeing it is implied.
NOT_DELEGABLE = frozenset({Perm("providers.manage"), Perm("partner_status.request"), Perm("api_keys.manage")})
IMPLIED = Perm("org.view")
# Spending the customer's money: only a full grant carries payment means.
PAYMENT = frozenset({Perm("billing.order")})
# Owners and admins hold every own-organisation permission; members see it and use support.
ROLE_OWN = {"owner": OWN, "admin": OWN, "member": frozenset({Perm("org.view"), Perm("tickets.use")})}
# (role, administers customers on the partner, limited to assigned customers, assigned to the customer)
STAFF: dict[str, tuple[str, bool, bool, bool]] = {
    "owner": ("owner", True, False, False),
    "admin": ("admin", True, False, False),
    "member_admin": ("member", True, False, False),
    "member_plain": ("member", False, False, False),
    "assigned_yes": ("member", True, True, True),
    "assigned_no": ("member", True, True, False),
}
SCOPE_SETS: dict[str, frozenset[Perm]] = {
    "some": frozenset({Perm.BILLING_VIEW, Perm.BILLING_ORDER, Perm.PRODUCTS_MANAGE, Perm.AUDIT_VIEW}),
    "empty": frozenset(),  # seed 000: the customer is visible, nothing is editable
}
MODES = ("full", "restricted")
TENANTS = ("own", "rival", "partner", "unrelated")
IN_FORCE = ("active", "expiring_today")


@dataclass(frozen=True)
class Cell:
    kind: str
    tenant: str
    state: str = "-"
    mode: str = "-"
    scopes: str = "-"


def member_perms(kind: str, cell: Cell) -> frozenset[Perm]:
    """The membership branch: staff are members of the partner organisation only."""
    return ROLE_OWN[STAFF[kind][0]] if cell.tenant == "partner" else frozenset()


def delegated(cell: Cell, perm: Perm, product: str | None) -> bool:
    """The partner branch of DESIGN §5 for the partner's own customer."""
    if cell.tenant != "own" or cell.state not in IN_FORCE:
        return False
    _role, administers, limited, assigned = STAFF[cell.kind]
    if not administers or (limited and not assigned):
        return False
    if perm != IMPLIED and (perm not in SCOPE_SETS[cell.scopes] or perm in NOT_DELEGABLE):
        return False
    return not (cell.mode == "restricted" and (perm in PAYMENT or product == "out"))


def reference(cell: Cell, perm: Perm, product: str | None = None, *, branches: str = "both") -> bool:
    """May staff `cell.kind` use `perm` on the tenant (and its product "in"/"out") through `branches`?"""
    mine = branches in ("both", "member") and perm in member_perms(cell.kind, cell)
    theirs = branches in ("both", "partner") and delegated(cell, perm, product)
    return mine or theirs


# --- the universe ----------------------------------------------------------------------------------------


@dataclass
class Universe:
    partner: Organisation
    staff: dict[str, User]
    keys: dict[str, str]
    tenants: dict[Cell, tuple[Organisation, CustomerProduct, CustomerProduct]] = field(default_factory=dict)
    sessions: dict[tuple[str, int], int] = field(default_factory=dict)
    own_customers: dict[Cell, Organisation] = field(default_factory=dict)


def _tenant(org: Organisation) -> tuple[Organisation, CustomerProduct, CustomerProduct]:
    return org, customer_product(org), customer_product(org)


def build_universe() -> Universe:
    partner = make_partner("matrix-partner")
    staff = {kind: add_staff(partner, kind) for kind in STAFF_KINDS}
    keys = {kind: api_key(partner, user)[1] for kind, user in staff.items()}
    universe = Universe(partner=partner, staff=staff, keys=keys)
    rival = make_partner("rival-partner")
    rival_customer = _tenant(make_org("rival-customer"))
    rival_link = link(rival, rival_customer[0], scopes=SCOPE_SETS["some"], now=NOW)
    unrelated = _tenant(make_org("unrelated"))
    itself = _tenant(partner)
    for kind in STAFF_KINDS:
        universe.tenants[Cell(kind, "rival")] = rival_customer
        universe.tenants[Cell(kind, "partner")] = itself
        universe.tenants[Cell(kind, "unrelated")] = unrelated
        # A forged session row on the rival's customer: the rule must not honour it.
        universe.sessions[(kind, rival_customer[0].pk)] = management_session(staff[kind], rival_link).pk
    for state in GRANT_STATES:
        for mode in MODES:
            for scopes in SCOPE_SETS:
                org, x_in, x_out = _tenant(make_org(f"c-{state}-{mode}-{scopes}".replace("_", "-")))
                for kind in STAFF_KINDS:
                    universe.tenants[Cell(kind, "own", state, mode, scopes)] = (org, x_in, x_out)
                universe.own_customers[Cell("-", "own", state, mode, scopes)] = org
                if state == "none":
                    continue
                products = [x_in] if mode == "restricted" else []
                partnership = link(
                    partner, org, scopes=SCOPE_SETS[scopes], mode=mode, products=products, state=state, now=NOW
                )
                for kind in STAFF_KINDS:
                    universe.sessions[(kind, org.pk)] = management_session(staff[kind], partnership).pk
    assign(staff["assigned_yes"], partner, [*universe.own_customers.values(), rival_customer[0]])
    assign(staff["assigned_no"], partner, [unrelated[0], rival_customer[0]])
    return universe


def cells() -> list[Cell]:
    found = [Cell(kind, tenant) for kind in STAFF_KINDS for tenant in ("rival", "partner", "unrelated")]
    for kind in STAFF_KINDS:
        for state in GRANT_STATES:
            for mode in MODES:
                found += [Cell(kind, "own", state, mode, scopes) for scopes in SCOPE_SETS]
    return found


# --- HTTP actions ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Action:
    name: str
    channel: str  # "api" (session and key) or "html"
    method: str
    url: str  # {slug}, {product}
    perm: Perm
    ok: int
    body: Callable[[Organisation], dict[str, Any]] | None = None
    per_product: bool = False

    @property
    def writes(self) -> bool:
        return self.method != "GET"


def _order(_org: Organisation) -> dict[str, Any]:
    return {"currency": "CHF", "lines": [{"product_id": catalog_product().pk, "quantity": 1}]}


ACTIONS = [
    Action("invoices", "api", "GET", "/api/v1/orgs/{slug}/invoices", Perm.BILLING_VIEW, 200),
    Action("orders", "api", "GET", "/api/v1/orgs/{slug}/orders", Perm.BILLING_VIEW, 200),
    Action("products", "api", "GET", "/api/v1/orgs/{slug}/products", Perm.ORG_VIEW, 200),
    Action("members", "api", "GET", "/api/v1/orgs/{slug}/members", Perm.ORG_VIEW, 200),
    Action("audit log", "api", "GET", "/api/v1/orgs/{slug}/audit-log", Perm.AUDIT_VIEW, 200),
    Action("product", "api", "GET", "/api/v1/orgs/{slug}/products/{product}", Perm.ORG_VIEW, 200, per_product=True),
    Action(
        "cancel product",
        "api",
        "PATCH",
        "/api/v1/orgs/{slug}/products/{product}",
        Perm.PRODUCTS_MANAGE,
        200,
        lambda org: {"status": "cancelled"},
        per_product=True,
    ),
    Action("order", "api", "POST", "/api/v1/orgs/{slug}/orders", Perm.BILLING_ORDER, 201, _order),
    Action(
        "settings", "api", "PATCH", "/api/v1/orgs/{slug}", Perm.ORG_SETTINGS_MANAGE, 200, lambda org: {"name": "New"}
    ),
    Action("invoices page", "html", "GET", "/o/{slug}/invoices/", Perm.BILLING_VIEW, 200),
    Action("products page", "html", "GET", "/o/{slug}/products/", Perm.ORG_VIEW, 200),
    Action("members page", "html", "GET", "/o/{slug}/members/", Perm.ORG_VIEW, 200),
    Action("audit page", "html", "GET", "/o/{slug}/audit/", Perm.AUDIT_VIEW, 200),
    Action("order form", "html", "GET", "/o/{slug}/orders/new/", Perm.BILLING_ORDER, 200),
    Action(
        "cancel product page",
        "html",
        "POST",
        "/o/{slug}/products/{product}/cancel/",
        Perm.PRODUCTS_MANAGE,
        302,
        lambda org: {},
        per_product=True,
    ),
    Action(
        "settings page",
        "html",
        "POST",
        "/o/{slug}/settings/",
        Perm.ORG_SETTINGS_MANAGE,
        302,
        lambda org: {"name": "New", "country": "CH", "website": "", "billing_email": ""},
    ),
]

# channel → (the actions it runs, which branches of the rule it reaches)
CHANNELS = {
    "api": ("api", "both"),
    "key": ("api", "both"),
    "portal": ("html", "partner"),
    "browser": ("html", "member"),
}
# The API key and the browser without a session differ from "api" and "portal" by the way in only:
# they run with the first scope set, which keeps the whole matrix near a minute.
LIGHT_CHANNELS = ("key", "browser")


def expected(cell: Cell, action: Action, channel: str, product: str | None, *, session: bool) -> int | str:
    """The status code the cell must answer, or "refused" (403, or 404 for a product outside the grant).

    `session`: the browser has a management session open on the tenant (portal channel). When that
    session gives no access (any more), the request ends it and leads back to the partner (302).
    """
    branches = CHANNELS[channel][1]
    if channel == "portal" and cell.tenant == "partner":
        branches = "member"  # no session is open on the partner itself: its own membership counts
    if not reference(cell, IMPLIED, branches=branches):
        return "closed" if session else 404
    return action.ok if reference(cell, action.perm, product, branches=branches) else "refused"


def answered_as(want: int | str, got: int, action: Action) -> bool:
    if want == "closed":
        return got == 302
    if want == "refused":
        # A product the caller may not act on may be hidden (404) as well as refused (403).
        return got == 403 or (action.per_product and got == 404)
    return got == want


def snapshot(org: Organisation, product: CustomerProduct) -> tuple[Any, ...]:
    return (
        # Ending a management session that closed is what a refused request inside it does (302).
        AuditEntry.objects.exclude(action__startswith="management_session.").count(),
        len(mail.outbox),
        Order.objects.count(),
        Invoice.objects.count(),
        CustomerProduct.objects.count(),
        list(Organisation.objects.filter(pk=org.pk).values()),
        list(CustomerProduct.objects.filter(pk=product.pk).values()),
    )


def call(client: Client, action: Action, org: Organisation, product: CustomerProduct, secret: str | None) -> int:
    url = action.url.format(slug=org.slug, product=product.pk)
    headers = {"Authorization": f"Bearer {secret}"} if secret else {}
    body = action.body(org) if action.body else None
    if action.channel == "api" and body is not None:
        return client.generic(
            action.method, url, data=json.dumps(body), content_type="application/json", headers=headers
        ).status_code
    if action.method == "GET":
        return client.get(url, headers=headers).status_code
    return client.post(url, body or {}, headers=headers).status_code


def run_http(
    universe: Universe, cell: Cell, channel: str, clients: dict[tuple[str, str], Client], capture: Any
) -> tuple[int, list[str]]:
    """Every action of `channel` for `cell`; returns the cell count and the unexpected answers."""
    org, x_in, x_out = universe.tenants[cell]
    problems: list[str] = []
    count = 0
    for action in ACTIONS:
        if action.channel != CHANNELS[channel][0]:
            continue
        for product in ("in", "out") if action.per_product else (None,):
            target = x_out if product == "out" else x_in
            session = channel == "portal" and (cell.kind, org.pk) in universe.sessions
            want = expected(cell, action, channel, product, session=session)
            client = clients[(cell.kind, channel)]
            secret = universe.keys[cell.kind] if channel == "key" else None
            with transaction.atomic():
                before = snapshot(org, target)
                with capture(execute=True):
                    got = call(client, action, org, target, secret)
                after = snapshot(org, target)
                transaction.set_rollback(True)
            count += 1
            where = f"{channel} {action.name} [{product}] {cell}"
            if not answered_as(want, got, action):
                problems.append(f"{where}: expected {want}, got {got}")
            elif action.writes and want != action.ok and before != after:
                problems.append(f"{where}: refused but changed {before} → {after}")
            elif action.writes and want == action.ok and after[0] <= before[0]:
                problems.append(f"{where}: allowed write left no audit entry")
    return count, problems


@pytest.fixture
def universe(db: None, settings: Any) -> Any:
    settings.API_RATE_LIMIT = "1000000/m"
    # Thousands of expected 403/404 answers: keep Django's request warnings out of the report.
    quiet = [logging.getLogger(name) for name in ("django.request", "django.security")]
    levels = [logger.level for logger in quiet]
    for logger in quiet:
        logger.setLevel(logging.ERROR)
    with time_machine.travel(NOW, tick=False):
        yield build_universe()
    for logger, level in zip(quiet, levels, strict=True):
        logger.setLevel(level)


def test_authorization_matrix(universe: Universe, django_capture_on_commit_callbacks: Any) -> None:
    problems: list[str] = []
    n = 0
    # 1. The rule itself, for every own-organisation permission, with and without a product.
    for cell in cells():
        org, x_in, x_out = universe.tenants[cell]
        user = universe.staff[cell.kind]
        for perm in sorted(OWN):
            for product, target in ((None, None), ("in", x_in), ("out", x_out)):
                n += 1
                got = may(user, perm, org, target)
                if got != reference(cell, perm, product):
                    problems.append(f"may {perm} [{product}] {cell}: expected {not got}, got {got}")
    # 2. Its list counterpart: the customers the rule allows, per staff member and permission.
    for kind in STAFF_KINDS:
        for asked in [None, *sorted(OWN)]:
            n += 1
            want = {
                org.slug
                for key, org in universe.own_customers.items()
                if reference(Cell(kind, "own", key.state, key.mode, key.scopes), asked or IMPLIED)
            }
            listed = set(customers_for(universe.staff[kind], universe.partner, asked).values_list("slug", flat=True))
            if listed != want:
                problems.append(f"customers_for {kind} {asked}: missing {want - listed}, extra {listed - want}")
    # 3. HTTP: the API with the session and with a key, the portal inside and outside a session.
    clients: dict[tuple[str, str], Client] = {}
    for kind, user in universe.staff.items():
        for channel in CHANNELS:
            client = Client()
            if channel != "key":
                client.force_login(user)
            if channel == "portal":
                open_in_browser_ids(client, [sid for (k, _org), sid in universe.sessions.items() if k == kind])
            clients[(kind, channel)] = client
    for cell in cells():
        for channel in CHANNELS:
            if channel in LIGHT_CHANNELS and cell.scopes == "empty":
                continue
            count, found = run_http(universe, cell, channel, clients, django_capture_on_commit_callbacks)
            n += count
            problems += found
    print(f"authorization matrix: {n} cells")
    assert n >= 5000
    assert not problems, f"{len(problems)} unexpected answers of {n}:\n" + "\n".join(problems[:60])


def open_in_browser_ids(client: Client, session_ids: list[int]) -> None:
    from partnerhub.delegation.models import ManagementSession

    open_in_browser(client, ManagementSession.objects.filter(pk__in=session_ids))
