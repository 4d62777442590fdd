"""Shared fixtures. Services the suite needs are checked here: on a laptop without them the
tests that need them skip; in CI (CI=true) a missing service fails the run instead."""

from __future__ import annotations

import importlib
import os
import re
import socket
import time
from datetime import timedelta
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from allauth.core import context as allauth_context
from allauth.mfa import app_settings as mfa_settings
from allauth.mfa.base.forms import AuthenticateForm
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import (
    TOTP,
    format_hotp_value,
    generate_totp_secret,
    hotp_value,
)
from allauth.mfa.utils import decrypt
from django.apps import apps
from django.conf import settings
from django.core import signing
from django.core.cache import caches
from django.core.mail import EmailMessage
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.test import Client
from django.urls import resolve, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext

from petition import mailings, services
from petition.forms import FORM_TIME_SIGNER
from petition.models import (
    ExportRecord,
    Petition,
    Signature,
    Suppression,
    Switches,
    Target,
    Update,
)
from petition.tokens import (
    make_confirmation_token,
    make_sharing_token,
    make_unsubscribe_token,
    make_withdrawal_token,
)

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
MANIFESTO_SLUG = "stop-cyberpedocriminalite"
HTML_WHITESPACE = re.compile(r"[ \t\n\r\f]+")


