"""Every e-mail the site sends, as an inbox provider receives it: made by the site's own code
with production's settings (links on the site's https address, a sender on its own domain) and
handed over SMTP to a local server. SpamAssassin (Debian's package, its shipped rules, no
network test) scores the bytes received under 1.0, in French and in English, and the headers
filters look at are checked one by one.

Who relays a message to the inbox (its address, its name, SPF, DKIM) is the deployment's, not
the message's (README, "Mail that inboxes accept"): no Received header is made up here, and the
points SpamAssassin takes off for trusted relays would not count anyway."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import gettext

from petition import mailings
from petition.models import Petition, Signature, Update
from tests.conftest import collapse_whitespace, parse_html, signing_form, url_in

from .conftest import missing

if TYPE_CHECKING:
    from .conftest import Mailbox, ReceivedMail, SmtpServer

pytestmark = pytest.mark.django_db

SITE_URL = "https://manifeste.example.org"
SENDER = "CAMELEON <manifeste@example.org>"
SENDER_DOMAIN = "example.org"
STAFF_EMAIL = "claire.staff@example.org"
# SpamAssassin's own threshold is 5.0; a message that scores 1.0 already trips some rule a
# stricter filter may weigh more.
LIMIT = 1.0
LANGUAGES = ["fr", "en"]
KINDS = ["confirmation", "already signed", "update", "test update"]

UPDATE_SUBJECT = {
    "fr": "Le manifeste remis aux députés",
    "en": "The manifesto handed to members of parliament",
}
UPDATE_BODY = {
    "fr": (
        "Mardi, nous avons remis le manifeste et vos signatures aux députés de la commission "
        "des lois, à l'Assemblée nationale. Ils nous ont reçus une heure et ont promis "
        "d'étudier nos quatre propositions avant l'examen du prochain projet de loi sur la "
        "protection des mineurs en ligne.\n\n"
        "Le compte rendu de la rencontre et les prochaines étapes sont sur le site :\n"
        f"{SITE_URL}/fr/\n\n"
        "Merci d'avoir signé, et de continuer à en parler autour de vous."
    ),
    "en": (
        "On Tuesday we handed the manifesto and your signatures to the members of the law "
        "committee at the National Assembly. They met us for an hour and promised to study "
        "our four proposals before the next bill on protecting children online is debated.\n\n"
        "The report of the meeting and the next steps are on the site:\n"
        f"{SITE_URL}/en/\n\n"
        "Thank you for signing, and for telling the people around you about it."
    ),
}


@pytest.fixture
def outgoing(settings, smtp_server: SmtpServer, mailbox: Mailbox) -> Mailbox:
    """Production's mail settings, with the site's messages handed over SMTP to the test's
    server: its mailbox."""
    settings.SITE_URL = SITE_URL
    settings.DEFAULT_FROM_EMAIL = SENDER
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp_server.host
    settings.EMAIL_PORT = smtp_server.port
    # One signer at a time: nothing to pace.
    settings.UPDATE_SEND_RATE = 0
    return mailbox


def confirmed_signer(petition: Petition, language: str, email: str) -> Signature:
    signed_at = timezone.now() - timedelta(days=3)
    return Signature.objects.create(
        petition=petition,
        first_name="Camille",
        last_name="Durand",
        email=email,
        postal_code="75011",
        language=language,
        wants_news=True,
        created_at=signed_at,
        confirmed_at=signed_at + timedelta(minutes=3),
    )


def news_update(petition: Petition, author: object) -> Update:
    """An update as staff would write one, a few paragraphs with a link."""
    return Update.objects.create(
        petition=petition,
        created_by=author,
        **{f"subject_{lang}": UPDATE_SUBJECT[lang] for lang in LANGUAGES},
        **{f"body_{lang}": UPDATE_BODY[lang] for lang in LANGUAGES},
    )


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(
        "claire", STAFF_EMAIL, "pw", is_staff=True, first_name="Claire"
    )


@pytest.fixture
def receive(
    outgoing: Mailbox,
    client: Client,
    petition: Petition,
    staff,
    django_capture_on_commit_callbacks,
) -> Callable[[str, str], ReceivedMail]:
    """receive(kind, language): the message of that kind the site sends in that language, as
    received over SMTP."""

    def sign(language: str, email: str) -> None:
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                url_in(language, "petition", petition.slug), signing_form(email=email)
            )
        assert response.status_code == 302

    def receive(kind: str, language: str) -> ReceivedMail:
        email = f"camille.{language}.{kind.replace(' ', '-')}@example.org"
        if kind == "confirmation":
            sign(language, email)
        elif kind == "already signed":
            confirmed_signer(petition, language, email)
            sign(language, email)
        elif kind == "update":
            confirmed_signer(petition, language, email)
            with django_capture_on_commit_callbacks(execute=True):
                mailings.start_sending(update=news_update(petition, staff), user=staff)
        else:
            with django_capture_on_commit_callbacks(execute=True):
                mailings.send_test(update=news_update(petition, staff), user=staff)
            with translation.override(language):
                subject = gettext("[Test] %(subject)s") % {"subject": UPDATE_SUBJECT[language]}
            outgoing.wait_for(STAFF_EMAIL, timeout=5)
            # Both languages at once: this language's copy of the latest test.
            return [m for m in outgoing.to(STAFF_EMAIL) if m["Subject"] == subject][-1]
        return outgoing.wait_for(email, timeout=5)

    return receive


every_message = pytest.mark.parametrize(
    ("kind", "language"), [(kind, language) for kind in KINDS for language in LANGUAGES]
)


# What receiving servers look at.


def domain_of(address: str) -> str:
    return parseaddr(address)[1].rpartition("@")[2].lower()


@every_message
def test_the_date_says_when_and_in_which_time_zone(receive, kind: str, language: str) -> None:
    received = receive(kind, language)

    date = parsedate_to_datetime(received["Date"])

    # A naive date is "-0000": a sender that does not know its own time zone.
    assert date.tzinfo is not None, received["Date"]
    assert abs(date - timezone.now()) < timedelta(minutes=5)


@every_message
def test_the_message_id_is_on_the_senders_domain(receive, kind: str, language: str) -> None:
    received = receive(kind, language)

    assert re.fullmatch(rf"<[^@<>\s]+@{re.escape(SENDER_DOMAIN)}>", received["Message-ID"])


def test_each_message_has_a_message_id_of_its_own(receive) -> None:
    ids = {receive(kind, language)["Message-ID"] for kind in KINDS for language in LANGUAGES}

    assert len(ids) == len(KINDS) * len(LANGUAGES)


@every_message
def test_it_comes_from_the_senders_domain_and_bounces_return_there(
    receive, kind: str, language: str
) -> None:
    received = receive(kind, language)

    assert received["From"] == SENDER
    # SPF checks the envelope's sender: on the From's domain, it aligns for DMARC.
    assert domain_of(received.sender) == SENDER_DOMAIN


@every_message
def test_a_plain_text_part_says_what_the_html_part_says(receive, kind: str, language: str) -> None:
    received = receive(kind, language)
    message = received.message

    assert message.get_content_type() == "multipart/alternative"
    # The last alternative is the one preferred: HTML, where the client can show it.
    parts = [part.get_content_type() for part in message.iter_parts()]
    assert parts == ["text/plain", "text/html"]
    document = parse_html(received.html)
    prose = re.sub(r"https?://\S+", "", received.text)
    assert len(prose.split()) >= 40, received.text
    for paragraph in document.find("body").find_all("p"):
        if not paragraph.find_all("a"):
            assert paragraph.text in collapse_whitespace(received.text)
    links = {a.attrs["href"] for a in document.find_all("a")}
    assert links <= set(re.findall(r"https?://\S+", received.text))


@every_message
def test_the_html_part_is_a_whole_document_in_the_signers_language(
    receive, kind: str, language: str
) -> None:
    received = receive(kind, language)

    document = parse_html(received.html)

    assert document.find("html").attrs["lang"] == language
    assert document.find("head").find("meta", charset="utf-8")
    assert document.find("head").find("title").text == received["Subject"].removeprefix("[Test] ")
    body = document.find("body")
    assert body.text
    # Filters distrust a message that is mostly markup.
    assert len(body.text) / len(received.html) > 0.2


@every_message
def test_one_click_unsubscribe_headers_point_to_the_link_in_the_message(
    receive, kind: str, language: str
) -> None:
    received = receive(kind, language)

    link = received["List-Unsubscribe"]
    assert link.startswith(f"<{SITE_URL}/{language}/"), link
    assert link.strip("<>") in received.text
    assert link.strip("<>") in received.html
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"


# SpamAssassin.


@dataclass(frozen=True)
class Verdict:
    """What SpamAssassin says of a message: the rules that fired, with their points, and its
    own table of them, with their descriptions."""

    rules: dict[str, float]
    details: str

    @property
    def score(self) -> float:
        return round(sum(self.rules.values()), 3)

    @property
    def added(self) -> float:
        """The points rules added, leaving out those taken off: a message that came through a
        relay the receiver does not trust gets no discount."""
        return round(sum(points for points in self.rules.values() if points > 0), 3)

    def __str__(self) -> str:
        fired = ", ".join(f"{rule}={points:g}" for rule, points in sorted(self.rules.items()))
        return f"{self.score:g} ({fired})\n{self.details}"


def spamassassin(raw: bytes, home: Path) -> Verdict:
    """SpamAssassin's verdict on a message: local tests only (--local: no DNS, no network),
    no Bayes database (none is trained here, and it would learn from what it reads), in a home
    of its own."""
    executable = shutil.which("spamassassin")
    if executable is None:
        missing("SpamAssassin is not installed (make spamassassin)")
    completed = subprocess.run(
        [
            executable,
            "--local",
            "--test-mode",
            "--nocreate-prefs",
            "--cf=use_bayes 0",
            "--cf=add_header all Rules _TESTSSCORES(,)_",
        ],
        input=raw,
        capture_output=True,
        check=True,
        timeout=120,
        env={**os.environ, "HOME": str(home)},
    )
    output = completed.stdout.decode("utf-8", "replace")
    headers = output.split("\n\n", 1)[0]
    rules = re.search(r"^X-Spam-Rules: (.*(?:\n[ \t].*)*)", headers, re.MULTILINE)
    details = re.search(r"Content analysis details:.*?\n-+ -+ -+\n(?:.+\n)*", output, re.DOTALL)
    assert rules, f"SpamAssassin listed no rules:\n{output}"
    assert details, f"SpamAssassin wrote no report:\n{output}"
    fired = {}
    for item in filter(None, re.sub(r"\s+", "", rules[1]).split(",")):
        rule, _, points = item.partition("=")
        fired[rule] = float(points)
    return Verdict(fired, details[0])


@every_message
def test_spamassassin_scores_the_message_under_the_limit(
    receive, tmp_path: Path, kind: str, language: str
) -> None:
    verdict = spamassassin(receive(kind, language).raw, tmp_path)

    print(f"\n{kind} ({language}): {verdict}")
    assert verdict.score < LIMIT, f"{kind} ({language}) scores {verdict}"
    assert verdict.added < LIMIT, f"{kind} ({language}) scores {verdict}"


def test_spamassassin_sees_a_message_that_lacks_what_receivers_expect(
    receive, tmp_path: Path
) -> None:
    message = receive("confirmation", "fr").message
    del message["Date"]
    del message["Message-ID"]

    verdict = spamassassin(message.as_bytes(), tmp_path)

    assert {"MISSING_DATE", "MISSING_MID"} <= verdict.rules.keys(), str(verdict)
    assert verdict.score >= LIMIT
