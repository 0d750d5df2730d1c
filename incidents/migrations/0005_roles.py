"""The groups `researcher`, `reviewer` and `admin` (DOMAIN.md "Workflow and roles").

Model permissions follow the roles table. The rules that depend on an incident's status
(who may edit `in_review` and published incidents, publish, withdraw, merge, import with
--publish) are not model permissions: the services check the user's group for them.

- researcher: add, change and view incidents and their dependent rows, actors and their
  names and relations, places and their names, facilities and sources; delete only the
  dependent rows an edit may remove (a wrong casualty row, weapon, target, attribution,
  citation, victim or alias: the audit trail keeps them), never an incident, actor,
  place, facility or source ("nothing is deleted"); view and add import batches; view
  the vocabularies and write conflicts.
- reviewer: the same (merging and publishing are service rules, see above).
- admin: everything on the domain models, vocabularies included, plus users, groups and
  API tokens; the append-only tables (audit events, write conflicts, the public changes
  feed, the code counter) only to view, since editing them would rewrite history or
  reuse codes.

Permissions are created here first: on an empty database they do not exist until the
post_migrate signal, which runs after every migration.
"""

from django.db import migrations

from incidents.migrations._permissions import ensure_permissions, lookup

VOCABULARIES = ["incidenttype", "weapontype", "targettype"]
EDITABLE = [
    "incident",
    "incidentweapon",
    "incidenttarget",
    "casualtycount",
    "attribution",
    "citation",
    "externalref",
    "victim",
    "actor",
    "actorname",
    "actorrelation",
    "location",
    "locationname",
    "facility",
    "source",
]
REMOVABLE = [
    "incidentweapon",
    "incidenttarget",
    "casualtycount",
    "attribution",
    "citation",
    "victim",
    "actorname",
    "locationname",
]
APPEND_ONLY = ["writeconflict", "publicchange", "incidentcodecounter"]
ALL_ACTIONS = ("add", "change", "delete", "view")


def _researcher():
    perms = [("incidents", model, "view") for model in VOCABULARIES]
    perms += [
        ("incidents", model, action)
        for model in EDITABLE
        for action in ("add", "change", "view")
    ]
    perms += [("incidents", model, "delete") for model in REMOVABLE]
    perms += [
        ("incidents", "importbatch", "view"),
        ("incidents", "importbatch", "add"),
        ("incidents", "writeconflict", "view"),
    ]
    return perms


def _admin(apps):
    perms = []
    for model in apps.get_app_config("incidents").get_models():
        name = model._meta.model_name
        if name.endswith("event") or name in APPEND_ONLY:
            perms.append(("incidents", name, "view"))
        else:
            perms += [("incidents", name, action) for action in ALL_ACTIONS]
    perms += [
        ("auth", model, action) for model in ("user", "group") for action in ALL_ACTIONS
    ]
    perms.append(("auth", "permission", "view"))
    perms += [("knox", "authtoken", action) for action in ALL_ACTIONS]
    # The audit trail's admin pages (pghistory.admin).
    perms += [("pghistory", "context", "view"), ("pghistory", "events", "view")]
    return perms


def _roles(apps):
    researcher = _researcher()
    return {
        "researcher": researcher,
        "reviewer": list(researcher),
        "admin": _admin(apps),
    }


def create_groups(apps, schema_editor):
    using = schema_editor.connection.alias
    ensure_permissions(apps, using, ("incidents", "auth", "knox", "pghistory"))
    Group = apps.get_model("auth", "Group")
    for name, perms in _roles(apps).items():
        group, _ = Group.objects.using(using).get_or_create(name=name)
        group.permissions.add(*lookup(apps, using, perms))


def delete_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.using(schema_editor.connection.alias).filter(
        name__in=["researcher", "reviewer", "admin"]
    ).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("incidents", "0004_gazetteer"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("knox", "0009_extend_authtoken_field"),
        ("pghistory", "0007_auto_20250421_0444"),
    ]

    operations = [
        migrations.RunPython(create_groups, delete_groups),
    ]