def service_reachable(host: str, port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def require_service(name: str, host: str, port: int) -> None:
    """Skip the test when a service is missing, except in CI, where that is a failure."""
    if service_reachable(host, port):
        return
    message = f"{name} is not reachable at {host}:{port}"
    if IN_CI:
        pytest.fail(f"{message}; CI must provide it", pytrace=False)
    pytest.skip(message)


@pytest.fixture
def requires_postgresql(settings) -> None:
    if connection.vendor != "postgresql":
        if IN_CI:
            pytest.fail("CI must run the suite on PostgreSQL", pytrace=False)
        pytest.skip("needs PostgreSQL")


@pytest.fixture
def petition(db) -> Petition:
    """The seeded manifesto and its députés. Transactional tests flush the tables, so they are
    loaded again."""
    found = Petition.objects.filter(slug=MANIFESTO_SLUG).first()
    if found is None:
        seed = importlib.import_module("petition.migrations.0002_seed_manifesto")
        seed.load_manifesto(apps, None)
        deputies = importlib.import_module("petition.migrations.0010_deputies_snapshot")
        deputies.load_deputies(apps, None)
        found = Petition.objects.get(slug=MANIFESTO_SLUG)
    return found


@pytest.fixture
def signature(petition: Petition) -> Signature:
    """A citizen's signature, still waiting for confirmation."""
    return Signature.objects.create(
        petition=petition,
        first_name="Camille",
        last_name="Durand",
        email="camille.durand@example.org",
        postal_code="75011",
        language="fr",
    )


def signing_form(**changes: str) -> dict[str, str]:
    """What a citizen in France sends in the signing form, having read the page a minute."""
    return {
        "first_name": "Camille",
        "last_name": "Durand",
        "email": "camille.durand@example.org",
        "country": "FR",
        "postal_code": "75011",
        "consent": "on",
        "started": form_shown(seconds_ago=60),
        **changes,
    }


@pytest.fixture
def signer_data() -> dict[str, str]:
    return signing_form()


def form_shown(*, seconds_ago: float) -> str:
    """The signed time a signing form carries, as if its page was shown seconds_ago."""
    return FORM_TIME_SIGNER.sign(f"{time.time() - seconds_ago:.1f}")


@pytest.fixture(autouse=True)
def empty_caches(settings):
    """Rate-limit counters and cached answers live in the caches: every test starts with none."""
    for alias in settings.CACHES:
        caches[alias].clear()
    yield
    for alias in settings.CACHES:
        caches[alias].clear()


@pytest.fixture(autouse=True)
def default_language():
    """A request leaves its language active in the thread: every test starts in the site's
    default language, whatever the one before it asked for."""
    translation.activate(settings.LANGUAGE_CODE)
    yield
    translation.deactivate()


# Staff and their second factor. Every staff page needs a session that passed the member's second
# factor (petition.staff): the tests' force_login gives each member of staff an authenticator app,
# enrolled through allauth, and passes it with a code of that app, checked by allauth's own login
# form, so that the requirement stays on everywhere.

plain_force_login = Client.force_login


def totp_secret(user: object) -> str:
    """The secret of a staff member's authenticator app, enrolled through allauth if need be."""
    found = Authenticator.objects.filter(user_id=user.pk, type=Authenticator.Type.TOTP).first()
    if found is not None:
        return decrypt(found.data["secret"])
    secret = generate_totp_secret()
    TOTP.activate(user, secret)
    return secret


def totp_codes(secret: str) -> list[str]:
    """The codes an authenticator app shows now, and just before and after (the site takes
    all three: MFA_TOTP_TOLERANCE). Each is taken once."""
    counter = int(time.time()) // mfa_settings.TOTP_PERIOD
    return [format_hotp_value(hotp_value(secret, n)) for n in (counter, counter + 1, counter - 1)]


def pass_second_factor(client: Client, user: object) -> None:
    """What the login's second step does, in this client's session: a code of the member's
    app, checked by allauth's form, and the session marked as having passed it."""
    request = HttpRequest()
    request.META["REMOTE_ADDR"] = "127.0.0.1"
    request.session = client.session
    request.user = user
    secret = totp_secret(user)
    with allauth_context.request_context(request):
        for code in totp_codes(secret):
            form = AuthenticateForm(user=user, data={"code": code})
            if form.is_valid():
                form.save()
                break
        else:
            raise AssertionError(f"no code of {user} was taken: {form.errors}")
    request.session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = request.session.session_key


def force_login_with_second_factor(self: Client, user: object, backend: str | None = None) -> None:
    plain_force_login(self, user, backend)
    if user.is_staff:
        pass_second_factor(self, user)


@pytest.fixture(autouse=True)
def staff_pass_their_second_factor(monkeypatch) -> None:
    """client.force_login(member of staff): signed in, with an authenticator app passed."""
    monkeypatch.setattr(Client, "force_login", force_login_with_second_factor)


@pytest.fixture
def csrf_client() -> Client:
    """A browser as strict as production: every form POST must carry its CSRF token."""
    return Client(enforce_csrf_checks=True)


@pytest.fixture
def client_factory():
    """client_factory(): one more visitor, with a browser of their own."""
    return Client


def collapse_whitespace(text: str) -> str:
    """Text as HTML lays it out: runs of ASCII white space (only those) read as one space."""
    return HTML_WHITESPACE.sub(" ", text).strip()


@pytest.fixture
def collapsed():
    """collapsed(text): text as a page shows it, white space collapsed as HTML does."""
    return collapse_whitespace


class Element:
    """One element of a parsed page, queried the way a reader or a browser would."""

    def __init__(self, tag: str, attrs: dict[str, str], parent: Element | None) -> None:
        self.tag = tag
        self.attrs = attrs
        self.parent = parent
        self.children: list[Element | str] = []

    def __repr__(self) -> str:
        return f"<{self.tag} {self.attrs}>"

    @property
    def text(self) -> str:
        """The text a reader sees, with runs of white space collapsed."""
        parts: list[str] = []

        def collect(node: Element) -> None:
            for child in node.children:
                if isinstance(child, str):
                    parts.append(child)
                elif child.tag == "br":
                    parts.append("\n")
                else:
                    collect(child)

        collect(self)
        return collapse_whitespace("".join(parts))

    def matches(self, tag: str | None, attrs: dict[str, str | bool]) -> bool:
        if tag is not None and self.tag != tag:
            return False
        for name, wanted in attrs.items():
            name = name.rstrip("_").replace("_", "-")
            value = self.attrs.get(name)
            if wanted is True:
                if value is None:
                    return False
            elif name == "class":
                if wanted not in (value or "").split():
                    return False
            elif value != wanted:
                return False
        return True

    def find_all(self, tag: str | None = None, **attrs: str | bool) -> list[Element]:
        found = []
        for child in self.children:
            if isinstance(child, Element):
                if child.matches(tag, attrs):
                    found.append(child)
                found.extend(child.find_all(tag, **attrs))
        return found

    def find(self, tag: str | None = None, **attrs: str | bool) -> Element:
        found = self.find_all(tag, **attrs)
        assert found, f"no <{tag or '*'} {attrs}> in the page"
        return found[0]

    def closest(self, tag: str | None = None, **attrs: str | bool) -> Element:
        node = self.parent
        while node is not None and not node.matches(tag, attrs):
            node = node.parent
        assert node is not None, f"no <{tag or '*'} {attrs}> around {self!r}"
        return node

    def form_data(self) -> dict[str, str]:
        """What a browser sends when this form is submitted without a named button."""
        data: dict[str, str] = {}
        for field in self.find_all():
            name = field.attrs.get("name")
            if not name:
                continue
            if field.tag == "input":
                kind = field.attrs.get("type", "text")
                if kind in {"submit", "button", "reset", "image"}:
                    continue
                if kind in {"checkbox", "radio"}:
                    if "checked" in field.attrs:
                        data[name] = field.attrs.get("value", "on")
                    continue
                data[name] = field.attrs.get("value", "")
            elif field.tag == "select":
                options = field.find_all("option")
                chosen = [option for option in options if "selected" in option.attrs]
                if chosen or options:
                    data[name] = (chosen or options)[0].attrs.get("value", "")
            elif field.tag == "textarea":
                data[name] = field.text
        return data


class _TreeBuilder(HTMLParser):
    VOID = frozenset(
        {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}
        | {"track", "wbr"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("#document", {}, None)
        self.current = self.root

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs}, self.current)
        self.current.children.append(element)
        if tag not in self.VOID:
            self.current = element

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {name: value or "" for name, value in attrs}, self.current)
        self.current.children.append(element)

    def handle_endtag(self, tag: str) -> None:
        node = self.current
        while node is not None and node.tag != tag:
            node = node.parent
        if node is not None and node.parent is not None:
            self.current = node.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse_html(content: HttpResponse | bytes | str) -> Element:
    if isinstance(content, HttpResponse):
        content = content.content
    if isinstance(content, bytes):
        content = content.decode()
    builder = _TreeBuilder()
    builder.feed(content)
    builder.close()
    return builder.root


