"""The `admin` group manages staff's two-factor devices and sees background tasks.

0005 gave the group users, groups and API tokens but not the django-otp devices (so an
admin who is not a superuser could not reset a colleague's lost authenticator) nor the
task results of imports (DOMAIN.md: admins manage users, tokens and settings). Found by
tests/incidents/test_admin_permissions.py.
"""

from django.db import migrations

from incidents.migrations import _permissions

PERMISSIONS = [
    *[
        (app, model, action)
        for app, model in (
            ("otp_totp", "totpdevice"),
            ("otp_static", "staticdevice"),
            ("otp_static", "statictoken"),
        )
        for action in ("add", "change", "delete", "view")
    ],
    ("django_tasks_database", "dbtaskresult", "view"),
]


def grant(apps, schema_editor):
    _permissions.grant(apps, schema_editor, "admin", PERMISSIONS)


def revoke(apps, schema_editor):
    _permissions.revoke(apps, schema_editor, "admin", PERMISSIONS)


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0008_performance_indexes"),
        ("otp_totp", "0003_add_timestamps"),
        ("otp_static", "0003_add_timestamps"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
