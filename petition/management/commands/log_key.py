"""python manage.py log_key [--new]: the public log's signing key, as people must see it."""

from __future__ import annotations

import base64
import secrets

from django.core.management.base import BaseCommand, CommandParser

from petition import log, merkle


class Command(BaseCommand):
    help = (
        "Print the public key of the log's heads, its fingerprint and its note verifier key, "
        "to publish; with --new, make a new private key to put in LOG_SIGNING_KEY."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--new", action="store_true", help="make a new key (printed, stored nowhere)"
        )

    def handle(self, *args: object, new: bool = False, **options: object) -> None:
        if new:
            seed = base64.b64encode(secrets.token_bytes(32)).decode()
            self.stdout.write(f"LOG_SIGNING_KEY={seed}")
            self.stderr.write(
                "Keep it secret, on the machines that run Celery only. When it replaces "
                "another, add the old public key to LOG_RETIRED_PUBLIC_KEYS."
            )
            return
        key = log.signing_key()
        public = key.public
        self.stdout.write(f"name:         {key.name}")
        self.stdout.write(f"public key:   {merkle.b64(public)}")
        self.stdout.write(f"fingerprint:  {merkle.fingerprint(public)}")
        self.stdout.write(f"verifier key: {merkle.verifier_key(key.name, public)}")
