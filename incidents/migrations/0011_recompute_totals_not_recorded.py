"""Issue 12 §7: recompute every incident's denormalised totals under the corrected rule
(DOMAIN.md, "Not recorded is not zero"). PLACEHOLDER: being written."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("incidents", "0010_totals_not_recorded_nullable")]

    operations = []
