from __future__ import annotations

import math
import re
import time

from django.conf import settings
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import (
    require_GET,
    require_http_methods,
    require_POST,
    require_safe,
)
from django_ratelimit.decorators import ratelimit

from manifesto.csrf import page_token
from manifesto.proxies import client_ip
from manifesto.security import csp_replace

from . import abuse, log, log_api, privacy, services, sharing
from .addresses import canonical_email
from .forms import REFERRAL_CODE, ReceiptForm, SignatureForm, signed_form_time
from .models import PaperImport, Petition, Signature, Switches
from .queueing import runs_in_process
from .tokens import (
    InvalidToken,
    make_sharing_token,
    make_withdrawal_token,
    read_confirmation_token,
    read_sharing_link,
    read_unsubscribe_token,
    read_withdrawal_token,
)

PENDING_SESSION_KEY = "pending_signature"
# When this browser last asked for an e-mail (signing, or "send it again").
ASKED_AT_SESSION_KEY = "pending_signature_asked_at"


# Limits per address count per mailbox, as "one signature per address" does (petition.addresses).
def submitted_email(group: str, request: HttpRequest) -> str:
    email = request.POST.get("email", "").strip()
    return canonical_email(email) if email else ""


def pending_signature_email(group: str, request: HttpRequest) -> str:
    email = _pending_email(request)
    return canonical_email(email) if email else ""


def _pending_email(request: HttpRequest) -> str:
    email = request.session.get(PENDING_SESSION_KEY)
    return email if isinstance(email, str) else ""


def open_petition(slug: str) -> Petition:
    # Proposals are read by the page only when its cached text has expired.
    return get_object_or_404(Petition, slug=slug)


def signed_petition(slug: str) -> Petition:
    """The petition a signing is for, as far as taking it in needs (its id, slug and whether
    it is open), read at most once a second per process, like its page: in a surge, signing
    costs the database its one INSERT. A form sent back with errors reads the whole petition
    to show its page again."""
    local = caches["local"]
    key = f"signed-petition:{slug}"
    found = local.get(key)
    if found is None:
        # Kept as it is, not copied (the local cache pickles nothing), and shared by this
        # process's threads, which only read it: building a Petition costs more than a
        # signing's own INSERT.
        found = get_object_or_404(Petition.objects.only("pk", "slug", "is_open"), slug=slug)
        local.set(key, found, settings.COUNTER_CACHE_SECONDS)
    return found


def render_petition(
    request: HttpRequest,
    petition: Petition,
    form: SignatureForm,
    status: int = 200,
    blank_form: str = "",
) -> HttpResponse:
    context = {
        "petition": petition,
        "form": form,
        "blank_form": blank_form,
        "share": sharing.share(petition),
        "signing_paused": Switches.current().signing_paused,
    }
    return render(request, "petition/petition.html", context, status=status)


# Stand-ins for the three things that differ between readers of the same page: the CSRF
# token, the code of the personal link they followed, and the signed time the page was shown.
CSRF_SLOT = "csrf-token-slot-c4e1b7"
REFERRAL_SLOT = "referral-code-slot-c4e1b7"
STARTED_SLOT = "form-time-slot-c4e1b7"
CSRF_INPUT = re.compile(r'(name="csrfmiddlewaretoken" value=")[^"]*(")')
SLOTS = re.compile(f"({CSRF_SLOT}|{REFERRAL_SLOT}|{STARTED_SLOT})")
# The blank form changes only with a release: rendered once an hour per language and process.
BLANK_FORM_SECONDS = 3600


def blank_form(request: HttpRequest, petition: Petition) -> str:
    """The signing form as every visitor first sees it, with the stand-ins in it. Its country
    list alone takes longer to render than the rest of the page."""
    local = caches["local"]
    key = f"blank-form:{petition.slug}:{get_language()}"
    html = local.get(key)
    if html is None:
        form = SignatureForm(initial={"ref": REFERRAL_SLOT, "started": STARTED_SLOT})
        context = {"form": form, "petition": petition}
        html = mark_safe(render_to_string("petition/_form.html", context, request))  # noqa: S308
        local.set(key, html, BLANK_FORM_SECONDS)
    return html


