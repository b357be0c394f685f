"""Property tests of accrual and the ledger (DESIGN §8): random histories against a reference model.

A history is a list of operations on a small world (three partners, an affiliate, four customers,
the seed program): partnerships start, change their grant (full ↔ restricted, other products) and end
(origin partner or self, full or restricted grants), customers sign up through the affiliate, tiers change, customers pay and renew (1–3 lines in CHF or
EUR), refunds and chargebacks (full or partial, never more than is left: the ingest rule), and the
accrual runs in random batch splits, out of order (events that occurred before ones already
accrued), with duplicate deliveries, and approve_due runs at various clocks.

The clock only moves forward and every change of the world takes effect at the current clock, while
an event may have occurred some time before it: as in production, a late event meets the history as
it was at its time. After every accrual the ledger must equal :class:`Reference` — written here from
the rules in ``accrual``'s module docstring without its code — and the rollups a recomputation.
"""

from __future__ import annotations

import calendar
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest
from django.db import connection, transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from partnerhub.affiliates.models import Affiliate, AffiliateStatus, Referral
from partnerhub.billing.models import BillingEvent, CustomerProduct
from partnerhub.catalog.models import Product
from partnerhub.commissions.accrual import accrue_events, accrue_pending
from partnerhub.commissions.ledger import (
    approve_due,
    recompute_monthly,
    recompute_totals,
    shift,
    stored_monthly,
    stored_totals,
)
from partnerhub.commissions.models import LedgerEntry, PendingEvent
from partnerhub.commissions.tests.factories import (
    SEED_PRODUCTS,
    customer_org,
    event,
    partner_org,
    seed_program,
    set_tier,
)
from partnerhub.orgs.models import Organisation
from partnerhub.partnerships.models import GrantMode, GrantProduct, Partnership, PartnershipStatus
from partnerhub.partnerships.services.common import GrantInput, apply_grant

pytestmark = pytest.mark.django_db

HISTORIES = 520  # sequences of the reference-model test per run (the issue asks for ≥ 500)
STATUS_HISTORIES = 100  # sequences of the status-transition test per run
EXAMPLES_RUN = {"reference": 0, "status": 0, "entries": 0, "checked": 0, "reversals": 0, "regrants": 0}

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
PARTNERS, CUSTOMERS = 3, 4
SKUS = sorted(SEED_PRODUCTS)
TIERS = (None, "Bronze", "Silver", "Gold", "Platinum")
AFFILIATE_MONTHS = 2
HOLD_DAYS = 30

# Seed 004's table, restated (percent per category in Bronze, Silver, Gold, Platinum; base 0 %).
PARTNER_RATES = {
    "shared-hosting": (10, 15, 20, 25),
    "domains-ssl": (10, 10, 10, 10),
    "cloud-vps": (5, 10, 15, 20),
    "dedicated-servers": (5, 7, 10, 12),
}
AFFILIATE_RATES = {"shared-hosting": 10, "domains-ssl": 5, "cloud-vps": 5, "dedicated-servers": 5}


# --- the reference model ---------------------------------------------------------------------------


@dataclass
class Link:
    partner: int  # org id
    customer: int
    origin: str
    start: datetime
    end: datetime | None
    # What its grant covered from when on, in time order: skus, or None for a full grant.
    grants: list[tuple[datetime, frozenset[str] | None]]

    def active_at(self, t: datetime) -> bool:
        return self.start <= t and (self.end is None or t < self.end)

    def skus_at(self, t: datetime) -> frozenset[str] | None:
        found = self.grants[0][1]
        for since, skus in self.grants:
            if since <= t:
                found = skus
        return found

    @property
    def skus(self) -> frozenset[str] | None:
        """What it covers now (the clock only moves forward)."""
        return self.grants[-1][1]


@dataclass
class Ev:
    pk: int
    kind: str
    customer: int
    currency: str
    at: datetime
    lines: list[tuple[str, int]]  # (sku, base in cents)
    refers_to: int | None = None  # pk of the refunded event

    @property
    def total(self) -> int:
        return sum(cents for _sku, cents in self.lines)


