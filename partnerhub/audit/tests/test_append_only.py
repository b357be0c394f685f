"""The audit table refuses every change after the INSERT, in the database itself (migration 0002).

Each attempt runs in its own savepoint (``transaction.atomic()``) so that the test transaction
survives the database error; the row is then read again to show it is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pytest
from django.db import DatabaseError, connection, transaction

from partnerhub.audit.models import AuditEntry
from partnerhub.audit.tests.helpers import add_entry

TABLE = AuditEntry._meta.db_table
# PostgreSQL refuses TRUNCATE while deferred foreign-key checks of this transaction are pending
# ("pending trigger events"); running them first lets the statement reach the audit trigger.
IMMEDIATE = "SET CONSTRAINTS ALL IMMEDIATE"


@pytest.fixture
def entry(acme, acme_owner):
    return add_entry(acme, "member.invited", actor=acme_owner, object_repr="Bob", after={"role": "member"})


def snapshot(entry: AuditEntry) -> Mapping[str, object]:
    return AuditEntry.objects.filter(pk=entry.pk).values().get()


def assert_refused(attempt: Callable[[], object]) -> None:
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        attempt()


def test_queryset_update_is_refused(entry):
    before = snapshot(entry)
    assert_refused(lambda: AuditEntry.objects.filter(pk=entry.pk).update(action="member.removed"))
    assert snapshot(entry) == before


def test_bulk_update_of_every_row_is_refused(entry, acme):
    add_entry(acme, "member.removed")
    before = list(AuditEntry.objects.values().order_by("id"))
    assert_refused(lambda: AuditEntry.objects.update(object_repr="rewritten"))
    assert list(AuditEntry.objects.values().order_by("id")) == before


def test_save_of_an_existing_row_is_refused(entry):
    before = snapshot(entry)

    def rewrite() -> None:
        entry.action = "nothing.happened"
        entry.actor_email = "someone@else.test"
        entry.save()

    assert_refused(rewrite)
    assert snapshot(entry) == before


def test_delete_of_a_row_is_refused(entry):
    before = snapshot(entry)
    assert_refused(entry.delete)
    assert snapshot(entry) == before


def test_queryset_delete_is_refused(entry):
    before = snapshot(entry)
    assert_refused(lambda: AuditEntry.objects.filter(org=entry.org).delete())
    assert snapshot(entry) == before


def test_raw_sql_update_is_refused(entry):
    before = snapshot(entry)

    def raw_update() -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"UPDATE {TABLE} SET action = %s WHERE id = %s", ["forged", entry.pk])  # noqa: S608

    assert_refused(raw_update)
    assert snapshot(entry) == before


def test_raw_sql_delete_is_refused(entry):
    before = snapshot(entry)

    def raw_delete() -> None:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {TABLE} WHERE id = %s", [entry.pk])  # noqa: S608

    assert_refused(raw_delete)
    assert snapshot(entry) == before


def test_inserting_stays_possible(entry, acme):
    add_entry(acme, "member.removed")
    assert AuditEntry.objects.filter(org=acme).count() == 2


def test_truncate_is_refused(entry):
    before = snapshot(entry)
    if connection.vendor == "sqlite":
        # SQLite has no TRUNCATE statement; emptying a table is a DELETE without WHERE, refused too.
        with pytest.raises(DatabaseError, match="syntax error"), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(f"TRUNCATE {TABLE}")
        statements = [f"DELETE FROM {TABLE}"]  # noqa: S608
    else:
        # TRUNCATE … CASCADE from organisations would empty the audit table through its foreign key.
        statements = [f"TRUNCATE {TABLE}", "TRUNCATE orgs_organisation CASCADE"]
    for statement in statements:

        def truncate(sql: str = statement) -> None:
            with connection.cursor() as cursor:
                if connection.vendor == "postgresql":
                    cursor.execute(IMMEDIATE)
                cursor.execute(sql)

        assert_refused(truncate)
        assert snapshot(entry) == before
