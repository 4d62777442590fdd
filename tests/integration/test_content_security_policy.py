"""The Content-Security-Policy in a real browser: no page, public or staff, breaks it (the browser
reports no violation), the scripts still work under it (the live counter, the share buttons, the
admin's own), the e-mail preview shows the e-mail styled, and another site may show the
embeddable counter in its page, but no other page of the site."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import ConsoleMessage, Page, expect

from petition.models import Petition, Signature
from petition.templatetags.typography import hyphenate, typeset
from petition.tokens import make_confirmation_token, make_sharing_token, make_unsubscribe_token
from tests.conftest import MANIFESTO_SLUG, totp_codes, totp_secret

if TYPE_CHECKING:
    from playwright.sync_api import Browser
    from pytest_django.live_server_helper import LiveServer

    from .conftest import Tabs

pytestmark = pytest.mark.browser

LANGUAGES = ["fr", "en"]


def watch_policy(tab: Page) -> list[str]:
    """What the browser says about the tab's policies, its frames included: violations of the
    Content-Security-Policy (errors), features of the Permissions-Policy it does not know
    (warnings)."""
    reports: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text or "Permissions-Policy" in message.text:
            reports.append(f"{tab.url}: {message.text}")

    tab.on("console", on_console)
    return reports


def partner_page(tab: Page, live_server: LiveServer, framed: str) -> str:
    """The address of another site's page, answered by the test, that frames the site's page at
    `framed`. That site is this machine under another name (127.0.0.1, the site being on
    localhost), allowed to reach this machine as sites on the Internet reach ours."""
    partner = f"http://127.0.0.1:{urlsplit(live_server.url).port}"
    tab.context.grant_permissions(["local-network-access"], origin=partner)
    body = (
        '<!doctype html><html lang="en"><title>Partner</title>'
        f'<iframe src="{live_server.url}{framed}" title="CAMELEON" width="360" height="190">'
        "</iframe></html>"
    )
    tab.route(f"{partner}/", lambda route: route.fulfill(content_type="text/html", body=body))
    return f"{partner}/"


def log_in(tab: Page, path: str) -> None:
    """Open an admin page as pytest-django's admin_user, through the login page: the password,
    then a code of the authenticator app enrolled for it."""
    secret = totp_secret(get_user_model().objects.get(username="admin"))
    tab.goto(path)
    tab.locator("#id_login").fill("admin")
    tab.locator("#id_password").fill("password")
    tab.locator("#login-form [type=submit]").click()
    tab.locator("#id_code").fill(totp_codes(secret)[0])
    tab.locator("#code-form [type=submit]").click()
    expect(tab.locator("#user-tools")).to_be_visible()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_no_public_page_breaks_the_policy(
    tabs: Tabs, petition: Petition, signature: Signature, lang: str
) -> None:
    # The embeddable counter: see test_another_site_may_show_the_live_counter_in_its_page.
    tab = tabs.open(error_statuses=(404,))
    violations = watch_policy(tab)
    heading = tab.get_by_role("heading", level=1)
    with translation.override(lang):
        title = hyphenate(typeset(petition.title))
        pages = [
            (reverse("home"), title),
            (reverse("petition", args=[MANIFESTO_SLUG]), title),
            (reverse("check_inbox", args=[MANIFESTO_SLUG]), gettext("Check your inbox")),
            (reverse("privacy"), gettext("Privacy notice")),
            (reverse("legal"), gettext("Legal notice")),
            (
                reverse("unsubscribe", args=[make_unsubscribe_token(signature)]),
                gettext("Stop e-mails from the campaign"),
            ),
            (f"{reverse('home')}no-such-page/", gettext("Page not found")),
            (reverse("targets", args=[MANIFESTO_SLUG]), gettext("Who was asked, who answered")),
            (reverse("news", args=[MANIFESTO_SLUG]), gettext("News of the campaign")),
            (
                reverse("confirm", args=[make_confirmation_token(signature)]),
                gettext("Confirm your signature"),
            ),
        ]
        for path, expected in pages:
            tab.goto(path)
            expect(heading).to_have_text(expected)
        tab.get_by_role("button", name=gettext("Confirm my signature")).click()
        expect(heading).to_have_text(gettext("Thank you, your signature is confirmed!"))
        tab.goto(reverse("sharing", args=[make_sharing_token(signature)]))
        expect(heading).to_have_text(gettext("Your sharing page"))
        # The signer (in Paris) chooses a circonscription and opens the message to its député.
        tab.locator("#write input[type=radio]").first.check()
        tab.get_by_role("button", name=gettext("This is my circonscription")).click()
        tab.locator("#write .write__form button").click()
        expect(heading).to_contain_text(gettext("Your message to %(name)s") % {"name": ""})

    assert violations == []


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_live_counter_and_the_share_buttons_work_under_the_policy(
    tabs: Tabs, live_server: LiveServer, petition: Petition, add_signatures, lang: str
) -> None:
    tab = tabs.open()
    tab.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    violations = watch_policy(tab)
    tab.clock.install()
    with translation.override(lang):
        tab.goto(reverse("home"))

        tab.get_by_role("button", name=gettext("Copy the link")).click()
        expect(tab.locator("[data-share] [role=status]")).to_have_text(
            gettext("The link is copied: paste it wherever you like.")
        )
    add_signatures(confirmed=1)
    # The counter polls the API on a timer: bring its polls forward.
    tab.clock.fast_forward("01:05")
    expect(tab.locator("[data-counter-count]")).to_have_text("1")

    assert violations == []


def test_another_site_may_show_the_live_counter_in_its_page(
    tabs: Tabs, live_server: LiveServer, petition: Petition, add_signatures
) -> None:
    tab = tabs.open()
    violations = watch_policy(tab)
    partner = partner_page(tab, live_server, reverse("embed", args=[MANIFESTO_SLUG]))
    tab.clock.install()
    tab.goto(partner)
    counter = tab.frame_locator("iframe").locator("[data-counter-count]")
    expect(counter).to_have_text("0")

    add_signatures(confirmed=1)
    tab.clock.fast_forward("01:05")

    expect(counter).to_have_text("1")
    assert violations == []


def test_another_site_may_not_frame_any_other_page(
    browser: Browser, live_server: LiveServer, petition: Petition
) -> None:
    # A tab of its own: the refusal is a console error, which the watched tabs count as a fault.
    context = browser.new_context()
    tab = context.new_page()
    partner = partner_page(tab, live_server, reverse("home"))
    try:
        with tab.expect_console_message(lambda message: "frame-ancestors" in message.text):
            tab.goto(partner)
        expect(tab.frame_locator("iframe").get_by_role("heading", level=1)).to_have_count(0)
    finally:
        context.close()


def test_no_admin_page_breaks_the_policy_and_the_admin_scripts_work(
    tabs: Tabs, admin_paths: dict[str, str]
) -> None:
    tab = tabs.open()
    violations = watch_policy(tab)
    log_in(tab, admin_paths["index"])
    for name, path in admin_paths.items():
        response = tab.goto(path)
        assert response.status == 200, name
        expect(tab.locator("#content"), name).to_be_visible()

    # Two of the admin's scripts: the actions' "select all" box, and the sidebar's filter.
    tab.goto(admin_paths["signatures"])
    tab.locator("#action-toggle").check()
    expect(tab.locator(".action-counter")).to_contain_text(re.compile(r"^4\D+4\b"))
    tab.goto(admin_paths["petition"])
    tab.locator("#nav-filter").fill("signat")
    expect(tab.locator("#nav-sidebar tr.model-petition")).to_be_hidden()
    expect(tab.locator("#nav-sidebar tr.model-signature")).to_be_visible()

    assert violations == []


def test_the_update_preview_shows_the_email_with_its_own_styles(
    tabs: Tabs, admin_paths: dict[str, str]
) -> None:
    tab = tabs.open()
    violations = watch_policy(tab)
    log_in(tab, admin_paths["preview"])

    for index, text in enumerate(["Le manifeste avance.", "The manifesto moves on."]):
        body = tab.frame_locator("iframe.email-preview").nth(index).locator("body")
        expect(body).to_contain_text(text)
        # The e-mail's inline style (its background) applies inside the frame.
        expect(body).to_have_css("background-color", "rgb(244, 241, 238)")
    # The frame's own size comes from the admin's style sheet.
    expect(tab.locator("iframe.email-preview").first).to_have_css("height", "520px")
    assert violations == []
