"""Database triggers of commissions.

- The ledger's guard: rows are never deleted, and an UPDATE may only move the status forward
  (pending → approved → paid) together with its time and payout; every other column is fixed. A
  statement may also release an approved entry from a cancelled payout (payout back to empty).
- The accrual queue: every billing event inserted gets a :class:`~.models.PendingEvent` row.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

TABLE = "commissions_ledgerentry"
FIXED = (
    "id",
    "beneficiary_id",
    "customer_id",
    "type",
    "currency",
    "amount_minor",
    "base_amount",
    "rate",
    "tier_name",
    "category_slug",
    "product_sku",
    "event_id",
    "line_no",
    "reverses_id",
    "occurred_at",
    "hold_until",
    "created_at",
)
# Allowed (old status, new status) pairs; the same status may change payout only while approved.
FORWARD = "(OLD.status = NEW.status AND OLD.status = 'approved') OR (OLD.status = 'pending' AND NEW.status = 'approved') OR (OLD.status = 'approved' AND NEW.status = 'paid')"


def _fixed_changed(distinct: str) -> str:
    return " OR ".join(f"OLD.{c} {distinct} NEW.{c}" for c in FIXED)


POSTGRES = f"""
CREATE OR REPLACE FUNCTION partnerhub_ledger_guard() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        IF current_setting('partnerhub.test_flush', true) = 'on' THEN
            RETURN NULL;
        END IF;
        RAISE EXCEPTION 'partnerhub: ledger entries are append-only (TRUNCATE refused)'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'partnerhub: ledger entries are append-only (DELETE refused)'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF {_fixed_changed("IS DISTINCT FROM")} OR NOT ({FORWARD}) THEN
        RAISE EXCEPTION 'partnerhub: ledger entries are append-only (only the status moves forward)'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""


def _statements(vendor: str, *, up: bool) -> list[str]:
    if vendor == "postgresql":
        if not up:
            return [
                f"DROP TRIGGER IF EXISTS {TABLE}_guard ON {TABLE};",
                f"DROP TRIGGER IF EXISTS {TABLE}_no_truncate ON {TABLE};",
            ]
        return [
            POSTGRES,
            f"CREATE TRIGGER {TABLE}_guard BEFORE UPDATE OR DELETE ON {TABLE} "
            "FOR EACH ROW EXECUTE FUNCTION partnerhub_ledger_guard();",
            f"CREATE TRIGGER {TABLE}_no_truncate BEFORE TRUNCATE ON {TABLE} "
            "FOR EACH STATEMENT EXECUTE FUNCTION partnerhub_ledger_guard();",
        ]
    if vendor == "sqlite":
        if not up:
            return [f"DROP TRIGGER IF EXISTS {TABLE}_guard;", f"DROP TRIGGER IF EXISTS {TABLE}_no_delete;"]
        return [
            f"CREATE TRIGGER {TABLE}_guard BEFORE UPDATE ON {TABLE} "
            f"WHEN {_fixed_changed('IS NOT')} OR NOT ({FORWARD}) BEGIN "
            "SELECT RAISE(ABORT, 'partnerhub: ledger entries are append-only (only the status moves forward)'); END;",
            f"CREATE TRIGGER {TABLE}_no_delete BEFORE DELETE ON {TABLE} BEGIN "
            "SELECT RAISE(ABORT, 'partnerhub: ledger entries are append-only (DELETE refused)'); END;",
        ]
    raise NotImplementedError(f"No ledger triggers for database vendor {vendor!r}.")


def _run(statements: Callable[..., list[str]]) -> migrations.RunPython:
    def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        for statement in statements(schema_editor.connection.vendor, up=True):
            schema_editor.execute(statement, params=None)

    def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        for statement in statements(schema_editor.connection.vendor, up=False):
            schema_editor.execute(statement, params=None)

    return migrations.RunPython(forwards, backwards)


def ledger_guard() -> migrations.RunPython:
    return _run(_statements)


# --- the accrual queue ----------------------------------------------------------------------------------

QUEUE = "commissions_pendingevent"
EVENTS = "billing_billingevent"


def _queue_statements(vendor: str, *, up: bool) -> list[str]:
    if vendor == "postgresql":
        if not up:
            return [
                f"DROP TRIGGER IF EXISTS {EVENTS}_queue ON {EVENTS};",
                "DROP FUNCTION IF EXISTS partnerhub_queue_events();",
            ]
        return [
            "CREATE OR REPLACE FUNCTION partnerhub_queue_events() RETURNS trigger AS $$ BEGIN "  # noqa: S608
            f"INSERT INTO {QUEUE} (event_id) SELECT id FROM stored; RETURN NULL; END; $$ LANGUAGE plpgsql;",
            # Once per statement with its rows (a transition table): a bulk insert queues in one go.
            f"CREATE TRIGGER {EVENTS}_queue AFTER INSERT ON {EVENTS} REFERENCING NEW TABLE AS stored "
            "FOR EACH STATEMENT EXECUTE FUNCTION partnerhub_queue_events();",
        ]
    if vendor == "sqlite":
        if not up:
            return [f"DROP TRIGGER IF EXISTS {EVENTS}_queue;"]
        return [
            f"CREATE TRIGGER {EVENTS}_queue AFTER INSERT ON {EVENTS} BEGIN "  # noqa: S608 - table names only
            f"INSERT INTO {QUEUE} (event_id) VALUES (NEW.id); END;"
        ]
    raise NotImplementedError(f"No queue trigger for database vendor {vendor!r}.")


def queue_events() -> migrations.RunPython:
    """Every billing event inserted is queued for accrual (:class:`~.models.PendingEvent`)."""
    return _run(_queue_statements)