@dataclass
class Reference:
    """The ledger as the documented rules define it, computed from scratch."""

    links: list[Link] = field(default_factory=list)
    tiers: dict[int, list[tuple[datetime, str | None]]] = field(default_factory=lambda: defaultdict(list))
    referrals: dict[int, tuple[int, datetime]] = field(default_factory=dict)
    events: dict[int, Ev] = field(default_factory=dict)
    accrued_at: dict[int, datetime] = field(default_factory=dict)  # the clock when each event was accrued

    def tier(self, partner: int, t: datetime) -> str | None:
        found = None
        for effective, name in self.tiers[partner]:  # in the order recorded; times never decrease
            if effective <= t:
                found = name
        return found

    def manager(self, customer: int, sku: str, t: datetime, read_at: datetime) -> Link | None:
        """Who manages `sku` at `t`: a restricted grant naming it, else the full grant, of a partnership
        active at `t` — whenever the event is accrued (`read_at`), even after the partnership ended."""
        active = [k for k in self.links if k.customer == customer and k.active_at(t)]
        for k in active:
            skus = k.skus_at(t)
            if skus is not None and sku in skus:
                return k
        full = [k for k in active if k.skus_at(t) is None]
        assert len(full) <= 1
        return full[0] if full else None

    def commissions(self, ev: Ev) -> list[dict[str, Any]]:
        rows = []
        for number, (sku, cents) in enumerate(ev.lines, start=1):
            category = SEED_PRODUCTS[sku]
            k = self.manager(ev.customer, sku, ev.at, self.accrued_at[ev.pk])
            if k is not None:
                tier = self.tier(k.partner, ev.at)
                rate = PARTNER_RATES[category][TIERS.index(tier) - 1] if tier else 0
                who, kind = k.partner, k.origin
            elif ev.customer in self.referrals and self._affiliate_pays(ev.customer, ev.at):
                who, kind, tier, rate = self.referrals[ev.customer][0], "affiliate", None, AFFILIATE_RATES[category]
            else:
                continue
            amount = half_up(Fraction(cents * rate, 100))
            if amount > 0:
                rows.append(
                    {
                        "key": (ev.pk, number),
                        "beneficiary": who,
                        "type": kind,
                        "currency": ev.currency,
                        "amount": amount,
                        "tier": tier or "",
                        "rate": rate,
                        "reverses": None,
                        "at": ev.at,
                        "hold": ev.at + timedelta(days=HOLD_DAYS),
                    }
                )
        return rows

    def _affiliate_pays(self, customer: int, t: datetime) -> bool:
        _who, since = self.referrals[customer]
        return since <= t < plus_months(since, AFFILIATE_MONTHS)

    def reversals(self, refund: Ev) -> list[dict[str, Any]]:
        assert refund.refers_to is not None
        original = self.events[refund.refers_to]
        refunds = sorted(
            (e for e in self.events.values() if e.refers_to == original.pk and e.pk <= refund.pk), key=lambda e: e.pk
        )
        rows = []
        for entry in self.commissions(original):
            sku = original.lines[entry["key"][1] - 1][0]
            before = reversed_fraction(original, refunds[:-1], sku)
            upto = reversed_fraction(original, refunds, sku)
            a = entry["amount"]
            amount = half_up(a * upto) - half_up(a * before)
            if amount > 0:
                rows.append(
                    entry
                    | {
                        "key": (refund.pk, entry["key"][1]),
                        "amount": -amount,
                        "reverses": entry["key"],
                        "at": refund.at,
                        "hold": max(entry["hold"], refund.at),
                    }
                )
        return rows

    def ledger(self, accrued: set[int]) -> dict[tuple[int, int], dict[str, Any]]:
        rows: list[dict[str, Any]] = []
        for pk in sorted(accrued):
            ev = self.events[pk]
            rows += self.reversals(ev) if ev.refers_to is not None else self.commissions(ev)
        return {row["key"]: row for row in rows}


