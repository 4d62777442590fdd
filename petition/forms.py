from __future__ import annotations

import re
import time

from django import forms
from django.core import signing
from django.core.validators import EmailValidator
from django.utils.translation import gettext_lazy as _
from django_countries import countries

from .abuse import SigningTraits
from .addresses import is_disposable
from .models import RECEIPT_PATTERN, REFERRAL_CODE_PATTERN
from .services import SignatureDetails

# [0-9], not \d: \d also takes full-width and other scripts' digits.
FRENCH_POSTAL_CODE = re.compile(r"^[0-9]{5}$")
# Letters, digits, spaces and hyphens cover the world's postal codes.
POSTAL_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{1,10}$")
# Characters nobody types in a name, and that change how the text around them reads wherever it
# is shown (admin, export, e-mails): controls (C0, DEL, C1), line and paragraph separators, and
# the bidirectional embeddings, overrides and isolates that can turn "Durand" into "dnaruD".
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
REFERRAL_CODE = re.compile(REFERRAL_CODE_PATTERN)
FORM_TIME_SIGNER = signing.Signer(salt="petition.form.started")


def signed_form_time() -> str:
    """The time a form is shown, signed: sent back with it, it tells how fast it was filled."""
    return FORM_TIME_SIGNER.sign(f"{time.time():.1f}")


