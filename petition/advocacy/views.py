"""The signer's letter to the people who decide, the public page of who was asked and who
answered, and the campaign's news.

The signer's two actions (choosing a circonscription, opening a message) are POSTs carrying the
signed token of their sharing page, CSRF-protected: opening a page changes nothing.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST, require_safe
from django_ratelimit.decorators import ratelimit

from ..models import Petition, Signature
from ..tokens import InvalidToken, read_sharing_token
from . import letters, news, public, services
from .forms import CirconscriptionForm, WriteForm

# The decision-makers whose message this browser opened: each counts once per browser. Kept in
# the signed session cookie, on the signer's side only.
OPENED_SESSION_KEY = "advocacy_opened"
OPENED_REMEMBERED = 50


def _sharing_page(request: HttpRequest, signature: Signature, status: int, **extra) -> HttpResponse:
    from ..views import personal_sharing

    context = {"signature": signature, "petition": signature.petition}
    context.update(personal_sharing(signature), **extra)
    return render(request, "petition/sharing.html", context, status=status)


def _invalid_link(request: HttpRequest) -> HttpResponse:
    return render(request, "petition/invalid_link.html", status=400)


@never_cache
@require_POST
@ratelimit(group="advocacy", key="ip", rate=lambda g, r: settings.WRITE_RATE_PER_IP)
def choose_circonscription(request: HttpRequest, token: str) -> HttpResponse:
    """Keep the circonscription the signer chose among their département's, then show their
    page again, with their député."""
    try:
        signature = read_sharing_token(token)
    except InvalidToken:
        return _invalid_link(request)
    found = letters.recipients(signature)
    form = CirconscriptionForm(request.POST, recipients=found)
    if not form.is_valid():
        return _sharing_page(request, signature, 400, circonscription_form=form)
    services.choose_circonscription(
        signature=signature, departement=found.area, number=form.cleaned_data["circonscription"]
    )
    return redirect(reverse("sharing", args=[token]) + "#write")


@never_cache
@require_POST
@ratelimit(group="advocacy", key="ip", rate=lambda g, r: settings.WRITE_RATE_PER_IP)
def write(request: HttpRequest, token: str) -> HttpResponse:
    """The message from the signer to a decision-maker they may write to, ready to open in
    their mail program and to copy. Counted once per browser; nothing else is kept."""
    try:
        signature = read_sharing_token(token)
    except InvalidToken:
        return _invalid_link(request)
    found = letters.recipients(signature)
    form = WriteForm(request.POST, recipients=found)
    if not form.is_valid():
        return _sharing_page(request, signature, 400, write_form=form)
    target = form.chosen()
    opened = request.session.get(OPENED_SESSION_KEY)
    opened = [pk for pk in opened if isinstance(pk, int)] if isinstance(opened, list) else []
    if target.pk not in opened:
        services.count_message_opened(target=target)
        request.session[OPENED_SESSION_KEY] = [*opened, target.pk][-OPENED_REMEMBERED:]
    context = {
        "petition": signature.petition,
        "letter": letters.compose(signature=signature, target=target),
        "sharing_token": token,
    }
    return render(request, "advocacy/letter.html", context)


@require_safe
def targets(request: HttpRequest, slug: str) -> HttpResponse:
    """Who the petition asks to act, who answered and what, and the signers per
    circonscription."""
    petition = get_object_or_404(Petition, slug=slug)
    context = {"petition": petition, "page": public.targets_page(petition)}
    return render(request, "advocacy/targets.html", context)


@require_safe
def news_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The campaign's public news and milestones, newest first."""
    petition = get_object_or_404(Petition, slug=slug)
    context = {"petition": petition, "entries": news.entries(petition)}
    return render(request, "advocacy/news.html", context)
