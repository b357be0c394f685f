"""Benchmark: one page of My customers through the query functions against hand-written SQL.

    .venv/bin/python bench/my_customers.py [--customers 100000] [--size 50] [--repeat 15]
    DATABASE_URL=postgres://user@host:port/db .venv/bin/python bench/my_customers.py

Makes its own database (a SQLite file in a temporary directory; with DATABASE_URL on PostgreSQL a
fresh database ``partnerhub_bench_<pid>``, dropped at the end). Generates one partner with
`--customers` managed customers (organisations, partnerships, grants in bulk), a few unrelated
partners, custom properties with values for most customers, and 0 to 6 audit entries per customer
in random order (about two per customer).

For each sort (name, since, last activity, a number property, a choice property) it times the first
page, a middle page (keyset cursor at half the list) and the last page, alternating:

- project: ``queries.customer_rows(...)`` + ``queries.page_of(...)`` (what My customers runs,
  including the access check ``policy.managed_partnerships`` and its membership lookup);
- raw: the hand-written SQL a careful engineer would run for the same page (same joins, conditions,
  order): one statement for name and since; for last activity and custom properties the same
  index walks as the project (values in index order, then the customers without one, then the rows);

checks that both return the same customer ids, and prints p50 of both and the ratio.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import bench_database, setup_django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

REGIONS = ["DACH", "CEE", "Nordics", "Benelux", "Iberia"]


def generate(customers: int, seed: int = 5) -> tuple[Any, Any, dict[str, Any]]:
    """The partner, its owner, and its custom properties by key."""
    from django.db import connection
    from django.utils import timezone

    from partnerhub.access.perms import Role
    from partnerhub.access.policy import DELEGABLE_PERMS
    from partnerhub.accounts.models import User
    from partnerhub.audit.models import AuditEntry
    from partnerhub.orgs.models import Membership, Organisation
    from partnerhub.partnerships.models import CustomProperty, CustomValue, Grant, Partnership

    rng = random.Random(seed)
    now = timezone.now()
    owner = User.objects.create_user(email="owner@bench.test", password="x")
    partner = Organisation.objects.create(name="Bench Partner", slug="bench-partner", is_partner=True)
    others = Organisation.objects.bulk_create(
        [Organisation(name=f"Other partner {i}", slug=f"other-{i}", is_partner=True) for i in range(20)]
    )
    Membership.objects.create(user=owner, org=partner, role=Role.OWNER)
    words = ["Alpen", "Berg", "Cloud", "Daten", "Elektro", "Forst", "Garten", "Hotel", "Immo", "Juwel"]
    batch = 5000
    touched: list[int] = []
    for start in range(0, customers, batch):
        count = min(batch, customers - start)
        orgs = Organisation.objects.bulk_create(
            [
                Organisation(name=f"{rng.choice(words)} {rng.choice(words)} {start + i:06d}", slug=f"c-{start + i}")
                for i in range(count)
            ]
        )
        partnerships = Partnership.objects.bulk_create(
            [
                Partnership(
                    partner=partner,
                    customer=org,
                    flow="created",
                    origin=rng.choice(["partner", "self"]),
                    status="active",
                    activated_at=now - timedelta(minutes=rng.randint(0, 2_000_000)),
                )
                for org in orgs
            ]
        )
        scopes = sorted(str(p) for p in DELEGABLE_PERMS)
        Grant.objects.bulk_create(
            [
                Grant(
                    partnership=p,
                    mode="full",
                    scopes=scopes,
                    valid_from=now - timedelta(days=1),
                    valid_until=now + timedelta(days=rng.randint(1, 700)),
                )
                for p in partnerships
            ]
        )
        # Activity: 0 to 6 entries per customer (a third have none), written in random order below.
        touched += [org.pk for org in orgs for _ in range(rng.choice([0, 0, 1, 1, 2, 3, 6]))]
    rng.shuffle(touched)
    for start in range(0, len(touched), batch):
        AuditEntry.objects.bulk_create(
            [AuditEntry(org_id=org_id, action="bench.touched") for org_id in touched[start : start + batch]]
        )
    # Some other partners' customers, so the partner is not the whole table.
    extra = Organisation.objects.bulk_create(
        [Organisation(name=f"Foreign {i:05d}", slug=f"foreign-{i}") for i in range(customers // 10)]
    )
    foreign = Partnership.objects.bulk_create(
        [
            Partnership(partner=rng.choice(others), customer=o, flow="chosen", origin="self", status="active")
            for o in extra
        ]
    )
    Grant.objects.bulk_create([Grant(partnership=p, valid_until=now + timedelta(days=30), scopes=[]) for p in foreign])
    seats = CustomProperty.objects.create(partner=partner, name="Seats", key="seats", kind="number", position=1)
    region = CustomProperty.objects.create(
        partner=partner, name="Region", key="region", kind="choice", choices=REGIONS, position=2
    )
    ids = list(Partnership.objects.filter(partner=partner).values_list("customer_id", flat=True))
    for start in range(0, len(ids), batch):
        chunk = ids[start : start + batch]
        CustomValue.objects.bulk_create(
            [
                CustomValue(prop=seats, customer_id=c, number=Decimal(rng.randint(1, 500)))
                for c in chunk
                if rng.random() < 0.9
            ]
            + [CustomValue(prop=region, customer_id=c, text=rng.choice(REGIONS)) for c in chunk if rng.random() < 0.8]
        )
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return partner, owner, {"seats": seats, "region": region}


def raw_sql(sort_key: str, descending: bool, with_cursor: bool | str) -> str:
    """The same page in plain SQL: managed partnerships of the partner, the sort value, keyset, limit."""
    from partnerhub.audit.models import AuditEntry
    from partnerhub.orgs.models import Membership, Organisation
    from partnerhub.partnerships.models import CustomValue, Grant, Partnership

    p, g, o = Partnership._meta.db_table, Grant._meta.db_table, Organisation._meta.db_table
    cv, a, m = CustomValue._meta.db_table, AuditEntry._meta.db_table, Membership._meta.db_table
    if sort_key == "name":
        value = "o.name"
    elif sort_key == "since":
        value = "p.activated_at"
    elif sort_key == "activity":
        value = f"(SELECT a.id FROM {a} a WHERE a.org_id = p.customer_id ORDER BY a.id DESC LIMIT 1)"
    else:
        column = "number" if sort_key == "p:seats" else "text"
        value = f"(SELECT v.{column} FROM {cv} v WHERE v.prop_id = %(prop)s AND v.customer_id = p.customer_id)"
    direction = "DESC" if descending else "ASC"
    beyond = "<" if descending else ">"
    keyset = ""
    if with_cursor == "null":
        keyset = f"AND {value} IS NULL AND p.customer_id {beyond} %(id)s"
    elif with_cursor:
        after = f"({value} {beyond}= %(value)s AND ({value} {beyond} %(value)s OR p.customer_id {beyond} %(id)s))"
        # Names and activation times always exist; only the activity may be missing (those come last).
        keyset = f"AND ({after} OR {value} IS NULL)" if sort_key == "activity" else f"AND {after}"
    return f"""
        SELECT p.customer_id AS cid, p.*, o.*, g.*, {value} AS sort_value
          FROM {p} p
          JOIN {g} g ON g.partnership_id = p.id
          JOIN {o} o ON o.id = p.customer_id
         WHERE p.partner_id = %(partner)s AND p.status = 'active'
           AND g.revoked_at IS NULL AND g.valid_until > %(now)s
           AND EXISTS (SELECT 1 FROM {m} m WHERE m.user_id = %(user)s AND m.org_id = %(partner)s)
           {keyset}
         ORDER BY sort_value {direction} NULLS LAST, p.customer_id {direction}
         LIMIT %(limit)s
    """


def raw_property_page(
    connection: Any, column: str, descending: bool, value: Any, after_id: int | None, params: dict[str, Any]
) -> list[int]:
    """A custom property page by hand: walk the (prop, value) index with a correlated EXISTS on the managed
    partnership, then (when the values run out) the customers without a value, then fetch the rows."""
    from partnerhub.orgs.models import Membership, Organisation
    from partnerhub.partnerships.models import CustomValue, Grant, Partnership

    p, g, o = Partnership._meta.db_table, Grant._meta.db_table, Organisation._meta.db_table
    cv, m = CustomValue._meta.db_table, Membership._meta.db_table
    direction = "DESC" if descending else "ASC"
    beyond = "<" if descending else ">"
    managed = f"""
        p.partner_id = %(partner)s AND p.status = 'active'
        AND EXISTS (SELECT 1 FROM {g} g WHERE g.partnership_id = p.id AND g.revoked_at IS NULL
                    AND g.valid_until > %(now)s)
    """
    size = params["limit"] - 1
    keys: list[tuple[Any, int]] = []
    with connection.cursor() as db:
        db.execute(f"SELECT 1 FROM {m} WHERE user_id = %(user)s AND org_id = %(partner)s", params)
        db.fetchall()
        if after_id is None or value is not None:
            keyset = ""
            if after_id is not None:
                keyset = (
                    f"AND v.{column} {beyond}= %(value)s "
                    f"AND (v.{column} {beyond} %(value)s OR v.customer_id {beyond} %(id)s)"
                )
            db.execute(
                f"""SELECT v.{column}, v.customer_id FROM {cv} v
                     WHERE v.prop_id = %(prop)s AND v.{column} IS NOT NULL {keyset}
                       AND EXISTS (SELECT 1 FROM {p} p WHERE p.customer_id = v.customer_id AND {managed})
                     ORDER BY v.{column} {direction}, v.customer_id {direction} LIMIT %(limit)s""",
                params,
            )
            keys = list(db.fetchall())
        if len(keys) <= size:
            keyset = f"AND p.customer_id {beyond} %(id)s" if after_id is not None and value is None else ""
            db.execute(
                f"""SELECT p.customer_id FROM {p} p WHERE {managed} {keyset}
                       AND NOT EXISTS (SELECT 1 FROM {cv} v WHERE v.prop_id = %(prop)s AND v.customer_id = p.customer_id)
                     ORDER BY p.customer_id {direction} LIMIT %(missing)s""",
                {**params, "missing": size + 1 - len(keys)},
            )
            keys += [(None, row[0]) for row in db.fetchall()]
        ids = [cid for _v, cid in keys[:size]]
        if not ids:
            return []
        marks = ", ".join(["%s"] * len(ids))
        db.execute(
            f"""SELECT p.customer_id, p.*, o.*, g.* FROM {p} p JOIN {g} g ON g.partnership_id = p.id
                  JOIN {o} o ON o.id = p.customer_id WHERE p.partner_id = %s AND p.status = 'active'
                   AND p.customer_id IN ({marks})""",
            [params["partner"], *ids],
        )
        found = {row[0] for row in db.fetchall()}
    return [cid for cid in ids if cid in found]


PROPOSED_INDEXES = [
    "CREATE INDEX bench_cv_text ON partnerships_customvalue (prop_id, text, customer_id)",
    "CREATE INDEX bench_cv_number ON partnerships_customvalue (prop_id, number, customer_id)",
    "CREATE INDEX bench_cv_date ON partnerships_customvalue (prop_id, date, customer_id)",
    "CREATE INDEX bench_partnership_since ON partnerships_partnership (partner_id, status, activated_at, customer_id)",
]


def create_proposed_indexes(connection: Any) -> None:
    with connection.cursor() as cursor:
        for statement in PROPOSED_INDEXES:
            cursor.execute(statement)
        cursor.execute("ANALYZE")
    print("with the proposed indexes")


def raw_activity_page(
    connection: Any, descending: bool, value: Any, after_id: int | None, params: dict[str, Any]
) -> list[int]:
    """A last-activity page by hand: walk the audit log by id keeping each managed customer's newest entry,
    then (when the entries run out) the customers without any, then fetch the rows."""
    from partnerhub.audit.models import AuditEntry
    from partnerhub.orgs.models import Membership, Organisation
    from partnerhub.partnerships.models import Grant, Partnership

    p, g, o = Partnership._meta.db_table, Grant._meta.db_table, Organisation._meta.db_table
    a, m = AuditEntry._meta.db_table, Membership._meta.db_table
    direction = "DESC" if descending else "ASC"
    beyond = "<" if descending else ">"
    managed = f"""
        p.partner_id = %(partner)s AND p.status = 'active'
        AND EXISTS (SELECT 1 FROM {g} g WHERE g.partnership_id = p.id AND g.revoked_at IS NULL
                    AND g.valid_until > %(now)s)
    """
    size = params["limit"] - 1
    keys: list[tuple[Any, int]] = []
    with connection.cursor() as db:
        db.execute(f"SELECT 1 FROM {m} WHERE user_id = %(user)s AND org_id = %(partner)s", params)
        db.fetchall()
        if after_id is None or value is not None:
            keyset = f"AND e.id {beyond} %(value)s" if value is not None else ""
            db.execute(
                f"""SELECT e.id, e.org_id FROM {a} e
                     WHERE EXISTS (SELECT 1 FROM {p} p WHERE p.customer_id = e.org_id AND {managed})
                       AND NOT EXISTS (SELECT 1 FROM {a} n WHERE n.org_id = e.org_id AND n.id > e.id) {keyset}
                     ORDER BY e.id {direction} LIMIT %(limit)s""",
                params,
            )
            keys = list(db.fetchall())
        if len(keys) <= size:
            keyset = f"AND p.customer_id {beyond} %(id)s" if after_id is not None and value is None else ""
            db.execute(
                f"""SELECT p.customer_id FROM {p} p WHERE {managed} {keyset}
                       AND NOT EXISTS (SELECT 1 FROM {a} e WHERE e.org_id = p.customer_id)
                     ORDER BY p.customer_id {direction} LIMIT %(missing)s""",
                {**params, "missing": size + 1 - len(keys)},
            )
            keys += [(None, row[0]) for row in db.fetchall()]
        ids = [cid for _v, cid in keys[:size]]
        if not ids:
            return []
        marks = ", ".join(["%s"] * len(ids))
        db.execute(
            f"""SELECT p.customer_id, p.*, o.*, g.* FROM {p} p JOIN {g} g ON g.partnership_id = p.id
                  JOIN {o} o ON o.id = p.customer_id WHERE p.partner_id = %s AND p.status = 'active'
                   AND p.customer_id IN ({marks})""",
            [params["partner"], *ids],
        )
        found = {row[0] for row in db.fetchall()}
    return [cid for cid in ids if cid in found]


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--customers", type=int, default=100_000)
    parser.add_argument("--size", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument(
        "--proposed-indexes",
        action="store_true",
        help="also create the indexes proposed for the sort keys: (prop, value, customer) on custom values, "
        "(partner, status, activated_at, customer) on partnerships",
    )
    args = parser.parse_args()

    with bench_database() as url:
        setup_django(url)
        from django.db import connection
        from django.utils import timezone

        from partnerhub.customers import queries

        started = time.perf_counter()
        partner, owner, props = generate(args.customers)
        if args.proposed_indexes:
            create_proposed_indexes(connection)
        print(f"{connection.vendor}: generated {args.customers} customers in {time.perf_counter() - started:.0f} s")

        sorts = [
            queries.Sort("name"),
            queries.Sort("since", descending=True),
            queries.Sort("activity", descending=True),
            queries.Sort("p:seats", prop=props["seats"]),
            queries.Sort("p:region", descending=True, prop=props["region"]),
        ]
        worst = 0.0
        for sort in sorts:
            rows = queries.customer_rows(owner, partner, sort=sort)
            # The keys of the rows just before the middle and the last page (found once, not timed).
            keys = list(rows.values_list("sort_value", "customer_id"))  # type: ignore[misc]
            total = len(keys)
            positions = {"first": None, "middle": total // 2 - 1, "last": total - args.size - 1}
            for label, position in positions.items():
                cursor = None if position is None else queries.encode_cursor(sort, *keys[position])
                params = {
                    "partner": partner.pk,
                    "user": owner.pk,
                    "now": timezone.now(),
                    "limit": args.size + 1,
                    "prop": sort.prop.pk if sort.prop else None,
                }
                if position is not None:
                    value, params["id"] = keys[position]
                    # Parameters as Django would send them (SQLite stores naive UTC text).
                    if hasattr(value, "tzinfo"):
                        value = connection.ops.adapt_datetimefield_value(value)
                    params["value"] = value
                params["now"] = connection.ops.adapt_datetimefield_value(params["now"])
                with_cursor: bool | str = position is not None
                if position is not None and keys[position][0] is None:
                    with_cursor = "null"
                statement = raw_sql(sort.key, sort.descending, with_cursor)

                def project(cursor: str | None = cursor, sort: queries.Sort = sort) -> list[int]:
                    page = queries.page_of(
                        queries.customer_rows(owner, partner, sort=sort), sort, cursor=cursor, size=args.size
                    )
                    return [p.customer_id for p in page.rows]

                def raw(
                    statement: str = statement,
                    params: dict[str, Any] = params,
                    sort: queries.Sort = sort,
                    position: int | None = position,
                ) -> list[int]:
                    if sort.key == "activity":
                        value, after = (None, None) if position is None else (params["value"], params["id"])
                        return raw_activity_page(connection, sort.descending, value, after, params)
                    if sort.prop is not None:
                        column = "number" if sort.prop.kind == "number" else "text"
                        value, after = (None, None) if position is None else (params["value"], params["id"])
                        return raw_property_page(connection, column, sort.descending, value, after, params)
                    with connection.cursor() as db:
                        db.execute(statement, params)
                        return [row[0] for row in db.fetchall()][: args.size]

                ours, theirs = [], []
                for _ in range(args.repeat):
                    t, a = timed(project)
                    ours.append(t)
                    t, b = timed(raw)
                    theirs.append(t)
                    assert a == b, f"{sort.param} {label}: project and raw SQL disagree {a[:5]} {b[:5]}"
                p50_ours, p50_raw = statistics.median(ours), statistics.median(theirs)
                worst = max(worst, p50_ours / p50_raw)
                print(
                    f"  sort {sort.param:<10} {label:<6} page: project p50 {p50_ours * 1e3:7.2f} ms, "
                    f"raw SQL p50 {p50_raw * 1e3:7.2f} ms, ratio {p50_ours / p50_raw:.2f}"
                )
        print(f"worst p50 ratio: {worst:.2f}")


if __name__ == "__main__":
    main()