class CountryField(forms.ChoiceField):
    """The country select, its ~250 names in the visitor's language, France first.

    The names are listed only when the select is drawn: a form is built on every page view
    and every signing, and copying the full list into each would cost more than the rest of
    the request.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(choices=lambda: list(countries), **kwargs)

    def valid_value(self, value: str) -> bool:
        return value in countries


def no_control_characters(value: str) -> None:
    if CONTROL_CHARACTERS.search(value):
        raise forms.ValidationError(_("This field contains characters that are not allowed."))


def domain_reaches_as_typed(address: str) -> bool:
    """Whether mail to a valid address goes to the domain typed.

    EmailValidator takes any character above U+00A0 in a domain, and sending encodes the domain
    in IDNA, which refuses some characters (the mail then never leaves) and silently drops or
    changes others: "a@exa<U+200B>mple.org" would be stored as one address and mailed to
    a@example.org, past the rule of one signature per address.
    """
    domain = address.rpartition("@")[2]
    if domain.isascii():
        return True
    try:
        return domain.encode("idna").decode("idna").lower() == domain.lower()
    except UnicodeError:
        return False


class SignerEmailField(forms.EmailField):
    """An address our mail can reach, refused with a reason of its own when it cannot."""

    def run_validators(self, value: str) -> None:
        local_part, at, _domain = value.rpartition("@")
        if at and not local_part.isascii():
            # Such a mailbox needs SMTPUTF8 from every server on the way, which neither Django's
            # SMTP backend nor most providers offer: the confirmation would never arrive. Said
            # before EmailValidator's "invalid", which would leave the signer guessing.
            raise forms.ValidationError(
                _(
                    "Our e-mails cannot reach an address with accents or other special letters "
                    "before the @: please use another address."
                ),
                code="unreachable",
            )
        super().run_validators(value)


class SignatureForm(forms.Form):
    first_name = forms.CharField(
        label=_("First name"),
        max_length=100,
        validators=[no_control_characters],
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Last name"),
        max_length=100,
        validators=[no_control_characters],
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )
    email = SignerEmailField(
        label=_("E-mail address"),
        max_length=254,
        help_text=_("We send you a link to confirm your signature."),
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    country = CountryField(
        label=_("Country"),
        initial="FR",
        widget=forms.Select(attrs={"autocomplete": "country"}),
    )
    postal_code = forms.CharField(
        label=_("Postal code"),
        max_length=12,
        required=False,
        help_text=_("Required in France."),
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "inputmode": "text"}),
    )
    # Consent to sign and consent to news are separate boxes, both unticked; the words of each
    # ticked box are kept with the signature (ConsentWording).
    consent = forms.BooleanField(
        label=_(
            "I sign this manifesto. CAMELEON records my name, e-mail address, country and postal "
            "code to confirm and count my signature, as the privacy notice explains."
        ),
        error_messages={"required": _("Please tick this box to sign.")},
    )
    wants_news = forms.BooleanField(
        label=_("I would like to receive news of the campaign from CAMELEON."),
        required=False,
    )

    # The personal link the visitor came through (?ref=), carried from the page to the POST.
    ref = forms.CharField(required=False, widget=forms.HiddenInput)
    # Programs fill in every field; people never see this one (petition.abuse).
    website = forms.CharField(
        label=_("Leave this field empty"),
        required=False,
        widget=forms.TextInput(attrs={"tabindex": "-1", "autocomplete": "off"}),
    )
    # When the page was shown, signed (only when it is drawn: a form sent back needs none): a
    # form sent back within seconds was not typed.
    started = forms.CharField(required=False, widget=forms.HiddenInput, initial=signed_form_time)

    def __init__(self, *args, **kwargs) -> None:
        # Labels stand above their fields: no colon after them, in either language.
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def clean_email(self) -> str:
        email = self.cleaned_data["email"].strip()
        if not domain_reaches_as_typed(email):
            raise forms.ValidationError(EmailValidator.message, code="invalid")
        if is_disposable(email):
            raise forms.ValidationError(
                _(
                    "Addresses from throwaway-mailbox services cannot sign: please use an "
                    "address you will keep."
                )
            )
        return email

    def clean_started(self) -> float | None:
        """Seconds since the page was shown; None without a genuine time. Never an error: the
        visitor cannot see or fix this field."""
        try:
            started = float(FORM_TIME_SIGNER.unsign(self.cleaned_data["started"]))
        except (signing.BadSignature, ValueError):
            return None
        return max(0.0, time.time() - started)

    def clean_ref(self) -> str:
        # Never an error: the visitor cannot see or fix this field. A malformed code is dropped.
        code = self.cleaned_data["ref"]
        return code if REFERRAL_CODE.fullmatch(code) else ""

    def clean_postal_code(self) -> str:
        return " ".join(self.cleaned_data["postal_code"].split()).upper()

    def clean(self) -> dict:
        cleaned = super().clean()
        country = cleaned.get("country")
        postal_code = cleaned.get("postal_code", "")
        if country == "FR":
            if not postal_code:
                self.add_error("postal_code", _("Please enter your postal code."))
            elif not FRENCH_POSTAL_CODE.match(postal_code):
                self.add_error(
                    "postal_code", _("A French postal code has five digits, such as 75011.")
                )
        elif postal_code and not POSTAL_CODE.match(postal_code):
            self.add_error("postal_code", _("Please enter a valid postal code."))
        return cleaned

    def details(self) -> SignatureDetails:
        data = self.cleaned_data
        return SignatureDetails(
            first_name=data["first_name"],
            last_name=data["last_name"],
            email=data["email"],
            country=data["country"],
            postal_code=data["postal_code"],
            wants_news=data["wants_news"],
            referral_code=data["ref"],
            consent_text=str(self.fields["consent"].label),
            news_consent_text=str(self.fields["wants_news"].label),
        )

    def traits(self, *, address_hash: str = "") -> SigningTraits:
        """What the form tells of how it was filled in, for the fraud rules."""
        seconds = self.cleaned_data["started"]
        return SigningTraits(
            address_hash=address_hash,
            honeypot=bool(self.cleaned_data["website"]),
            fill_seconds=seconds,
            form_time_missing=seconds is None,
        )


class ReceiptForm(forms.Form):
    """A receipt typed or pasted in, to check against the public log (petition.log)."""

    receipt = forms.CharField(
        label=_("Your receipt"),
        max_length=200,
        help_text=_("The 22 characters shown when you confirmed your signature."),
        error_messages={"required": _("Paste the receipt you were given to check it.")},
    )

    def clean_receipt(self) -> str:
        receipt = "".join(self.cleaned_data["receipt"].split())
        if not re.fullmatch(RECEIPT_PATTERN, receipt):
            raise forms.ValidationError(
                _("A receipt is 22 characters: letters, digits, “-” and “_”. Check it again.")
            )
        return receipt
