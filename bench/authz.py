"""Benchmark: the access rule (``policy.can``) against a hand-written indexed SQL lookup, at scale.

    .venv/bin/python bench/authz.py [--customers 100000] [--partners 1000] [--grants 1000000] [--checks 20000]
    DATABASE_URL=postgres://partnerhub@127.0.0.1:54345/partnerhub .venv/bin/python bench/authz.py

Generates one partner with `--customers` customers (its staff: owner, admin, members with
``partner.customers.administer``, members limited to assigned customers, a member without it) plus
`--partners` ordinary partners, and `--grants` partnerships with their grants in all (90 % active,
the rest expired, revoked or ended; 80 % full, 20 % restricted), inserted with raw ``executemany`` in
big transactions. Then it measures, alternating call by call on the same random questions, "may this
staff member use this permission on this customer now?" answered by ``can()`` and by one hand-written
SQL statement (the rule's three branches: membership; partnership + grant + scope; operator support
access, on the existing indexes, run on the driver's cursor with no framework in between), checks that both
give the same answer every time, and prints p50/p99 of both and their ratios.

SQLite: a database file in a temporary directory. PostgreSQL (when DATABASE_URL is set): a temporary
database ``<name>_authz_<pid>`` created on that server and dropped at the end.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

NOW = datetime.now(UTC).replace(microsecond=0)
PERMS = ["org.view", "billing.view", "billing.order", "products.manage", "members.manage", "audit.view"]
SCOPE_SETS = [
    ["billing.view", "billing.order", "products.manage", "members.manage", "audit.view", "org.settings.manage"],
    ["billing.view", "products.manage"],
    ["billing.view", "billing.order"],
    [],
]
ADMINISTER = "partner.customers.administer"
SUPPORT = "operator.support.access"
BATCH = 50_000
# SQLite during generation only: no fsync, journal in memory, a big page cache, and no per-row foreign
# key look-ups (the generator writes consistent ids). The measurement only reads.
PRAGMAS = (
    "synchronous = OFF",
    "journal_mode = MEMORY",
    "cache_size = -1000000",
    "temp_store = MEMORY",
    "foreign_keys = OFF",
)


@contextmanager
def database() -> Iterator[str]:
    """Set up Django on a fresh database (SQLite file, or a temporary PostgreSQL database)."""
    os.environ["PARTNERHUB_MODE"] = "test"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith("postgres"):
        import psycopg

        parts = urlsplit(url)
        name = f"{parts.path.lstrip('/') or 'partnerhub'}_authz_{os.getpid()}"
        with psycopg.connect(url, autocommit=True) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path=f"/{name}"))
        try:
            yield _migrate("postgresql")
        finally:
            from django.db import connections

            connections.close_all()
            with psycopg.connect(url, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        return
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["DATABASE_URL"] = f"sqlite:///{Path(tmp) / 'authz.sqlite3'}"
        yield _migrate("sqlite")


def _migrate(vendor: str) -> str:
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return vendor


class Inserter:
    """Raw multi-row inserts for a model: every concrete column, defaults prepared once."""

    def __init__(self, model: Any) -> None:
        from django.db import connection

        self.model = model
        self.fields = list(model._meta.concrete_fields)
        self.defaults = {}
        for f in self.fields:
            if f.primary_key:
                continue
            default = f.get_default() if f.has_default() or f.null else ""
            self.defaults[f.attname] = f.get_db_prep_save(default, connection)
        self.prepared: dict[tuple[str, Any], Any] = {}
        columns = ", ".join(connection.ops.quote_name(f.column) for f in self.fields)
        marks = ", ".join(["%s"] * len(self.fields))
        self.sql = f"INSERT INTO {model._meta.db_table} ({columns}) VALUES ({marks})"

    def prep(self, attname: str, value: Any) -> Any:
        """A value as the driver takes it (JSON, datetimes), cached: the benchmark reuses few values."""
        from django.db import connection

        key = (attname, tuple(value) if isinstance(value, list) else value)
        if key not in self.prepared:
            field = self.model._meta.get_field(attname.removesuffix("_id"))
            self.prepared[key] = field.get_db_prep_save(value, connection)
        return self.prepared[key]

    def insert(self, rows: Iterable[dict[str, Any]], *, prep: tuple[str, ...] = ()) -> int:
        from django.db import connection, transaction

        count, batch = 0, []
        for row in rows:
            values = []
            for f in self.fields:
                name = f.attname
                if name in row:
                    values.append(self.prep(name, row[name]) if name in prep else row[name])
                else:
                    values.append(self.defaults[name])
            batch.append(values)
            if len(batch) >= BATCH:
                count += self._flush(batch, connection, transaction)
                batch = []
        if batch:
            count += self._flush(batch, connection, transaction)
        return count

    def _flush(self, batch: list[list[Any]], connection: Any, transaction: Any) -> int:
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(self.sql, batch)
        return len(batch)


def generate(customers: int, partners: int, grants: int, seed: int = 5) -> dict[str, Any]:
    from django.db import connection

    from partnerhub.accounts.models import User
    from partnerhub.orgs.models import Membership, Organisation
    from partnerhub.partnerships.models import Grant, Partnership, StaffAssignment

    rng = random.Random(seed)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            for pragma in PRAGMAS:
                cursor.execute(f"PRAGMA {pragma}")
    # Organisations: 1 big partner, `partners` ordinary partners, `customers` customers of the big one,
    # and as many other customers as the ordinary partners need (each customer has up to 3 partners).
    others = max(0, grants - customers)
    other_customers = max(1, others // 3)
    big = 1
    partner_ids = range(2, 2 + partners)
    first_customer = 2 + partners
    big_customers = range(first_customer, first_customer + customers)
    other_ids = range(big_customers.stop, big_customers.stop + other_customers)
    created = NOW - timedelta(days=100)
    orgs = Inserter(Organisation)

    def org_rows() -> Iterator[dict[str, Any]]:
        yield {"id": big, "name": "Big Partner", "slug": "big-partner", "is_partner": True, "created_at": created}
        for i in partner_ids:
            yield {"id": i, "name": f"Partner {i}", "slug": f"partner-{i}", "is_partner": True, "created_at": created}
        for i in range(first_customer, other_ids.stop):
            yield {"id": i, "name": f"Customer {i}", "slug": f"customer-{i}", "created_at": created}

    n_orgs = orgs.insert(org_rows(), prep=("created_at",))
    # Staff of the big partner, one owner per ordinary partner.
    staff_kinds = ["owner", "admin"] + ["member_admin"] * 10 + ["assigned"] * 6 + ["member_plain"] * 2
    users = Inserter(User)
    user_rows = [
        {"id": i + 1, "email": f"staff{i}@big.test", "password": "!", "support_code": f"S{i:07d}"}
        for i in range(len(staff_kinds))
    ]
    user_rows += [
        {"id": 1000 + p, "email": f"owner{p}@partner.test", "password": "!", "support_code": f"P{p:07d}"}
        for p in partner_ids
    ]
    users.insert(user_rows)
    members = Inserter(Membership)
    member_rows = []
    for i, kind in enumerate(staff_kinds):
        role = kind if kind in ("owner", "admin") else "member"
        extra = [ADMINISTER] if kind in ("member_admin", "assigned") else []
        member_rows.append(
            {
                "id": i + 1,
                "user_id": i + 1,
                "org_id": big,
                "role": role,
                "extra_perms": extra,
                "assigned_customers_only": kind == "assigned",
                "created_at": created,
            }
        )
    member_rows += [
        {"id": 1000 + p, "user_id": 1000 + p, "org_id": p, "role": "owner", "extra_perms": [], "created_at": created}
        for p in partner_ids
    ]
    members.insert(member_rows, prep=("extra_perms", "created_at"))
    # Assigned staff: 2,000 customers each.
    assigned = [i + 1 for i, kind in enumerate(staff_kinds) if kind == "assigned"]
    assignments = Inserter(StaffAssignment)
    chosen = [(m, c) for m in assigned for c in rng.sample(big_customers, k=min(2000, customers))]
    assignments.insert(
        ({"id": i, "membership_id": m, "customer_id": c, "created_at": created} for i, (m, c) in enumerate(chosen, 1)),
        prep=("created_at",),
    )

    # Partnerships and grants: the big partner's customers, then the ordinary partners' (distinct pairs).
    def pairs() -> Iterator[tuple[int, int]]:
        for c in big_customers:
            yield big, c
        n = 0
        partner_list = list(partner_ids)
        for slot in range(3):
            for c in other_ids:
                if n >= others:
                    return
                yield partner_list[(c * 7 + slot * 331) % len(partner_list)], c
                n += 1

    states = ["active"] * 90 + ["expired"] * 4 + ["revoked"] * 3 + ["ended"] * 3
    later, past = NOW + timedelta(days=200), NOW - timedelta(days=2)
    plan: list[tuple[int, int, int, str, int]] = []
    for pid, (partner, customer) in enumerate(pairs(), start=1):
        plan.append((pid, partner, customer, rng.choice(states), rng.randrange(len(SCOPE_SETS))))
    modes = {pid: ("restricted" if rng.random() < 0.2 else "full") for pid, *_ in plan}
    partnerships = Inserter(Partnership)
    n_partnerships = partnerships.insert(
        (
            {
                "id": pid,
                "partner_id": partner,
                "customer_id": customer,
                "flow": "chosen",
                "origin": "self",
                "status": "ended" if state == "ended" else "active",
                "created_at": created,
                "sent_at": created,
                "activated_at": created,
                "ended_at": past if state == "ended" else None,
            }
            for pid, partner, customer, state, _scopes in plan
        ),
        prep=("created_at", "sent_at", "activated_at", "ended_at"),
    )
    grants_in = Inserter(Grant)
    n_grants = grants_in.insert(
        (
            {
                "id": pid,
                "partnership_id": pid,
                "mode": modes[pid],
                "scopes": SCOPE_SETS[scopes],
                "requested_scopes": [],
                "requested_product_ids": [],
                "warned_days": [],
                "payment_means": "customer",
                "valid_from": created,
                "updated_at": created,
                "valid_until": past if state == "expired" else later,
                "revoked_at": past if state == "revoked" else None,
            }
            for pid, _partner, _customer, state, scopes in plan
        ),
        prep=(
            "mode",
            "scopes",
            "requested_scopes",
            "requested_product_ids",
            "warned_days",
            "valid_from",
            "updated_at",
            "valid_until",
            "revoked_at",
        ),
    )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return {
        "orgs": n_orgs,
        "partnerships": n_partnerships,
        "grants": n_grants,
        "staff": list(range(1, len(staff_kinds) + 1)),
        "big_customers": big_customers,
        "other_customers": other_ids,
    }


def raw_sql(vendor: str) -> str:
    """The same question in one hand-written statement on the existing indexes (driver placeholders)."""
    from django.db import connection

    if vendor == "django":  # Django's cursor: %s placeholders on both databases
        return raw_sql(connection.vendor).replace("?", "%s") if connection.vendor == "sqlite" else raw_sql("postgresql")
    if vendor == "postgresql":
        mark = "%s"
        has_extra, administers, has_scope = "m.extra_perms ? %s", f"m.extra_perms ? '{ADMINISTER}'", "g.scopes ? %s"
        supports, has_support_scope = f"m.extra_perms ? '{SUPPORT}'", "s.scopes ? %s"
    else:
        mark = "?"
        has_extra = "EXISTS (SELECT 1 FROM json_each(m.extra_perms) WHERE value = ?)"
        administers = f"EXISTS (SELECT 1 FROM json_each(m.extra_perms) WHERE value = '{ADMINISTER}')"
        has_scope = "EXISTS (SELECT 1 FROM json_each(g.scopes) WHERE value = ?)"
        supports = f"EXISTS (SELECT 1 FROM json_each(m.extra_perms) WHERE value = '{SUPPORT}')"
        has_support_scope = "EXISTS (SELECT 1 FROM json_each(s.scopes) WHERE value = ?)"
    return f"""
        SELECT EXISTS (
            SELECT 1 FROM orgs_membership m
             WHERE m.user_id = {mark} AND m.org_id = {mark}
               AND (m.role IN ('owner', 'admin') OR {mark} IN ('org.view', 'tickets.use') OR {has_extra})
        ) OR EXISTS (
            SELECT 1 FROM partnerships_partnership p
              JOIN partnerships_grant g ON g.partnership_id = p.id
              JOIN orgs_membership m ON m.org_id = p.partner_id AND m.user_id = {mark}
              JOIN orgs_organisation o ON o.id = p.partner_id
             WHERE p.customer_id = {mark} AND p.status = 'active' AND g.revoked_at IS NULL
               AND g.valid_until > {mark} AND o.is_partner
               AND (m.role IN ('owner', 'admin') OR {administers})
               AND (NOT m.assigned_customers_only OR EXISTS (
                    SELECT 1 FROM partnerships_staffassignment a
                     WHERE a.membership_id = m.id AND a.customer_id = p.customer_id))
               AND ({mark} = 'org.view' OR {has_scope})
               AND (g.mode = 'full' OR {mark} <> 'billing.order')
        ) OR EXISTS (
            SELECT 1 FROM delegation_supportaccess s
              JOIN orgs_membership m ON m.user_id = {mark}
              JOIN orgs_organisation o ON o.id = m.org_id
             WHERE s.customer_id = {mark} AND o.is_operator AND s.revoked_at IS NULL AND s.valid_until > {mark}
               AND (m.role IN ('owner', 'admin') OR {supports})
               AND ({mark} = 'org.view' OR {has_support_scope})
        )
    """


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def measure(info: dict[str, Any], checks: int, seed: int = 9) -> dict[str, Any]:
    from django.db import connection

    from partnerhub.access.perms import Perm
    from partnerhub.access.policy import can
    from partnerhub.accounts.models import User
    from partnerhub.orgs.models import Organisation

    rng = random.Random(seed)
    staff = list(User.objects.filter(pk__in=info["staff"]))
    big, other = info["big_customers"], info["other_customers"]
    customer_ids = [rng.choice(big) if rng.random() < 0.9 else rng.choice(other) for _ in range(checks)]
    customers = Organisation.objects.in_bulk(set(customer_ids))
    questions = [(rng.choice(staff), Perm(rng.choice(PERMS)), customers[c]) for c in customer_ids]
    sql = " ".join(raw_sql(connection.vendor).split())
    now = NOW if connection.vendor == "postgresql" else connection.ops.adapt_datetimefield_value(NOW)
    connection.ensure_connection()
    cursor = connection.connection.cursor()

    def raw(user: Any, perm: Perm, org: Any) -> bool:
        params = [user.pk, org.pk, perm.value, perm.value, user.pk, org.pk, now, perm.value, perm.value, perm.value]
        params += [user.pk, org.pk, now, perm.value, perm.value]
        cursor.execute(sql, params)
        return bool(cursor.fetchone()[0])

    def project(user: Any, perm: Perm, org: Any) -> bool:
        return can(user, perm, org)

    # As a preforking server does after start-up: the objects built so far (the generated plan, the
    # application) leave the garbage collector's generations, so its pauses do not land on one side.
    gc.collect()
    gc.freeze()
    timings: dict[str, list[float]] = {"can": [], "sql": []}
    allowed = mismatches = 0
    clock = time.perf_counter
    for _ in range(200):  # warm up both paths (statement caches, lru caches)
        user, perm, org = rng.choice(questions)
        project(user, perm, org), raw(user, perm, org)
    for i, (user, perm, org) in enumerate(questions):
        order: list[tuple[str, Callable[..., bool]]] = [("can", project), ("sql", raw)]
        if i % 2:
            order.reverse()
        answers = {}
        for name, fn in order:
            start = clock()
            answers[name] = fn(user, perm, org)
            timings[name].append(clock() - start)
        allowed += answers["can"]
        mismatches += answers["can"] != answers["sql"]
    cursor.close()
    return {"timings": timings, "allowed": allowed, "mismatches": mismatches, "sample": questions[0]}


def explain(user: Any, org: Any) -> None:
    """The plans of both statements for one question (``--explain``)."""
    from django.db import connection
    from django.utils import timezone

    from partnerhub.access.policy import _rule_sql

    prefix = "EXPLAIN ANALYZE " if connection.vendor == "postgresql" else "EXPLAIN QUERY PLAN "
    now = timezone.now()
    with connection.cursor() as cursor:
        rule = [user.pk, org.pk, user.pk, org.pk, now, user.pk, org.pk, now]
        raw = [user.pk, org.pk, "billing.view", "billing.view", user.pk, org.pk, now]
        raw += ["billing.view", "billing.view", "billing.view", user.pk, org.pk, now, "billing.view", "billing.view"]
        for name, sql, params in (("can()", _rule_sql(False), rule), ("raw SQL", raw_sql("django"), raw)):
            cursor.execute(prefix + sql, params)
            print(f"  plan of {name}:")
            for row in cursor.fetchall():
                print("    " + " | ".join(str(value) for value in row))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--partners", type=int, default=1_000)
    parser.add_argument("--grants", type=int, default=1_000_000)
    parser.add_argument("--checks", type=int, default=20_000)
    parser.add_argument("--explain", action="store_true", help="print both statements' query plans")
    args = parser.parse_args()
    with database() as vendor:
        start = time.perf_counter()
        info = generate(args.customers, args.partners, args.grants)
        took = time.perf_counter() - start
        print(
            f"{vendor}: generated {info['orgs']:,} organisations, {info['partnerships']:,} partnerships and "
            f"{info['grants']:,} grants in {took:.0f} s"
        )
        result = measure(info, args.checks)
        t = result["timings"]
        p50 = {name: percentile(values, 0.50) * 1e6 for name, values in t.items()}
        p99 = {name: percentile(values, 0.99) * 1e6 for name, values in t.items()}
        print(
            f"{vendor}: {args.checks:,} checks alternating ({result['allowed']:,} allowed), "
            f"{result['mismatches']} different answers"
        )
        print(f"  can():        p50 {p50['can']:7.1f} µs   p99 {p99['can']:7.1f} µs")
        print(f"  raw SQL:      p50 {p50['sql']:7.1f} µs   p99 {p99['sql']:7.1f} µs")
        print(
            f"  ratio:        p50 {p50['can'] / p50['sql']:.2f}× (target ≤ 1.5)   "
            f"p99 {p99['can'] / p99['sql']:.2f}× (target ≤ 2.5)"
        )
        if args.explain:
            user, _perm, org = result["sample"]
            explain(user, org)
        if result["mismatches"]:
            raise SystemExit("can() and the hand-written lookup disagree")


if __name__ == "__main__":
    main()