@pytest.fixture
def html():
    """Parses a response (or a string) into an Element tree."""
    return parse_html


def url_in(lang: str, name: str, *args: object) -> str:
    with translation.override(lang):
        return reverse(name, args=args)


@pytest.fixture
def url():
    """url(lang, name, *args): the path of a page in one language."""
    return url_in


def translated_in(lang: str, message: str) -> str:
    with translation.override(lang):
        return gettext(message)


@pytest.fixture
def translated():
    """translated(lang, message): a message as the site's catalogues render it in lang."""
    return translated_in


def links_in(message: EmailMessage) -> dict[str, str]:
    """The site's pages an e-mail links to in its text part, as {url name: path}."""
    links = {}
    for address in re.findall(r"https?://[^\s<>\"]+", message.body):
        if not address.startswith(f"{settings.SITE_URL}/"):
            continue
        path = urlsplit(address).path
        lang = path.split("/")[1]
        with translation.override(lang):
            links[resolve(path).url_name] = path
    return links


@pytest.fixture
def email_links():
    """email_links(message): the site's pages an e-mail links to, as {url name: path}."""
    return links_in


@pytest.fixture
def sign(client, petition, signer_data, django_capture_on_commit_callbacks):
    """sign(lang=..., client=..., **fields): a visitor sends the signing form; e-mails leave
    once the request's transaction commits, as they do outside the test transaction."""

    def sign(*, lang: str = "fr", client: Client = client, **fields: str) -> HttpResponse:
        data = {**signer_data, **fields}
        with django_capture_on_commit_callbacks(execute=True):
            return client.post(url_in(lang, "petition", petition.slug), data)

    return sign


@pytest.fixture
def confirm_link(sign, mailoutbox, email_links):
    """confirm_link(lang=..., **fields): sign, and return the link of the e-mail received."""

    def confirm_link(*, lang: str = "fr", **fields: str) -> str:
        sign(lang=lang, **fields)
        return email_links(mailoutbox[-1])["confirm"]

    return confirm_link


@pytest.fixture
def press_button(csrf_client, django_capture_on_commit_callbacks):
    """press_button(link): open a link from an e-mail in a browser and press the page's button."""

    def press_button(link: str) -> HttpResponse:
        form = parse_html(csrf_client.get(link)).find("main").find("form", method="post")
        with django_capture_on_commit_callbacks(execute=True):
            return csrf_client.post(form.attrs.get("action") or link, form.form_data())

    return press_button


