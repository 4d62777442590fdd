"""Staff accounts: the second factor every one of them must have, the sessions that end, and
the record of what happens to each account.

Signers' names and addresses are a political opinion (GDPR article 9): a password alone, reused
elsewhere or phished, must open nothing that shows them. allauth signs staff in with a password
and then a second factor (passkey, authenticator app or recovery code); this module adds what
the site requires on top of it:

- a staff member without a second factor reaches no admin page but the one to enrol it, and a
  session that did not pass one (a login from before, a password alone) none at all
  (manifesto.middleware.StaffAccessMiddleware, through `access`);
- the dangerous actions ask for the second factor again if it was not used in the last
  STAFF_REAUTHENTICATION_SECONDS (`fresh_second_factor_required`, `FreshSecondFactorMixin`);
- each login is a row of StaffSession, which the session's signed cookie must still match:
  a session ends after STAFF_SESSION_MAX_AGE, after STAFF_SESSION_IDLE_TIMEOUT unused, when its
  owner ends their other sessions, changes their password or loses a factor;
- every login, failed login, factor added or removed, recovery code used and reauthentication
  is a StaffEvent, and the owner gets an e-mail, in their language, on a login from a new
  browser and on any change to their factors.
"""

from __future__ import annotations

import enum
import secrets
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from functools import wraps

from allauth.account.authentication import get_authentication_records
from allauth.account.internal.flows.login import record_authentication
from allauth.core.exceptions import ReauthenticationRequired
from allauth.mfa.models import Authenticator
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.core import signing
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from manifesto.proxies import client_ip

from .abuse import address_hash
from .models import StaffEvent, StaffSession
from .queueing import after_commit

# The session's key to its StaffSession row.
SESSION_KEY = "staff_session"
# A long-lived cookie that names the browser, to tell a login from a new browser.
BROWSER_COOKIE = "staff_browser"
BROWSER_COOKIE_SALT = "petition.staff.browser"
BROWSER_COOKIE_AGE = 400 * 24 * 3600
# last_seen_at is written at most this often: an idle session is one unused for an hour, and a
# page or two a minute need not each write a row.
LAST_SEEN_EVERY = timedelta(seconds=60)

# The factors that prove a login; recovery codes only stand in for them.
FACTORS = [Authenticator.Type.WEBAUTHN, Authenticator.Type.TOTP]
NOTIFIED = {
    StaffEvent.Kind.FACTOR_ADDED,
    StaffEvent.Kind.FACTOR_REMOVED,
    StaffEvent.Kind.RECOVERY_CODES_GENERATED,
    StaffEvent.Kind.RECOVERY_CODE_USED,
    StaffEvent.Kind.FACTORS_RESET,
}


# What happened: the audit log, and the owner's e-mail.


def record(
    kind: StaffEvent.Kind,
    *,
    user: AbstractBaseUser | None,
    request: HttpRequest | None = None,
    username: str = "",
    detail: str = "",
    actor: str = "",
    notify: bool | None = None,
) -> StaffEvent:
    """Write an event of a staff account, and queue its owner's e-mail when it calls for one
    (`notify`; by default for the changes to their factors)."""
    language = _language(request, user)
    event = StaffEvent.objects.create(
        user=user,
        username=user.get_username() if user is not None else username,
        kind=kind,
        ip_hash=address_hash(client_ip(request)) if request is not None else "",
        browser=browser_id(request, user) if request is not None and user is not None else "",
        user_agent=_user_agent(request),
        detail=detail[:200],
        actor=actor,
        language=language,
    )
    if notify is None:
        notify = kind in NOTIFIED
    if notify and user is not None and user.email:
        after_commit("petition.tasks.send_staff_notice", event.pk)
    return event