def reversed_fraction(original: Ev, refunds: list[Ev], sku: str) -> Fraction:
    """The documented share of `original`'s commission on `sku` that `refunds` reverse: a refund
    line reverses the lines of its own product (up to their amount); what names another product or
    goes beyond spreads over the whole event; a fully refunded event is fully reversed."""
    total = original.total
    by_sku: dict[str, int] = defaultdict(int)
    for line_sku, cents in original.lines:
        by_sku[line_sku] += cents
    refunded: dict[str, int] = defaultdict(int)
    spread = 0
    for ev in refunds:
        for line_sku, cents in ev.lines:
            if line_sku in by_sku:
                refunded[line_sku] += cents
            else:
                spread += cents
    if sum(refunded.values()) + spread >= total:
        return Fraction(1)
    spread += sum(max(0, refunded[s] - by_sku[s]) for s in by_sku)
    return min(Fraction(1), Fraction(min(refunded[sku], by_sku[sku]), by_sku[sku]) + Fraction(spread, total))


def half_up(value: Fraction) -> int:
    """Round half away from zero (all values here are ≥ 0)."""
    assert value >= 0
    return int(value + Fraction(1, 2))


def plus_months(t: datetime, months: int) -> datetime:
    year, month = divmod(t.month - 1 + months, 12)
    year, month = t.year + year, month + 1
    return t.replace(year=year, month=month, day=min(t.day, calendar.monthrange(year, month)[1]))


# --- the world ---------------------------------------------------------------------------------------


@dataclass
class World:
    program: Any
    partners: list[Organisation]
    affiliate: Organisation
    customers: list[Organisation]
    holdings: dict[tuple[int, str], CustomerProduct]  # (customer index, sku)


@pytest.fixture
def world(operator_org: Organisation) -> World:
    program = seed_program(operator_org, hold_days=HOLD_DAYS, affiliate_months=AFFILIATE_MONTHS)
    partners = [partner_org(f"partner-{i}") for i in range(PARTNERS)]
    affiliate = Organisation.objects.create(name="Affiliate", slug="affiliate", is_affiliate=True)
    Affiliate.objects.create(org=affiliate, code="aff", status=AffiliateStatus.APPROVED)
    customers = [customer_org(f"customer-{i}") for i in range(CUSTOMERS)]
    products = {p.sku: p for p in Product.objects.filter(sku__in=SKUS)}
    holdings = {
        (i, sku): CustomerProduct.objects.create(org=c, product=products[sku])
        for i, c in enumerate(customers)
        for sku in SKUS
    }
    return World(program, partners, affiliate, customers, holdings)


# --- histories -----------------------------------------------------------------------------------------

partner = st.integers(0, PARTNERS - 1)
customer = st.integers(0, CUSTOMERS - 1)
cents = st.integers(1, 60_000) | st.sampled_from([1, 5, 33, 50, 99, 333, 1005, 3333])
lines = st.lists(st.tuples(st.sampled_from(SKUS), cents), min_size=1, max_size=3)
late = st.integers(1, 60 * 24 * 10) | st.just(1)  # minutes the event occurred before the clock

OPS = {
    "start": st.tuples(st.just("start"), partner, customer, st.sampled_from(["partner", "self"]),
                       st.booleans(), st.frozensets(st.sampled_from(SKUS), min_size=1)),
    "end": st.tuples(st.just("end"), partner, customer),
    "regrant": st.tuples(st.just("regrant"), partner, customer, st.booleans(),
                         st.frozensets(st.sampled_from(SKUS), min_size=1)),
    "refer": st.tuples(st.just("refer"), customer),
    "tier": st.tuples(st.just("tier"), partner, st.sampled_from(TIERS)),
    "pay": st.tuples(st.just("pay"), customer, st.sampled_from(["payment", "renewal"]),
                     st.sampled_from(["CHF", "EUR"]), lines, late),
    "refund": st.tuples(st.just("refund"), st.integers(0, 50), st.sampled_from(["refund", "chargeback"]),
                        st.sampled_from(["full", "half", "cent"]) | st.fractions(0, 1, max_denominator=97), late),
    "accrue": st.tuples(st.just("accrue"), st.integers(0, 2**16)),
    "replay": st.tuples(st.just("replay"), st.integers(0, 2**16)),
    "approve": st.tuples(st.just("approve"), st.integers(-10, 70)),
    "wait": st.tuples(st.just("wait"), st.integers(1, 24 * 25)),
    "payout": st.tuples(st.just("payout"), st.integers(0, 2**16)),
}  # fmt: skip


