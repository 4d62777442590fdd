"""Sharing, in a real browser: share links to each network, copy and the system share sheet,
a signer's personal link counting the people who sign through it, the live counter, and a
home page that stays light and asks nothing of any other site."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext
from playwright.sync_api import Page, expect

from petition.models import Petition, Signature
from petition.sharing import share_text
from petition.templatetags.typography import typeset
from tests.conftest import links_in
from tests.integration.conftest import consent_label

if TYPE_CHECKING:
    from django.core.mail import EmailMessage

    from .conftest import Tabs

pytestmark = pytest.mark.browser

LANGUAGES = ["fr", "en"]
HOME_PAGE_BUDGET = 150_000  # bytes, everything the first visit to the home page transfers
# Where each network's share page lives, and which of its parameters carry the address.
NETWORKS = {
    "x": ("x.com", "/intent/post", "url"),
    "facebook": ("www.facebook.com", "/sharer/sharer.php", "u"),
    "whatsapp": ("wa.me", "/", "text"),
    "linkedin": ("www.linkedin.com", "/sharing/share-offsite/", "url"),
    "telegram": ("t.me", "/share/url", "url"),
    "bluesky": ("bsky.app", "/intent/compose", "text"),
}


def label(text: str) -> re.Pattern[str]:
    return re.compile(rf"^\s*{re.escape(text)}\s*$")


def share_box_links(tab: Page) -> dict[str, str]:
    links = tab.locator("[data-share] a[data-network]")
    return {
        links.nth(i).get_attribute("data-network"): links.nth(i).get_attribute("href")
        for i in range(links.count())
    }


def fill_the_form(tab: Page, *, first_name: str, email: str) -> None:
    """Signs on the page the tab shows, in the active language."""
    tab.get_by_label(label(gettext("First name"))).fill(first_name)
    tab.get_by_label(label(gettext("Last name"))).fill("Moreau")
    tab.get_by_label(label(gettext("E-mail address"))).fill(email)
    tab.get_by_label(label(gettext("Postal code"))).fill("69003")
    tab.get_by_label(consent_label()).check()
    tab.get_by_role("button", name=gettext("Sign"), exact=True).click()
    expect(tab.get_by_role("heading", level=1)).to_have_text(gettext("Check your inbox"))


def confirm_from_email(tab: Page, message: EmailMessage) -> None:
    tab.goto(links_in(message)["confirm"])
    tab.get_by_role("button", name=gettext("Confirm my signature")).click()
    expect(tab.get_by_role("heading", level=1)).to_have_text(
        gettext("Thank you, your signature is confirmed!")
    )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_home_page_offers_a_share_link_to_each_network(
    tabs: Tabs, petition: Petition, site_url_is_live_server: str, lang: str
) -> None:
    tab = tabs.open()
    with translation.override(lang):
        tab.goto(reverse("home"))
        home_url = site_url_is_live_server + reverse("home")
        text = share_text(typeset(petition.title), signed=False)

        links = share_box_links(tab)

        assert set(links) == {*NETWORKS, "email"}
        for network, (host, path, carrier) in NETWORKS.items():
            address = urlsplit(links[network])
            assert (address.scheme, address.netloc, address.path) == ("https", host, path)
            shared = parse_qs(address.query)[carrier][0]
            assert home_url in shared, network
        x = parse_qs(urlsplit(links["x"]).query)
        assert x["text"] == [text]
        assert "#LePartage" in text
        email = urlsplit(links["email"])
        assert email.scheme == "mailto"
        assert parse_qs(email.query)["body"][0] == f"{text}\r\n\r\n{home_url}"
        assert parse_qs(email.query)["subject"][0] == typeset(petition.title)
        # Links to a network open beside the page and tell the site nothing.
        facebook = tab.locator("[data-share] a[data-network=facebook]")
        expect(facebook).to_have_attribute("target", "_blank")
        expect(facebook).to_have_attribute("rel", "noopener noreferrer")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_copy_button_puts_the_address_on_the_clipboard(
    tabs: Tabs, live_server, petition: Petition, site_url_is_live_server: str, lang: str
) -> None:
    tab = tabs.open()
    tab.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=live_server.url)
    with translation.override(lang):
        tab.goto(reverse("home"))
        tab.get_by_role("button", name=gettext("Copy the link")).click()

        status = tab.locator("[data-share] [role=status]")
        expect(status).to_have_text(gettext("The link is copied: paste it wherever you like."))
        copied = tab.evaluate("navigator.clipboard.readText()")
        assert copied == site_url_is_live_server + reverse("home")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_system_share_sheet_is_offered_where_the_browser_has_one(
    tabs: Tabs, petition: Petition, site_url_is_live_server: str, lang: str
) -> None:
    plain = tabs.open()
    with_sheet = tabs.open()
    # The Web Share API of a phone, standing in for the sheet headless Chromium lacks.
    with_sheet.add_init_script(
        "navigator.share = (data) => { window.sharedData = data; return Promise.resolve(); };"
    )
    with translation.override(lang):
        plain.goto(reverse("home"))
        with_sheet.goto(reverse("home"))
        button_name = gettext("More ways to share")

        if not plain.evaluate("'share' in navigator"):
            expect(plain.get_by_role("button", name=button_name)).to_be_hidden()
        with_sheet.get_by_role("button", name=button_name).click()

        shared = with_sheet.evaluate("window.sharedData")
        assert shared == {
            "title": typeset(petition.title),
            "text": share_text(typeset(petition.title), signed=False),
            "url": site_url_is_live_server + reverse("home"),
        }


@pytest.mark.parametrize("lang", LANGUAGES)
def test_without_javascript_the_share_links_remain_and_the_buttons_stay_hidden(
    tabs: Tabs, petition: Petition, lang: str
) -> None:
    tab = tabs.open(javascript=False)
    with translation.override(lang):
        tab.goto(reverse("home"))

        assert set(share_box_links(tab)) == {*NETWORKS, "email"}
        expect(tab.get_by_role("link", name=re.compile("^Facebook"))).to_be_visible()
        expect(tab.get_by_role("button", name=gettext("Copy the link"))).to_be_hidden()
        expect(tab.get_by_role("button", name=gettext("More ways to share"))).to_be_hidden()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_people_who_sign_through_a_personal_link_count_for_its_owner_once_confirmed(
    tabs: Tabs, petition: Petition, site_url_is_live_server: str, mailoutbox, lang: str
) -> None:
    owner_tab = tabs.open()
    friend_tab = tabs.open()
    referred = tabs.open()
    with translation.override(lang):
        owner_tab.goto(reverse("home"))
        fill_the_form(owner_tab, first_name="Claude", email="claude@example.org")
        confirm_from_email(owner_tab, mailoutbox[-1])
        owner = Signature.objects.get(email="claude@example.org")
        personal_link = f"{site_url_is_live_server}{reverse('home')}?ref={owner.referral_code}"
        expect(owner_tab.locator(".share__url")).to_have_text(personal_link)
        expect(owner_tab.locator(".share__referred")).to_have_text(
            gettext(
                "Nobody has signed through your link yet: "
                "share it to be the first to bring someone along."
            )
        )
        whatsapp = parse_qs(urlsplit(share_box_links(owner_tab)["whatsapp"]).query)["text"][0]
        assert whatsapp.endswith(f" {personal_link}")
        assert share_text(typeset(petition.title), signed=True) in whatsapp
        owner_tab.locator(".share__privacy a").click()
        expect(owner_tab.get_by_role("heading", level=1)).to_have_text(gettext("Your sharing page"))

        friend_tab.goto(personal_link)
        fill_the_form(friend_tab, first_name="Dominique", email="dominique@example.org")
        friend = Signature.objects.get(email="dominique@example.org")
        assert friend.referred_by == owner
        owner_tab.reload()
        expect(owner_tab.locator(".share__referred")).to_have_text(
            gettext(
                "Nobody has signed through your link yet: "
                "share it to be the first to bring someone along."
            )
        )

        confirm_from_email(friend_tab, mailoutbox[-1])
        owner_tab.reload()
        expect(owner_tab.locator(".share__referred")).to_have_text(
            ngettext(
                "%(counter)s person has signed through your link. Thank you!",
                "%(counter)s people have signed through your link. Thank you!",
                1,
            )
            % {"counter": 1}
        )
        # The friend has a link of their own; nothing in it leads back to the owner.
        friend.refresh_from_db()
        friend_link = friend_tab.locator(".share__url").inner_text()
        assert friend.referral_code in friend_link
        assert owner.referral_code not in friend_link

        referred.goto(f"{reverse('home')}?ref=not-a-code-of-anyone")
        fill_the_form(referred, first_name="Sacha", email="sacha@example.org")
        assert Signature.objects.get(email="sacha@example.org").referred_by is None


@pytest.mark.parametrize("lang", LANGUAGES)
def test_home_page_counter_moves_when_someone_else_confirms(
    tabs: Tabs, petition: Petition, add_signatures, lang: str
) -> None:
    tab = tabs.open()
    tab.clock.install()
    with translation.override(lang):
        tab.goto(reverse("home"))
    count = tab.locator("[data-counter-count]")
    expect(count).to_have_text("0")

    add_signatures(confirmed=1)
    # The counter polls the API on a timer: bring its polls forward.
    tab.clock.fast_forward("01:05")

    expect(count).to_have_text("1")
    expect(tab.locator("progress.counter__bar")).to_have_js_property("value", 1)
    expect(tab.locator("[data-counter-status]")).to_contain_text("1")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_home_page_first_visit_stays_light_and_local(
    tabs: Tabs, petition: Petition, lang: str
) -> None:
    tab = tabs.open()
    loaded: list[tuple[str, int]] = []

    def on_finished(request) -> None:
        sizes = request.sizes()
        loaded.append((request.url, sizes["responseHeadersSize"] + sizes["responseBodySize"]))

    tab.on("requestfinished", on_finished)
    with translation.override(lang):
        tab.goto(reverse("home"), wait_until="networkidle")

    total = sum(size for _url, size in loaded)
    kinds = {urlsplit(url).path.rsplit(".", 1)[-1] for url, _size in loaded}
    assert {"css", "js"} <= kinds, loaded
    assert total < HOME_PAGE_BUDGET, sorted(loaded, key=lambda item: -item[1])
    assert {urlsplit(url).netloc for url, _size in loaded} == {tabs.host}