def _language(request: HttpRequest | None, user: AbstractBaseUser | None) -> str:
    """The language of the page the staff member is on or, without one (a command, another
    member's action), the one of their last login."""
    if request is not None and getattr(request, "LANGUAGE_CODE", ""):
        return request.LANGUAGE_CODE
    if user is not None:
        last = (
            StaffEvent.objects.filter(user=user, kind=StaffEvent.Kind.LOGIN)
            .values_list("language", flat=True)
            .first()
        )
        if last:
            return last
    return settings.LANGUAGE_CODE


def _user_agent(request: HttpRequest | None) -> str:
    if request is None:
        return ""
    return request.META.get("HTTP_USER_AGENT", "")[:200]


# Browsers: a signed cookie with a random identifier per staff member, set at login.


def browser_id(request: HttpRequest, user: AbstractBaseUser) -> str:
    """The identifier of this browser for this staff member, made at the first login from it."""
    known = getattr(request, "_staff_browsers", None)
    if known is None:
        known = _read_browser_cookie(request)
        request._staff_browsers = known
    key = str(user.pk)
    if key not in known:
        known[key] = secrets.token_hex(16)
        request._staff_browsers_changed = True
    return known[key]


def _read_browser_cookie(request: HttpRequest) -> dict[str, str]:
    value = request.COOKIES.get(BROWSER_COOKIE, "")
    try:
        found = signing.loads(value, salt=BROWSER_COOKIE_SALT)
    except signing.BadSignature:
        return {}
    if not isinstance(found, dict):
        return {}
    return {str(k): str(v) for k, v in found.items() if str(v).isalnum()}


def remember_browser(request: HttpRequest, response: HttpResponse) -> None:
    """Set the browser cookie if this request gave the browser an identifier."""
    if not getattr(request, "_staff_browsers_changed", False):
        return
    response.set_cookie(
        BROWSER_COOKIE,
        signing.dumps(request._staff_browsers, salt=BROWSER_COOKIE_SALT),
        max_age=BROWSER_COOKIE_AGE,
        path="/",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )


def is_new_browser(user: AbstractBaseUser, browser: str) -> bool:
    """Whether no earlier login of this staff member came from this browser."""
    return not (
        StaffEvent.objects.filter(user=user, kind=StaffEvent.Kind.LOGIN, browser=browser)
        .exclude(browser="")
        .exists()
    )


# Logins and sessions.


def logged_in(request: HttpRequest, user: AbstractBaseUser) -> None:
    """A staff member signed in (password and second factor, or their first login without a
    factor yet): open their session's row, and record the login."""
    key = secrets.token_urlsafe(32)
    StaffSession.objects.create(
        key=key,
        user=user,
        ip_hash=address_hash(client_ip(request)),
        user_agent=_user_agent(request),
    )
    request.session[SESSION_KEY] = key
    browser = browser_id(request, user)
    new = is_new_browser(user, browser)
    record(
        StaffEvent.Kind.LOGIN,
        user=user,
        request=request,
        detail="first login from this browser" if new else "",
        notify=new,
    )


class Access(enum.Enum):
    """What the middleware does with a request to a staff page."""

    ALLOWED = "allowed"
    # The session's row is gone or out of date: the session ends.
    ENDED = "ended"
    # No factor yet: only the pages to enrol one.
    ENROL = "enrol"
    # A factor, but this session never passed it: sign in again, with it.
    SIGN_IN_AGAIN = "sign in again"


def session_row(request: HttpRequest) -> StaffSession | None:
    key = request.session.get(SESSION_KEY)
    if not isinstance(key, str) or not key:
        return None
    return StaffSession.objects.filter(key=key, user_id=request.user.pk).first()


def access(request: HttpRequest) -> Access:
    """Whether a signed-in request may reach staff pages (see Access)."""
    row = session_row(request)
    now = timezone.now()
    if row is None or _expired(row, now):
        if row is not None:
            row.delete()
        return Access.ENDED
    if now - row.last_seen_at >= LAST_SEEN_EVERY:
        StaffSession.objects.filter(pk=row.pk).update(last_seen_at=now)
    if not has_factor(request.user):
        return Access.ENROL
    if not passed_second_factor(request):
        return Access.SIGN_IN_AGAIN
    return Access.ALLOWED


