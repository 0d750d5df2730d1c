"""Issue 12 §6: staff status follows the role group (DOMAIN.md, "Accounts").
PLACEHOLDER: being written."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("incidents", "0011_recompute_totals_not_recorded")]

    operations = []
