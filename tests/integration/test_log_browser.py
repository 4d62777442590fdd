"""The signer's check of the public log, in a real browser: the page's script verifies the
proof and the head's signature itself, and says so when the site's answer does not hold up."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import TYPE_CHECKING

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext
from playwright.sync_api import Page, expect

from petition import log, services
from petition.models import Petition, Signature, SignatureLog, TreeHead
from tests.conftest import confirmed_signatures

if TYPE_CHECKING:
    from pytest_django.live_server_helper import LiveServer

    from .conftest import Tabs

pytestmark = pytest.mark.browser


def confirmed_with_receipt(petition: Petition, number: int) -> str:
    confirmed_signatures(petition, number)
    signature = Signature.objects.create(
        petition=petition, first_name="Lou", last_name="Fontaine", email="lou@example.org"
    )
    services.confirm(signature=signature)
    log.append_all(petition.pk)
    # One head a period: when this period's is signed already (the live server signs one as
    # the log page is shown, and may have shown it to the end of the previous test), the
    # receipt enters the next period's head, signed here ahead of its time.
    next_period = timezone.now() + timedelta(seconds=settings.LOG_HEAD_PERIOD_SECONDS)
    head = log.sign_head(petition) or log.sign_head(petition, now=next_period)
    assert head is not None
    assert head.size == SignatureLog.objects.get(petition=petition).size
    return signature.receipt


def template_pattern(message: str) -> re.Pattern[str]:
    """A message with {placeholders}, as a pattern for the sentence the script fills in."""
    parts = re.split(r"\{\w+\}", message)
    return re.compile(".+".join(re.escape(part) for part in parts))


@pytest.mark.parametrize("language", ["fr", "en"])
def test_the_browser_checks_a_receipt_itself(
    page: Page, live_server: LiveServer, petition: Petition, language: str
) -> None:
    receipt = confirmed_with_receipt(petition, 300)
    with translation.override(language):
        page.goto(live_server.url + reverse("log", args=[petition.slug]))
        page.get_by_label(gettext("Your receipt")).fill(receipt)
        with page.expect_response(re.compile(r"/log/inclusion/")) as answer:
            page.get_by_role("button", name=gettext("Check my signature")).click()
        counted = gettext(
            "Your signature is counted. It is entry {index} of the log as signed on {time} "
            "(UTC), which counts {count} signatures. Your browser checked the proof and the "
            "log's signature itself (key {fingerprint})."
        )
        expect(page.locator("[data-log-result]")).to_have_text(template_pattern(counted))
    assert answer.value.ok
    # The answer came from the script: the page itself did not change.
    assert "receipt=" not in page.url


def test_the_browser_refuses_a_head_whose_signature_does_not_hold(
    page: Page, live_server: LiveServer, petition: Petition
) -> None:
    receipt = confirmed_with_receipt(petition, 40)
    head = log.latest_head(petition)
    TreeHead.objects.filter(pk=head.pk).update(count=head.count + 1000)  # unsigned change

    page.goto(live_server.url + reverse("log", args=[petition.slug]))
    page.get_by_label(gettext("Your receipt")).fill(receipt)
    page.get_by_role("button", name=gettext("Check my signature")).click()

    mismatch = gettext(
        "The site's answer does not prove that your signature is counted: the proof or the "
        "log's signature is wrong. Please tell us, and keep your receipt."
    )
    expect(page.locator("[data-log-result]")).to_have_text(mismatch)


def test_an_unknown_receipt_is_told_so_in_the_page(tabs: Tabs, petition: Petition) -> None:
    confirmed_with_receipt(petition, 10)
    # The API's answer for a receipt it does not hold.
    page = tabs.open(error_statuses=(404,), erring_fetches=("/api/",))
    page.goto(reverse("log", args=[petition.slug]))
    page.get_by_label(gettext("Your receipt")).fill("A" * 22)
    page.get_by_role("button", name=gettext("Check my signature")).click()

    expect(page.locator("[data-log-result]")).to_have_text(
        gettext(
            "No counted signature has this receipt in the latest signed head. A signature "
            "confirmed in the last minutes enters the next one."
        )
    )
