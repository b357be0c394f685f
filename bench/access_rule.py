"""Benchmark: the access rule against a raw-SQL reference, on generated data.

    .venv/bin/python bench/access_rule.py [--users 2000] [--orgs 500] [--checks 5000]

Creates its own SQLite database in a temporary directory, generates organisations and memberships,
then times (a) `perms_for` + `can` for random (user, org) pairs against a plain SQL lookup of the
membership row, and (b) `visible_orgs` against a plain SQL join. Prints each ratio.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def setup_django(db_path: Path) -> None:
    os.environ["PARTNERHUB_MODE"] = "test"
    os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def generate(users: int, orgs: int, seed: int = 7) -> None:
    from partnerhub.access.perms import Perm, Role
    from partnerhub.accounts.models import User
    from partnerhub.orgs.models import Membership, Organisation

    rng = random.Random(seed)
    User.objects.bulk_create(
        [User(email=f"u{i}@bench.test", password="!", support_code=f"B{i:07d}") for i in range(users)],
        batch_size=1000,
    )
    Organisation.objects.bulk_create(
        [Organisation(name=f"Org {i}", slug=f"org-{i}", is_partner=i % 10 == 0) for i in range(orgs)],
        batch_size=1000,
    )
    user_ids = list(User.objects.values_list("id", flat=True))
    org_ids = list(Organisation.objects.values_list("id", flat=True))
    extras = [str(p) for p in Perm]
    rows, seen = [], set()
    for uid in user_ids:
        for oid in rng.sample(org_ids, k=min(3, len(org_ids))):
            if (uid, oid) in seen:
                continue
            seen.add((uid, oid))
            rows.append(
                Membership(
                    user_id=uid,
                    org_id=oid,
                    role=rng.choice(list(Role)),
                    extra_perms=rng.sample(extras, k=rng.randint(0, 3)),
                )
            )
    Membership.objects.bulk_create(rows, batch_size=2000)


def timed(fn, repeat: int) -> float:
    start = time.perf_counter()
    for _ in range(repeat):
        fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=2000)
    parser.add_argument("--orgs", type=int, default=500)
    parser.add_argument("--checks", type=int, default=5000)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        setup_django(Path(tmp) / "bench.sqlite3")
        generate(args.users, args.orgs)

        from django.db import connection

        from partnerhub.access.perms import Perm
        from partnerhub.access.policy import can, visible_orgs
        from partnerhub.accounts.models import User
        from partnerhub.orgs.models import Organisation

        rng = random.Random(11)
        users = list(User.objects.all())
        orgs = list(Organisation.objects.all())
        pairs = [(rng.choice(users), rng.choice(orgs)) for _ in range(args.checks)]

        it = iter(pairs * 2)

        def project_check() -> None:
            user, org = next(it)
            can(user, Perm.MEMBERS_MANAGE, org)

        raw_it = iter(pairs * 2)

        def raw_check() -> None:
            user, org = next(raw_it)
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT role, extra_perms FROM orgs_membership WHERE user_id = %s AND org_id = %s",
                    [user.pk, org.pk],
                )
                cursor.fetchone()

        t_project = timed(project_check, args.checks)
        t_raw = timed(raw_check, args.checks)
        print(
            f"can() x{args.checks}: project {t_project * 1e6 / args.checks:.0f} µs/check, "
            f"raw SQL {t_raw * 1e6 / args.checks:.0f} µs/check, ratio {t_project / t_raw:.2f}"
        )

        sample = users[: min(500, len(users))]
        vit = iter(sample)

        def project_list() -> None:
            list(visible_orgs(next(vit)))

        rit = iter(sample)

        def raw_list() -> None:
            user = next(rit)
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT o.id, o.name, o.slug FROM orgs_organisation o JOIN orgs_membership m ON m.org_id = o.id "
                    "WHERE m.user_id = %s ORDER BY o.name",
                    [user.pk],
                )
                cursor.fetchall()

        t_project = timed(project_list, len(sample))
        t_raw = timed(raw_list, len(sample))
        print(
            f"visible_orgs() x{len(sample)}: project {t_project * 1e6 / len(sample):.0f} µs/list, "
            f"raw SQL {t_raw * 1e6 / len(sample):.0f} µs/list, ratio {t_project / t_raw:.2f}"
        )


if __name__ == "__main__":
    main()
