"""This campaign's own pages: the manifesto as home page, and the notices."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import translation
from django.views import i18n
from django.views.decorators.http import require_GET

from petition.views import petition_page


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return petition_page(request, settings.HOME_PETITION_SLUG)


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "manifesto/privacy.html")


@require_GET
def legal(request: HttpRequest) -> HttpResponse:
    return render(
        request, "manifesto/legal.html", {"hosting_provider": settings.LEGAL_HOSTING_PROVIDER}
    )


def set_language(request: HttpRequest) -> HttpResponse:
    """Django's set_language, with `next` read in the language of the page it names.

    Django translates `next` by resolving it in the active language, which here comes from the
    cookie or the browser rather than from the page: a French browser on /en/ asking for French
    would land on /en/ again.
    """
    page_language = translation.get_language_from_path(request.POST.get("next", ""))
    with translation.override(page_language or translation.get_language()):
        return i18n.set_language(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """CSRF_FAILURE_VIEW: the translated "form expired" page, with the site's full layout."""
    return render(request, "403_csrf.html", status=403)
