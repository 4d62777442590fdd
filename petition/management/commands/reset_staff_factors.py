"""Remove the second factors of a staff account that lost them all, from the machine's shell."""

from __future__ import annotations

import getpass

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import transaction

from petition import staff


class Command(BaseCommand):
    """For the last superuser who lost every factor (and their recovery codes): only someone
    with a shell on the site's machine, who can read its database anyway, can run it. The
    account's sessions end; at its next login, with its password, it enrols a new factor.
    The reset is recorded in the staff account events and e-mailed to the account's owner.
    """

    help = (
        "Remove every second factor (passkeys, authenticator app, recovery codes) of the staff "
        "account USERNAME and end its sessions: at its next login it enrols new ones. Recorded "
        "in the staff account events, and e-mailed to the account's owner."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("username")

    def handle(self, *args: object, username: str, **options: object) -> None:
        model = get_user_model()
        user = model._default_manager.filter(**{model.USERNAME_FIELD: username}).first()
        if user is None:
            raise CommandError(f"No account is named {username!r}.")
        with transaction.atomic():
            removed = staff.reset_factors(user, by=f"manage.py ({_shell_user()})")
        self.stdout.write(
            f"Removed {removed} second factor(s) of {username} and ended its sessions: at its "
            "next login it enrols a new one."
        )


def _shell_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "shell"
