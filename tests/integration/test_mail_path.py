"""The e-mail path with real services: a signature made on the site is queued on Redis, the
Celery worker sends the confirmation over SMTP, and confirming moves the public count."""

from __future__ import annotations

import time
import urllib.request
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from django.core import mail
from django.http import HttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from petition.models import Petition, Signature
from tests.conftest import MANIFESTO_SLUG, signing_form

from .waiting import wait_until

if TYPE_CHECKING:
    from pytest_django.live_server_helper import LiveServer

    from .conftest import CeleryProcess, CounterApi, Mailbox, ReceivedMail, SmtpServer

pytestmark = pytest.mark.services

RETRY_LOGGED = r"answer_signing\[[^\]]+\] retry: Retry in \d+s: {error}"


def sign(client: Client, language: str, email: str) -> HttpResponse:
    with translation.override(language):
        url = reverse("petition", args=[MANIFESTO_SLUG])
    return client.post(url, signing_form(email=email))


def link_prefix(live_server: LiveServer, language: str, view: str) -> str:
    """The start of the absolute address of a token view, up to the token."""
    with translation.override(language):
        path = reverse(view, args=["TOKEN"])
    return live_server.url + path.removesuffix("TOKEN/")


def confirmation_sent(email: str) -> bool:
    return Signature.objects.for_email(email).filter(confirmation_sent_at__isnull=False).exists()


@pytest.mark.parametrize("language", ["fr", "en"])
def test_confirmation_arrives_over_smtp_in_the_signers_language(
    client: Client,
    live_server: LiveServer,
    petition: Petition,
    worker: CeleryProcess,
    mailbox: Mailbox,
    language: str,
) -> None:
    address = f"camille.{language}@example.org"

    response = sign(client, language, address)

    assert response.status_code == 302
    assert mail.outbox == [], "the page sent mail itself instead of queueing it"
    received = mailbox.wait_for(address)
    with translation.override(language):
        assert received["Subject"] == gettext("Confirm your signature of the CAMELEON manifesto")
    assert received.message.get_content_type() == "multipart/alternative"
    assert f'<html lang="{language}">' in received.html
    confirm_url = received.link(link_prefix(live_server, language, "confirm"))
    assert confirm_url in received.html
    unsubscribe_url = received.link(link_prefix(live_server, language, "unsubscribe"))
    assert unsubscribe_url in received.html
    assert received["List-Unsubscribe"] == f"<{unsubscribe_url}>"
    assert urlsplit(unsubscribe_url).scheme in {"https", urlsplit(live_server.url).scheme}
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    wait_until(lambda: confirmation_sent(address), timeout=5, what="confirmation_sent_at")
    assert len(mailbox.to(address)) == 1


def test_confirming_updates_the_count_through_the_worker(
    client: Client,
    live_server: LiveServer,
    petition: Petition,
    worker: CeleryProcess,
    mailbox: Mailbox,
    counter_api: CounterApi,
) -> None:
    address = "dominique.martin@example.org"
    sign(client, "fr", address)
    received = mailbox.wait_for(address)
    confirm_path = urlsplit(received.link(link_prefix(live_server, "fr", "confirm"))).path

    assert client.get(confirm_path).status_code == 200
    assert not Signature.objects.for_email(address).get().is_confirmed, "opening the link counted"
    assert counter_api.read()["signature_count"] == 0
    response = client.post(confirm_path)

    assert response.status_code == 200
    assert Signature.objects.for_email(address).get().is_confirmed
    counted = counter_api.wait_for_count(1, timeout=5)
    assert counted["slug"] == MANIFESTO_SLUG


def test_one_click_unsubscribe_from_the_mail_header(
    client: Client,
    live_server: LiveServer,
    petition: Petition,
    worker: CeleryProcess,
    mailbox: Mailbox,
) -> None:
    address = "alex.petit@example.org"
    sign(client, "en", address)
    received: ReceivedMail = mailbox.wait_for(address)
    header_url = received["List-Unsubscribe"].strip("<>")

    # What a mail client does for RFC 8058: a bare POST, with neither cookie nor CSRF token.
    request = urllib.request.Request(  # noqa: S310 (our own live server)
        header_url,
        data=b"List-Unsubscribe=One-Click",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        assert response.status == 200

    signature = Signature.objects.for_email(address).get()
    assert signature.unsubscribed_at is not None
    assert not signature.is_confirmed


def test_temporary_provider_failure_is_retried_until_the_mail_leaves(
    client: Client, petition: Petition, worker: CeleryProcess, mailbox: Mailbox
) -> None:
    address = "sam.bernard@example.org"
    mailbox.defer(2)
    log_start = len(worker.log())

    sign(client, "fr", address)

    received = mailbox.wait_for(address, timeout=20)
    assert mailbox.deferred == 2
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    worker.wait_for_log(RETRY_LOGGED.format(error="SMTPDataError"), after=log_start, timeout=1)
    wait_until(lambda: confirmation_sent(address), timeout=5, what="confirmation_sent_at")
    assert len(mailbox.to(address)) == 1
    # It left in the end: no failure for staff to see (a lasting one: test_faults.py).
    signature = Signature.objects.for_email(address).get()
    assert (signature.confirmation_failed_at, signature.confirmation_error) == (None, "")


def test_mail_server_down_delays_the_mail_without_losing_it(
    client: Client,
    petition: Petition,
    worker: CeleryProcess,
    mailbox: Mailbox,
    smtp_server: SmtpServer,
) -> None:
    address = "noa.leroy@example.org"
    log_start = len(worker.log())

    with smtp_server.down():
        started = time.monotonic()
        response = sign(client, "fr", address)
        answered_in = time.monotonic() - started
        worker.wait_for_log(RETRY_LOGGED.format(error="ConnectionRefusedError"), after=log_start)
        assert not confirmation_sent(address)

    assert response.status_code == 302
    assert answered_in < 3, "the page waited for the mail server"
    # Retries wait up to 1 s, then 2 s, 4 s (conftest.MAIL_RETRY_BACKOFF).
    mailbox.wait_for(address, timeout=30)
    wait_until(lambda: confirmation_sent(address), timeout=5, what="confirmation_sent_at")
    assert Signature.objects.for_email(address).count() == 1
