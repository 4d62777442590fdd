"""This campaign's own pages: the manifesto as home page, and the notices."""

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from petition.forms import SignatureForm
from petition.views import open_petition, render_petition


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    petition = open_petition(settings.HOME_PETITION_SLUG)
    return render_petition(request, petition, SignatureForm())


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "manifesto/privacy.html")


@require_GET
def legal(request: HttpRequest) -> HttpResponse:
    return render(request, "manifesto/legal.html", {"hosting_provider": settings.LEGAL_HOSTING_PROVIDER})
