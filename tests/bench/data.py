"""Django-side helpers of the benchmark, run in a process of their own.

    python -m tests.bench.data counts SLUG [--email-prefix PREFIX]
    python -m tests.bench.data pending SLUG COUNT --email-prefix PREFIX
    python -m tests.bench.data known SLUG COUNT --email-prefix PREFIX [--new N]
    python -m tests.bench.data forget --email-prefix PREFIX
    python -m tests.bench.data log SLUG [--proofs 500]

`counts` prints the petition's figures as JSON; `pending` stores COUNT signatures waiting for
confirmation and prints their confirmation links (built by the site's own code, on SITE_URL) as
a JSON list; `known` stores COUNT addresses of each kind the timing phase compares and prints
them, with the session cookie of a browser that signed with each; `forget` deletes what was
stored for the addresses starting with PREFIX; `log` appends every counted signature to the
public log, signs a head, and times proofs against it. DJANGO_SETTINGS_MODULE, DATABASE_URL and
DJANGO_SECRET_KEY come from the environment.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from typing import Any

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.bench.settings")

import django

django.setup()

from django.conf import settings  # noqa: E402
from django.contrib.sessions.backends.signed_cookies import SessionStore  # noqa: E402
from django.db import connection  # noqa: E402
from django.utils import timezone  # noqa: E402

from petition import abuse, log, merkle  # noqa: E402
from petition.emails import confirmation_url  # noqa: E402
from petition.models import Petition, Signature, SigningRequest, Suppression  # noqa: E402
from petition.views import ASKED_AT_SESSION_KEY, PENDING_SESSION_KEY  # noqa: E402

# Reserved for documentation (RFC 2606): no message can ever reach anyone there.
DOMAIN = "example.org"


def counts(slug: str, email_prefix: str | None) -> dict[str, Any]:
    """The petition's rows, confirmed rows and stored count.

    With a prefix, also the rows whose address starts with it ("prefixed"), how many of
    those have had their confirmation e-mail sent ("sent"), and the signing requests of such
    addresses that no worker has answered yet ("requests").
    """
    petition = Petition.objects.get(slug=slug)
    signatures = Signature.objects.filter(petition=petition)
    figures: dict[str, Any] = {
        "rows": signatures.count(),
        "confirmed": signatures.confirmed().count(),
        "signature_count": petition.signature_count,
    }
    if email_prefix:
        prefixed = signatures.filter(email__startswith=email_prefix)
        figures["prefixed"] = prefixed.count()
        figures["sent"] = prefixed.filter(confirmation_sent_at__isnull=False).count()
        figures["requests"] = SigningRequest.objects.filter(
            petition=petition, email__startswith=email_prefix
        ).count()
    return figures


def pending(slug: str, count: int, email_prefix: str) -> list[str]:
    """Store count pending signatures, as if their e-mail had just left; their links."""
    petition = Petition.objects.get(slug=slug)
    now = timezone.now()
    Signature.objects.bulk_create(
        [
            Signature(
                petition=petition,
                first_name="Camille",
                last_name=f"Confirmation {index}",
                email=f"{email_prefix}{index}@{DOMAIN}",
                country="FR",
                postal_code="75011",
                language="fr",
                created_at=now,
                confirmation_sent_at=now,
            )
            for index in range(count)
        ],
        batch_size=1000,
    )
    stored = Signature.objects.filter(petition=petition, email__startswith=email_prefix)
    return [confirmation_url(signature) for signature in stored.order_by("pk")]


# The kinds of address the timing phase compares with a new one, and what makes each: all
# signed two days ago, so that the day's allowance of e-mails to their mailboxes is untouched
# (MailboxAllowance forgets what is older than a day), as for an address never seen.
# "new again" is a second sample of new addresses: how far two samples of one kind differ.
KNOWN_KINDS = ("pending", "confirmed", "suspect", "unsubscribed", "suppressed", "withdrawn")
TIMING_KINDS = ("new", "new again", *KNOWN_KINDS)


def timing_address(email_prefix: str, kind: str, index: int) -> str:
    """One address of a kind; every kind's addresses are as long as the others'."""
    return f"{email_prefix}k{TIMING_KINDS.index(kind)}-{index:05d}@{DOMAIN}"


def session_cookie(email: str, asked_at: float) -> str:
    """The Cookie header of a browser that signed with email at asked_at (a POSIX time)."""
    session = SessionStore()
    session[PENDING_SESSION_KEY] = email
    session[ASKED_AT_SESSION_KEY] = asked_at
    session.save()
    return f"{settings.SESSION_COOKIE_NAME}={session.session_key}"


def known(
    slug: str, count: int, email_prefix: str, new: int | None = None
) -> dict[str, list[dict[str, str]]]:
    """Store count addresses of each known kind; every kind's addresses (new ones, as many as
    count unless said, stored nowhere), each with the session cookie of a browser that signed
    with it an hour ago, so that its "send it again" is taken at once."""
    petition = Petition.objects.get(slug=slug)
    signed = timezone.now() - timedelta(days=2)
    confirmed = signed + timedelta(minutes=10)
    states: dict[str, dict[str, Any]] = {
        "pending": {},
        "confirmed": {"confirmed_at": confirmed},
        "suspect": {"suspect_reason": abuse.HONEYPOT},
        "unsubscribed": {"confirmed_at": confirmed, "unsubscribed_at": signed + timedelta(days=1)},
        "suppressed": {},
        "withdrawn": {"confirmed_at": confirmed},
    }
    addresses = {
        kind: [
            timing_address(email_prefix, kind, index)
            for index in range(count if kind in KNOWN_KINDS or new is None else new)
        ]
        for kind in TIMING_KINDS
    }
    Signature.objects.bulk_create(
        [
            Signature(
                petition=petition,
                first_name="Camille",
                last_name="Martin",
                email=email,
                country="FR",
                postal_code="75011",
                language="fr",
                created_at=signed,
                confirmation_sent_at=signed,
                **state,
            )
            for kind, state in states.items()
            for email in addresses[kind]
        ],
        batch_size=1000,
    )
    # The confirmation bounced: the provider reported the address.
    Suppression.objects.bulk_create(
        Suppression(email=email, bounced_at=signed, provider="bench", reason="550 5.1.1")
        for email in addresses["suppressed"]
    )
    # What privacy.withdraw leaves: no signature at all. (Its exact recount of the petition is
    # not needed here: the benchmark's rows were never part of the stored count.)
    Signature.objects.filter(petition=petition, email__in=addresses["withdrawn"]).delete()
    asked_at = (timezone.now() - timedelta(hours=1)).timestamp()
    return {
        kind: [{"email": email, "cookie": session_cookie(email, asked_at)} for email in emails]
        for kind, emails in addresses.items()
    }


def forget(email_prefix: str) -> dict[str, int]:
    """Delete the signatures, requests and suppressions of the addresses starting with
    email_prefix, so that the phases after the timing one find the petition as it was."""
    deleted = {}
    for model in (SigningRequest, Signature, Suppression):
        deleted[model.__name__], _ = model.objects.filter(email__startswith=email_prefix).delete()
    return deleted


def public_log(slug: str, proofs: int) -> dict[str, Any]:
    """Append the whole count to the log, then time proofs from it, as the API makes them."""
    petition = Petition.objects.get(slug=slug)
    started = time.monotonic()
    appended = log.append_all(petition.pk)
    append_seconds = time.monotonic() - started
    head = log.sign_head(petition) or log.latest_head(petition)
    size = head.size
    rng = random.Random(size)  # noqa: S311 - which leaves to prove, reproducibly
    inclusion = []
    for index in rng.sample(range(size), min(proofs, size)):
        started = time.perf_counter()
        path = log.inclusion_proof(petition.pk, index, size)
        inclusion.append(time.perf_counter() - started)
        leaf = log.leaves(petition.pk, index, index + 1)[0]
        merkle.verify_inclusion(merkle.leaf_hash(leaf), index, size, path, bytes(head.root_hash))
    consistency = []
    for first in rng.sample(range(1, size), min(proofs // 10, size - 1)):
        started = time.perf_counter()
        log.consistency_proof(petition.pk, first, size)
        consistency.append(time.perf_counter() - started)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_total_relation_size('petition_logtile')")
        tiles_bytes = cursor.fetchone()[0]
        cursor.execute("SELECT pg_total_relation_size('petition_logentry')")
        entries_bytes = cursor.fetchone()[0]
    return {
        "leaves": size,
        "appended": appended,
        "append_seconds": round(append_seconds, 2),
        "count": head.count,
        "signature_count": Signature.objects.counted().filter(petition=petition).count(),
        "tile_bytes": tiles_bytes,
        "bytes_per_leaf": round(tiles_bytes / max(size, 1), 1),
        "entry_bytes_per_leaf": round(entries_bytes / max(size, 1), 1),
        "inclusion_ms": milliseconds(inclusion),
        "consistency_ms": milliseconds(consistency),
    }


def milliseconds(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median": round(statistics.median(ordered) * 1000, 3),
        "p99": round(ordered[int(len(ordered) * 0.99)] * 1000, 3),
        "max": round(ordered[-1] * 1000, 3),
        "samples": len(ordered),
    }


def main(argv: list[str]) -> None:
    parser = argparse.ArgumentParser(prog="python -m tests.bench.data")
    commands = parser.add_subparsers(dest="command", required=True)
    counts_parser = commands.add_parser("counts")
    counts_parser.add_argument("slug")
    counts_parser.add_argument("--email-prefix")
    pending_parser = commands.add_parser("pending")
    pending_parser.add_argument("slug")
    pending_parser.add_argument("count", type=int)
    pending_parser.add_argument("--email-prefix", required=True)
    known_parser = commands.add_parser("known")
    known_parser.add_argument("slug")
    known_parser.add_argument("count", type=int)
    known_parser.add_argument("--email-prefix", required=True)
    known_parser.add_argument("--new", type=int, help="new addresses (default: COUNT)")
    forget_parser = commands.add_parser("forget")
    forget_parser.add_argument("--email-prefix", required=True)
    log_parser = commands.add_parser("log")
    log_parser.add_argument("slug")
    log_parser.add_argument("--proofs", type=int, default=500)
    args = parser.parse_args(argv)
    if args.command == "counts":
        result: Any = counts(args.slug, args.email_prefix)
    elif args.command == "pending":
        result = pending(args.slug, args.count, args.email_prefix)
    elif args.command == "known":
        result = known(args.slug, args.count, args.email_prefix, args.new)
    elif args.command == "log":
        result = public_log(args.slug, args.proofs)
    else:
        result = forget(args.email_prefix)
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
