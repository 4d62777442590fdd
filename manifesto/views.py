"""This campaign's own pages: the manifesto as home page, and the notices."""

from allauth.account import views as account_views
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import ngettext
from django.views import i18n
from django.views.decorators.http import require_GET, require_http_methods
from django_ratelimit.decorators import ratelimit

from petition import staff
from petition.models import StaffSession
from petition.views import petition_page


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return petition_page(request, settings.HOME_PETITION_SLUG)


@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    # The durations the privacy notice promises are the ones petition.privacy applies.
    context = {
        "pending_days": settings.PENDING_RETENTION_DAYS,
        "ip_days": settings.IP_HASH_RETENTION_DAYS,
        "anonymise_days": settings.ANONYMISE_AFTER_DAYS,
        "staff_days": settings.STAFF_EVENTS_RETENTION_DAYS,
        "dossier_days": settings.DOSSIER_KEEP_DAYS,
        "backup_days": settings.BACKUP_RETENTION_DAYS,
    }
    return render(request, "manifesto/privacy.html", context)


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


def _login_username(group: str, request: HttpRequest) -> str:
    return request.POST.get("login", "").strip().lower()


@ratelimit(group="staff-login", key="ip", rate=lambda g, r: settings.LOGIN_RATE, method="POST")
@ratelimit(
    group="staff-login",
    key=_login_username,
    rate=lambda g, r: settings.LOGIN_RATE if _login_username(g, r) else None,
    method="POST",
)
def staff_login(request: HttpRequest) -> HttpResponse:
    """The admin's login (allauth's: the password, then the second factor), with its attempts
    limited per client address and per username, so that nobody can try passwords at speed."""
    return account_views.login(request)


@login_required
@require_http_methods(["GET", "POST"])
def staff_sessions(request: HttpRequest) -> HttpResponse:
    """The staff member's signed-in browsers, and a button to end all but this one."""
    if request.method == "POST":
        ended = staff.end_other_sessions(request)
        messages.success(
            request,
            ngettext("%(count)d other session ended.", "%(count)d other sessions ended.", ended)
            % {"count": ended},
        )
        return redirect("staff_sessions")
    current = request.session.get(staff.SESSION_KEY)
    sessions = StaffSession.objects.filter(user_id=request.user.pk).order_by("-last_seen_at")
    context = {
        "sessions": [(session, session.key == current) for session in sessions],
        "max_age_hours": settings.STAFF_SESSION_MAX_AGE // 3600,
        "idle_minutes": settings.STAFF_SESSION_IDLE_TIMEOUT // 60,
    }
    return render(request, "admin/staff/sessions.html", context)
