"""Accessibility in a real browser: axe-core finds no violation on any public page, in French
and English, error states included; every page reflows at 320 px; signing works with the
keyboard alone, with the focus always visible, and without JavaScript."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import Page, expect

from petition.models import Petition, Signature
from tests.conftest import links_in, totp_codes
from tests.integration.conftest import consent_label
from tests.integration.places import PLACES, visit

if TYPE_CHECKING:
    from .conftest import Tabs

pytestmark = pytest.mark.browser

LANGUAGES = ["fr", "en"]
NARROWEST = 320  # CSS pixels: WCAG 1.4.10 (reflow) and the smallest phones
# axe-core, as bundled by the package (no request leaves the machine for it).
AXE = Axe()


def violations_report(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"{violation['id']} ({violation['impact']}): {violation['help']}")
        lines.extend(
            f"    {node['target']}: {node['failureSummary']}" for node in violation["nodes"]
        )
    return "\n".join(lines)


@pytest.mark.parametrize("name", PLACES)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_axe_finds_no_violation_and_the_page_reflows_at_320_px(
    tabs: Tabs, settings, petition: Petition, signature: Signature, lang: str, name: str
) -> None:
    tab = tabs.open(error_statuses=(400, 404, 429))
    visit(tab, name, lang=lang, petition=petition, signature=signature, settings=settings)

    results = AXE.run(tab).response
    assert results["violations"] == [], violations_report(results["violations"])

    tab.set_viewport_size({"width": NARROWEST, "height": 640})
    width = tab.evaluate("document.documentElement.scrollWidth")
    assert width <= NARROWEST, f"{name} scrolls sideways at {NARROWEST} px: {width} px wide"


def test_form_errors_are_announced_and_lead_to_their_fields(tabs: Tabs, petition: Petition):
    tab = tabs.open(error_statuses=(400,))
    with translation.override("en"):
        tab.goto(reverse("home"))
        tab.get_by_label(gettext("E-mail address"), exact=True).fill("camille@")
        tab.get_by_role("button", name=gettext("Sign"), exact=True).click()

        summary = tab.locator("#form-errors")
        expect(summary).to_be_focused()
        expect(summary).to_have_attribute("role", "alert")
        summary.get_by_role("link", name=re.compile(f"^{gettext('E-mail address')}")).click()
        email = tab.get_by_label(gettext("E-mail address"), exact=True)
        expect(email).to_be_focused()
        expect(email).to_have_attribute("aria-invalid", "true")
        # The message itself is part of the field's description, read with it.
        described_by = email.get_attribute("aria-describedby").split()
        messages = [tab.locator(f"#{ident}").inner_text() for ident in described_by]
        assert any("valid" in message for message in messages), messages


FOCUS = """() => {
    const element = document.activeElement;
    const style = getComputedStyle(element);
    const box = element.getBoundingClientRect();
    return {
        id: element.id,
        tag: element.tagName.toLowerCase(),
        type: element.type || "",
        outline: style.outlineStyle === "none" ? 0 : parseFloat(style.outlineWidth),
        inView: box.bottom > 0 && box.top < innerHeight && box.right > 0 && box.left < innerWidth,
    };
}"""


def tab_to(tab: Page, wanted: Callable[[dict], bool], *, most: int = 80) -> dict:
    """Press Tab until the focus is on what is wanted, checking on the way that every element
    that takes the focus shows it: an outline of 2 px at least, on the screen."""
    for _ in range(most):
        tab.keyboard.press("Tab")
        focus = tab.evaluate(FOCUS)
        assert focus["outline"] >= 2, f"no visible focus on {focus}"
        assert focus["inView"], f"the focus is off screen: {focus}"
        if wanted(focus):
            return focus
    pytest.fail(f"Tab never reached the element after {most} presses", pytrace=False)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_signing_with_the_keyboard_alone(
    tabs: Tabs, petition: Petition, mailoutbox, lang: str
) -> None:
    tab = tabs.open()
    # Scrolling to the focus then happens at once, not smoothly: it can be checked at once.
    tab.emulate_media(reduced_motion="reduce")
    with translation.override(lang):
        tab.goto(reverse("home"))
        for field, typed in [
            ("id_first_name", "Claude"),
            ("id_last_name", "Moreau"),
            ("id_email", "claude.moreau@example.org"),
            ("id_postal_code", "69003"),
        ]:
            tab_to(tab, lambda focus, field=field: focus["id"] == field)
            tab.keyboard.type(typed)
        tab_to(tab, lambda focus: focus["id"] == "id_consent")
        tab.keyboard.press("Space")
        tab_to(tab, lambda focus: focus["id"] == "id_wants_news")
        tab.keyboard.press("Space")
        tab_to(tab, lambda focus: focus["tag"] == "button" and focus["type"] == "submit")
        tab.keyboard.press("Enter")

        expect(tab.get_by_role("heading", level=1)).to_have_text(gettext("Check your inbox"))
    signature = Signature.objects.get()
    assert (signature.first_name, signature.country, signature.wants_news) == (
        "Claude",
        "FR",
        True,
    )
    assert signature.language == lang
    assert len(mailoutbox) == 1


@pytest.mark.parametrize("lang", LANGUAGES)
def test_signing_and_confirming_work_without_javascript(
    tabs: Tabs, petition: Petition, site_url_is_live_server: str, mailoutbox, lang: str
) -> None:
    tab = tabs.open(javascript=False)
    with translation.override(lang):
        tab.goto(reverse("home"))
        tab.get_by_label(gettext("First name"), exact=True).fill("Claude")
        tab.get_by_label(gettext("Last name"), exact=True).fill("Moreau")
        tab.get_by_label(gettext("E-mail address"), exact=True).fill("claude.moreau@example.org")
        tab.get_by_label(gettext("Postal code"), exact=True).fill("69003")
        tab.get_by_label(consent_label()).check()
        tab.get_by_role("button", name=gettext("Sign"), exact=True).click()
        expect(tab.get_by_role("heading", level=1)).to_have_text(gettext("Check your inbox"))

        tab.goto(links_in(mailoutbox[-1])["confirm"])
        tab.get_by_role("button", name=gettext("Confirm my signature")).click()

        expect(tab.get_by_role("heading", level=1)).to_have_text(
            gettext("Thank you, your signature is confirmed!")
        )
        code = Signature.objects.get().referral_code
        expect(tab.locator(".share__url")).to_have_text(
            f"{site_url_is_live_server}{reverse('home')}?ref={code}"
        )


@pytest.mark.parametrize("lang", LANGUAGES)
def test_axe_finds_no_violation_on_the_staffs_sign_in_and_own_pages(
    tabs: Tabs, django_user_model, lang: str
) -> None:
    """The login, its second step, enrolling a first factor, the recovery codes, a passkey,
    the sessions and confirming it is you, as a new member of staff meets them."""
    django_user_model.objects.create_user("newcomer", "newcomer@example.org", "pw", is_staff=True)
    tab = tabs.open(error_statuses=(400,))
    checked: dict[str, list[dict]] = {}

    def check(name: str) -> None:
        checked[name] = AXE.run(tab).response["violations"]

    with translation.override(lang):
        tab.goto(reverse("account_login"))
        check("login")
        tab.locator("#id_login").fill("newcomer")
        tab.locator("#id_password").fill("pw")
        tab.locator("#login-form [type=submit]").click()
        expect(tab.get_by_role("heading", level=1)).to_have_text(gettext("Second factors"))
        check("enrol a first factor")
        tab.goto(reverse("mfa_activate_totp"))
        check("authenticator app")
        secret = tab.locator("#totp-secret").inner_text()
        tab.locator("#id_code").fill(totp_codes(secret)[0])
        tab.locator("#id_code").press("Enter")
        expect(tab.locator("#recovery_codes li")).to_have_count(10)
        check("recovery codes")
        tab.goto(reverse("mfa_add_webauthn"))
        check("add a passkey")
        tab.goto(reverse("staff_sessions"))
        check("sessions")
        tab.goto(reverse("mfa_reauthenticate"))
        check("confirm it is you")
        tab.locator("#logout-form button").click()
        tab.locator("#id_login").fill("newcomer")
        tab.locator("#id_password").fill("pw")
        tab.locator("#login-form [type=submit]").click()
        expect(tab.locator("#id_code")).to_be_visible()
        check("second step")

    problems = {name: violations_report(found) for name, found in checked.items() if found}
    assert problems == {}, "\n".join(f"{name}:\n{report}" for name, report in problems.items())
