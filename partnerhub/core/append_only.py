"""Database triggers that make a table append-only (ledgers, wallets, audit): UPDATE, DELETE and, on
PostgreSQL, TRUNCATE are refused by the database itself, whatever code path tries."""

from __future__ import annotations

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

POSTGRES_FUNCTION = """
CREATE OR REPLACE FUNCTION partnerhub_refuse_change() RETURNS trigger AS $$
BEGIN
    -- Only the test suite's database flush sets this for its own session; nothing else does.
    IF TG_OP = 'TRUNCATE' AND current_setting('partnerhub.test_flush', true) = 'on' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION 'partnerhub: % rows are append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
"""


def _statements(table: str, vendor: str, *, up: bool) -> list[str]:
    if vendor == "postgresql":
        if not up:
            return [
                f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};",
                f"DROP TRIGGER IF EXISTS {table}_no_truncate ON {table};",
            ]
        return [
            POSTGRES_FUNCTION,
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION partnerhub_refuse_change();",
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION partnerhub_refuse_change();",
        ]
    if vendor == "sqlite":
        if not up:
            return [f"DROP TRIGGER IF EXISTS {table}_no_update;", f"DROP TRIGGER IF EXISTS {table}_no_delete;"]
        return [
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} BEGIN "
            f"SELECT RAISE(ABORT, 'partnerhub: {table} rows are append-only (UPDATE refused)'); END;",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} BEGIN "
            f"SELECT RAISE(ABORT, 'partnerhub: {table} rows are append-only (DELETE refused)'); END;",
        ]
    raise NotImplementedError(f"No append-only triggers for database vendor {vendor!r}.")


def append_only(table: str) -> migrations.RunPython:
    """A migration operation installing (and, reversed, removing) the triggers on `table`."""

    def run(schema_editor: BaseDatabaseSchemaEditor, *, up: bool) -> None:
        for statement in _statements(table, schema_editor.connection.vendor, up=up):
            # params=None: the PL/pgSQL body contains % signs that are not placeholders.
            schema_editor.execute(statement, params=None)

    def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        run(schema_editor, up=True)

    def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        run(schema_editor, up=False)

    return migrations.RunPython(forwards, backwards)