def _expired(row: StaffSession, now: datetime) -> bool:
    return now - row.started_at >= timedelta(
        seconds=settings.STAFF_SESSION_MAX_AGE
    ) or now - row.last_seen_at >= timedelta(seconds=settings.STAFF_SESSION_IDLE_TIMEOUT)


def has_factor(user: AbstractBaseUser) -> bool:
    return Authenticator.objects.filter(user_id=user.pk, type__in=FACTORS).exists()


def passed_second_factor(request: HttpRequest) -> bool:
    return _last_use(request, "mfa") is not None


def _last_use(request: HttpRequest, method: str) -> float | None:
    """When this session's member last proved themselves by `method` ("mfa", "password"), by
    allauth's record of the session."""
    times = [
        record["at"]
        for record in get_authentication_records(request, request.user)
        if record.get("method") == method and isinstance(record.get("at"), int | float)
    ]
    return max(times) if times else None


def _fresh(request: HttpRequest, method: str) -> bool:
    last = _last_use(request, method)
    return last is not None and time.time() - last < settings.STAFF_REAUTHENTICATION_SECONDS


def second_factor_is_fresh(request: HttpRequest) -> bool:
    """Whether this session used its second factor in the last STAFF_REAUTHENTICATION_SECONDS."""
    return _fresh(request, "mfa")


def password_is_fresh(request: HttpRequest) -> bool:
    """Whether this session's member typed their password in the last
    STAFF_REAUTHENTICATION_SECONDS: what is asked of a member still enrolling a first factor."""
    return _fresh(request, "password")


def end_sessions(user: AbstractBaseUser, *, keep: HttpRequest | None = None) -> int:
    """End every session of a staff member, but the one of `keep` (a request of theirs).
    Returns how many ended."""
    sessions = StaffSession.objects.filter(user_id=user.pk)
    if keep is not None and getattr(keep, "user", None) is not None and keep.user.pk == user.pk:
        current = keep.session.get(SESSION_KEY)
        if isinstance(current, str):
            sessions = sessions.exclude(key=current)
    deleted, _by_model = sessions.delete()
    return deleted


def end_other_sessions(request: HttpRequest) -> int:
    """The staff member ends all their sessions but this one."""
    ended = end_sessions(request.user, keep=request)
    record(
        StaffEvent.Kind.SESSIONS_ENDED,
        user=request.user,
        request=request,
        detail=f"{ended}",
    )
    return ended


def logged_out(request: HttpRequest | None) -> None:
    if request is None or not hasattr(request, "session"):
        return
    key = request.session.get(SESSION_KEY)
    if isinstance(key, str):
        StaffSession.objects.filter(key=key).delete()


def password_changed(user: AbstractBaseUser, request: HttpRequest | None) -> None:
    """A new password ends the member's other sessions (Django's own check of the session's
    password hash does so too; the rows follow, so that the list of sessions stays true)."""
    end_sessions(user, keep=request)


# Second factors.


def _factor_label(authenticator: Authenticator) -> str:
    if authenticator.type == Authenticator.Type.WEBAUTHN:
        name = (authenticator.data or {}).get("name", "")
        return f"passkey {name}".strip()
    if authenticator.type == Authenticator.Type.TOTP:
        return "authenticator app"
    return "recovery codes"


def factor_added(
    request: HttpRequest, user: AbstractBaseUser, authenticator: Authenticator
) -> None:
    """Enrolling a factor proves it: the session counts as having passed it. (The recovery
    codes made with a first factor are recorded, and told with it.)"""
    record(
        StaffEvent.Kind.FACTOR_ADDED,
        user=user,
        request=request,
        detail=_factor_label(authenticator),
        notify=authenticator.type in FACTORS,
    )
    if authenticator.type in FACTORS:
        record_authentication(
            request, user, "mfa", id=authenticator.pk, type=authenticator.type, enrolled=True
        )


