"""End to end in a real browser: a citizen signs, confirms from the e-mail that arrived over
SMTP, sees the count move, and stops the campaign's e-mails; the language switcher works."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import get_language_info, gettext
from playwright.sync_api import Page, expect

from petition.models import Petition, Signature
from tests.conftest import MANIFESTO_SLUG
from tests.integration.conftest import consent_label

if TYPE_CHECKING:
    from pytest_django.live_server_helper import LiveServer

    from .conftest import CeleryProcess, CounterApi, Mailbox

pytestmark = pytest.mark.browser


def label(text: str) -> re.Pattern[str]:
    """A form label as rendered: the text, then Django's suffix (":" or, in French, " :")."""
    return re.compile(rf"^\s*{re.escape(text)}\s*:?\s*$")


def link_prefix(live_server: LiveServer, view: str) -> str:
    """The start of the absolute address of a token view, in the active language."""
    return live_server.url + reverse(view, args=["TOKEN"]).removesuffix("TOKEN/")


@pytest.mark.services
@pytest.mark.parametrize("language", ["fr", "en"])
def test_citizen_signs_confirms_and_unsubscribes(
    page: Page,
    live_server: LiveServer,
    petition: Petition,
    worker: CeleryProcess,
    mailbox: Mailbox,
    counter_api: CounterApi,
    language: str,
) -> None:
    address = f"claude.moreau.{language}@example.org"
    heading = page.get_by_role("heading", level=1)
    count_shown = page.locator("[data-counter-count]")
    # The page's timers run on a clock this test can move forward (see the counter below).
    page.clock.install()
    with translation.override(language):
        page.goto(reverse("home"))
        expect(page.locator("html")).to_have_attribute("lang", language)

        page.get_by_label(label(gettext("First name"))).fill("Claude")
        page.get_by_label(label(gettext("Last name"))).fill("Moreau")
        page.get_by_label(label(gettext("E-mail address"))).fill(address)
        page.get_by_label(label(gettext("Country"))).select_option("FR")
        page.get_by_label(label(gettext("Postal code"))).fill("69003")
        page.get_by_label(consent_label()).check()
        page.get_by_label(
            gettext("I would like to receive news of the campaign from CAMELEON.")
        ).check()
        page.get_by_role("button", name=gettext("Sign"), exact=True).click()
        expect(heading).to_have_text(gettext("Check your inbox"))

        received = mailbox.wait_for(address)
        confirm_url = received.link(link_prefix(live_server, "confirm"))
        unsubscribe_url = received.link(link_prefix(live_server, "unsubscribe"))

        page.goto(confirm_url)
        expect(heading).to_have_text(gettext("Confirm your signature"))
        assert not Signature.objects.for_email(address).get().is_confirmed
        page.get_by_role("button", name=gettext("Confirm my signature")).click()
        expect(heading).to_have_text(gettext("Thank you, your signature is confirmed!"))

        counter_api.wait_for_count(1)
        # The thank-you page's counter polls the API on a timer: bring its next poll forward.
        page.clock.fast_forward("01:00")
        expect(count_shown).to_have_text("1")
        page.goto(reverse("home"))
        expect(count_shown).to_have_text("1")

        page.goto(unsubscribe_url)
        expect(heading).to_have_text(gettext("Stop e-mails from the campaign"))
        page.get_by_role("button", name=gettext("Unsubscribe")).click()
        expect(heading).to_have_text(gettext("You are unsubscribed"))

    signature = Signature.objects.for_email(address).get()
    assert signature.language == language
    assert signature.wants_news
    assert signature.is_confirmed
    assert signature.unsubscribed_at is not None
    assert counter_api.read()["signature_count"] == 1, "unsubscribing must not uncount"


@pytest.mark.parametrize(("language", "other"), [("fr", "en"), ("en", "fr")])
@pytest.mark.parametrize("view", ["home", "check_inbox", "privacy"])
def test_language_switcher_keeps_the_page(
    page: Page, live_server: LiveServer, petition: Petition, language: str, other: str, view: str
) -> None:
    args = [MANIFESTO_SLUG] if view == "check_inbox" else []
    with translation.override(language):
        here = reverse(view, args=args)
    with translation.override(other):
        there = reverse(view, args=args)
    page.goto(here)

    page.get_by_role("button", name=get_language_info(other)["name_local"]).click()

    expect(page).to_have_url(live_server.url + there)
    expect(page.locator("html")).to_have_attribute("lang", other)
