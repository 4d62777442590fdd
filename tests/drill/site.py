"""The site's side of the restore drill, run in a process of its own against one database.

    python -m tests.drill.site sign COUNT PREFIX [--pending N]
    python -m tests.drill.site withdraw EMAIL...
    python -m tests.drill.site mistake
    python -m tests.drill.site head
    python -m tests.drill.site state [--since-head JSON]

Every action goes through the site as a visitor or staff would (Django's test client on the
site's own URLs, Celery tasks run eagerly, e-mails kept in memory), on DATABASE_URL, and
prints JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django

django.setup()

from django.core import mail  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.db.models import Q  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import reverse  # noqa: E402
from django.utils import timezone, translation  # noqa: E402

from petition import abuse, log, merkle  # noqa: E402
from petition.forms import FORM_TIME_SIGNER  # noqa: E402
from petition.models import Petition, Signature, SignatureLog  # noqa: E402
from petition.tokens import make_withdrawal_token  # noqa: E402

SLUG = "stop-cyberpedocriminalite"


def url(name: str, *args: object) -> str:
    with translation.override("fr"):
        return reverse(name, args=args)


def sign(count: int, prefix: str, pending: int) -> list[dict[str, Any]]:
    """COUNT people sign through the form and confirm through the e-mail's link and button
    (the last `pending` of them do not confirm); what each was told, and when."""
    acknowledged = []
    mail.outbox = []
    for n in range(count):
        client = Client()
        email = f"{prefix}.{n}@example.org"
        form = {
            "first_name": "Claude",
            "last_name": f"Bernard {n}",
            "email": email,
            "country": "FR",
            "postal_code": "69001",
            "consent": "on",
            "started": FORM_TIME_SIGNER.sign(f"{time.time() - 60:.1f}"),
        }
        answer = client.post(url("petition", SLUG), form, REMOTE_ADDR=f"203.0.113.{n % 250 + 1}")
        if answer.status_code != 302:
            raise SystemExit(f"signing {email} answered {answer.status_code}")
        signed = {"email": email, "signed_at": timezone.now().isoformat(), "confirmed": False}
        if n < count - pending:
            link = next(
                line
                for line in mail.outbox[-1].body.split()
                if "/confirmer/" in line or "/confirm/" in line
            )
            path = link.split("testserver", 1)[1]
            page = client.post(path)
            if page.status_code != 200:
                raise SystemExit(f"confirming {email} answered {page.status_code}")
            signed.update(confirmed=True, confirmed_at=timezone.now().isoformat())
        acknowledged.append(signed)
    log.catch_up_in_process(Petition.objects.get(slug=SLUG))
    return acknowledged


def withdraw(emails: list[str]) -> list[str]:
    """Each signer opens the withdrawal link of their e-mails and presses its button."""
    done = []
    for email in emails:
        signature = Signature.objects.get(email=email)
        answer = Client().post(url("withdraw", make_withdrawal_token(signature)))
        if answer.status_code != 200 or Signature.objects.filter(email=email).exists():
            raise SystemExit(f"withdrawing {email} failed ({answer.status_code})")
        done.append(email)
    log.catch_up_in_process(Petition.objects.get(slug=SLUG))
    return done


def mistake() -> dict[str, Any]:
    """Staff invalidate every signature at once (the admin's bulk action), the log records it
    and a head says so; then someone types a DELETE of every signature in the wrong shell."""
    petition = Petition.objects.get(slug=SLUG)
    invalidated = abuse.invalidate(Signature.objects.all())
    log.reconcile(petition.pk)
    head = log.sign_head(petition)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM petition_signingrequest")
        cursor.execute("DELETE FROM petition_signature")
        deleted = cursor.rowcount
    return {"invalidated": invalidated, "deleted": deleted, "head": describe(head)}


def describe(head: object) -> dict[str, Any] | None:
    if head is None:
        return None
    return {"size": head.size, "count": head.count, "root": merkle.b64(bytes(head.root_hash))}


def head() -> dict[str, Any] | None:
    return describe(log.latest_head(Petition.objects.get(slug=SLUG)))


def state(since_head: dict[str, Any] | None) -> dict[str, Any]:
    """What the restored site holds and serves: signatures, counts, log, head, pages."""
    petition = Petition.objects.get(slug=SLUG)
    every = Signature.objects.filter(petition=petition)
    # The drill's own signers; those stored in bulk for the figures (--fill) are only counted.
    signatures = every.filter(Q(email__startswith="before.") | Q(email__startswith="after."))
    latest = log.latest_head(petition)
    figures: dict[str, Any] = {
        "emails": sorted(signatures.values_list("email", flat=True)),
        "confirmed": sorted(signatures.confirmed().values_list("email", flat=True)),
        "counted_recount": every.counted().count(),
        "stored_count": petition.signature_count,
        "log_count": SignatureLog.objects.get(petition=petition).count,
        "log_recount": log.recount(petition.pk),
        "head": describe(latest),
    }
    if since_head and latest is not None:
        # Every head published before the restore stays consistent with the new one.
        proof = log.consistency_proof(petition.pk, since_head["size"], latest.size)
        merkle.verify_consistency(
            since_head["size"],
            latest.size,
            merkle.unb64(since_head["root"]),
            bytes(latest.root_hash),
            proof,
        )
        figures["consistent_with_published_head"] = True
    client = Client()
    counter = client.get(reverse("petition_api", args=[SLUG]))
    home = client.get("/fr/")
    figures["api_count"] = counter.json()["signature_count"] if counter.status_code == 200 else None
    figures["home_status"] = home.status_code
    return figures


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.drill.site")
    actions = parser.add_subparsers(dest="action", required=True)
    signing = actions.add_parser("sign")
    signing.add_argument("count", type=int)
    signing.add_argument("prefix")
    signing.add_argument("--pending", type=int, default=0)
    withdrawing = actions.add_parser("withdraw")
    withdrawing.add_argument("emails", nargs="+")
    actions.add_parser("mistake")
    actions.add_parser("head")
    stating = actions.add_parser("state")
    stating.add_argument("--since-head", type=json.loads, default=None)
    options = parser.parse_args(argv)
    if options.action == "sign":
        result: Any = sign(options.count, options.prefix, options.pending)
    elif options.action == "withdraw":
        result = withdraw(options.emails)
    elif options.action == "mistake":
        result = mistake()
    elif options.action == "head":
        result = head()
    else:
        result = state(options.since_head)
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
