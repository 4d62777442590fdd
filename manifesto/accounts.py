"""allauth, fitted to staff accounts: nobody signs up, the client address is read behind the
trusted proxies, and a staff member who has a second factor proves themselves again with it,
never with the password alone."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.mfa.adapter import DefaultMFAAdapter
from allauth.mfa.webauthn.forms import (
    AddWebAuthnForm,
    AuthenticateWebAuthnForm,
    ReauthenticateWebAuthnForm,
)
from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ValidationError
from django.http import HttpRequest
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from .proxies import client_ip


class StaffAccountAdapter(DefaultAccountAdapter):
    # allauth's own wordings for its errors, in the site's words and catalogues.
    error_messages = {
        **DefaultAccountAdapter.error_messages,
        "username_password_mismatch": _("The username or the password is not right."),
        "too_many_login_attempts": _(
            "Too many failed attempts. Please wait a few minutes before trying again."
        ),
    }

    def is_open_for_signup(self, request: HttpRequest) -> bool:
        # Staff accounts are made by a superuser (or createsuperuser), never by a visitor.
        return False

    def get_client_ip(self, request: HttpRequest) -> str:
        return client_ip(request) or "0.0.0.0"  # noqa: S104 - a key for rate limits, not a bind

    def get_login_redirect_url(self, request: HttpRequest) -> str:
        return reverse(settings.LOGIN_REDIRECT_URL)

    def is_reauthentication_required(self, *, app: str, **kwargs: object) -> bool:
        """allauth's own sensitive actions (a member's factors, recovery codes) ask again on the
        site's terms (petition.staff): a member's second factor used in the last
        STAFF_REAUTHENTICATION_SECONDS, at login included; for one still enrolling their
        first, the password, as recently."""
        from allauth.core import context

        from petition import staff

        request = self.request or context.request
        if request is None or not request.user.is_authenticated:
            return True
        if staff.has_factor(request.user):
            return not staff.second_factor_is_fresh(request)
        return not staff.password_is_fresh(request)

    def get_reauthentication_methods(self, user: AbstractBaseUser | AnonymousUser) -> list[dict]:
        """A staff member with a second factor reauthenticates with it; the password is
        offered only to one who has none yet (while enrolling their first)."""
        methods = super().get_reauthentication_methods(user)
        second_factor = [m for m in methods if m["id"].startswith("mfa_reauthenticate")]
        # Passkeys first: the stronger proof, and the one most staff use.
        second_factor.sort(key=lambda m: m["id"] != "mfa_reauthenticate:webauthn")
        return second_factor or methods


class StaffMFAAdapter(DefaultMFAAdapter):
    error_messages = {
        **DefaultMFAAdapter.error_messages,
        "incorrect_code": _("This code is not right, or was used already."),
    }

    def get_totp_issuer(self) -> str:
        return settings.MFA_TOTP_ISSUER

    def _get_site_name(self) -> str:
        return settings.MFA_TOTP_ISSUER


# What a browser posts after a passkey ceremony (WebAuthn's PublicKeyCredential as JSON). The
# WebAuthn library reads it trusting its shape: a missing key, a number in place of a string or
# bytes that do not parse raised errors that allauth does not expect, a server error. Anything
# but a well-formed answer is refused here as a wrong passkey.
PARSE_ERRORS = (ValueError, TypeError, KeyError, AttributeError, IndexError)
CREDENTIAL_RESPONSE_KEYS = {
    "registration": ("clientDataJSON", "attestationObject"),
    "authentication": ("clientDataJSON", "authenticatorData", "signature"),
}


def check_credential_shape(credential: object, ceremony: str) -> None:
    """Raise the "wrong passkey" error unless credential has the shape of a WebAuthn answer."""
    response = credential.get("response") if isinstance(credential, dict) else None
    well_formed = (
        isinstance(response, dict)
        and all(isinstance(credential.get(key), str) for key in ("id", "rawId", "type"))
        and all(isinstance(response.get(key), str) for key in CREDENTIAL_RESPONSE_KEYS[ceremony])
        and all(
            isinstance(response.get(key), str | None)
            for key in ("userHandle", "authenticatorAttachment")
        )
        and isinstance(credential.get("clientExtensionResults", {}), dict)
        and isinstance(credential.get("authenticatorAttachment"), str | None)
    )
    if not well_formed:
        raise wrong_passkey()


def wrong_passkey() -> ValidationError:
    return StaffMFAAdapter().validation_error("incorrect_code")


class StaffAddWebAuthnForm(AddWebAuthnForm):
    def clean(self) -> dict:
        credential = self.cleaned_data.get("credential")
        if credential is not None:
            try:
                check_credential_shape(credential, "registration")
                return super().clean()
            except ValidationError as error:
                self.add_error("credential", error)
            except PARSE_ERRORS:
                self.add_error("credential", wrong_passkey())
        return self.cleaned_data


class WellFormedPasskeyAnswer:
    def clean_credential(self) -> object:
        check_credential_shape(self.cleaned_data["credential"], "authentication")
        try:
            return super().clean_credential()
        except PARSE_ERRORS as error:
            raise wrong_passkey() from error


class StaffAuthenticateWebAuthnForm(WellFormedPasskeyAnswer, AuthenticateWebAuthnForm):
    pass


class StaffReauthenticateWebAuthnForm(WellFormedPasskeyAnswer, ReauthenticateWebAuthnForm):
    pass
