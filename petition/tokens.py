"""Signed, purpose-bound tokens for the links in e-mails.

Each purpose has its own salt, so a token made to unsubscribe can never confirm, and the other
way round. Tokens carry the signature's id and a digest of its address: a token stops working
once the address it was sent to is no longer on the signature.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from django.core import signing

from . import merkle
from .models import Signature

CONFIRM_SALT = "petition.signature.confirm"
UNSUBSCRIBE_SALT = "petition.signature.unsubscribe"
SHARING_SALT = "petition.signature.sharing"
WITHDRAW_SALT = "petition.signature.withdraw"


class InvalidToken(Exception):
    """The token is forged, altered, expired or no longer matches a signature."""


def _address_digest(signature: Signature) -> str:
    return hashlib.sha256(signature.email.lower().encode()).hexdigest()[:16]


def _make(signature: Signature, salt: str) -> str:
    return signing.dumps([signature.pk, _address_digest(signature)], salt=salt)


def _read(token: str, salt: str, max_age: int | None) -> Signature:
    try:
        pk, digest = signing.loads(token, salt=salt, max_age=max_age)
        signature = Signature.objects.select_related("petition").get(pk=int(pk))
    except (signing.BadSignature, ValueError, TypeError, Signature.DoesNotExist) as error:
        raise InvalidToken from error
    if digest != _address_digest(signature):
        raise InvalidToken
    return signature


def make_confirmation_token(signature: Signature) -> str:
    return _make(signature, CONFIRM_SALT)


def read_confirmation_token(token: str) -> Signature:
    """The signature a confirmation link stands for; InvalidToken if it is not valid."""
    return _read(token, CONFIRM_SALT, settings.CONFIRMATION_MAX_AGE)


def make_unsubscribe_token(signature: Signature) -> str:
    return _make(signature, UNSUBSCRIBE_SALT)


def read_unsubscribe_token(token: str) -> Signature:
    """The signature an unsubscribe link stands for. These links never expire (RFC 8058)."""
    return _read(token, UNSUBSCRIBE_SALT, None)


def make_sharing_token(signature: Signature, receipt: str = "") -> str:
    """The link to a signer's sharing page. The one the thank-you page gives also carries the
    signer's receipt, which the site keeps nowhere else: the page shows it again to whoever
    holds the link, that is, the signer."""
    if not receipt:
        return _make(signature, SHARING_SALT)
    return signing.dumps([signature.pk, _address_digest(signature), receipt], salt=SHARING_SALT)


def read_sharing_token(token: str) -> Signature:
    """The confirmed signature whose sharing page a link opens. These links never expire: the
    page only shows the signer's own link, their receipt if the link carries it, and how many
    people signed through it."""
    return read_sharing_link(token)[0]


def read_sharing_link(token: str) -> tuple[Signature, str]:
    """The confirmed signature of a sharing link, and the receipt it carries ("" if none)."""
    try:
        pk, digest, *rest = signing.loads(token, salt=SHARING_SALT)
        receipt = rest[0] if rest and isinstance(rest[0], str) else ""
        signature = Signature.objects.select_related("petition").get(pk=int(pk))
    except (signing.BadSignature, ValueError, TypeError, Signature.DoesNotExist) as error:
        raise InvalidToken from error
    if digest != _address_digest(signature) or not signature.is_confirmed:
        raise InvalidToken
    stored = signature.receipt_hash
    if not receipt or stored is None or merkle.receipt_hash(receipt) != bytes(stored):
        receipt = ""  # a receipt from an earlier confirmation, since withdrawn and signed again
    return signature, receipt


def make_withdrawal_token(signature: Signature) -> str:
    return _make(signature, WITHDRAW_SALT)


def read_withdrawal_token(token: str) -> Signature:
    """The signature its signer takes back. Offered from the unsubscribe page, which every
    e-mail links to; like it, these links never expire."""
    return _read(token, WITHDRAW_SALT, None)
