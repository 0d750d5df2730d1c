"""Helpers for migrations that give a role group model permissions (not a migration)."""

from django.contrib.auth.management import create_permissions


def ensure_permissions(apps, using, labels) -> None:
    """Create the model permissions of the apps `labels` now (on an empty database they
    exist only after the post_migrate signal, which runs after every migration)."""
    for label in labels:
        app_config = apps.get_app_config(label)
        # create_permissions() skips an app without a models module; a historical app
        # config (AppConfigStub) has none, though its models are all there.
        app_config.models_module = True
        try:
            create_permissions(app_config, apps=apps, verbosity=0, using=using)
        finally:
            app_config.models_module = None


def lookup(apps, using, perms):
    Permission = apps.get_model("auth", "Permission")
    return [
        Permission.objects.using(using).get(
            content_type__app_label=app_label,
            content_type__model=model,
            codename=f"{action}_{model}",
        )
        for app_label, model, action in perms
    ]


def grant(apps, schema_editor, group_name: str, perms) -> None:
    using = schema_editor.connection.alias
    ensure_permissions(apps, using, sorted({app for app, _model, _action in perms}))
    Group = apps.get_model("auth", "Group")
    group, _ = Group.objects.using(using).get_or_create(name=group_name)
    group.permissions.add(*lookup(apps, using, perms))


def revoke(apps, schema_editor, group_name: str, perms) -> None:
    using = schema_editor.connection.alias
    Group = apps.get_model("auth", "Group")
    group = Group.objects.using(using).filter(name=group_name).first()
    if group is not None:
        group.permissions.remove(*lookup(apps, using, perms))
