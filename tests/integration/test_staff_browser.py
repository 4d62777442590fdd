"""A staff member in a real browser, with a real passkey: Chromium's virtual authenticator,
driven through the DevTools protocol's WebAuthn domain, stands in for a phone's or laptop's
screen lock. Created with createsuperuser, the member signs in, is sent to enrol a second
factor, enrols a passkey, signs in again with it, and exports the signatures after a fresh
prompt; a second browser that knows only the password sees no signer's data."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from playwright.sync_api import CDPSession, Page, expect

from petition.models import Signature, StaffEvent

if TYPE_CHECKING:
    from .conftest import Tabs

pytestmark = pytest.mark.browser

PASSWORD = "a long staff passphrase 2026"


def virtual_authenticator(tab: Page) -> tuple[CDPSession, str]:
    """A platform authenticator (like a laptop's fingerprint reader) that says yes."""
    devtools = tab.context.new_cdp_session(tab)
    devtools.send("WebAuthn.enable")
    added = devtools.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )
    return devtools, added["authenticatorId"]


def sign_in_with_password(tab: Page, path: str) -> None:
    tab.goto(path)
    tab.locator("#id_login").fill("camille")
    tab.locator("#id_password").fill(PASSWORD)
    tab.locator("#login-form [type=submit]").click()


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_a_new_superuser_enrols_a_passkey_signs_in_with_it_and_exports_after_a_fresh_prompt(
    tabs: Tabs, monkeypatch, settings, add_signatures, lang: str
) -> None:
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", PASSWORD)
    call_command(
        "createsuperuser", interactive=False, username="camille", email="camille@example.org"
    )
    add_signatures(confirmed=3)
    emails = list(Signature.objects.values_list("email", flat=True))
    with translation.override(lang):
        admin_index = reverse("admin:index")
        signatures = reverse("admin:petition_signature_changelist")
        export = reverse("admin:petition_signature_export")
        enrol_notice = gettext("Enrol a second factor to reach the staff pages")
        add_passkey, add_it = gettext("Add a passkey"), gettext("Add the passkey")
        go_on = gettext("Go on to the staff pages")
        use_passkey = gettext("Use a passkey")
        confirm = gettext("Confirm it is you")
        download = gettext("Download")

    tab = tabs.open()
    devtools, authenticator = virtual_authenticator(tab)

    # First sign-in: the password alone leads only to enrolling a second factor.
    sign_in_with_password(tab, signatures)
    expect(tab.get_by_role("heading", name=enrol_notice)).to_be_visible()
    tab.goto(signatures)
    expect(tab.get_by_role("heading", name=enrol_notice)).to_be_visible()
    tab.get_by_role("link", name=add_passkey).first.click()
    tab.get_by_role("button", name=add_it).click()
    expect(tab.locator("#recovery_codes li")).to_have_count(10)
    credentials = devtools.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})
    assert len(credentials["credentials"]) == 1
    tab.get_by_role("link", name=go_on).click()
    expect(tab.locator("#user-tools")).to_be_visible()
    tab.locator("#logout-form button").click()

    # Second sign-in: the password, then the passkey.
    sign_in_with_password(tab, admin_index)
    tab.get_by_role("button", name=use_passkey).click()
    expect(tab.locator("#user-tools")).to_be_visible()
    assert tab.url.endswith(admin_index)

    # The export, once the passkey was last used longer ago than the setting: asked again. (Three
    # seconds stand for the ten minutes of production.)
    settings.STAFF_REAUTHENTICATION_SECONDS = 3
    time.sleep(3.2)
    tab.goto(export)
    expect(tab.get_by_role("heading", name=confirm)).to_be_visible()
    tab.get_by_role("button", name=use_passkey).click()
    expect(tab.get_by_role("button", name=download)).to_be_visible()
    settings.STAFF_REAUTHENTICATION_SECONDS = 600
    with tab.expect_download() as downloading:
        tab.get_by_role("button", name=download).click()
    exported = downloading.value.path().read_text(encoding="utf-8-sig")
    assert all(email in exported for email in emails)
    assert StaffEvent.objects.filter(kind=StaffEvent.Kind.REAUTHENTICATED).count() == 1

    # A second browser, with the password alone: no signer's data anywhere.
    thief = tabs.open()
    sign_in_with_password(thief, signatures)
    expect(thief.locator("#id_code")).to_be_visible()
    for path in (admin_index, signatures, export):
        thief.goto(path)
        # Back to the login's second step, still waiting for the passkey.
        expect(thief.locator("#id_code")).to_be_visible()
        expect(thief.locator(".passkey-error")).to_be_hidden()
        text = thief.content()
        assert not any(email in text for email in emails), path
