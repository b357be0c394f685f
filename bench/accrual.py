"""Benchmark: commission accrual against a raw bulk insert of the same ledger rows, then a replay.

    .venv/bin/python bench/accrual.py [--lines 1000000] [--partners 1000] [--big 100000]
    DATABASE_URL=postgres://user@host:port/db .venv/bin/python bench/accrual.py --lines 100000

Makes its own database like the other benchmarks: a SQLite file in a temporary directory by default;
with DATABASE_URL (PostgreSQL) a fresh database ``partnerhub_bench_<pid>`` on that server, dropped at
the end. Generates, with direct bulk rows (not timed): the seed program (tiers and rates), `--partners`
partners with 20 customers each plus one partner with `--big` customers (full partnerships, one in 20
restricted to hosting after three months, tier history), ten affiliates with referred customers,
customers nobody earns from, and billing events with 1–3 lines each until there are `--lines` lines
(default 1,000,000), about 5 % of them partial refunds.
Then:

1. accrues them with ``accrue_pending`` (ledger entries, rollups) and prints entries/s;
2. inserts the very same ledger rows once more with a raw bulk insert — PostgreSQL ``COPY``, SQLite
   ``executemany`` in one transaction — into a copy of the ledger table with the same columns,
   constraints, indexes, foreign keys and append-only trigger, and prints rows/s and the ratio
   (target ≥ 0.5);
3. replays the whole stream (every event queued again, ``accrue_pending`` once more) and
   prints its time against the first pass (target ≤ 0.6×) and the rows it added (must be 0).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import bench_database, setup_django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SKUS = {
    "web-hosting": "shared-hosting",
    "domain-ch": "domains-ssl",
    "vps-s": "cloud-vps",
    "dedicated-m": "dedicated-servers",
}
START = datetime(2025, 1, 1, tzinfo=UTC)
CHUNK = 10_000


def _insert(table: str, columns: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    """Plain bulk rows for the world (not what is measured)."""
    from django.db import connection, transaction

    marks = ", ".join(["%s"] * len(columns))
    with transaction.atomic(), connection.cursor() as cursor:
        for start in range(0, len(rows), CHUNK):
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})",
                rows[start : start + CHUNK],
            )


def _ids(model: Any, **filters: Any) -> list[int]:
    return list(model.objects.filter(**filters).order_by("id").values_list("id", flat=True))


@contextmanager
def step(label: str) -> Iterator[None]:
    start = time.perf_counter()
    yield
    print(f"  {label}: {time.perf_counter() - start:.1f} s", flush=True)


def generate(lines: int, partners: int, big: int, seed: int = 11) -> dict[str, Any]:
    """The world and the event stream; returns the big partner's id and counts."""
    from django.db import connection

    from partnerhub.affiliates.models import Affiliate, AffiliateStatus, Referral
    from partnerhub.billing.models import BillingEvent, CustomerProduct
    from partnerhub.catalog.models import Category, Product
    from partnerhub.commissions.defaults import install_seed_table
    from partnerhub.commissions.models import TierChange
    from partnerhub.orgs.models import Organisation
    from partnerhub.partners.models import Program
    from partnerhub.partnerships.models import Grant, GrantCoverage, Partnership

    rng = random.Random(seed)
    adapt = connection.ops.adapt_datetimefield_value
    now = adapt(START)
    operator = Organisation.objects.create(name="Operator", slug="operator", is_operator=True)
    for i, (sku, slug) in enumerate(SKUS.items()):
        category = Category.objects.create(slug=slug, name=slug.replace("-", " ").title(), position=i)
        Product.objects.create(category=category, sku=sku, name=sku)
    program, _ = Program.objects.get_or_create(operator=operator)
    install_seed_table(program)
    products = dict(Product.objects.values_list("sku", "id"))

    def orgs(prefix: str, n: int, *, partner: bool = False, affiliate: bool = False) -> list[int]:
        Organisation.objects.bulk_create(
            [Organisation(name=f"{prefix} {i}", slug=f"{prefix}-{i}", is_partner=partner, is_affiliate=affiliate)
             for i in range(n)],
            batch_size=5000,
        )  # fmt: skip
        return _ids(Organisation, slug__startswith=f"{prefix}-")

    with step(f"organisations ({partners + 1} partners, {big + 20 * partners + 15_000:,} customers)"):
        big_partner = orgs("big", 1, partner=True)[0]
        small_partners = orgs("partner", partners, partner=True)
        big_customers = orgs("bigc", big)
        small_customers = orgs("cust", 20 * partners)
        affiliates = orgs("aff", 10, affiliate=True)
        referred = orgs("ref", 10_000)
        nobody = orgs("nobody", 5_000)
    with step("partnerships, grants, products, tiers, referrals"):
        managed = [(big_partner, c) for c in big_customers] + [
            (small_partners[i // 20], c) for i, c in enumerate(small_customers)
        ]
        since = START - timedelta(days=30)
        Partnership.objects.bulk_create(
            [
                Partnership(partner_id=p, customer_id=c, flow="created", origin="partner" if c % 3 else "self",
                            status="active", activated_at=since, created_at=since, sent_at=since)
                for p, c in managed
            ],
            batch_size=5000,
        )  # fmt: skip
        Grant.objects.bulk_create(
            [Grant(partnership_id=pk, mode="full", valid_from=since) for pk in _ids(Partnership)], batch_size=5000
        )
        # Coverage: full from activation; one partnership in 20 restricted to hosting after three months.
        coverage = [GrantCoverage(partnership_id=pk, effective_at=since, mode="full") for pk in _ids(Partnership)]
        coverage += [
            GrantCoverage(
                partnership_id=row.partnership_id,
                effective_at=START + timedelta(days=90),
                mode="restricted",
                product_ids=[products["web-hosting"]],
            )
            for row in coverage[::20]
        ]
        GrantCoverage.objects.bulk_create(coverage, batch_size=5000)
        web = products["web-hosting"]
        CustomerProduct.objects.bulk_create(
            [CustomerProduct(org_id=c, product_id=web, status="active" if c % 10 else "trial") for _p, c in managed],
            batch_size=5000,
        )
        tiers = dict(program.tiers.values_list("name", "id"))
        names = ["Bronze", "Silver", "Gold", None]
        TierChange.objects.bulk_create(
            [TierChange(partner_id=big_partner, tier_id=tiers["Platinum"], tier_name="Platinum", effective_at=START)]
            + [
                TierChange(
                    partner_id=p,
                    tier_id=tiers.get(names[i % 4] or ""),
                    tier_name=names[i % 4] or "",
                    effective_at=START + timedelta(days=i % 90),
                )
                for i, p in enumerate(small_partners)
            ],
            batch_size=5000,
        )
        links = [Affiliate(org_id=a, code=f"aff{i}", status=AffiliateStatus.APPROVED) for i, a in enumerate(affiliates)]
        Affiliate.objects.bulk_create(links)
        affiliate_ids = _ids(Affiliate)
        Referral.objects.bulk_create(
            [Referral(customer_id=c, affiliate_id=affiliate_ids[i % 10], created_at=START - timedelta(days=1))
             for i, c in enumerate(referred)],
            batch_size=5000,
        )  # fmt: skip

    with step(f"billing events ({lines:,} lines)"):
        events: list[tuple[Any, ...]] = []
        event_lines: list[tuple[Any, ...]] = []
        paid: list[tuple[int, int, str, int]] = []  # (event number, org, currency, cents of line 1)
        skus = list(SKUS)
        n = 0
        span = 365 * 24 * 3600
        while len(event_lines) < lines:
            n += 1
            at = adapt(START + timedelta(seconds=span * len(event_lines) // lines))
            if paid and rng.random() < 0.05:
                number, org, currency, cents = paid.pop(rng.randrange(len(paid)))
                events.append((n, f"ev-{n}", rng.choice(["refund", "chargeback"]), org, currency, at, f"ev-{number}"))
                event_lines.append((n, 1, products["web-hosting"], "web-hosting", "shared-hosting",
                                    Decimal(max(1, cents // 2)) / 100))  # fmt: skip
                continue
            roll = rng.random()
            if roll < 0.5:
                org = big_customers[rng.randrange(big)]
            elif roll < 0.9:
                org = small_customers[rng.randrange(len(small_customers))]
            elif roll < 0.97:
                org = referred[rng.randrange(len(referred))]
            else:
                org = nobody[rng.randrange(len(nobody))]
            currency = "CHF" if rng.random() < 0.7 else "EUR"
            events.append((n, f"ev-{n}", "payment" if rng.random() < 0.5 else "renewal", org, currency, at, ""))
            first = 0
            for line_no in range(1, rng.randint(1, 3) + 1):
                sku = skus[rng.randrange(4)]
                cents = rng.randrange(100, 50_000)
                first = first or cents
                event_lines.append((n, line_no, products[sku], sku, SKUS[sku], Decimal(cents) / 100))
            paid.append((n, org, currency, first))
        _insert(
            "billing_billingevent",
            ("id", "external_id", "kind", "org_id", "currency", "occurred_at", "refers_to", "payload_hash", "source",
             "created_at"),
            [(*e, "bench", "bench", now) for e in events],
        )  # fmt: skip
        _insert(
            "billing_billingeventline",
            ("event_id", "line_no", "product_id", "product_sku", "category_slug", "base_amount"),
            [(*line[:5], connection.ops.adapt_decimalfield_value(line[5], 18, 4)) for line in event_lines],
        )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT setval('billing_billingevent_id_seq', (SELECT MAX(id) FROM billing_billingevent))"
                )
                cursor.execute("ANALYZE")
    assert BillingEvent.objects.count() == len(events)
    return {"big_partner": big_partner, "events": len(events), "lines": len(event_lines)}


# --- the raw insert ----------------------------------------------------------------------------------

COLUMNS = ("beneficiary_id", "customer_id", "type", "currency", "amount_minor", "base_amount", "rate", "tier_name",
           "category_slug", "product_sku", "event_id", "line_no", "reverses_id", "occurred_at", "hold_until",
           "created_at", "status")  # fmt: skip
COPY_TABLE = "bench_ledger_copy"


def make_copy_table() -> None:
    """A table like the ledger: same columns, constraints, indexes, foreign keys and trigger, empty."""
    from django.db import connection

    from partnerhub.commissions.models import LedgerEntry

    table = LedgerEntry._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"CREATE TABLE {COPY_TABLE} (LIKE {table} INCLUDING ALL)")
            cursor.execute(
                "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'f'",
                [table],
            )
            for (definition,) in cursor.fetchall():
                cursor.execute(f"ALTER TABLE {COPY_TABLE} ADD {definition.replace(table, COPY_TABLE)}")
            cursor.execute(
                f"CREATE TRIGGER {COPY_TABLE}_guard BEFORE UPDATE OR DELETE ON {COPY_TABLE} "
                "FOR EACH ROW EXECUTE FUNCTION partnerhub_ledger_guard()"
            )
        else:
            cursor.execute("SELECT sql FROM sqlite_master WHERE tbl_name = %s AND sql IS NOT NULL", [table])
            for (sql,) in cursor.fetchall():
                sql = re.sub(r'(CREATE (?:UNIQUE )?INDEX|CREATE TRIGGER) "?(\w+)"?', r'\1 "bench_\2"', sql)
                cursor.execute(re.sub(rf'"?\b{table}\b"?', f'"{COPY_TABLE}"', sql))


def raw_insert() -> tuple[float, int]:
    """Insert the ledger's rows into the copy table in one transaction; (seconds, rows)."""
    from django.db import connection, transaction

    from partnerhub.commissions.models import LedgerEntry

    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id, {', '.join(COLUMNS)} FROM {LedgerEntry._meta.db_table} ORDER BY id")
        rows = cursor.fetchall()
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {COPY_TABLE} (id, {', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * (len(COLUMNS) + 1))
            cursor.executemany(f"INSERT INTO {COPY_TABLE} (id, {', '.join(COLUMNS)}) VALUES ({marks})", rows)
    return time.perf_counter() - start, len(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000, help="billing-event lines (default 1,000,000)")
    parser.add_argument("--partners", type=int, default=1000, help="partners with 20 customers each")
    parser.add_argument("--big", type=int, default=100_000, help="customers of the one big partner")
    args = parser.parse_args()

    with bench_database() as url:
        setup_django(url)
        from django.db import connection

        from partnerhub.commissions.accrual import accrue_pending
        from partnerhub.commissions.ledger import recompute_totals, stored_totals
        from partnerhub.commissions.models import LedgerEntry

        print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
        world = generate(args.lines, args.partners, args.big)
        print(f"stream: {world['events']:,} events, {world['lines']:,} lines")

        start = time.perf_counter()
        first = accrue_pending()
        accrual = time.perf_counter() - start
        entries = LedgerEntry.objects.count()
        assert first.entries == entries
        print(
            f"accrue_pending: {accrual:.1f} s, {entries:,} ledger entries ({entries / accrual:,.0f} rows/s), "
            f"{world['lines'] / accrual:,.0f} event lines/s"
        )
        assert stored_totals() == recompute_totals(), "rollups differ from a recomputation"

        make_copy_table()
        raw, raw_rows = raw_insert()
        method = "COPY" if connection.vendor == "postgresql" else "executemany, one transaction"
        ratio = (entries / accrual) / (raw_rows / raw)
        print(f"raw insert ({method}) of the same {raw_rows:,} rows: {raw:.1f} s, {raw_rows / raw:,.0f} rows/s")
        print(f"ratio accrual/raw rows/s: {ratio:.2f} (target ≥ 0.5)")

        with connection.cursor() as cursor:  # every event delivered once more
            cursor.execute("INSERT INTO commissions_pendingevent (event_id) SELECT id FROM billing_billingevent")
        start = time.perf_counter()
        again = accrue_pending()
        replay = time.perf_counter() - start
        added = LedgerEntry.objects.count() - entries
        print(
            f"replay of the whole stream: {replay:.1f} s, {replay / accrual:.2f}× the first pass (target ≤ 0.6×), "
            f"{again.entries} written, {added} rows added (must be 0)"
        )
        assert added == 0 and again.entries == 0


if __name__ == "__main__":
    main()
