"""Create a local admin account if none exists, and print its password once."""

import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the local admin account (user 'admin', random password) if no superuser exists."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")

    def handle(self, *args, **options):
        users = get_user_model()
        if users.objects.filter(is_superuser=True, is_active=True).exists():
            self.stdout.write("An admin account exists already.")
            return
        password = secrets.token_urlsafe(15)
        user = users.objects.create_superuser(
            username=options["username"], email="", password=password
        )
        group = Group.objects.filter(name="admin").first()
        if group is not None:
            user.groups.add(group)
        self.stdout.write(
            self.style.SUCCESS(
                "Created the local admin account (shown once, keep it):\n"
                f"  user name: {user.username}\n  password:  {password}\n"
                "  sign in at /admin/ on the address make run prints"
            )
        )
