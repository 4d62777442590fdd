"""The public counter API, polled by the page, partner sites and journalists.

It reads only the petitions table (the running counts live there), keeps each answer for a
second in the process's memory, and lets browsers and caches keep it a little longer: a surge
of people watching the count costs almost nothing.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django.conf import settings
from django.core.cache import caches
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.cache import get_conditional_response
from django.views.decorators.http import require_safe

from .models import Petition

CACHE_CONTROL = "public, max-age=2, stale-while-revalidate=30, stale-if-error=86400"
FIELDS = (
    "slug",
    "title_fr",
    "title_en",
    "goal",
    "signature_count",
    "paper_count",
    "count_updated_at",
    "is_open",
)


def counter(petition: Petition) -> dict[str, Any]:
    """What the API says of one petition."""
    return {
        "slug": petition.slug,
        "title": {"fr": petition.title_fr, "en": petition.title_en},
        "signature_count": petition.signature_count,
        # Of signature_count, the signatures collected on paper (typed in or counted by sheet).
        "paper_count": petition.paper_count,
        "goal": petition.current_goal,
        "is_open": petition.is_open,
        "updated_at": petition.count_updated_at.isoformat(),
    }


def _cached(key: str, load) -> bytes:
    local = caches["local"]
    body = local.get(key)
    if body is None:
        body = json.dumps(load(), ensure_ascii=False).encode()
        local.set(key, body, settings.COUNTER_CACHE_SECONDS)
    return body


def answer(
    request: HttpRequest, body: bytes, status: int = 200, cache_control: str = CACHE_CONTROL
) -> HttpResponse:
    """A JSON answer any site may read and any cache keep, with an ETag when it is a 200."""
    response = HttpResponse(body, content_type="application/json", status=status)
    response["Cache-Control"] = cache_control
    response["Access-Control-Allow-Origin"] = "*"
    if status != 200:
        return response
    response["ETag"] = f'"{hashlib.blake2b(body, digest_size=12).hexdigest()}"'
    return get_conditional_response(request, etag=response["ETag"], response=response)


@require_safe
def petition_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """GET /api/petitions/<slug>/"""

    def load() -> dict[str, Any] | None:
        petition = Petition.objects.only(*FIELDS).filter(slug=slug).first()
        return None if petition is None else counter(petition)

    body = _cached(f"counter:{slug}", load)
    if body == b"null":
        raise Http404
    return answer(request, body)


@require_safe
def petition_list(request: HttpRequest) -> HttpResponse:
    """GET /api/petitions/"""

    def load() -> dict[str, Any]:
        petitions = Petition.objects.only(*FIELDS).order_by("pk")
        return {"petitions": [counter(petition) for petition in petitions]}

    return answer(request, _cached("counter:*", load))
