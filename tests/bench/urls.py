"""The site's URLs, plus a bare view that measures what Django and gunicorn alone cost."""

from django.http import HttpRequest, JsonResponse
from django.urls import path

from manifesto.urls import urlpatterns as site_urlpatterns


def bare(request: HttpRequest) -> JsonResponse:
    """A constant answer through the same middleware: the yardstick of the other pages."""
    return JsonResponse({"slug": "bare", "signature_count": 0})


urlpatterns = [path("bench/bare/", bare, name="bench_bare"), *site_urlpatterns]