def history(*names: str, weights: dict[str, int] | None = None) -> st.SearchStrategy[list[tuple[Any, ...]]]:
    weights = weights or {}
    op = st.one_of(*[OPS[n] for n in names for _ in range(weights.get(n, 1))])
    return st.lists(op, min_size=6, max_size=40)


HISTORY = history(
    "start", "end", "regrant", "refer", "tier", "pay", "refund", "accrue", "replay", "approve", "wait",
    weights={"pay": 3, "refund": 2, "start": 2, "accrue": 2, "tier": 2, "regrant": 2},
)  # fmt: skip
STATUS_HISTORY = history(
    "start", "tier", "pay", "refund", "accrue", "approve", "wait", "payout",
    weights={"pay": 3, "approve": 2, "payout": 2, "accrue": 2},
)  # fmt: skip


# A start worth exploring (the histories change it): partner 0 manages customer 0 (full), partner 1
# customer 1's hosting and VPS (restricted, self-chosen), partner 2 customer 2; customer 3 came
# through the affiliate; the partners have tiers.
PRELUDE: list[tuple[Any, ...]] = [
    ("start", 0, 0, "partner", False, frozenset()),
    ("start", 1, 1, "self", True, frozenset({"web-hosting", "vps-s"})),
    ("start", 2, 2, "partner", False, frozenset()),
    ("refer", 3),
    ("tier", 0, "Silver"),
    ("tier", 1, "Gold"),
    ("tier", 2, "Bronze"),
]


