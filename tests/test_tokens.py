"""The signed tokens in e-mail links: bound to one purpose, one signature and one address."""

from __future__ import annotations

import re

import pytest
from django.core import signing

from petition.models import Signature
from petition.tokens import (
    CONFIRM_SALT,
    UNSUBSCRIBE_SALT,
    WITHDRAW_SALT,
    InvalidToken,
    make_confirmation_token,
    make_unsubscribe_token,
    make_withdrawal_token,
    read_confirmation_token,
    read_unsubscribe_token,
    read_withdrawal_token,
)

PURPOSES = {
    "confirm": (make_confirmation_token, read_confirmation_token, CONFIRM_SALT),
    "unsubscribe": (make_unsubscribe_token, read_unsubscribe_token, UNSUBSCRIBE_SALT),
    "withdraw": (make_withdrawal_token, read_withdrawal_token, WITHDRAW_SALT),
}


@pytest.fixture
def signature(petition) -> Signature:
    return Signature.objects.create(
        petition=petition,
        first_name="Camille",
        last_name="Durand",
        email="Camille.Durand@example.org",
        postal_code="75011",
        language="fr",
    )


@pytest.fixture
def other_signature(petition) -> Signature:
    return Signature.objects.create(
        petition=petition,
        first_name="Sam",
        last_name="Lee",
        email="sam.lee@example.org",
        postal_code="69001",
        language="en",
    )


@pytest.mark.parametrize("purpose", PURPOSES)
def test_a_token_leads_back_to_its_signature(signature, other_signature, purpose):
    make, read, _ = PURPOSES[purpose]

    assert read(make(signature)) == signature
    assert read(make(other_signature)) == other_signature


@pytest.mark.parametrize("purpose", PURPOSES)
def test_a_token_fits_in_a_link_and_reveals_no_address(signature, purpose):
    make, _, _ = PURPOSES[purpose]

    token = make(signature)

    assert re.fullmatch(r"[A-Za-z0-9_:-]+", token)
    assert "camille" not in signing.b64_decode(token.split(":")[0].encode()).decode().lower()


def test_a_token_serves_only_its_own_purpose(signature):
    with pytest.raises(InvalidToken):
        read_confirmation_token(make_unsubscribe_token(signature))
    with pytest.raises(InvalidToken):
        read_unsubscribe_token(make_confirmation_token(signature))


@pytest.mark.parametrize("purpose", PURPOSES)
def test_every_altered_character_breaks_the_token(signature, purpose):
    make, read, _ = PURPOSES[purpose]
    token = make(signature)

    for position, character in enumerate(token):
        replacement = "A" if character != "A" else "B"
        with pytest.raises(InvalidToken):
            read(token[:position] + replacement + token[position + 1 :])


@pytest.mark.parametrize("purpose", PURPOSES)
def test_a_token_made_with_another_key_is_refused(signature, purpose):
    make, read, salt = PURPOSES[purpose]
    content = signing.loads(make(signature), salt=salt)

    with pytest.raises(InvalidToken):
        read(signing.dumps(content, salt=salt, key="not-the-site-key"))


@pytest.mark.parametrize("purpose", PURPOSES)
def test_a_token_cannot_be_moved_to_another_signature(signature, other_signature, purpose):
    make, read, salt = PURPOSES[purpose]
    _, digest = signing.loads(make(signature), salt=salt)
    # Even a correctly signed token fails if its id and address do not belong together.
    spliced = signing.dumps([other_signature.pk, digest], salt=salt)

    with pytest.raises(InvalidToken):
        read(spliced)


@pytest.mark.parametrize("purpose", PURPOSES)
def test_a_token_stops_working_when_the_address_changes(signature, purpose):
    make, read, _ = PURPOSES[purpose]
    token = make(signature)

    signature.email = "someone.else@example.org"
    signature.save()

    with pytest.raises(InvalidToken):
        read(token)


@pytest.mark.parametrize("purpose", PURPOSES)
def test_a_token_survives_a_change_of_letter_case_in_the_address(signature, purpose):
    make, read, _ = PURPOSES[purpose]
    token = make(signature)

    signature.email = signature.email.lower()
    signature.save()

    assert read(token) == signature


@pytest.mark.parametrize("purpose", PURPOSES)
def test_a_token_of_a_deleted_signature_is_refused(signature, purpose):
    make, read, _ = PURPOSES[purpose]
    token = make(signature)

    signature.delete()

    with pytest.raises(InvalidToken):
        read(token)


@pytest.mark.parametrize(
    "token",
    [
        "",
        "garbage",
        ":::",
        "W10:1tXyZz:abc",
        signing.dumps("not-a-list", salt=CONFIRM_SALT),
        signing.dumps(["not-an-id", "digest"], salt=CONFIRM_SALT),
        signing.dumps([1], salt=CONFIRM_SALT),
        signing.dumps({"pk": 1}, salt=CONFIRM_SALT),
        signing.dumps([None, None], salt=CONFIRM_SALT),
        signing.dumps([[1], "digest"], salt=CONFIRM_SALT),
        signing.dumps([10**30, "digest"], salt=CONFIRM_SALT),
        signing.dumps([-1, "digest"], salt=CONFIRM_SALT),
    ],
)
def test_malformed_tokens_are_refused_without_an_error(db, token):
    with pytest.raises(InvalidToken):
        read_confirmation_token(token)


def test_a_confirmation_token_expires(settings, signature, aged_token):
    token = make_confirmation_token(signature)

    with pytest.raises(InvalidToken):
        read_confirmation_token(
            aged_token(token, salt=CONFIRM_SALT, seconds=settings.CONFIRMATION_MAX_AGE + 1)
        )
    assert (
        read_confirmation_token(
            aged_token(token, salt=CONFIRM_SALT, seconds=settings.CONFIRMATION_MAX_AGE - 60)
        )
        == signature
    )


def test_an_unsubscribe_token_never_expires(settings, signature, aged_token):
    token = make_unsubscribe_token(signature)

    old = aged_token(token, salt=UNSUBSCRIBE_SALT, seconds=10 * 365 * 24 * 3600)

    assert read_unsubscribe_token(old) == signature


def test_links_already_sent_survive_a_key_rotation(signature, settings):
    token = make_unsubscribe_token(signature)
    former = settings.SECRET_KEY
    settings.SECRET_KEY = "a-new-secret-key-after-rotation-long-enough-to-be-real"

    with pytest.raises(InvalidToken):
        read_unsubscribe_token(token)
    settings.SECRET_KEY_FALLBACKS = [former]
    assert read_unsubscribe_token(token) == signature