@pytest.fixture
def add_signatures(petition, django_capture_on_commit_callbacks):
    """add_signatures(confirmed, pending=0): other citizens' signatures, confirmed through the
    site's own confirmation, so that the count moves as it does for them."""

    def add_signatures(confirmed: int, pending: int = 0) -> None:
        signatures = Signature.objects.bulk_create(
            Signature(
                petition=petition,
                first_name="Dominique",
                last_name=f"Martin {number}",
                email=f"dominique.martin.{number}@example.net",
                postal_code="69001",
                language="fr",
            )
            for number in range(confirmed + pending)
        )
        with django_capture_on_commit_callbacks(execute=True):
            for signature in signatures[:confirmed]:
                services.confirm(signature=signature)
        petition.refresh_from_db()

    return add_signatures


@pytest.fixture
def public_pages(
    client, settings, petition, signer_data, url, confirm_link, press_button, mailoutbox
) -> dict[str, HttpResponse]:
    """Every public page, in both languages and error states included, keyed by a readable
    name ("fr home", "en not found"…)."""
    settings.SIGN_RATE_PER_IP = "60/h"
    found: dict[str, HttpResponse] = {}
    for lang in ("fr", "en"):
        pending = Signature.objects.create(
            petition=petition,
            first_name="Sam",
            last_name="Lee",
            email=f"sam.{lang}@example.org",
            postal_code="69001",
            language=lang,
        )
        thanks = press_button(confirm_link(lang=lang, email=f"camille.{lang}@example.org"))
        confirmed = Signature.objects.get(email=f"camille.{lang}@example.org")
        answers = {
            "home": client.get(url(lang, "home")),
            "petition": client.get(url(lang, "petition", petition.slug)),
            "form with errors": client.post(url(lang, "petition", petition.slug), {}),
            "check your inbox": client.get(url(lang, "check_inbox", petition.slug)),
            "confirm": client.get(url(lang, "confirm", make_confirmation_token(pending))),
            "thank you": thanks,
            "sharing page": client.get(url(lang, "sharing", make_sharing_token(confirmed))),
            "unsubscribe": client.get(url(lang, "unsubscribe", make_unsubscribe_token(pending))),
            "unsubscribed": client.post(url(lang, "unsubscribe", make_unsubscribe_token(pending))),
            "withdraw": client.get(url(lang, "withdraw", make_withdrawal_token(pending))),
            "invalid link": client.get(url(lang, "confirm", "altered")),
            "privacy": client.get(url(lang, "privacy")),
            "legal": client.get(url(lang, "legal")),
            "not found": client.get(f"{url(lang, 'home')}no-such-page/"),
            "embed": client.get(url(lang, "embed", petition.slug)),
            "public log": client.get(url(lang, "log", petition.slug)),
            "public log, receipt checked": client.get(
                url(lang, "log", petition.slug), {"receipt": receipt_in(thanks)}
            ),
            "public log, bad receipt": client.get(
                url(lang, "log", petition.slug), {"receipt": "not a receipt"}
            ),
        }
        settings.SIGN_RATE_PER_IP = "0/h"
        answers["too many attempts"] = client.post(
            url(lang, "petition", petition.slug), signer_data
        )
        settings.SIGN_RATE_PER_IP = "60/h"
        Switches(signing_paused=True).save()
        answers["signing paused"] = client.get(url(lang, "home"))
        Switches(signing_paused=False).save()
        expected = {
            "form with errors": 400,
            "invalid link": 400,
            "not found": 404,
            "public log, bad receipt": 400,
        }
        expected["too many attempts"] = 429
        for name, response in answers.items():
            assert response.status_code == expected.get(name, 200), (lang, name)
            assert response["Content-Type"].startswith("text/html"), (lang, name)
            found[f"{lang} {name}"] = response
    return found


def confirmed_signatures(
    petition: Petition, number: int, *, start: int = 0, **fields: object
) -> list[Signature]:
    """Other citizens' signatures, confirmed an hour ago, stored in bulk (as fake_signatures
    stores them): the log gives them receipt hashes nobody holds."""
    now = timezone.now()
    fields.setdefault("confirmed_at", now - timedelta(hours=1))
    return Signature.objects.bulk_create(
        Signature(
            petition=petition,
            first_name="Alex",
            last_name=f"Petit {n}",
            email=f"alex.petit.{n}@example.org",
            postal_code="13001",
            language="fr",
            created_at=now - timedelta(days=1),
            **fields,
        )
        for n in range(start, start + number)
    )