def factor_removed(
    request: HttpRequest, user: AbstractBaseUser, authenticator: Authenticator
) -> None:
    """Losing a factor ends the member's other sessions. (Recovery codes go with the last
    factor: recorded, and told with it.)"""
    record(
        StaffEvent.Kind.FACTOR_REMOVED,
        user=user,
        request=request,
        detail=_factor_label(authenticator),
        notify=authenticator.type in FACTORS,
    )
    end_sessions(user, keep=request)


def factor_reset(
    request: HttpRequest, user: AbstractBaseUser, authenticator: Authenticator
) -> None:
    if authenticator.type == Authenticator.Type.RECOVERY_CODES:
        record(StaffEvent.Kind.RECOVERY_CODES_GENERATED, user=user, request=request)


def factor_used(
    request: HttpRequest,
    user: AbstractBaseUser,
    authenticator: Authenticator,
    reauthenticated: bool = False,
) -> None:
    if authenticator.type == Authenticator.Type.RECOVERY_CODES:
        # allauth marks the code used on a copy of its own: the row tells what is left.
        stored = Authenticator.objects.filter(pk=authenticator.pk).first() or authenticator
        left = len(stored.wrap().get_unused_codes())
        record(
            StaffEvent.Kind.RECOVERY_CODE_USED,
            user=user,
            request=request,
            detail=f"{left} left",
        )
    if reauthenticated:
        record(
            StaffEvent.Kind.REAUTHENTICATED,
            user=user,
            request=request,
            detail=_factor_label(authenticator),
        )


def second_factor_failed(request: HttpRequest | None, user: AbstractBaseUser) -> None:
    record(StaffEvent.Kind.SECOND_FACTOR_FAILED, user=user, request=request)


def login_failed(request: HttpRequest | None, username: str) -> None:
    """A wrong password. The name typed is kept only if an account has it: anything else may
    be a password typed in the wrong field."""
    from django.contrib.auth import get_user_model

    model = get_user_model()
    user = model._default_manager.filter(**{model.USERNAME_FIELD: username}).first()
    record(StaffEvent.Kind.LOGIN_FAILED, user=user, request=request)


@transaction.atomic
def reset_factors(user: AbstractBaseUser, *, by: str, request: HttpRequest | None = None) -> int:
    """Remove every second factor of a staff member who lost them, and end their sessions: at
    their next login they enrol new ones. `by` names who did it (a superuser, or the command).
    Returns how many factors were removed."""
    removed, _by_model = Authenticator.objects.filter(user_id=user.pk).delete()
    end_sessions(user)
    record(
        StaffEvent.Kind.FACTORS_RESET,
        user=user,
        request=None,
        detail=f"{removed}",
        actor=by,
    )
    if request is not None and request.user.pk != user.pk:
        # The superuser's own record of what they did.
        record(
            StaffEvent.Kind.FACTORS_RESET,
            user=request.user,
            request=request,
            detail=f"for {user.get_username()}",
            actor=by,
            notify=False,
        )
    return removed


# The dangerous actions.


def fresh_second_factor_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """View decorator: the second factor again, if this session has not used it in the last
    STAFF_REAUTHENTICATION_SECONDS. The page that asks for it then leads back here
    (manifesto.middleware.StaffAccessMiddleware); a form that was sent is sent again by the
    member. Dangerous pages ask on GET already, so that it is seldom needed.

    Works on functions and on admin methods (self, request, …).
    """

    @wraps(view)
    def wrapper(*args: object, **kwargs: object) -> HttpResponse:
        request = next(arg for arg in args if isinstance(arg, HttpRequest))
        require_fresh_second_factor(request)
        return view(*args, **kwargs)

    return wrapper


def require_fresh_second_factor(request: HttpRequest) -> None:
    """Raise allauth's ReauthenticationRequired unless the second factor is fresh."""
    if not second_factor_is_fresh(request):
        raise ReauthenticationRequired()


