"""CSRF tokens for the pages read by everyone, without a system call per character.

Django's get_token() draws each of the 32 characters of a new visitor's secret, then each of
the 32 of the mask that hides it (against BREACH), with a call to the system's random source
per character: 64 system calls, the largest cost of the home page under load. page_token()
gives the same kind of token, which CsrfViewMiddleware checks as it checks its own (the same
alphabet, length and mask), from random bytes drawn from the system a few kilobytes at a time.
"""

from __future__ import annotations

import os
import secrets
import threading

from django.http import HttpRequest
from django.middleware.csrf import CSRF_ALLOWED_CHARS, CSRF_SECRET_LENGTH

ALPHABET_SIZE = len(CSRF_ALLOWED_CHARS)
INDEX = {char: position for position, char in enumerate(CSRF_ALLOWED_CHARS)}
# Random bytes map to characters by their value modulo the alphabet's size; the bytes past the
# last whole multiple of it are dropped, so that every character is equally likely.
USABLE = 256 - 256 % ALPHABET_SIZE
TO_CHARACTERS = bytes(ord(CSRF_ALLOWED_CHARS[byte % ALPHABET_SIZE]) for byte in range(USABLE))
TO_CHARACTERS += bytes(256 - USABLE)
UNUSABLE = bytes(range(USABLE, 256))


# Random characters are drawn from the system this many bytes at a time, per thread: each call
# to the system's random source lets go of the interpreter lock, which the thread must then
# wait to take back behind every other thread of the process.
DRAW_BYTES = 4096
_drawn = threading.local()


def random_string() -> str:
    """CSRF_SECRET_LENGTH characters of CSRF_ALLOWED_CHARS, uniformly drawn."""
    pool: bytes = getattr(_drawn, "characters", b"")
    # A forked process must not hand out the characters its parent had drawn.
    if len(pool) < CSRF_SECRET_LENGTH or getattr(_drawn, "pid", None) != os.getpid():
        pool = secrets.token_bytes(DRAW_BYTES).translate(TO_CHARACTERS, UNUSABLE)
        _drawn.pid = os.getpid()
    _drawn.characters = pool[CSRF_SECRET_LENGTH:]
    return pool[:CSRF_SECRET_LENGTH].decode("ascii")


def page_token(request: HttpRequest) -> str:
    """What get_token(request) returns, and with the same effect: the visitor's secret, from
    their cookie or made now, is (re)sent as their cookie by CsrfViewMiddleware."""
    secret = request.META.get("CSRF_COOKIE")
    if secret is None:
        secret = random_string()
        request.META["CSRF_COOKIE"] = secret
    request.META["CSRF_COOKIE_NEEDS_UPDATE"] = True
    mask = random_string()
    cipher = "".join(
        CSRF_ALLOWED_CHARS[(INDEX[s] + INDEX[m]) % ALPHABET_SIZE]
        for s, m in zip(secret, mask, strict=True)
    )
    return mask + cipher
