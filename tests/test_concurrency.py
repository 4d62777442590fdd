"""Simultaneous requests on PostgreSQL: a double submit or a confirmation race counts once."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable

import pytest
from django.db import connections
from django.test import Client

from petition.models import Petition, Signature
from petition.tasks import refresh_signature_count

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 20


def all_at_once(action: Callable[[int], object], count: int = THREADS) -> list[object]:
    """Run action(0) … action(count - 1) in as many threads, released at the same instant."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count
    errors: list[BaseException] = []

    def run(number: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[number] = action(number)
        except BaseException as error:  # reported to the test below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a request never finished"
    assert errors == []
    return results


def letter_case_variant(address: str, number: int) -> str:
    """The address with the letters chosen by number's bits in upper case."""
    letters = [index for index, character in enumerate(address) if character.isalpha()]
    characters = list(address)
    for bit, index in enumerate(letters):
        if number >> bit & 1:
            characters[index] = characters[index].upper()
    return "".join(characters)


@pytest.fixture
def no_limits(settings):
    settings.SIGN_RATE_PER_IP = "1000/d"
    settings.SIGN_RATE_PER_EMAIL = "1000/d"
    # Every thread signs from the same address: not the crowd the fraud rules look for here.
    settings.SUSPECT_AFTER_PER_ADDRESS_PER_HOUR = 1000


def test_simultaneous_signatures_of_one_address_leave_one_signature(
    requires_postgresql, no_limits, petition, signer_data, url, mailoutbox
):
    path = url("fr", "petition", petition.slug)
    addresses = [letter_case_variant(signer_data["email"], n) for n in range(THREADS)]
    assert len(set(addresses)) == THREADS

    def sign(number: int) -> tuple[int, str]:
        response = Client().post(path, {**signer_data, "email": addresses[number]})
        return response.status_code, response["Location"]

    answers = all_at_once(sign)

    assert set(answers) == {(302, url("fr", "check_inbox", petition.slug))}
    [signature] = Signature.objects.all()
    assert signature.email in addresses
    assert mailoutbox
    assert {tuple(message.to) for message in mailoutbox} == {(signature.email,)}


def test_simultaneous_confirmations_count_once(
    requires_postgresql, petition, signer_data, url, html, translated, mailoutbox, email_links
):
    Client().post(url("fr", "petition", petition.slug), signer_data)
    link = email_links(mailoutbox[0])["confirm"]

    def confirm(number: int) -> str:
        return html(Client().post(link)).find("h1").text

    headings = Counter(all_at_once(confirm))

    assert headings == {
        translated("fr", "Thank you, your signature is confirmed!"): 1,
        translated("fr", "Your signature was already confirmed"): THREADS - 1,
    }
    assert Petition.objects.get(pk=petition.pk).signature_count == 1
    refresh_signature_count(petition.pk)
    assert Petition.objects.get(pk=petition.pk).signature_count == 1
    assert Client().get(url("fr", "petition_api", petition.slug)).json()["signature_count"] == 1


def test_simultaneous_confirmations_of_different_signatures_all_count(
    requires_postgresql, no_limits, petition, signer_data, url, mailoutbox, email_links
):
    path = url("fr", "petition", petition.slug)
    for number in range(THREADS):
        Client().post(path, {**signer_data, "email": f"signer.{number}@example.org"})
    links = [email_links(message)["confirm"] for message in mailoutbox]

    all_at_once(lambda number: Client().post(links[number]).status_code)

    assert Signature.objects.confirmed().count() == THREADS
    assert Petition.objects.get(pk=petition.pk).signature_count == THREADS