class FreshSecondFactorMixin:
    """For class-based views (the import of paper signatures): every method asks for a fresh
    second factor first."""

    def dispatch(self, request: HttpRequest, *args: object, **kwargs: object) -> HttpResponse:
        require_fresh_second_factor(request)
        return super().dispatch(request, *args, **kwargs)


# Signals: what Django and allauth report.


def connect() -> None:
    """Called once Django is ready (PetitionConfig.ready)."""
    from allauth.mfa import signals as mfa
    from django.contrib.auth import get_user_model
    from django.contrib.auth import signals as auth
    from django.db.models.signals import pre_save

    auth.user_logged_in.connect(_on_logged_in, dispatch_uid="petition.staff.login")
    auth.user_logged_out.connect(_on_logged_out, dispatch_uid="petition.staff.logout")
    auth.user_login_failed.connect(_on_login_failed, dispatch_uid="petition.staff.failed")
    mfa.authenticator_added.connect(_on_added, dispatch_uid="petition.staff.added")
    mfa.authenticator_removed.connect(_on_removed, dispatch_uid="petition.staff.removed")
    mfa.authenticator_reset.connect(_on_reset, dispatch_uid="petition.staff.reset")
    mfa.authenticator_used.connect(_on_used, dispatch_uid="petition.staff.used")
    mfa.authentication_failed.connect(_on_mfa_failed, dispatch_uid="petition.staff.mfa_failed")
    pre_save.connect(
        _on_user_saved, sender=get_user_model(), dispatch_uid="petition.staff.password"
    )


def _on_logged_in(
    sender: object, request: HttpRequest, user: AbstractBaseUser, **kwargs: object
) -> None:
    logged_in(request, user)


def _on_logged_out(
    sender: object, request: HttpRequest | None, user: AbstractBaseUser | None, **kwargs: object
) -> None:
    logged_out(request)
    if user is not None:
        record(StaffEvent.Kind.LOGOUT, user=user, request=request)


def _on_login_failed(
    sender: object, credentials: dict, request: HttpRequest | None = None, **kwargs: object
) -> None:
    username = credentials.get("username")
    login_failed(request, username if isinstance(username, str) else "")


def _on_added(
    sender: object,
    request: HttpRequest,
    user: AbstractBaseUser,
    authenticator: Authenticator,
    **kwargs: object,
) -> None:
    factor_added(request, user, authenticator)


def _on_removed(
    sender: object,
    request: HttpRequest,
    user: AbstractBaseUser,
    authenticator: Authenticator,
    **kwargs: object,
) -> None:
    factor_removed(request, user, authenticator)


def _on_reset(
    sender: object,
    request: HttpRequest,
    user: AbstractBaseUser,
    authenticator: Authenticator,
    **kwargs: object,
) -> None:
    factor_reset(request, user, authenticator)


def _on_used(
    sender: object,
    request: HttpRequest,
    user: AbstractBaseUser,
    authenticator: Authenticator,
    reauthenticated: bool = False,
    **kwargs: object,
) -> None:
    factor_used(request, user, authenticator, reauthenticated=reauthenticated)


def _on_mfa_failed(
    sender: object, request: HttpRequest | None, user: AbstractBaseUser, **kwargs: object
) -> None:
    second_factor_failed(request, user)


def _on_user_saved(
    sender: type, instance: AbstractBaseUser, raw: bool = False, **kwargs: object
) -> None:
    update_fields = kwargs.get("update_fields")
    if (
        raw
        or instance.pk is None
        or (update_fields is not None and "password" not in update_fields)
    ):
        return
    stored = (
        type(instance)
        ._default_manager.filter(pk=instance.pk)
        .values_list("password", flat=True)
        .first()
    )
    if stored is not None and stored != instance.password:
        from allauth.core import context

        password_changed(instance, getattr(context, "request", None))
