"""The e-mails sent to signers, rendered in the signer's own language, and the notices to staff
about their accounts.

Every message to a signer carries an unsubscribe link in its body and the RFC 8058 one-click
headers, so that mail clients can offer "unsubscribe" themselves.
"""

from __future__ import annotations

from email.message import Message
from email.utils import make_msgid, parseaddr
from urllib.parse import urlsplit

from anymail.message import AnymailMessage
from django.conf import settings
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import formats, timezone, translation
from django.utils.translation import gettext, ngettext

from .models import Signature, StaffEvent
from .sharing import petition_url
from .tokens import make_confirmation_token, make_sharing_token, make_unsubscribe_token


class SiteEmail(AnymailMessage):
    """Every e-mail the site sends: a text part with an HTML alternative, and the attributes
    anymail reads (metadata, tags, merge data), which other backends ignore.

    Where Django writes the message itself (SMTP, the console and file backends), its
    Message-ID is on the domain of its From address (DEFAULT_FROM_EMAIL), the one the mail is
    signed for and judged by, instead of the name of the machine that sends it (Django's
    DNS_NAME), which may be a private one. A provider's API writes its own.
    """

    def message(self) -> Message:
        message = super().message()
        if not any(name.lower() == "message-id" for name in self.extra_headers):
            domain = parseaddr(self.from_email)[1].rpartition("@")[2]
            message.replace_header("Message-ID", make_msgid(domain=domain))
        return message


def absolute_url(path: str) -> str:
    return f"{settings.SITE_URL}{path}"


def unsubscribe_url(signature: Signature) -> str:
    with translation.override(signature.language):
        return absolute_url(reverse("unsubscribe", args=[make_unsubscribe_token(signature)]))


def confirmation_url(signature: Signature) -> str:
    with translation.override(signature.language):
        return absolute_url(reverse("confirm", args=[make_confirmation_token(signature)]))


def referral_url(signature: Signature) -> str:
    """A confirmed signer's personal link to the petition, in their language."""
    with translation.override(signature.language):
        return petition_url(signature.petition, referral_code=signature.ensure_referral_code())


def sharing_url(signature: Signature) -> str:
    """The page where a confirmed signer sees how many people signed through their link."""
    with translation.override(signature.language):
        return absolute_url(reverse("sharing", args=[make_sharing_token(signature)]))


def build_message(signature: Signature, template: str, context: dict) -> SiteEmail:
    """An e-mail to one signer from templates/petition/email/<template>_{subject,body}.*

    To a confirmed signer, templates may also show referral_url (their personal link),
    sharing_url, and {{ signature.referred_count }}, counted only if a template asks for it.
    """
    if signature.is_confirmed:
        context = {
            "referral_url": referral_url(signature),
            "sharing_url": sharing_url(signature),
            **context,
        }
    with translation.override(signature.language):
        context = {
            "signature": signature,
            "petition": signature.petition,
            "site_host": urlsplit(settings.SITE_URL).netloc,
            "home_url": absolute_url(reverse("home")),
            "unsubscribe_url": unsubscribe_url(signature),
            **context,
        }
        prefix = f"petition/email/{template}"
        subject = " ".join(render_to_string(f"{prefix}_subject.txt", context).split())
        text = render_to_string(f"{prefix}_body.txt", context)
        html = render_to_string(f"{prefix}_body.html", context)
    message = SiteEmail(
        subject=subject,
        body=text,
        to=[signature.email],
        headers={
            "List-Unsubscribe": f"<{context['unsubscribe_url']}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        },
    )
    message.attach_alternative(html, "text/html")
    return message


def staff_factor_label(detail: str) -> str:
    """A second factor as StaffEvent.detail names it (in English), in the active language."""
    if detail.startswith("passkey"):
        name = detail.removeprefix("passkey").strip()
        return gettext("passkey “%(name)s”") % {"name": name} if name else gettext("passkey")
    if detail == "authenticator app":
        return gettext("authenticator app")
    return gettext("recovery codes")


def staff_event_detail(event: StaffEvent) -> str:
    """An event's detail (stored in English, as petition.staff writes it) in the active
    language."""
    detail = event.detail
    kinds = StaffEvent.Kind
    if not detail:
        return ""
    if event.kind == kinds.LOGIN:
        return gettext("first login from this browser")
    if event.kind in {kinds.FACTOR_ADDED, kinds.FACTOR_REMOVED, kinds.REAUTHENTICATED}:
        return staff_factor_label(detail)
    number = detail.split()[0]
    if event.kind == kinds.RECOVERY_CODE_USED and number.isdigit():
        count = int(number)
        return ngettext("%(count)d recovery code left", "%(count)d recovery codes left", count) % {
            "count": count
        }
    if event.kind == kinds.SESSIONS_ENDED and detail.isdigit():
        count = int(detail)
        return ngettext("%(count)d session ended", "%(count)d sessions ended", count) % {
            "count": count
        }
    if event.kind == kinds.FACTORS_RESET:
        if detail.startswith("for "):
            return gettext("for %(name)s") % {"name": detail.removeprefix("for ")}
        if detail.isdigit():
            count = int(detail)
            return ngettext(
                "%(count)d second factor removed", "%(count)d second factors removed", count
            ) % {"count": count}
    return detail


def build_staff_message(event: StaffEvent) -> SiteEmail:
    """The e-mail that tells a staff member what happened to their account, in the language of
    the page they were on (or of their last login)."""
    user = event.user
    language = event.language if event.language in dict(settings.LANGUAGES) else "fr"
    with translation.override(language):
        context = {
            "event": event,
            "language": language,
            "name": user.first_name or user.get_username(),
            "factor": staff_factor_label(event.detail),
            "when": formats.date_format(timezone.localtime(event.at), "DATETIME_FORMAT"),
            "sessions_url": absolute_url(reverse("staff_sessions")),
            "site_host": urlsplit(settings.SITE_URL).netloc,
        }
        prefix = "petition/email/staff_notice"
        subject = " ".join(render_to_string(f"{prefix}_subject.txt", context).split())
        text = render_to_string(f"{prefix}_body.txt", context)
        html = render_to_string(f"{prefix}_body.html", context)
    message = SiteEmail(subject=subject, body=text, to=[user.email])
    message.attach_alternative(html, "text/html")
    return message
