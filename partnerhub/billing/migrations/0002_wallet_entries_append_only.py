from django.db import migrations

from partnerhub.core.append_only import append_only


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]
    operations = [append_only("billing_walletentry"), append_only("billing_billingeventline")]
