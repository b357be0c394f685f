"""Refuse UPDATE and DELETE on audit entries in the database itself (PostgreSQL and SQLite)."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

TABLE = "audit_auditentry"

POSTGRES_UP = f"""
CREATE OR REPLACE FUNCTION partnerhub_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'partnerhub: % rows are append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_append_only BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION partnerhub_refuse_change();
CREATE TRIGGER audit_no_truncate BEFORE TRUNCATE ON {TABLE}
    FOR EACH STATEMENT EXECUTE FUNCTION partnerhub_refuse_change();
"""
POSTGRES_DOWN = f"""
DROP TRIGGER IF EXISTS audit_append_only ON {TABLE};
DROP TRIGGER IF EXISTS audit_no_truncate ON {TABLE};
"""
SQLITE_UP = [
    f"""CREATE TRIGGER audit_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'partnerhub: audit entries are append-only (UPDATE refused)'); END;""",
    f"""CREATE TRIGGER audit_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'partnerhub: audit entries are append-only (DELETE refused)'); END;""",
]
SQLITE_DOWN = ["DROP TRIGGER IF EXISTS audit_no_update;", "DROP TRIGGER IF EXISTS audit_no_delete;"]


def _run(schema_editor: BaseDatabaseSchemaEditor, *, up: bool) -> None:
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        # params=None: the driver must not read the "%" of RAISE's format string as a placeholder.
        schema_editor.execute(POSTGRES_UP if up else POSTGRES_DOWN, params=None)
    elif vendor == "sqlite":
        for statement in SQLITE_UP if up else SQLITE_DOWN:
            schema_editor.execute(statement)
    else:
        raise NotImplementedError(f"No append-only triggers for database vendor {vendor!r}.")


def forwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run(schema_editor, up=True)


def backwards(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run(schema_editor, up=False)


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [migrations.RunPython(forwards, backwards)]
