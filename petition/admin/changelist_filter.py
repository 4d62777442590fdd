"""The signatures changelist's filter (and search), as the pages about its current rows
(export, bulk decisions) receive it in their query string."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from .. import export

# Query-string parameters of the changelist that are not filters.
NOT_FILTERS = {"o", "p", "e", "_to_field", "_popup", "all"}


def params(request: HttpRequest) -> dict[str, str]:
    """The filter (and search) a page about the changelist's rows was opened with."""
    return {k: v for k, v in request.GET.items() if k not in NOT_FILTERS}


def context(request: HttpRequest) -> dict[str, str]:
    """What such a page shows of the filter, and the way back to the changelist with it."""
    query = request.GET.urlencode()
    return {
        "filters": export.describe(**params(request)),
        "query_string": query,
        "changelist_url": reverse("admin:petition_signature_changelist")
        + (f"?{query}" if query else ""),
    }
