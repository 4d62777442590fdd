"""Nobody can fill a stranger's inbox: however often, from however many places and in whatever
spelling someone types an address into the form, it receives at most SIGNING_MAILS_PER_DAY
e-mails in 24 hours, SIGNING_MAIL_INTERVAL_SECONDS apart, and each visitor gets the same
answer. A real worker answers the signings and hands its mail to an SMTP server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client

from petition.models import Signature, SigningRequest
from tests.conftest import MANIFESTO_SLUG, signing_form, url_in

from .conftest import (
    CeleryProcess,
    Mailbox,
    RedisServer,
    SmtpServer,
    publishing_to,
    running,
    worker_env,
    worker_process,
)
from .waiting import wait_until

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

VICTIM = "alex.roussel@example.org"
# What bots and pranksters type: the same mailbox, spelt otherwise.
SPELLINGS = [VICTIM, VICTIM.upper(), "Alex.Roussel@Example.org", " alex.roussel@EXAMPLE.ORG"]


@pytest.fixture
def production_limits_worker(
    redis_broker: RedisServer, smtp_server: SmtpServer, tmp_path: Path
) -> Iterator[CeleryProcess]:
    """A worker with production's allowance per mailbox (3 a day, 2 minutes apart)."""
    env = worker_env(
        broker_url=redis_broker.url,
        smtp=smtp_server,
        site_url="http://testserver",
        SIGNING_MAIL_INTERVAL_SECONDS="120",
        SIGNING_MAILS_PER_DAY="3",
    )
    worker = worker_process(env, tmp_path, "allowance")
    with running(worker), publishing_to(redis_broker.url):
        yield worker


@pytest.mark.parametrize("limits", ["production", "per-address limit lifted"])
def test_sixty_signings_of_one_address_from_sixty_places_put_one_e_mail_in_its_inbox(
    petition, mailbox: Mailbox, production_limits_worker: CeleryProcess, settings, limits: str
) -> None:
    if limits != "production":
        # Only the allowance stands between the stranger and the inbox.
        settings.SIGN_RATE_PER_EMAIL = "1000/h"
    answers = []
    for n in range(60):
        visitor = Client(REMOTE_ADDR=f"198.51.100.{n + 1}")
        email = SPELLINGS[n % len(SPELLINGS)]
        response = visitor.post(url_in("fr", "petition", MANIFESTO_SLUG), signing_form(email=email))
        answers.append((response.status_code, response.get("Location")))

    accepted = [answer for answer in answers if answer[0] == 302]
    assert accepted, answers
    # Every accepted signing was answered alike; the rest met the rate limit, alike too.
    assert len(set(accepted)) == 1
    assert {status for status, _ in answers} <= {302, 429}
    wait_until(
        lambda: not SigningRequest.objects.exists(), timeout=60, what="every signing answered"
    )
    assert len(mailbox.to(VICTIM)) == 1, [mail["Subject"] for mail in mailbox.to(VICTIM)]
    assert Signature.objects.for_email(VICTIM).count() == 1
    if limits != "production":
        assert len(accepted) == 60
