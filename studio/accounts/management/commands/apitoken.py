from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from studio.accounts.services import api_token_create


class Command(BaseCommand):
    help = "Create an API token for a user and print it on the last line."

    def add_arguments(self, parser) -> None:
        parser.add_argument("username")
        parser.add_argument("--name", default="command line")

    def handle(self, *args, username: str, name: str, **options) -> None:
        User = get_user_model()
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        _, plain = api_token_create(user=user, name=name)
        self.stderr.write(f"New API token for {username} (shown once):")
        self.stdout.write(plain)
