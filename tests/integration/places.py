"""Every public page, and how a visitor's browser reaches it: shared by the browser tests that go
over them all (accessibility, layout)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from playwright.sync_api import Page, Response, expect

from petition.models import (
    Petition,
    PetitionFigures,
    Signature,
    Switches,
    Target,
    TargetResponse,
    Update,
)
from petition.templatetags.typography import hyphenate, typeset
from petition.tokens import (
    make_confirmation_token,
    make_sharing_token,
    make_unsubscribe_token,
    make_withdrawal_token,
)
from tests.conftest import MANIFESTO_SLUG

Reach = Callable[[Page, Signature], None]


@dataclass(frozen=True)
class Place:
    """A public page, how to reach it, and the heading that proves it was reached.

    prepare: what the site's state must be first (a switch turned, the petition closed);
    settings: the settings to change for it, with pytest-django's settings fixture.
    """

    reach: Reach
    # A msgid; None for the petition's own title; or the heading itself, made once reached.
    heading: str | Callable[[], str] | None
    status: int = 200
    prepare: Callable[[Petition], None] | None = None
    settings: dict[str, str] = field(default_factory=dict)


def go(path: str) -> Reach:
    return lambda tab, signature: tab.goto(path)


def press(path: str, button: str) -> Reach:
    def reach(tab: Page, signature: Signature) -> None:
        tab.goto(path)
        tab.locator("main").get_by_role("button", name=gettext(button)).click()

    return reach


def with_token(view: str, make: Callable[[Signature], str], button: str | None = None) -> Reach:
    def reach(tab: Page, signature: Signature) -> None:
        path = reverse(view, args=[make(signature)])
        (press(path, button) if button else go(path))(tab, signature)

    return reach


def confirmed(make: Callable[[Signature], str]) -> Callable[[Signature], str]:
    def make_confirmed(signature: Signature) -> str:
        signature.mark_confirmed()
        return make(signature)

    return make_confirmed


def write_to_the_first_circonscription(tab: Page, signature: Signature) -> None:
    """From the signer's page (in Paris, where the signer chooses among 18), choose the 1st
    circonscription, then open the message to its député."""
    signature.mark_confirmed()
    tab.goto(reverse("sharing", args=[make_sharing_token(signature)]))
    tab.locator("#write input[type=radio]").first.check()
    tab.get_by_role("button", name=gettext("This is my circonscription")).click()
    tab.locator("#write .write__form button").click()


def message_heading() -> str:
    deputy = Target.objects.get(departement="75", circonscription=1)
    return gettext("Your message to %(name)s") % {"name": deputy.full_name}


def answers_and_news(petition: Petition) -> None:
    """Answers of each kind, a député who left, signers per circonscription, milestones and
    news: everything the two public pages of the campaign's outcome can show."""
    now = timezone.now()
    for circonscription, position in enumerate(["supports", "opposes", "undecided"], start=1):
        target = Target.objects.get(departement="69", circonscription=circonscription)
        TargetResponse.objects.create(
            target=target,
            position=position,
            text="Je soutiens les propositions du manifeste.\n\nJe les défendrai.",
            url="https://example.org/reponse",
            published_at=now,
        )
    Target.objects.filter(departement="69", circonscription=1).update(retired_at=now)
    Target.objects.filter(departement="69", circonscription=4).update(asked_on=now.date())
    Target.objects.create(
        petition=petition,
        role="minister",
        civility="Mme",
        name="Anne Ministre",
        organisation="Ministère du Numérique",
        email="ministre@numerique.gouv.fr",
    )
    PetitionFigures.objects.update_or_create(
        petition=petition,
        defaults={"per_day": [[now.date().isoformat(), 12]], "by_circonscription": [["69", 2, 12]]},
    )
    Update.objects.create(
        petition=petition,
        subject_fr="Les signatures sont remises",
        subject_en="The signatures are delivered",
        body_fr="Merci à toutes et à tous.\n\nLa suite : https://example.org/suite",
        body_en="Thank you all.\n\nWhat comes next: https://example.org/next",
        published_at=now,
    )
    petition.goal = 10
    petition.delivered_on = now.date()
    petition.delivered_to_fr = "la ministre du Numérique"
    petition.delivered_to_en = "the Minister for Digital Affairs"
    petition.outcome = "victory"
    petition.outcome_on = now.date()
    petition.outcome_text_fr = "La loi reprend les quatre propositions."
    petition.outcome_text_en = "The law takes up the four proposals."
    petition.is_open = False
    petition.save()


def pause_signing(petition: Petition) -> None:
    Switches(signing_paused=True).save()


def close(petition: Petition) -> None:
    petition.is_open = False
    petition.save()


