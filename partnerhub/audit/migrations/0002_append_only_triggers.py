"""Refuse UPDATE and DELETE (and TRUNCATE on PostgreSQL) on audit entries in the database itself."""

from django.db import migrations

from partnerhub.core.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("audit", "0001_initial")]
    operations = [append_only("audit_auditentry")]
