"""Benchmark: billing-event ingestion through the batch service against a raw bulk insert.

    .venv/bin/python bench/billing_events.py [--events 100000] [--batch 1000] [--orgs 500] [--products 60]
    DATABASE_URL=postgres://user@host:port/db .venv/bin/python bench/billing_events.py

Makes its own database: a SQLite file in a temporary directory by default; with DATABASE_URL (PostgreSQL)
a fresh database ``partnerhub_bench_<pid>`` on that server, dropped at the end (the database named in
the URL is only used to create and drop it). Generates an operator, customer organisations and a
catalog, then:

1. ingests `--events` events (1–3 lines each; payments and renewals, plus refunds of earlier events)
   through ``ingest_batch`` in batches of `--batch`, as the API would hand them over (decoded JSON);
   every batch is its own transaction;
2. inserts the same rows (events, lines and the audit entry per event: what the service wrote) once
   more, with other external ids, as plain ``INSERT`` statements through ``executemany``, batch by
   batch in one transaction each;

and prints events/s of both, rows/s of the raw insert, and the ratio.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import bench_database, setup_django

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def generate(orgs: int, products: int) -> Any:
    from partnerhub.access.perms import Role
    from partnerhub.access.policy import Actor
    from partnerhub.accounts.models import User
    from partnerhub.catalog.models import Category, Product
    from partnerhub.orgs.models import Membership, Organisation

    operator = Organisation.objects.create(name="Operator", slug="operator", is_operator=True)
    staff = User.objects.create(email="staff@bench.test", password="!", support_code="B0000001")
    Membership.objects.create(user=staff, org=operator, role=Role.OWNER)
    Organisation.objects.bulk_create([Organisation(name=f"Customer {i}", slug=f"c-{i}") for i in range(orgs)])
    categories = [Category.objects.create(slug=f"cat-{i}", name=f"Category {i}", position=i) for i in range(6)]
    Product.objects.bulk_create(
        [Product(category=categories[i % 6], sku=f"sku-{i}", name=f"Product {i}") for i in range(products)]
    )
    return Actor(user=staff)


def payloads(count: int, batch: int, orgs: int, products: int, seed: int = 5) -> list[list[dict[str, Any]]]:
    """Batches of decoded-JSON events; about 8 % are partial refunds of an event of an earlier batch."""
    rng = random.Random(seed)
    batches: list[list[dict[str, Any]]] = []
    earlier: list[dict[str, Any]] = []
    current: list[dict[str, Any]] = []
    for n in range(count):
        day = 1 + n * 27 // max(count, 1)
        when = f"2026-02-{day:02d}T{rng.randrange(24):02d}:{rng.randrange(60):02d}:00Z"
        if earlier and rng.random() < 0.08:
            original = earlier.pop(rng.randrange(len(earlier)))
            line = original["lines"][0]
            cents = max(1, int(Decimal(line["base_amount"]) * 100) // 2)
            event = {
                "external_id": f"ev-{n}",
                "kind": rng.choice(["refund", "refund", "refund", "chargeback"]),
                "org": original["org"],
                "currency": original["currency"],
                "occurred_at": when,
                "refers_to": original["external_id"],
                "lines": [{"sku": line["sku"], "base_amount": f"{cents / 100:.2f}"}],
            }
        else:
            event = {
                "external_id": f"ev-{n}",
                "kind": "payment" if rng.random() < 0.6 else "renewal",
                "org": f"c-{rng.randrange(orgs)}",
                "currency": rng.choice(["CHF", "EUR"]),
                "occurred_at": when,
                "lines": [
                    {"sku": f"sku-{rng.randrange(products)}", "base_amount": f"{rng.randrange(100, 50_000) / 100:.2f}"}
                    for _ in range(rng.randint(1, 3))
                ],
            }
        current.append(event)
        if len(current) == batch:
            earlier.extend(e for e in current if e["kind"] in ("payment", "renewal"))
            batches.append(current)
            current = []
    if current:
        batches.append(current)
    return batches


def raw_copy(suffix: str) -> tuple[float, int, int]:
    """Insert every stored event, line and audit entry again (new ids) with executemany; (seconds, events, rows)."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, external_id, kind, org_id, currency, occurred_at, refers_to, payload_hash, source, created_at "
            "FROM billing_billingevent ORDER BY id"
        )
        events = cursor.fetchall()
        cursor.execute(
            "SELECT event_id, line_no, product_id, product_sku, category_slug, base_amount "
            "FROM billing_billingeventline ORDER BY event_id, line_no"
        )
        lines = cursor.fetchall()
        cursor.execute(
            "SELECT created_at, actor_id, actor_email, org_id, action, object_type, object_id, object_repr, after, "
            "ip, user_agent, api_key_id FROM audit_auditentry WHERE action = 'billing_event.created' ORDER BY id"
        )
        audits = cursor.fetchall()
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM billing_billingevent")
        next_id = cursor.fetchone()[0] + 1
    lines_of: dict[int, list[tuple[Any, ...]]] = {}
    for line in lines:
        lines_of.setdefault(line[0], []).append(line)
    audit_of = {int(row[6]): row for row in audits}
    new_id = {old[0]: next_id + i for i, old in enumerate(events)}
    batch = 1000
    rows = 0
    start = time.perf_counter()
    for offset in range(0, len(events), batch):
        chunk = events[offset : offset + batch]
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.executemany(
                "INSERT INTO billing_billingevent (id, external_id, kind, org_id, currency, occurred_at, refers_to, "
                "payload_hash, source, created_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [(new_id[e[0]], e[1] + suffix, *e[2:]) for e in chunk],
            )
            line_rows = [(new_id[e[0]], *line[1:]) for e in chunk for line in lines_of.get(e[0], [])]
            cursor.executemany(
                "INSERT INTO billing_billingeventline (event_id, line_no, product_id, product_sku, category_slug, "
                "base_amount) VALUES (%s, %s, %s, %s, %s, %s)",
                line_rows,
            )
            audit_rows = [
                (*audit_of[e[0]][:6], str(new_id[e[0]]), *audit_of[e[0]][7:]) for e in chunk if e[0] in audit_of
            ]
            cursor.executemany(
                "INSERT INTO audit_auditentry (created_at, actor_id, actor_email, org_id, action, object_type, "
                "object_id, object_repr, after, ip, user_agent, api_key_id) "
                "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)",
                audit_rows,
            )
            rows += len(chunk) + len(line_rows) + len(audit_rows)
    return time.perf_counter() - start, len(events), rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=1000, help="events per ingest_batch call (at most 1000)")
    parser.add_argument("--orgs", type=int, default=500)
    parser.add_argument("--products", type=int, default=60)
    args = parser.parse_args()

    with bench_database() as url:
        setup_django(url)
        from django.db import connection

        from partnerhub.billing.events import ingest_batch
        from partnerhub.billing.models import BillingEvent, BillingEventLine

        actor = generate(args.orgs, args.products)
        batches = payloads(args.events, args.batch, args.orgs, args.products)
        print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")

        outcomes: dict[str, int] = {}
        start = time.perf_counter()
        for batch in batches:
            for result in ingest_batch(actor, payloads=batch):
                outcomes[result.status] = outcomes.get(result.status, 0) + 1
        service = time.perf_counter() - start
        created = outcomes.get("created", 0)
        lines = BillingEventLine.objects.count()
        print(
            f"service: {args.events} events in {len(batches)} batches of {args.batch}: {service:.1f} s, "
            f"{args.events / service:,.0f} events/s ({outcomes}; {lines} lines)"
        )
        if created != args.events:
            print("warning: not every generated event was created", file=sys.stderr)

        start = time.perf_counter()
        replay = ingest_batch(actor, payloads=batches[0])
        replay_time = time.perf_counter() - start
        assert all(r.status == "replayed" for r in replay)
        print(f"replay of one batch of {len(batches[0])}: {replay_time * 1000:.0f} ms (nothing written)")

        raw, raw_events, raw_rows = raw_copy(":raw")
        assert BillingEvent.objects.count() == 2 * created
        print(
            f"raw executemany INSERT of the same rows: {raw:.1f} s, {raw_events / raw:,.0f} events/s, "
            f"{raw_rows / raw:,.0f} rows/s ({raw_rows} rows: events, lines, audit entries)"
        )
        print(
            f"ratio service/raw: {service / raw:.2f}× the time ({(args.events / service) / (raw_events / raw):.0%} of raw speed)"
        )


if __name__ == "__main__":
    main()
