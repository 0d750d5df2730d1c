"""Issue 12 §6: staff status follows the role group (DOMAIN.md, "Accounts").

A person put in a role group without `is_staff` ticked could not sign in to the admin
(a newcomer's first experience). From now on the admin sets `is_staff` from the role
groups (incidents/accounts.py `user_sync_staff`); this gives it to the existing
members of a role group who lack it. Nobody loses staff status here: taking it away
from someone outside the role groups is a person's decision, not a migration's.
"""

from django.db import migrations

ROLE_GROUPS = ("researcher", "reviewer", "admin")


def staff_follows_role_group(apps, schema_editor):
    User = apps.get_model("auth", "User")
    using = schema_editor.connection.alias
    User.objects.using(using).filter(
        groups__name__in=ROLE_GROUPS, is_staff=False
    ).update(is_staff=True)


class Migration(migrations.Migration):
    dependencies = [("incidents", "0011_recompute_totals_not_recorded")]

    operations = [
        migrations.RunPython(staff_follows_role_group, migrations.RunPython.noop)
    ]