class Run:
    """Plays one history on the database and on the reference, checking as it goes."""

    def __init__(self, world: World, *, payouts: bool = False) -> None:
        self.w = world
        self.ref = Reference()
        self.clock = START
        self.accrued: set[int] = set()
        self.approvals: list[tuple[datetime, set[tuple[int, int]]]] = []
        self.payouts = payouts
        self.seen_status: dict[tuple[int, int], int] = {}

    # operations

    def play(self, ops: list[tuple[Any, ...]]) -> None:
        for op in PRELUDE + ops:
            getattr(self, f"op_{op[0]}")(*op[1:])
            self.clock += timedelta(minutes=1)
        self.op_accrue(None)
        self.op_replay(7)
        self.op_approve(400)

    def op_wait(self, hours: int) -> None:
        self.clock += timedelta(hours=hours)

    def op_start(self, p: int, c: int, origin: str, restricted: bool, skus: frozenset[str]) -> None:
        pid, cid = self.w.partners[p].pk, self.w.customers[c].pk
        active = [k for k in self.ref.links if k.customer == cid and k.active_at(self.clock)]
        if any(k.partner == pid for k in active):
            return
        if restricted:
            taken = {s for k in active if k.skus is not None for s in k.skus}
            skus = skus - taken
            if not skus:
                return
        elif any(k.skus is None for k in active):
            return  # one full partnership per customer
        from partnerhub.commissions.tests.factories import link

        link(
            self.w.partners[p],
            self.w.customers[c],
            origin=origin,
            since=self.clock,
            mode=GrantMode.RESTRICTED if restricted else GrantMode.FULL,
            products=[self.w.holdings[(c, s)] for s in sorted(skus)] if restricted else (),
        )
        self.ref.links.append(Link(pid, cid, origin, self.clock, None, [(self.clock, skus if restricted else None)]))

    def op_regrant(self, p: int, c: int, restricted: bool, skus: frozenset[str]) -> None:
        """The customer grants an active partnership new access (mode and products) from now on."""
        pid, cid = self.w.partners[p].pk, self.w.customers[c].pk
        now = [k for k in self.ref.links if k.customer == cid and k.active_at(self.clock)]
        mine = next((k for k in now if k.partner == pid), None)
        if mine is None:
            return
        others = [k for k in now if k is not mine]
        if restricted:
            skus = skus - {s for k in others if k.skus is not None for s in k.skus}
            if not skus:
                return
        elif any(k.skus is None for k in others):
            return  # one full partnership per customer
        partnership = Partnership.objects.select_related("grant").get(
            partner_id=pid, customer_id=cid, status=PartnershipStatus.ACTIVE
        )
        data = GrantInput(
            mode=GrantMode.RESTRICTED if restricted else GrantMode.FULL,
            product_ids=frozenset(self.w.holdings[(c, s)].pk for s in skus) if restricted else frozenset(),
        )
        apply_grant(partnership.grant, data, by=None, now=self.clock)
        mine.grants.append((self.clock, frozenset(skus) if restricted else None))
        EXAMPLES_RUN["regrants"] += 1

    def op_end(self, p: int, c: int) -> None:
        pid, cid = self.w.partners[p].pk, self.w.customers[c].pk
        for k in self.ref.links:
            if k.partner == pid and k.customer == cid and k.end is None:
                # As the partnership service ends one: its restricted grant lets go of the products
                # (its coverage history keeps them for events from before the end).
                GrantProduct.objects.filter(
                    grant__partnership__partner_id=pid,
                    grant__partnership__customer_id=cid,
                    grant__partnership__status=PartnershipStatus.ACTIVE,
                ).delete()
                Partnership.objects.filter(partner_id=pid, customer_id=cid, status=PartnershipStatus.ACTIVE).update(
                    status=PartnershipStatus.ENDED, ended_at=self.clock
                )
                k.end = self.clock

    def op_refer(self, c: int) -> None:
        cid = self.w.customers[c].pk
        if cid in self.ref.referrals:
            return
        Referral.objects.create(customer_id=cid, affiliate=self.w.affiliate.affiliate, created_at=self.clock)
        self.ref.referrals[cid] = (self.w.affiliate.pk, self.clock)

    def op_tier(self, p: int, name: str | None) -> None:
        set_tier(self.w.partners[p], name, self.clock, self.w.program)
        self.ref.tiers[self.w.partners[p].pk].append((self.clock, name))

    def op_pay(self, c: int, kind: str, currency: str, items: list[tuple[str, int]], minutes: int) -> None:
        at = self.clock - timedelta(minutes=minutes)
        row = event(self.w.customers[c], kind, [(s, cents_to_decimal(n)) for s, n in items], at=at, currency=currency)
        self.ref.events[row.pk] = Ev(row.pk, kind, row.org_id, currency, at, list(items))

    def op_refund(self, which: int, kind: str, portion: Any, minutes: int) -> None:
        originals = [e for e in self.ref.events.values() if e.refers_to is None]
        if not originals:
            return
        original = originals[which % len(originals)]
        left = original.total - sum(e.total for e in self.ref.events.values() if e.refers_to == original.pk)
        if left <= 0:
            return  # the ingest service refuses refunds beyond the paid amount
        amount = {"full": left, "half": max(1, left // 2), "cent": 1}.get(portion) if isinstance(portion, str) else None
        if amount is None:
            amount = max(1, min(left, int(left * portion)))
        sku = original.lines[which % len(original.lines)][0]
        items = [(sku, amount)]
        at = max(original.at, self.clock - timedelta(minutes=minutes))
        stored = BillingEvent.objects.get(pk=original.pk)
        customer_org = Organisation.objects.get(pk=original.customer)
        row = event(customer_org, kind, [(sku, cents_to_decimal(amount))], at=at, refers_to=stored,
                    currency=original.currency)  # fmt: skip
        self.ref.events[row.pk] = Ev(row.pk, kind, original.customer, original.currency, at, items, original.pk)

    def op_accrue(self, seed: int | None) -> None:
        waiting = sorted(set(self.ref.events) - self.accrued)
        if seed is None:
            accrue_pending(batch_events=3)
            self._accrued(waiting)
        else:
            rng = random.Random(seed)
            rng.shuffle(waiting)
            cuts = sorted(rng.sample(range(1, len(waiting)), min(rng.randint(0, 3), max(len(waiting) - 1, 0))))
            for chunk in (waiting[a:b] for a, b in zip([0, *cuts], [*cuts, len(waiting)], strict=True)):
                if not chunk:
                    continue
                accrue_events(chunk)
                # A refund brings its original along when that was not accrued yet.
                self._accrued([*chunk, *(self.ref.events[pk].refers_to for pk in chunk)])
        self.check()

    def _accrued(self, pks: list[Any]) -> None:
        for pk in pks:
            if pk is not None and pk not in self.accrued:
                self.accrued.add(pk)
                self.ref.accrued_at[pk] = self.clock

    def op_replay(self, seed: int) -> None:
        rng = random.Random(seed)
        done = sorted(self.accrued)
        again = rng.sample(done, rng.randint(0, len(done))) if done else []
        before = LedgerEntry.objects.count()
        if again:
            assert accrue_events(again).entries == 0
        if rng.random() < 0.3 and self.accrued == set(self.ref.events):
            PendingEvent.objects.bulk_create([PendingEvent(event_id=pk) for pk in again])  # delivered once more
            assert accrue_pending().entries == 0
        assert LedgerEntry.objects.count() == before
        self.check()

    def op_approve(self, days: int) -> None:
        now = self.clock + timedelta(days=days)
        keys = set(LedgerEntry.objects.values_list("event_id", "line_no"))
        approve_due(now=now)
        self.approvals.append((now, keys))
        self.check()

    def op_payout(self, seed: int) -> None:
        """What the payout service does when a payout is paid: approved → paid, rollups shifted."""
        rng = random.Random(seed)
        ids = list(LedgerEntry.objects.filter(status="approved").values_list("id", flat=True))
        chosen = rng.sample(ids, rng.randint(0, len(ids))) if ids else []
        if chosen:
            table = LedgerEntry._meta.db_table
            with transaction.atomic(), connection.cursor() as cursor:
                marks = ", ".join(["%s"] * len(chosen))
                cursor.execute(
                    f"UPDATE {table} SET status = 'paid', paid_at = %s WHERE id IN ({marks}) AND status = 'approved' "  # noqa: S608
                    "RETURNING beneficiary_id, currency, amount_minor",
                    [connection.ops.adapt_datetimefield_value(self.clock), *chosen],
                )
                shift(cursor.fetchall(), "approved_minor", "paid_minor")
        self.check()

    # checks

    def check(self) -> None:
        assert stored_totals() == recompute_totals()
        assert stored_monthly() == recompute_monthly()
        rows = {
            (r["event_id"], r["line_no"]): r
            for r in LedgerEntry.objects.values(
                "event_id", "line_no", "beneficiary_id", "type", "currency", "amount_minor", "tier_name", "rate",
                "reverses__event_id", "reverses__line_no", "reverses__amount_minor", "occurred_at", "hold_until",
                "status", "reverses_id",
            )
        }  # fmt: skip
        reversed_sum: dict[int, int] = defaultdict(int)
        originals: dict[int, int] = {}
        for pk, reverses_id, amount in LedgerEntry.objects.values_list("id", "reverses_id", "amount_minor"):
            if reverses_id:
                reversed_sum[reverses_id] += -amount
            else:
                originals[pk] = amount
        assert all(0 < total <= originals[pk] for pk, total in reversed_sum.items()), "a reversal exceeds its entry"
        rank = {"pending": 0, "approved": 1, "paid": 2}
        for key, r in rows.items():
            assert rank[r["status"]] >= self.seen_status.get(key, 0), "a status moved backwards"
            self.seen_status[key] = rank[r["status"]]
        EXAMPLES_RUN["entries"] = max(EXAMPLES_RUN["entries"], len(rows))
        EXAMPLES_RUN["checked"] += len(rows)
        EXAMPLES_RUN["reversals"] += len(reversed_sum)
        if self.payouts:
            return
        queued = set(PendingEvent.objects.values_list("event_id", flat=True))
        assert set(BillingEvent.objects.exclude(pk__in=queued).values_list("id", flat=True)) == self.accrued
        expected = self.ref.ledger(self.accrued)
        got = {
            key: {
                "key": key,
                "beneficiary": r["beneficiary_id"],
                "type": r["type"],
                "currency": r["currency"],
                "amount": r["amount_minor"],
                "tier": r["tier_name"],
                "rate": r["rate"],
                "reverses": (r["reverses__event_id"], r["reverses__line_no"]) if r["reverses_id"] else None,
                "at": r["occurred_at"],
                "hold": r["hold_until"],
            }
            for key, r in rows.items()
        }
        assert got == expected
        totals: dict[tuple[int, str], dict[str, int]] = defaultdict(
            lambda: {"earned_minor": 0, "pending_minor": 0, "approved_minor": 0, "paid_minor": 0, "entries": 0}
        )
        for key, row in expected.items():
            approved = any(key in keys and now >= row["hold"] for now, keys in self.approvals)
            assert rows[key]["status"] == ("approved" if approved else "pending"), key
            t = totals[(row["beneficiary"], row["currency"])]
            t["earned_minor"] += row["amount"]
            t["approved_minor" if approved else "pending_minor"] += row["amount"]
            t["entries"] += 1
        assert stored_totals() == dict(totals)
        monthly: dict[tuple[int, str, Any], int] = defaultdict(int)
        for row in expected.values():
            local = timezone.localtime(row["at"])
            monthly[(row["beneficiary"], row["currency"], local.date().replace(day=1))] += row["amount"]
        assert stored_monthly() == {k: v for k, v in monthly.items() if v}


def cents_to_decimal(n: int) -> str:
    return f"{n // 100}.{n % 100:02d}"


def play(world: World, ops: list[tuple[Any, ...]], *, payouts: bool = False) -> None:
    with transaction.atomic():
        sid = transaction.savepoint_create()
        try:
            Run(world, payouts=payouts).play(ops)
        finally:
            transaction.savepoint_rollback(sid)


@settings(
    max_examples=HISTORIES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(ops=HISTORY)
def test_the_ledger_equals_the_reference_model(world: World, ops: list[tuple[Any, ...]]) -> None:
    EXAMPLES_RUN["reference"] += 1
    play(world, ops)


@settings(
    max_examples=STATUS_HISTORIES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(ops=STATUS_HISTORY)
def test_status_transitions_keep_the_rollups_exact(world: World, ops: list[tuple[Any, ...]]) -> None:
    EXAMPLES_RUN["status"] += 1
    play(world, ops, payouts=True)


def test_enough_histories_ran() -> None:
    """The issue asks for at least 500 sequences per run checked against the reference model (this
    test runs after the two above)."""
    if EXAMPLES_RUN["reference"] == 0:
        pytest.skip("run together with the property tests")
    print(
        f"ledger properties: {EXAMPLES_RUN['reference']} + {EXAMPLES_RUN['status']} histories, "
        f"{EXAMPLES_RUN['checked']} entry comparisons ({EXAMPLES_RUN['reversals']} reversed), "
        f"at most {EXAMPLES_RUN['entries']} in one history, {EXAMPLES_RUN['regrants']} grant changes"
    )
    assert EXAMPLES_RUN["reference"] >= 500
    assert EXAMPLES_RUN["regrants"] > 0  # grants did change during partnerships
