"""The public log's API: the signed heads, and the proofs and leaves anyone needs to check them
without trusting the site (petition.log, petition.audit, static/js/log-check.js).

Every answer is JSON, cacheable like the counter's; bad input is a 400 with a sentence saying
what was wrong, in the language the client asks for.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.views.decorators.http import require_safe

from . import log, merkle
from .api import CACHE_CONTROL, answer
from .models import RECEIPT_PATTERN, Petition, TreeHead

# Heads change every few minutes; a page of leaves below a signed size, never.
HEAD_CACHE_CONTROL = "public, max-age=30, stale-while-revalidate=60, stale-if-error=86400"
IMMUTABLE_CACHE_CONTROL = "public, max-age=31536000, immutable"
LEAVES_PER_PAGE = 10_000
RECEIPT = re.compile(RECEIPT_PATTERN)


class BadQuery(ValueError):
    """A query parameter a client got wrong: the message says which and how."""


def _json(
    request: HttpRequest, data: dict[str, Any], status: int = 200, cache: str = HEAD_CACHE_CONTROL
) -> HttpResponse:
    body = json.dumps(data, ensure_ascii=False).encode()
    return answer(request, body, status=status, cache_control=cache)


def _error(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return _json(request, {"error": message}, status=status, cache=CACHE_CONTROL)


def _head_or_error(request: HttpRequest, slug: str) -> tuple[Petition, TreeHead] | HttpResponse:
    petition = Petition.objects.filter(slug=slug).first()
    if petition is None:
        return _error(request, gettext("There is no petition at this address."), 404)
    head = log.latest_head(petition)
    if head is None:
        return _error(request, gettext("This petition's log has no signed head yet."), 404)
    return petition, head


def _integer(request: HttpRequest, name: str, default: int | None = None) -> int:
    value = request.GET.get(name)
    if value is None or value == "":
        if default is None:
            raise BadQuery(gettext("The parameter “%(name)s” is missing.") % {"name": name})
        return default
    if not value.isascii() or not value.isdigit() or len(value) > 18:
        raise BadQuery(
            gettext("The parameter “%(name)s” must be a whole number, 0 or more.") % {"name": name}
        )
    return int(value)


def _hash(value: str, name: str) -> bytes:
    try:
        raw = base64.b64decode(value.replace("-", "+").replace("_", "/"), validate=True)
    except (binascii.Error, ValueError):
        raw = b""
    if len(raw) != merkle.HASH_SIZE:
        raise BadQuery(
            gettext("The parameter “%(name)s” must be a SHA-256 hash in base64.") % {"name": name}
        )
    return raw


def links(petition: Petition) -> dict[str, str]:
    slug = petition.slug
    return {
        name: reverse(f"log_{name}_api", args=[slug])
        for name in ("head", "heads", "inclusion", "consistency", "leaves")
    }


@require_safe
def head(request: HttpRequest, slug: str) -> HttpResponse:
    """GET /api/petitions/<slug>/log/: the latest signed head."""
    found = _head_or_error(request, slug)
    if isinstance(found, HttpResponse):
        return found
    petition, latest = found
    return _json(request, {**log.describe(latest), "links": links(petition)})


@require_safe
def heads(request: HttpRequest, slug: str) -> HttpResponse:
    """GET /api/petitions/<slug>/log/heads/: the last head of each day, newest first."""
    found = _head_or_error(request, slug)
    if isinstance(found, HttpResponse):
        return found
    petition, _ = found
    daily = [log.describe(head) for head in log.daily_heads(petition)]
    return _json(request, {"heads": daily, "links": links(petition)})


@require_safe
def inclusion(request: HttpRequest, slug: str) -> HttpResponse:
    """GET …/log/inclusion/?receipt= (or ?leaf_hash=): the audit path of a signature's leaf
    to the latest head. A receipt the log does not hold costs the same work as one it does,
    and answers 404."""
    found = _head_or_error(request, slug)
    if isinstance(found, HttpResponse):
        return found
    petition, latest = found
    try:
        wanted = _leaf_hash_asked(request)
    except BadQuery as error:
        return _error(request, str(error), 400)
    index = log.leaf_index(petition.pk, wanted)
    known = index is not None and index < latest.size
    if not known:
        # The same proof work for a stand-in leaf, chosen by the hash, so the answer's time
        # does not tell whether the receipt is in the log.
        index = int.from_bytes(wanted[:8], "big") % max(latest.size, 1)
    path = log.inclusion_proof(petition.pk, index, latest.size) if latest.size else []
    if not known:
        return _error(
            request,
            gettext(
                "No counted signature has this receipt in the latest signed head. A signature "
                "confirmed in the last minutes enters the next one."
            ),
            404,
        )
    return _json(
        request,
        {
            "leaf_index": index,
            "tree_size": latest.size,
            "leaf_hash": merkle.b64(wanted),
            "audit_path": [merkle.b64(node) for node in path],
            "head": log.describe(latest),
        },
    )


def _leaf_hash_asked(request: HttpRequest) -> bytes:
    receipt = request.GET.get("receipt")
    leaf_hash = request.GET.get("leaf_hash")
    if (receipt is None) == (leaf_hash is None):
        raise BadQuery(gettext("Give either a receipt or a leaf_hash, not both."))
    if leaf_hash is not None:
        return _hash(leaf_hash, "leaf_hash")
    receipt = receipt.strip()
    if not RECEIPT.fullmatch(receipt):
        raise BadQuery(
            gettext("A receipt is 22 characters: letters, digits, “-” and “_”. Check it again.")
        )
    return log.addition_leaf_hash(merkle.receipt_hash(receipt))


@require_safe
def consistency(request: HttpRequest, slug: str) -> HttpResponse:
    """GET …/log/consistency/?first=M&second=N: that the tree of M leaves is the start of
    the tree of N leaves (N at most the latest head's size; by default, that size)."""
    found = _head_or_error(request, slug)
    if isinstance(found, HttpResponse):
        return found
    petition, latest = found
    try:
        first = _integer(request, "first")
        second = _integer(request, "second", default=latest.size)
        if first > second:
            raise BadQuery(gettext("“first” must not be greater than “second”."))
        if second > latest.size:
            raise BadQuery(
                gettext("“second” must not be greater than the latest head's size, %(size)d.")
                % {"size": latest.size}
            )
    except BadQuery as error:
        return _error(request, str(error), 400)
    proof = log.consistency_proof(petition.pk, first, second)
    return _json(
        request,
        {"first": first, "second": second, "proof": [merkle.b64(node) for node in proof]},
        cache=IMMUTABLE_CACHE_CONTROL if "second" in request.GET else HEAD_CACHE_CONTROL,
    )


@require_safe
def leaves(request: HttpRequest, slug: str) -> HttpResponse:
    """GET …/log/leaves/?start=&end=: the leaves, at most LEAVES_PER_PAGE at a time, each as
    stored (kind byte, receipt hash) and as hashed into the tree."""
    found = _head_or_error(request, slug)
    if isinstance(found, HttpResponse):
        return found
    petition, latest = found
    try:
        start = _integer(request, "start", default=0)
        end = _integer(request, "end", default=min(start + LEAVES_PER_PAGE, latest.size))
        if start > end:
            raise BadQuery(gettext("“start” must not be greater than “end”."))
        if end > latest.size:
            raise BadQuery(
                gettext("“end” must not be greater than the latest head's size, %(size)d.")
                % {"size": latest.size}
            )
        if end - start > LEAVES_PER_PAGE:
            raise BadQuery(
                gettext("At most %(count)d leaves a page: ask for the rest from “end”.")
                % {"count": LEAVES_PER_PAGE}
            )
    except BadQuery as error:
        return _error(request, str(error), 400)
    found_leaves = log.leaves(petition.pk, start, end) if end > start else []
    return _json(
        request,
        {
            "start": start,
            "end": end,
            "tree_size": latest.size,
            "leaves": [merkle.b64(leaf) for leaf in found_leaves],
            "leaf_hashes": [merkle.b64(merkle.leaf_hash(leaf)) for leaf in found_leaves],
        },
        cache=IMMUTABLE_CACHE_CONTROL if "end" in request.GET else HEAD_CACHE_CONTROL,
    )