def petition_page(request: HttpRequest, slug: str) -> HttpResponse:
    """The petition's page with a blank form, as nearly every visitor sees it.

    It is the same for everyone who reads it in one language, but for the CSRF token and the
    code of the personal link they followed. So each web process renders it at most once a
    second (the counter on it is then as fresh as the counter API), with stand-ins for those
    two, and fills them in for each request: a surge of readers costs little more than a copy.
    """
    local = caches["local"]
    paused = Switches.current().signing_paused
    key = f"petition-page:{slug}:{get_language()}:{paused}"
    parts = local.get(key)
    if parts is None:
        petition = open_petition(slug)
        form_html = "" if paused else blank_form(request, petition)
        page = render_petition(request, petition, SignatureForm(), blank_form=form_html)
        page = page.content.decode()
        parts = page_parts(CSRF_INPUT.sub(rf"\g<1>{CSRF_SLOT}\g<2>", page))
        local.set(key, parts, settings.COUNTER_CACHE_SECONDS)
    code = request.GET.get(sharing.REFERRAL_PARAMETER, "")
    fills = {
        CSRF_SLOT: page_token(request).encode(),
        REFERRAL_SLOT: code.encode() if REFERRAL_CODE.fullmatch(code) else b"",
        STARTED_SLOT: signed_form_time().encode(),
    }
    return HttpResponse(b"".join(fills.get(part, part) for part in parts))


def page_parts(page: str) -> tuple[bytes | str, ...]:
    """The page as encoded pieces and, between them, the stand-ins to fill in: a reader's
    page is then one join, with no copy of the whole text to replace or encode."""
    return tuple(
        part if part in (CSRF_SLOT, REFERRAL_SLOT, STARTED_SLOT) else part.encode()
        for part in SLOTS.split(page)
    )


def personal_sharing(signature: Signature) -> dict:
    """What a confirmed signer sees of their own link: the link, its share box, the number of
    people who signed through it, and the address of the page that shows it again later."""
    return {
        "share": sharing.share(
            signature.petition, referral_code=signature.ensure_referral_code(), signed=True
        ),
        "referred_count": signature.referred_count(),
        "sharing_token": make_sharing_token(signature, signature.receipt),
        "receipt": signature.receipt,
    }


@require_http_methods(["GET", "HEAD", "POST"])
@ratelimit(group="sign", key="ip", rate=lambda g, r: settings.SIGN_RATE_PER_IP, method="POST")
@ratelimit(
    group="sign",
    key=submitted_email,
    # No address, no limit: one key shared by every empty address would soon answer 429 to
    # everyone who forgot to type theirs, instead of the form's error.
    rate=lambda g, r: settings.SIGN_RATE_PER_EMAIL if submitted_email(g, r) else None,
    method="POST",
)
@ratelimit(
    group="sign-petition",
    key=lambda g, r: r.resolver_match.kwargs.get("slug", ""),
    rate=lambda g, r: settings.SIGN_RATE_PER_PETITION or None,
    method="POST",
)
def sign(request: HttpRequest, slug: str) -> HttpResponse:
    """The petition's page; a valid POST records the signature and asks for confirmation."""
    if request.method != "POST":
        return petition_page(request, slug)
    petition = signed_petition(slug)
    form = SignatureForm(request.POST)
    if not petition.is_open:
        form.add_error(None, gettext("This petition is closed: it no longer takes signatures."))
        return render_petition(request, open_petition(slug), form, status=403)
    if Switches.current().signing_paused:
        # The visitor's entries stay in the form, to send again once signing is back.
        form.is_valid()
        return render_petition(request, open_petition(slug), form, status=503)
    if not form.is_valid():
        return render_petition(request, open_petition(slug), form, status=400)
    traits = form.traits(address_hash=abuse.address_hash(client_ip(request)))
    services.sign(petition=petition, details=form.details(), language=get_language(), traits=traits)
    # The address as typed, never a signature's id: the session cookie is readable, and an
    # old id would tell that the address had signed before.
    request.session[PENDING_SESSION_KEY] = form.cleaned_data["email"]
    request.session[ASKED_AT_SESSION_KEY] = time.time()
    return redirect("check_inbox", slug=petition.slug)


@require_GET
def check_inbox(request: HttpRequest, slug: str) -> HttpResponse:
    petition = open_petition(slug)
    return render(request, "petition/check_inbox.html", inbox_context(request, petition))


def inbox_context(request: HttpRequest, petition: Petition) -> dict:
    return {
        "petition": petition,
        "minutes_to_wait": minutes_before_another_copy(request),
        "mail_interval_minutes": math.ceil(settings.SIGNING_MAIL_INTERVAL_SECONDS / 60),
        "mails_per_day": settings.SIGNING_MAILS_PER_DAY,
    }


def minutes_before_another_copy(request: HttpRequest) -> int:
    """How long this browser waits before its next "send it again" is taken: an address is
    written to at most every SIGNING_MAIL_INTERVAL_SECONDS (MailboxAllowance), and the page
    says so from what this browser did alone, never from what was sent."""
    asked_at = request.session.get(ASKED_AT_SESSION_KEY)
    if not isinstance(asked_at, int | float):
        return 0
    wait = asked_at + settings.SIGNING_MAIL_INTERVAL_SECONDS - time.time()
    return max(0, math.ceil(wait / 60))


