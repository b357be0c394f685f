"""Benchmark: the partner dashboard of a partner with 100,000 customers, against hand-written SQL.

    .venv/bin/python bench/dashboard.py [--lines 300000] [--big 100000] [--partners 1000] [--repeat 1000]
    DATABASE_URL=postgres://user@host:port/db .venv/bin/python bench/dashboard.py

Makes its own database like the other benchmarks and builds the world of ``bench/accrual.py`` (the big
partner's customers, 1,000 other partners, affiliates, `--lines` billing-event lines over a year), accrues
it, approves what is past its hold and refreshes the big partner's figures. Then it times, in an order
rotated every round:

- endpoint: ``GET /o/<slug>/dashboard/`` for an owner of the big partner (access check, figures, the
  SVG chart, the template), through Django's test client;
- figures: ``queries.dashboard(org)``, what the endpoint reads (its build is memoised on the rows
  read, so a repeated call with unchanged rows reuses it);
- fresh: the same with the memo cleared first, as after every change of the partner's figures;
- raw: hand-written SQL reading the same figures (stats row, totals per currency, twelve months of
  the chart, tiers, rate table);

checks that figures and raw agree, and prints p50/p95 of each, the ratios figures/raw and fresh/raw
(target ≤ 1.5×) and the endpoint's p95 (target ≤ 50 ms).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from accrual import bench_database, generate, setup_django


def p95(samples: list[float]) -> float:
    return statistics.quantiles(samples, n=20)[-1]


def raw_figures(org_id: int, months: list[Any]) -> dict[str, Any]:
    """The dashboard's figures read by hand: five statements on the rollups and the program's table."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT customers, open_invitations, active_customers, trial_customers, tier_id "
            "FROM commissions_partnerstats WHERE partner_id = %s",
            [org_id],
        )
        stats = cursor.fetchone()
        cursor.execute(
            "SELECT currency, earned_minor, paid_minor, pending_minor, approved_minor, entries "
            "FROM commissions_totals WHERE beneficiary_id = %s AND entries > 0 ORDER BY currency",
            [org_id],
        )
        totals = cursor.fetchall()
        cursor.execute(
            "SELECT currency, month, amount_minor FROM commissions_monthlytotal "
            "WHERE beneficiary_id = %s AND month >= %s AND month <= %s",
            [org_id, months[0], months[-1]],
        )
        chart = cursor.fetchall()
        cursor.execute(
            "SELECT id, name, min_customers FROM commissions_tier "
            "WHERE program_id = (SELECT id FROM partners_program ORDER BY id LIMIT 1) ORDER BY min_customers"
        )
        tiers = cursor.fetchall()
        cursor.execute(
            "SELECT r.audience, r.tier_id, r.percent, c.slug, c.name, c.position FROM commissions_rate r "
            "JOIN catalog_category c ON c.id = r.category_id "
            "WHERE r.program_id = (SELECT id FROM partners_program ORDER BY id LIMIT 1)"
        )
        rates = cursor.fetchall()
    return {"stats": stats, "totals": totals, "chart": chart, "tiers": tiers, "rates": rates}


def timed(call: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = call()
    return (time.perf_counter() - start) * 1000, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=300_000, help="billing-event lines to accrue first")
    parser.add_argument("--big", type=int, default=100_000, help="customers of the big partner")
    parser.add_argument("--partners", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=1000, help="timed rounds (p95 needs many)")
    args = parser.parse_args()

    with bench_database() as url:
        setup_django(url)
        from django.db import connection
        from django.test import Client

        from partnerhub.access.perms import Role
        from partnerhub.accounts.models import User
        from partnerhub.commissions import queries
        from partnerhub.commissions.accrual import accrue_pending
        from partnerhub.commissions.ledger import approve_due
        from partnerhub.commissions.models import LedgerEntry
        from partnerhub.commissions.tiers import refresh_partner_stats
        from partnerhub.orgs.models import Membership, Organisation

        print(f"database: {connection.vendor} {connection.settings_dict['NAME']}")
        world = generate(args.lines, args.partners, args.big)
        accrue_pending()
        approve_due()
        refresh_partner_stats([world["big_partner"]])
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")
        org = Organisation.objects.get(pk=world["big_partner"])
        entries = LedgerEntry.objects.filter(beneficiary=org).count()
        print(f"big partner: {org.partner_stats.customers:,} customers, {entries:,} ledger entries")

        owner = User.objects.create_user(email="owner@bench.test", password="bench-password-1")
        Membership.objects.create(user=owner, org=org, role=Role.OWNER)
        client = Client()
        client.force_login(owner)
        path = f"/o/{org.slug}/dashboard/"
        response = client.get(path)
        assert response.status_code == 200, response.status_code

        board = queries.dashboard(org)
        raw = raw_figures(org.pk, board.months)
        assert raw["stats"][:4] == (board.customers, board.open_invitations, board.active_customers,
                                    board.trial_customers)  # fmt: skip
        assert [t[0] for t in raw["totals"]] == [t.currency for t in board.totals]
        assert sum(r[2] for r in raw["chart"]) == sum(int(p.amount * 100) for s in board.series for p in s.points), (
            "chart differs"
        )

        samples: dict[str, list[float]] = {"endpoint": [], "figures": [], "fresh": [], "raw": []}

        def fresh() -> Any:
            queries._board.cache_clear()
            queries._rates.cache_clear()
            return queries.dashboard(org)

        for _ in range(5):  # warm up
            client.get(path)
            queries.dashboard(org)
            raw_figures(org.pk, board.months)
        calls: dict[str, Callable[[], Any]] = {
            "endpoint": lambda: client.get(path),
            "figures": lambda: queries.dashboard(org),
            "fresh": fresh,
            "raw": lambda: raw_figures(org.pk, board.months),
        }
        order = list(calls)
        for round_no in range(args.repeat):
            # Rotate the order every round: whichever runs right after the page request meets colder
            # caches, and that must not always be the same contestant.
            for name in order[round_no % len(order) :] + order[: round_no % len(order)]:
                samples[name].append(timed(calls[name])[0])
        for name, values in samples.items():
            print(f"{name}: p50 {statistics.median(values):.2f} ms, p95 {p95(values):.2f} ms ({args.repeat} runs)")
        ratio = p95(samples["figures"]) / p95(samples["raw"])
        median = statistics.median(samples["figures"]) / statistics.median(samples["raw"])
        print(f"ratio figures/raw (p95): {ratio:.2f}× (target ≤ 1.5×); at p50: {median:.2f}×")
        fresh_ratio = p95(samples["fresh"]) / p95(samples["raw"])
        print(f"ratio fresh/raw (p95, memo cleared): {fresh_ratio:.2f}×")
        print(f"endpoint p95: {p95(samples['endpoint']):.1f} ms (target ≤ 50 ms)")


if __name__ == "__main__":
    main()
