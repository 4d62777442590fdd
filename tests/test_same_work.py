"""Nothing tells whether an address has signed: every door that takes an address or a token
does the same work, and gives the same answer, for a known value and an unknown one.

The work is what the database and the broker are asked to do: the SQL statements (their
number, order and shape) and the tasks queued. Timing follows from it; `make bench` measures
the timing itself (tests/bench, "indistinguishable").
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from petition import privacy
from petition.models import Signature, SigningRequest, Suppression
from petition.queueing import QueuedTask
from petition.tokens import (
    make_confirmation_token,
    make_sharing_token,
    make_unsubscribe_token,
    make_withdrawal_token,
)
from tests.conftest import parse_html, signing_form, url_in

pytestmark = pytest.mark.django_db

# Values that vary between two requests of the same shape: literals, numbers, identifiers of
# savepoints.
LITERAL = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b|\"s\d+_x\d+\"|s\d+_x\d+")

KINDS = ["new", "pending", "confirmed", "suspect", "unsubscribed", "suppressed", "withdrawn"]
ADDRESS = "dominique.martin@example.org"


def main_text(response) -> str:
    """What the page says (its main element): the rest differs only by the CSRF token and the
    address of the page itself, in the language switcher."""
    return parse_html(response).find("main").text


def shape(sql: str) -> str:
    return LITERAL.sub("?", sql)


def make_address(kind: str, petition) -> str:
    """An address in the given state; each its own, so that no state leaks into another."""
    address = f"{kind}.{ADDRESS}"
    if kind == "new":
        return address
    now = timezone.now()
    signature = Signature.objects.create(
        petition=petition,
        first_name="Dominique",
        last_name="Martin",
        email=address,
        postal_code="69001",
        language="fr",
        created_at=now - timedelta(days=2),
        confirmed_at=None if kind == "pending" else now - timedelta(days=1),
        suspect_reason="filled the hidden field" if kind == "suspect" else "",
        unsubscribed_at=now if kind == "unsubscribed" else None,
    )
    if kind == "suppressed":
        Suppression.objects.create(email=address, bounced_at=now)
    if kind == "withdrawn":
        privacy.withdraw(signature=signature)
    return address


class Work:
    """What one request asked of the database and the broker, and what it answered."""

    def __init__(self, response, statements: list[str], queued: list) -> None:
        self.status = response.status_code
        self.location = response.get("Location")
        self.cookies = sorted(response.cookies)
        self.statements = [shape(sql) for sql in statements]
        self.queued = [
            (callback.name, [type(arg).__name__ for arg in callback.args])
            for callback in queued
            if isinstance(callback, QueuedTask)
        ]
        self.other_callbacks = [c for c in queued if not isinstance(c, QueuedTask)]

    def same_as(self, other: Work) -> tuple:
        return (self.status, self.location, self.cookies, self.statements, self.queued) == (
            other.status,
            other.location,
            other.cookies,
            other.statements,
            other.queued,
        )


@pytest.fixture
def measure(django_capture_on_commit_callbacks, settings):
    """measure(request): the Work of one request, with its tasks left unqueued."""
    # The switches are read at most once a second: keep that read out of the comparison.
    settings.SWITCHES_CACHE_SECONDS = 3600

    def measure(send) -> Work:
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks(execute=False) as callbacks,
        ):
            response = send()
        return Work(response, [query["sql"] for query in queries.captured_queries], callbacks)

    return measure


def post_signing(client: Client, petition, email: str, lang: str = "fr"):
    return lambda: client.post(url_in(lang, "petition", petition.slug), signing_form(email=email))


@pytest.mark.parametrize("kind", KINDS[1:])
def test_signing_with_a_known_address_does_the_same_work_as_with_a_new_one(petition, measure, kind):
    addresses = {k: make_address(k, petition) for k in ["new", kind]}
    # A first signing warms what every request shares (the switches, the form's lists).
    Client().post(url_in("fr", "petition", petition.slug), signing_form(email="warm@example.org"))

    new = measure(post_signing(Client(), petition, addresses["new"]))
    known = measure(post_signing(Client(), petition, addresses[kind]))

    assert new.status == 302
    # The petition, and the request taken in.
    assert [statement.split()[0] for statement in new.statements] == ["SELECT", "INSERT"]
    assert new.queued == [("petition.tasks.answer_signings", ["int"])]
    assert new.other_callbacks == known.other_callbacks == []
    assert known.statements == new.statements
    assert known.queued == new.queued
    assert known.same_as(new)


@pytest.mark.parametrize("kind", KINDS[1:])
def test_send_it_again_does_the_same_work_for_a_known_address_as_for_a_new_one(
    petition, measure, kind, settings
):
    settings.SIGNING_MAIL_INTERVAL_SECONDS = 0
    addresses = {k: make_address(k, petition) for k in ["new", kind]}
    resend = url_in("fr", "resend", petition.slug)
    works = {}
    for k, address in addresses.items():
        browser = Client()
        browser.post(url_in("fr", "petition", petition.slug), signing_form(email=address))
        works[k] = measure(lambda browser=browser: browser.post(resend))

    assert works["new"].status == 200
    assert works["new"].queued == [("petition.tasks.answer_signings", ["int"])]
    assert works[kind].same_as(works["new"])


def test_the_same_page_answers_a_known_and_an_unknown_address(petition, client_factory):
    known = make_address("confirmed", petition)
    first, second = client_factory(), client_factory()
    new_answer = first.post(
        url_in("fr", "petition", petition.slug), signing_form(email="x@example.org")
    )
    known_answer = second.post(url_in("fr", "petition", petition.slug), signing_form(email=known))

    assert (new_answer.status_code, new_answer["Location"]) == (302, known_answer["Location"])
    inbox = url_in("fr", "check_inbox", petition.slug)
    assert main_text(first.get(inbox)) == main_text(second.get(inbox))
    assert SigningRequest.objects.count() == 2


# Links from e-mails: a token is signed, so only its holder has a valid one. A forged or
# altered token is refused before any query, whatever it names; a genuine token of a signature
# erased since gets the very page a forged one does.

TOKEN_DOORS = {
    "confirm": make_confirmation_token,
    "unsubscribe": make_unsubscribe_token,
    "withdraw": make_withdrawal_token,
    "sharing": make_sharing_token,
}


@pytest.mark.parametrize("door", TOKEN_DOORS)
def test_a_forged_token_costs_no_query_and_an_erased_signature_looks_forged(
    petition, signature, measure, door
):
    Signature.objects.filter(pk=signature.pk).update(confirmed_at=timezone.now())
    signature.refresh_from_db()
    genuine = TOKEN_DOORS[door](signature)
    forged = genuine[:-2] + ("AA" if not genuine.endswith("AA") else "BB")
    another = TOKEN_DOORS[door](Signature(pk=signature.pk + 1000, email="nobody@example.org"))
    privacy.withdraw(signature=signature)

    altered = measure(lambda: Client().get(url_in("fr", door, forged)))
    erased = measure(lambda: Client().get(url_in("fr", door, genuine)))
    unknown = measure(lambda: Client().get(url_in("fr", door, another)))

    assert altered.status == erased.status == unknown.status == 400
    assert altered.statements == []
    assert erased.statements == unknown.statements
    pages = {main_text(Client().get(url_in("fr", door, token))) for token in (forged, genuine)}
    assert len(pages) == 1