@require_POST
@ratelimit(group="resend", key="ip", rate=lambda g, r: settings.RESEND_RATE_PER_IP)
@ratelimit(
    group="resend",
    key=pending_signature_email,
    rate=lambda g, r: settings.RESEND_RATE_PER_EMAIL if pending_signature_email(g, r) else None,
)
def resend(request: HttpRequest, slug: str) -> HttpResponse:
    """Send the e-mail again to the address signed from this browser, if it may be sent yet."""
    petition = open_petition(slug)
    email = _pending_email(request)
    resent = bool(email) and not minutes_before_another_copy(request)
    if resent:
        services.ask_again(petition=petition, email=email, language=get_language())
        request.session[ASKED_AT_SESSION_KEY] = time.time()
    # A browser that signed nothing is told the same as one whose e-mail was sent again.
    context = {**inbox_context(request, petition), "resent": resent or not email}
    return render(request, "petition/check_inbox.html", context)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def confirm(request: HttpRequest, token: str) -> HttpResponse:
    """GET shows one button; only its POST confirms, since mail scanners open links."""
    try:
        signature = read_confirmation_token(token)
    except InvalidToken:
        return render(request, "petition/invalid_link.html", status=400)
    context = {"signature": signature, "petition": signature.petition}
    if request.method != "POST":
        return render(request, "petition/confirm.html", context)
    newly_confirmed = services.confirm(signature=signature)
    signature.petition.refresh_from_db(fields=["signature_count", "count_updated_at"])
    context.update(personal_sharing(signature), already_confirmed=not newly_confirmed)
    return render(request, "petition/thanks.html", context)


@never_cache
@require_safe
def sharing_page(request: HttpRequest, token: str) -> HttpResponse:
    """A confirmed signer's own page, to come back to: their link and who signed through it.

    The link to it comes on the thank-you page and in later e-mails; it never expires.
    """
    try:
        signature, signature.receipt = read_sharing_link(token)
    except InvalidToken:
        return render(request, "petition/invalid_link.html", status=400)
    context = {"signature": signature, "petition": signature.petition}
    return render(request, "petition/sharing.html", {**context, **personal_sharing(signature)})


@require_safe
def log_page(request: HttpRequest, slug: str) -> HttpResponse:
    """What the public log proves and how to check it; a receipt typed in is checked here too,
    for browsers without JavaScript (with it, static/js/log-check.js checks in the browser)."""
    petition = get_object_or_404(Petition, slug=slug)
    if runs_in_process():
        log.catch_up_in_process(petition)
    head = log.latest_head(petition)
    form = ReceiptForm(request.GET if "receipt" in request.GET else None)
    check = log.check_receipt(petition, form.cleaned_data["receipt"]) if form.is_valid() else None
    sheets = list(PaperImport.objects.untyped_sheets().filter(petition=petition))
    context = {
        "petition": petition,
        "untyped_sheets": sheets,
        "untyped_count": sum(sheet.count_alone for sheet in sheets),
        "head": log.describe(head) if head else None,
        "form": form,
        "check": check,
        "api": log_api.links(petition),
    }
    return render(request, "petition/log.html", context, status=400 if form.errors else 200)


@csrf_exempt  # RFC 8058: the mail provider's one-click POST carries no cookie and no token.
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks "are you sure?"; POST, from that page or a mail client, unsubscribes."""
    try:
        signature = read_unsubscribe_token(token)
    except InvalidToken:
        return render(request, "petition/invalid_link.html", status=400)
    context = {
        "signature": signature,
        "petition": signature.petition,
        "withdrawal_token": make_withdrawal_token(signature),
    }
    if request.method != "POST":
        return render(request, "petition/unsubscribe.html", context)
    services.unsubscribe(signature=signature)
    return render(request, "petition/unsubscribed.html", context)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def withdraw(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks "are you sure?"; its POST erases the signature and corrects the count."""
    try:
        signature = read_withdrawal_token(token)
    except InvalidToken:
        return render(request, "petition/invalid_link.html", status=400)
    petition = signature.petition
    if request.method != "POST":
        return render(request, "petition/withdraw.html", {"petition": petition})
    privacy.withdraw(signature=signature)
    return render(request, "petition/withdrawn.html", {"petition": petition})


@xframe_options_exempt  # Made for partner sites' iframes, unlike every other page.
@csp_replace({"frame-ancestors": ["*"]})
@require_safe
def embed(request: HttpRequest, slug: str) -> HttpResponse:
    """A small live counter with a link to sign, for partner sites to embed."""
    petition = get_object_or_404(Petition, slug=slug)
    return render(request, "petition/embed.html", {"petition": petition})


def rate_limited(request: HttpRequest, exception: Exception) -> HttpResponse:
    """RATELIMIT_VIEW: a translated "too many attempts" page."""
    return render(request, "429.html", status=429)