def receipt_in(page: HttpResponse) -> str:
    """The receipt a thank-you or sharing page gives its signer."""
    return parse_html(page).find(data_receipt=True).attrs["data-receipt"]


def write_update(
    petition: Petition,
    author: object,
    *,
    subject_fr: str = "Nouvelles du manifeste",
    subject_en: str = "News of the manifesto",
) -> Update:
    """A draft update to signers, as staff write one in the admin."""
    return Update.objects.create(
        petition=petition,
        subject_fr=subject_fr,
        subject_en=subject_en,
        body_fr="Le manifeste avance.",
        body_en="The manifesto moves on.",
        created_by=author,
    )


@pytest.fixture
def admin_paths(
    petition, admin_user, add_signatures, django_capture_on_commit_callbacks
) -> dict[str, str]:
    """Every kind of admin page staff open, each with something on it, as {name: path}.
    admin_user (pytest-django's superuser, password "password") may open them all."""
    add_signatures(confirmed=3, pending=1)
    signature = Signature.objects.first()
    suppression = Suppression.objects.create(
        email="gone@example.org", bounced_at=timezone.now(), reason="550 user unknown"
    )
    ExportRecord.objects.create(
        username=admin_user.username,
        source=ExportRecord.Source.ADMIN,
        petition=petition,
        variant=ExportRecord.Variant.FULL,
        delimiter=",",
        rows=3,
    )
    draft, sent = (
        write_update(petition, admin_user, subject_fr=f"Nouvelles {n}", subject_en=f"News {n}")
        for n in (1, 2)
    )
    with django_capture_on_commit_callbacks(execute=True):
        mailings.start_sending(update=sent, user=admin_user)
    return {
        "index": reverse("admin:index"),
        "app": reverse("admin:app_list", args=["petition"]),
        "petitions": reverse("admin:petition_petition_changelist"),
        "petition": reverse("admin:petition_petition_change", args=[petition.pk]),
        "new petition": reverse("admin:petition_petition_add"),
        "dashboard": reverse("admin:petition_petition_dashboard", args=[petition.pk]),
        "signatures": reverse("admin:petition_signature_changelist"),
        "signatures filtered": reverse("admin:petition_signature_changelist")
        + f"?petition__id__exact={petition.pk}&status=confirmed",
        "signature": reverse("admin:petition_signature_change", args=[signature.pk]),
        "signature history": reverse("admin:petition_signature_history", args=[signature.pk]),
        "export": reverse("admin:petition_signature_export"),
        "exports": reverse("admin:petition_exportrecord_changelist"),
        "suppressions": reverse("admin:petition_suppression_changelist"),
        "suppression": reverse("admin:petition_suppression_change", args=[suppression.pk]),
        "updates": reverse("admin:petition_update_changelist"),
        "new update": reverse("admin:petition_update_add"),
        "draft update": reverse("admin:petition_update_change", args=[draft.pk]),
        "sent update": reverse("admin:petition_update_change", args=[sent.pk]),
        "preview": reverse("admin:petition_update_preview", args=[draft.pk]),
        "send": reverse("admin:petition_update_send", args=[draft.pk]),
        "delete update": reverse("admin:petition_update_delete", args=[draft.pk]),
        "decision-makers": reverse("admin:petition_target_changelist"),
        "decision-maker": reverse(
            "admin:petition_target_change",
            args=[Target.objects.get(departement="69", circonscription=7).pk],
        ),
        "import of the députés": reverse("admin:petition_target_import"),
        "responses": reverse("admin:petition_targetresponse_changelist"),
        "new response": reverse("admin:petition_targetresponse_add"),
        "users": reverse("admin:auth_user_changelist"),
        "password change": reverse("admin:password_change"),
    }


class _SignerInThePast(signing.TimestampSigner):
    def __init__(self, *, age: int, **kwargs: object) -> None:
        super().__init__(**kwargs)
        self.age = age

    def timestamp(self) -> str:
        return signing.b62_encode(int(time.time()) - self.age)


def issued_ago(token: str, *, salt: str, seconds: int) -> str:
    """The same token, as it would read had it been issued `seconds` ago."""
    payload = signing.TimestampSigner(salt=salt).unsign(token)
    return _SignerInThePast(age=seconds, salt=salt).sign(payload)


@pytest.fixture
def aged_token():
    """aged_token(token, salt=..., seconds=...): a link's token, issued that long ago."""
    return issued_ago
