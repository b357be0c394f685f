from django.db import migrations

from partnerhub.commissions.triggers import ledger_guard
from partnerhub.core.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("commissions", "0001_initial")]

    operations = [ledger_guard(), append_only("commissions_tierchange")]
