"""The shared cast (like healthchecks' Alice/Bob/Charlie): one place that builds the people tests use.

- ``operator_org`` with ``operator_staff`` (owner of the operator organisation)
- ``acme`` (a customer) with ``acme_owner``, ``acme_admin``, ``acme_member``
- ``globex`` (a foreign customer) with ``globex_owner``
- ``outsider``: an account without any organisation
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache
from django.test import Client

from partnerhub.access.perms import Role
from partnerhub.access.policy import Actor
from partnerhub.accounts.models import User
from partnerhub.orgs.models import Membership, Organisation

PASSWORD = "correct-horse-battery-9"


def make_user(email: str, name: str = "") -> User:
    user = User.objects.create_user(email=email, password=PASSWORD, name=name)
    from allauth.account.models import EmailAddress

    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


def add_member(user: User, org: Organisation, role: Role, extra: list[str] | None = None) -> Membership:
    return Membership.objects.create(user=user, org=org, role=role, extra_perms=extra or [])


def migrate_to(targets: list[tuple[str, str]]) -> Any:
    """Migrate the test database to `targets` (app, migration) and return the models as they were then."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


def run_together(*calls: Callable[[], object], hold: float = 0.0) -> list[object]:
    """Run `calls` in threads, one connection each, released together; what each returned or raised.

    With `hold`, each call runs in a transaction kept open that many seconds after it, so that the
    others run into it (PostgreSQL concurrency tests, with committed data: ``flushable_db``).
    """
    from django.db import connection, transaction

    barrier = threading.Barrier(len(calls))
    results: list[object] = [None] * len(calls)

    def worker(index: int, call: Callable[[], object]) -> None:
        try:
            barrier.wait()
            if hold:
                with transaction.atomic():
                    results[index] = call()
                    time.sleep(hold)
            else:
                results[index] = call()
        except Exception as exc:  # the test inspects what each thread got
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=worker, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def actor(user: User) -> Actor:
    """`user` calling a service directly (no API key, no address)."""
    return Actor(user=user)


@pytest.fixture(autouse=True)
def _fresh_cache() -> None:
    """Throttling counters live in the cache: no test inherits another's."""
    cache.clear()


@pytest.fixture
def flushable_db(transactional_db: None) -> Iterator[None]:
    """Committed data for tests that need several connections (PostgreSQL concurrency tests).

    The append-only tables refuse TRUNCATE; the flush after such a test may truncate them because
    this fixture marks its own database session (and nothing else ever does).
    """
    yield
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET partnerhub.test_flush = 'on'")


@pytest.fixture
def operator_org(db: None) -> Organisation:
    return Organisation.objects.create(name="Operator AG", slug="operator", is_operator=True)


@pytest.fixture
def operator_staff(operator_org: Organisation) -> User:
    user = make_user("staff@operator.test", "Olga Operator")
    add_member(user, operator_org, Role.OWNER)
    return user


@pytest.fixture
def acme(db: None) -> Organisation:
    return Organisation.objects.create(name="Acme GmbH", slug="acme")


@pytest.fixture
def acme_owner(acme: Organisation) -> User:
    user = make_user("owner@acme.test", "Alice Owner")
    add_member(user, acme, Role.OWNER)
    return user


@pytest.fixture
def acme_admin(acme: Organisation) -> User:
    user = make_user("admin@acme.test", "Adam Admin")
    add_member(user, acme, Role.ADMIN)
    return user


@pytest.fixture
def acme_member(acme: Organisation) -> User:
    user = make_user("member@acme.test", "Mia Member")
    add_member(user, acme, Role.MEMBER)
    return user


@pytest.fixture
def globex(db: None) -> Organisation:
    return Organisation.objects.create(name="Globex Ltd", slug="globex")


@pytest.fixture
def globex_owner(globex: Organisation) -> User:
    user = make_user("owner@globex.test", "Gus Globex")
    add_member(user, globex, Role.OWNER)
    return user


@pytest.fixture
def outsider(db: None) -> User:
    return make_user("outsider@example.test", "Otto Outsider")


@pytest.fixture
def client_for() -> Callable[[User | None], Client]:
    """A logged-in test client for a user (or an anonymous one for None)."""

    def build(user: User | None) -> Client:
        client = Client()
        if user is not None:
            client.force_login(user)
        return client

    return build
