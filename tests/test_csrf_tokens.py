"""The home page's CSRF tokens (manifesto.csrf) are Django's own kind: the middleware takes
them, refuses them altered, and they never repeat or reveal the secret."""

from __future__ import annotations

import os
import re

import pytest
from django.middleware.csrf import (
    CSRF_ALLOWED_CHARS,
    CSRF_SECRET_LENGTH,
    CSRF_TOKEN_LENGTH,
    _unmask_cipher_token,
)
from django.test import Client

from manifesto.csrf import random_string
from tests.conftest import signing_form, url_in

pytestmark = pytest.mark.django_db

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def page_token(client: Client, lang: str = "fr") -> str:
    return TOKEN.search(client.get(url_in(lang, "home")).content.decode())[1]


def test_random_strings_have_the_alphabet_and_length_of_django_and_do_not_repeat():
    drawn = {random_string() for _ in range(2000)}

    assert len(drawn) == 2000
    assert all(len(value) == CSRF_SECRET_LENGTH for value in drawn)
    assert set("".join(drawn)) == set(CSRF_ALLOWED_CHARS)


def test_a_new_visitor_gets_a_cookie_and_a_masked_token_of_its_secret(csrf_client):
    token = page_token(csrf_client)
    secret = csrf_client.cookies["csrftoken"].value

    assert len(token) == CSRF_TOKEN_LENGTH
    assert secret not in token
    assert _unmask_cipher_token(token) == secret
    # Each page masks it anew: nothing in the page repeats from one load to the next.
    again = page_token(csrf_client)
    assert again != token
    assert _unmask_cipher_token(again) == secret == csrf_client.cookies["csrftoken"].value


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_pages_token_signs_and_an_altered_one_is_refused(csrf_client, petition, lang):
    token = page_token(csrf_client, lang)
    path = url_in(lang, "petition", petition.slug)
    altered = token[:-1] + ("a" if token[-1] != "a" else "b")

    refused = csrf_client.post(path, {**signing_form(), "csrfmiddlewaretoken": altered})
    accepted = csrf_client.post(path, {**signing_form(), "csrfmiddlewaretoken": token})

    assert refused.status_code == 403
    assert accepted.status_code == 302


def test_a_forked_process_draws_its_own_characters():
    read, write = os.pipe()
    random_string()  # this process has characters drawn in advance
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the child
        os.write(write, random_string().encode())
        os._exit(0)
    os.waitpid(child, 0)
    from_child = os.read(read, 64).decode()

    assert from_child != random_string()