def places() -> dict[str, Place]:
    """Every public page, in the active language."""
    home = reverse("home")
    check_inbox = reverse("check_inbox", args=[MANIFESTO_SLUG])
    return {
        "home": Place(go(home), None),
        "petition": Place(go(reverse("petition", args=[MANIFESTO_SLUG])), None),
        "form with errors": Place(press(home, "Sign"), None, 400),
        "signing paused": Place(go(home), None, prepare=pause_signing),
        "closed petition": Place(go(home), None, prepare=close),
        "check your inbox": Place(go(check_inbox), "Check your inbox"),
        "e-mail sent again": Place(press(check_inbox, "Send the e-mail again"), "Check your inbox"),
        "confirm": Place(with_token("confirm", make_confirmation_token), "Confirm your signature"),
        "thank you": Place(
            with_token("confirm", make_confirmation_token, "Confirm my signature"),
            "Thank you, your signature is confirmed!",
        ),
        "sharing page": Place(
            with_token("sharing", confirmed(make_sharing_token)), "Your sharing page"
        ),
        "unsubscribe": Place(
            with_token("unsubscribe", make_unsubscribe_token), "Stop e-mails from the campaign"
        ),
        "unsubscribed": Place(
            with_token("unsubscribe", make_unsubscribe_token, "Unsubscribe"),
            "You are unsubscribed",
        ),
        "withdraw": Place(with_token("withdraw", make_withdrawal_token), "Withdraw my signature"),
        "withdrawn": Place(
            with_token("withdraw", make_withdrawal_token, "Withdraw my signature"),
            "Your signature is withdrawn",
        ),
        "invalid link": Place(
            go(reverse("confirm", args=["altered-token"])), "This link does not work", 400
        ),
        "sharing page with the receipt": Place(
            with_token("sharing", confirmed(lambda s: make_sharing_token(s, s.receipt))),
            "Your sharing page",
        ),
        "public log": Place(go(reverse("log", args=[MANIFESTO_SLUG])), "A count anyone can check"),
        "public log, no receipt typed": Place(
            press(reverse("log", args=[MANIFESTO_SLUG]), "Check my signature"),
            "A count anyone can check",
            400,
        ),
        "privacy notice": Place(go(reverse("privacy")), "Privacy notice"),
        "legal notice": Place(go(reverse("legal")), "Legal notice"),
        "page not found": Place(go(f"{home}no-such-page/"), "Page not found", 404),
        # Asking for the e-mail again is refused at once: the way to the 429 page.
        "too many attempts": Place(
            press(check_inbox, "Send the e-mail again"),
            "Too many attempts",
            429,
            settings={"RESEND_RATE_PER_IP": "0/h"},
        ),
        "embed": Place(go(reverse("embed", args=[MANIFESTO_SLUG])), None),
        "circonscription refused": Place(
            lambda tab, signature: press(
                reverse("sharing", args=[confirmed(make_sharing_token)(signature)]),
                "This is my circonscription",
            )(tab, signature),
            "Your sharing page",
            400,
        ),
        "message to a député": Place(write_to_the_first_circonscription, message_heading),
        "decision-makers": Place(
            go(reverse("targets", args=[MANIFESTO_SLUG])), "Who was asked, who answered"
        ),
        "decision-makers with answers": Place(
            go(reverse("targets", args=[MANIFESTO_SLUG])),
            "Who was asked, who answered",
            prepare=answers_and_news,
        ),
        "news": Place(go(reverse("news", args=[MANIFESTO_SLUG])), "News of the campaign"),
        "news with milestones": Place(
            go(reverse("news", args=[MANIFESTO_SLUG])),
            "News of the campaign",
            prepare=answers_and_news,
        ),
    }


# The names of places(), for parametrize: the list is read before any language is active.
PLACES = [
    "home",
    "petition",
    "form with errors",
    "signing paused",
    "closed petition",
    "check your inbox",
    "e-mail sent again",
    "confirm",
    "thank you",
    "sharing page",
    "sharing page with the receipt",
    "public log",
    "public log, no receipt typed",
    "unsubscribe",
    "unsubscribed",
    "withdraw",
    "withdrawn",
    "invalid link",
    "privacy notice",
    "legal notice",
    "page not found",
    "too many attempts",
    "embed",
    "circonscription refused",
    "message to a député",
    "decision-makers",
    "decision-makers with answers",
    "news",
    "news with milestones",
]


def visit(
    tab: Page, name: str, *, lang: str, petition: Petition, signature: Signature, settings
) -> str:
    """Bring the site into the place's state, open the place in tab, and check that it was
    reached: its heading, its HTTP status and its language. Returns the place's heading."""
    signature.language = lang
    signature.save()
    answers: list[Response] = []
    tab.on(
        "response",
        lambda response: response.request.is_navigation_request() and answers.append(response),
    )
    with translation.override(lang):
        place = places()[name]
        for setting, value in place.settings.items():
            setattr(settings, setting, value)
        if place.prepare is not None:
            place.prepare(petition)
        place.reach(tab, signature)
        if place.heading is None:
            heading = hyphenate(typeset(petition.title))
        elif callable(place.heading):
            heading = place.heading()
        else:
            heading = gettext(place.heading)

    expect(tab.get_by_role("heading", level=1)).to_have_text(heading)
    # A button's click returns before the next page has its stylesheet: wait for it.
    tab.wait_for_load_state()
    assert answers[-1].status == place.status
    expect(tab.locator("html")).to_have_attribute("lang", lang)
    return heading
