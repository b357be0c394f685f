"""A Hypothesis state machine against the access rule: random histories of partnerships and grants.

Rules write rows with the ORM (the rule in ``policy`` is what is under test): grant, request and
activate, change scopes/mode/products, extend, revoke, end the partnership, move the clock, change a
staff member's role, extra permissions or assignment limit, assign and unassign customers, withdraw
or restore partner status, grant and revoke operator support access. After each step the checks
compare ``may``, ``customers_for`` and ``managed_partnerships`` with :class:`Model`, a few lines of
Python written from DESIGN §5 that keep the same facts as plain data.

The test repeats the machine until at least :data:`MIN_STEPS` steps ran (each example inside a
savepoint that is rolled back) and prints the count.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import time_machine
from django.db import transaction
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test

from conftest import add_member
from partnerhub.access.perms import Perm, Role
from partnerhub.access.policy import customers_for, managed_partnerships, may
from partnerhub.accounts.models import User
from partnerhub.delegation.models import SupportAccess
from partnerhub.orgs.models import Membership, Organisation
from partnerhub.partnerships.models import Grant, GrantProduct, Partnership, StaffAssignment

MIN_STEPS = 10_000
EXAMPLES, STEPS = 60, 50
START = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

# DESIGN §5 as data (independent of policy.py).
DELEGABLE = [
    Perm("org.settings.manage"),
    Perm("members.manage"),
    Perm("products.manage"),
    Perm("billing.view"),
    Perm("billing.order"),
    Perm("tickets.use"),
    Perm("offers.respond"),
    Perm("audit.view"),
]
CHECKED = [Perm("org.view"), *DELEGABLE, Perm("providers.manage"), Perm("api_keys.manage")]
PAYMENT = {Perm("billing.order")}
ALL_OWN = {*CHECKED, Perm("partner_status.request")}
MEMBER_OWN = {Perm("org.view"), Perm("tickets.use")}
ADMINISTER = "partner.customers.administer"

PARTNERS, CUSTOMERS, STAFF = 2, 3, 4
# Staff i is a member of partner STAFF_HOME[i]; staff 3 is also a plain member of customer 0.
STAFF_HOME = (0, 0, 1, 0)


@dataclass
class Link:
    status: str  # pending, active, ended
    mode: str
    scopes: frozenset[Perm]
    products: frozenset[int]  # indexes 0..5 (customer c owns 2c and 2c+1)
    valid_until: datetime
    revoked: bool = False


@dataclass
class Staff:
    role: str
    administer: bool  # the extra permission
    limited: bool
    assigned: set[int] = field(default_factory=set)


@dataclass
class Model:
    now: datetime
    is_partner: list[bool]
    staff: list[Staff]
    links: dict[tuple[int, int], Link] = field(default_factory=dict)
    support: dict[int, tuple[frozenset[Perm], datetime, bool]] = field(default_factory=dict)

    def administers(self, s: int) -> bool:
        staff = self.staff[s]
        return self.is_partner[STAFF_HOME[s]] and (staff.role in ("owner", "admin") or staff.administer)

    def in_force(self, link: Link) -> bool:
        return link.status == "active" and not link.revoked and link.valid_until > self.now

    def reaches(self, s: int, p: int, c: int) -> Link | None:
        link = self.links.get((p, c))
        if link is None or STAFF_HOME[s] != p or not self.in_force(link) or not self.administers(s):
            return None
        staff = self.staff[s]
        return None if staff.limited and c not in staff.assigned else link

    def covers(self, p: int, c: int, link: Link, perm: Perm, product: int | None) -> bool:
        if perm != Perm.ORG_VIEW and perm not in link.scopes:
            return False
        if link.mode == "full":
            # Every product but those another partner's (restricted) grant names: one manager per product.
            return product is None or not any(
                product in other.products for (q, d), other in self.links.items() if d == c and q != p
            )
        return perm not in PAYMENT and (product is None or product in link.products)

    def may(self, who: str, perm: Perm, c: int, product: int | None) -> bool:
        if who == "support":
            found = self.support.get(c)
            return bool(found and not found[2] and found[1] > self.now and (perm == Perm.ORG_VIEW or perm in found[0]))
        s = int(who)
        if s == 3 and c == 0 and perm in MEMBER_OWN:
            return True
        return any((link := self.reaches(s, p, c)) and self.covers(p, c, link, perm, product) for p in range(PARTNERS))

    def customers(self, s: int, p: int, perm: Perm | None) -> set[int]:
        found = set()
        for c in range(CUSTOMERS):
            link = self.reaches(s, p, c)
            if link and (perm is None or self.covers(p, c, link, perm, None)):
                found.add(c)
        return found


STEP_COUNT = [0]
# How many checks the rule answered "yes" (a model that never allows anything proves little).
ALLOWED = [0]
# Initial staff: (role, extra administer, limited to assigned customers).
INITIAL_STAFF = (("owner", False, False), ("member", True, False), ("admin", False, False), ("member", True, True))
indexes = st.integers
# Scope sets: everything, a typical subset, nothing (seed 000), or any subset.
SCOPES = st.sampled_from(
    [frozenset(DELEGABLE), frozenset({Perm.BILLING_VIEW, Perm.PRODUCTS_MANAGE, Perm.BILLING_ORDER}), frozenset()]
) | st.frozensets(st.sampled_from(DELEGABLE))


class DelegationMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.traveller = time_machine.travel(START, tick=False)
        self.clock = self.traveller.start()
        self.partners = [
            Organisation.objects.create(name=f"P{i}", slug=f"p{i}", is_partner=True) for i in range(PARTNERS)
        ]
        self.customers = [Organisation.objects.create(name=f"C{i}", slug=f"c{i}") for i in range(CUSTOMERS)]
        operator = Organisation.objects.create(name="Op", slug="op", is_operator=True)
        from partnerhub.access.tests.delegation_factories import catalog_product

        product = catalog_product()
        from partnerhub.billing.models import CustomerProduct

        self.products = [
            CustomerProduct.objects.create(org=self.customers[i // 2], product=product).pk for i in range(2 * CUSTOMERS)
        ]
        self.users = [User.objects.create(email=f"s{i}@model.test") for i in range(STAFF)]
        self.memberships = [
            add_member(user, self.partners[STAFF_HOME[i]], Role(role), [ADMINISTER] if administer else [])
            for i, (user, (role, administer, _limited)) in enumerate(zip(self.users, INITIAL_STAFF, strict=True))
        ]
        Membership.objects.filter(pk=self.memberships[3].pk).update(assigned_customers_only=True)
        add_member(self.users[3], self.customers[0], Role.MEMBER)
        self.support_user = User.objects.create(email="support@model.test")
        add_member(self.support_user, operator, Role.OWNER)
        self.rows: dict[tuple[int, int], Partnership] = {}
        self.model = Model(
            now=START, is_partner=[True] * PARTNERS, staff=[Staff(*initial) for initial in INITIAL_STAFF]
        )
        # A start worth exploring: partner 0 manages customers 0 (full) and 1 (restricted), partner 1
        # manages customer 2; staff 3 (limited) is assigned to customer 0.
        self._grant(0, 0, "active", "full", frozenset(DELEGABLE), frozenset(), 30)
        self._grant(0, 1, "active", "restricted", frozenset(DELEGABLE), frozenset({2}), 30)
        self._grant(1, 2, "active", "full", frozenset({Perm.BILLING_VIEW}), frozenset(), 30)
        StaffAssignment.objects.create(membership=self.memberships[3], customer=self.customers[0])
        self.model.staff[3].assigned.add(0)

    def teardown(self) -> None:
        self.traveller.stop()
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)

    def step(self) -> None:
        STEP_COUNT[0] += 1

    # --- partnerships and grants ---------------------------------------------------------------------

    def _free_products(self, p: int, c: int) -> list[int]:
        taken = {
            i
            for (q, d), link in self.model.links.items()
            if (q, d) != (p, c) and link.status != "ended"
            for i in link.products
        }
        return [i for i in (2 * c, 2 * c + 1) if i not in taken]

    def _write_grant(self, p: int, c: int, link: Link) -> None:
        row = self.rows[(p, c)]
        Partnership.objects.filter(pk=row.pk).update(status=link.status)
        grant = Grant.objects.get(partnership=row)
        grant.mode, grant.scopes = link.mode, sorted(str(x) for x in link.scopes)
        grant.valid_until, grant.revoked_at = link.valid_until, self.model.now if link.revoked else None
        grant.save()
        GrantProduct.objects.filter(grant=grant).delete()
        GrantProduct.objects.bulk_create(
            [GrantProduct(grant=grant, customer_product_id=self.products[i]) for i in sorted(link.products)]
        )

    @rule(
        p=indexes(0, PARTNERS - 1),
        c=indexes(0, CUSTOMERS - 1),
        pending=st.booleans(),
        mode=st.sampled_from(["full", "restricted"]),
        scopes=SCOPES,
        pick=st.sets(st.integers(0, 1)),
        days=st.integers(1, 730),
    )
    def grant(
        self, p: int, c: int, pending: bool, mode: str, scopes: frozenset[Perm], pick: set[int], days: int
    ) -> None:
        """A new partnership with its grant, or new terms for the open one (change scopes)."""
        self.step()
        free = self._free_products(p, c)
        products = frozenset(i for i in free if i - 2 * c in pick) if mode == "restricted" else frozenset()
        self._grant(p, c, "pending" if pending else "active", mode, scopes, products, days)

    def _grant(
        self, p: int, c: int, status: str, mode: str, scopes: frozenset[Perm], products: frozenset[int], days: int
    ) -> None:
        link = self.model.links.get((p, c))
        if link is None or link.status == "ended":
            row = Partnership.objects.create(
                partner=self.partners[p], customer=self.customers[c], flow="chosen", origin="self", status=status
            )
            Grant.objects.create(partnership=row, valid_until=self.model.now)
            self.rows[(p, c)] = row
            link = Link(status, mode, scopes, products, self.model.now + timedelta(days=days))
        else:
            link = Link(link.status, mode, scopes, products, link.valid_until, link.revoked)
        self.model.links[(p, c)] = link
        self._write_grant(p, c, link)

    def _link(self, p: int, c: int) -> Link | None:
        link = self.model.links.get((p, c))
        return link if link is not None and link.status != "ended" else None

    @rule(p=indexes(0, PARTNERS - 1), c=indexes(0, CUSTOMERS - 1))
    def activate(self, p: int, c: int) -> None:
        self.step()
        link = self._link(p, c)
        if link is not None and link.status == "pending":
            link.status = "active"
            self._write_grant(p, c, link)

    @rule(p=indexes(0, PARTNERS - 1), c=indexes(0, CUSTOMERS - 1), days=st.integers(1, 730))
    def extend(self, p: int, c: int, days: int) -> None:
        self.step()
        link = self._link(p, c)
        if link is not None:
            link.valid_until = self.model.now + timedelta(days=days)
            self._write_grant(p, c, link)

    @rule(p=indexes(0, PARTNERS - 1), c=indexes(0, CUSTOMERS - 1))
    def revoke(self, p: int, c: int) -> None:
        self.step()
        link = self._link(p, c)
        if link is not None:
            link.revoked = True
            self._write_grant(p, c, link)

    @rule(p=indexes(0, PARTNERS - 1), c=indexes(0, CUSTOMERS - 1))
    def end(self, p: int, c: int) -> None:
        self.step()
        link = self._link(p, c)
        if link is not None:
            link.status, link.products = "ended", frozenset()
            self._write_grant(p, c, link)

    @rule(
        amount=st.sampled_from(
            [timedelta(seconds=1), timedelta(minutes=30), timedelta(hours=6), timedelta(days=1), timedelta(days=90)]
        )
    )
    def advance(self, amount: timedelta) -> None:
        """The clock moves (grants expire exactly when ``valid_until`` is reached)."""
        self.step()
        self.clock.shift(amount)
        self.model.now += amount

    # --- staff, partner status, support access -------------------------------------------------------

    @rule(
        s=indexes(0, STAFF - 1),
        role=st.sampled_from(["owner", "admin", "member"]),
        administer=st.booleans(),
        limited=st.booleans(),
    )
    def change_staff(self, s: int, role: str, administer: bool, limited: bool) -> None:
        self.step()
        Membership.objects.filter(pk=self.memberships[s].pk).update(
            role=role, extra_perms=[ADMINISTER] if administer else [], assigned_customers_only=limited
        )
        staff = self.model.staff[s]
        staff.role, staff.administer, staff.limited = role, administer, limited

    @rule(s=indexes(0, STAFF - 1), c=indexes(0, CUSTOMERS - 1))
    def toggle_assignment(self, s: int, c: int) -> None:
        self.step()
        staff = self.model.staff[s]
        if c in staff.assigned:
            StaffAssignment.objects.filter(membership=self.memberships[s], customer=self.customers[c]).delete()
            staff.assigned.discard(c)
        else:
            StaffAssignment.objects.create(membership=self.memberships[s], customer=self.customers[c])
            staff.assigned.add(c)

    @rule(p=indexes(0, PARTNERS - 1))
    def toggle_partner_status(self, p: int) -> None:
        self.step()
        self.model.is_partner[p] = not self.model.is_partner[p]
        Organisation.objects.filter(pk=self.partners[p].pk).update(is_partner=self.model.is_partner[p])

    @rule(c=indexes(0, CUSTOMERS - 1), scopes=st.frozensets(st.sampled_from(DELEGABLE)), hours=st.integers(1, 336))
    def grant_support(self, c: int, scopes: frozenset[Perm], hours: int) -> None:
        self.step()
        until = self.model.now + timedelta(hours=hours)
        SupportAccess.objects.filter(customer=self.customers[c], revoked_at=None).update(revoked_at=self.model.now)
        SupportAccess.objects.create(customer=self.customers[c], scopes=sorted(scopes), valid_until=until)
        self.model.support[c] = (scopes, until, False)

    @rule(c=indexes(0, CUSTOMERS - 1))
    def revoke_support(self, c: int) -> None:
        self.step()
        SupportAccess.objects.filter(customer=self.customers[c], revoked_at=None).update(revoked_at=self.model.now)
        if c in self.model.support:
            scopes, until, _revoked = self.model.support[c]
            self.model.support[c] = (scopes, until, True)

    # --- checks --------------------------------------------------------------------------------------

    @rule(
        who=st.sampled_from(["0", "1", "2", "3", "support"]),
        perm=st.sampled_from(CHECKED),
        c=indexes(0, CUSTOMERS - 1),
        product=st.sampled_from([None, 0, 1]),
    )
    def check_may(self, who: str, perm: Perm, c: int, product: int | None) -> None:
        self.step()
        index = None if product is None else 2 * c + product
        user = self.support_user if who == "support" else self.users[int(who)]
        got = may(user, perm, self.customers[c], None if index is None else self.products[index])
        assert got == self.model.may(who, perm, c, index), (who, perm, c, index, self.model)
        ALLOWED[0] += got

    @rule(s=indexes(0, STAFF - 1), p=indexes(0, PARTNERS - 1), perm=st.sampled_from([None, *CHECKED]))
    def check_lists(self, s: int, p: int, perm: Perm | None) -> None:
        self.step()
        ids = {org.pk: i for i, org in enumerate(self.customers)}
        # As a request would: the partner organisation as it is now (its partner status may have changed).
        partner = Organisation.objects.get(pk=self.partners[p].pk)
        got = {ids[pk] for pk in customers_for(self.users[s], partner, perm).values_list("pk", flat=True)}
        assert got == self.model.customers(s, p, perm), (s, p, perm, self.model)
        ALLOWED[0] += bool(got)
        partnerships = managed_partnerships(self.users[s], partner, perm)
        assert {ids[pk] for pk in partnerships.values_list("customer_id", flat=True)} == got

    @invariant()
    def every_customer_answers_like_the_model(self) -> None:
        """Cheap, every step: every staff member seeing one customer (each in turn)."""
        c = STEP_COUNT[0] % CUSTOMERS
        for s in range(STAFF):
            got = may(self.users[s], Perm.ORG_VIEW, self.customers[c])
            assert got == self.model.may(str(s), Perm.ORG_VIEW, c, None), (s, c, self.model)
            ALLOWED[0] += got


def test_the_rule_follows_the_model(db: Any) -> None:
    runs = 0
    while STEP_COUNT[0] < MIN_STEPS:
        runs += 1
        run_state_machine_as_test(
            DelegationMachine,
            settings=settings(
                max_examples=EXAMPLES,
                stateful_step_count=STEPS,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            ),
        )
    print(f"delegation model: {STEP_COUNT[0]} steps in {runs} runs, {ALLOWED[0]} allowing checks, 0 divergences")
    assert STEP_COUNT[0] >= MIN_STEPS
    assert ALLOWED[0] >= STEP_COUNT[0] // 50, "the histories hardly ever allow anything: the model proves little"
