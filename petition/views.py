from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import get_language, gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_ratelimit.decorators import ratelimit

from . import services
from .forms import SignatureForm
from .models import Petition, Signature
from .tokens import InvalidToken, read_confirmation_token, read_unsubscribe_token

PENDING_SESSION_KEY = "pending_signature"


def submitted_email(group: str, request: HttpRequest) -> str:
    return request.POST.get("email", "").strip().lower()


def pending_signature_email(group: str, request: HttpRequest) -> str:
    signature = _pending_signature(request)
    return signature.email.lower() if signature else ""


def _pending_signature(request: HttpRequest) -> Signature | None:
    pk = request.session.get(PENDING_SESSION_KEY)
    if not isinstance(pk, int):
        return None
    return Signature.objects.select_related("petition").filter(pk=pk).first()


def open_petition(slug: str) -> Petition:
    return get_object_or_404(Petition.objects.prefetch_related("proposals"), slug=slug)


def render_petition(
    request: HttpRequest, petition: Petition, form: SignatureForm, status: int = 200
) -> HttpResponse:
    return render(
        request, "petition/petition.html", {"petition": petition, "form": form}, status=status
    )


@require_http_methods(["GET", "HEAD", "POST"])
@ratelimit(group="sign", key="ip", rate=lambda g, r: settings.SIGN_RATE_PER_IP, method="POST")
@ratelimit(
    group="sign", key=submitted_email, rate=lambda g, r: settings.SIGN_RATE_PER_EMAIL, method="POST"
)
def sign(request: HttpRequest, slug: str) -> HttpResponse:
    """The petition's page; a valid POST records the signature and asks for confirmation."""
    petition = open_petition(slug)
    if request.method != "POST":
        return render_petition(request, petition, SignatureForm())
    form = SignatureForm(request.POST)
    if not petition.is_open:
        form.add_error(None, gettext("This petition is closed: it no longer takes signatures."))
        return render_petition(request, petition, form, status=403)
    if not form.is_valid():
        return render_petition(request, petition, form, status=400)
    signature = services.sign(petition=petition, details=form.details(), language=get_language())
    request.session[PENDING_SESSION_KEY] = signature.pk
    return redirect("check_inbox", slug=petition.slug)


@require_GET
def check_inbox(request: HttpRequest, slug: str) -> HttpResponse:
    petition = open_petition(slug)
    return render(request, "petition/check_inbox.html", {"petition": petition})


@require_POST
@ratelimit(group="resend", key="ip", rate=lambda g, r: settings.RESEND_RATE_PER_IP)
@ratelimit(
    group="resend", key=pending_signature_email, rate=lambda g, r: settings.RESEND_RATE_PER_EMAIL
)
def resend(request: HttpRequest, slug: str) -> HttpResponse:
    """Send the e-mail again to the address signed from this browser."""
    petition = open_petition(slug)
    signature = _pending_signature(request)
    if signature is not None and signature.petition_id == petition.pk:
        services.send_confirmation(signature=signature)
    return render(request, "petition/check_inbox.html", {"petition": petition, "resent": True})


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
    return render(
        request, "petition/thanks.html", {**context, "already_confirmed": not newly_confirmed}
    )


@csrf_exempt  # RFC 8058: the mail provider's one-click POST carries no cookie and no token.
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, token: str) -> HttpResponse:
    """GET asks "are you sure?"; POST, from that page or a mail client, unsubscribes."""
    try:
        signature = read_unsubscribe_token(token)
    except InvalidToken:
        return render(request, "petition/invalid_link.html", status=400)
    context = {"signature": signature, "petition": signature.petition}
    if request.method != "POST":
        return render(request, "petition/unsubscribe.html", context)
    services.unsubscribe(signature=signature)
    return render(request, "petition/unsubscribed.html", context)


@require_GET
def petition_api(request: HttpRequest, slug: str) -> JsonResponse:
    """The public counter: partner sites and journalists poll this."""
    petition = (
        Petition.objects.filter(slug=slug)
        .values("slug", "signature_count", "goal", "count_updated_at", "is_open")
        .first()
    )
    if petition is None:
        raise Http404
    return JsonResponse(
        {
            "slug": petition["slug"],
            "signature_count": petition["signature_count"],
            "goal": petition["goal"],
            "is_open": petition["is_open"],
            "updated_at": petition["count_updated_at"].isoformat(),
        }
    )


def rate_limited(request: HttpRequest, exception: Exception) -> HttpResponse:
    """RATELIMIT_VIEW: a translated "too many attempts" page."""
    return render(request, "429.html", status=429)
