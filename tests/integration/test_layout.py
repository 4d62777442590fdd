"""Every public page as seen on a small phone, a common phone and a desktop, in French and English:
nothing wider than the screen, no text cut off, the signing button (and every page's own button)
reachable without zooming, and long words in headings hyphenated rather than cut anywhere.

A full-page screenshot of each page, width and language is saved under test-results/layout/,
for a person to look at after a run.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from django.utils import translation
from django.utils.translation import gettext

from petition.models import Petition, Signature
from tests.integration.places import PLACES, visit

if TYPE_CHECKING:
    from playwright.sync_api import Page

    from .conftest import Tabs

pytestmark = pytest.mark.browser

LANGUAGES = ["fr", "en"]
# CSS pixels: the narrowest phones (and WCAG's reflow width), a common phone, a laptop.
SCREENS = {320: 568, 390: 844, 1280: 800}
TARGET_SIZE = 44  # CSS pixels, both ways: WCAG 2.5.5, target size
SCREENSHOTS = Path(__file__).resolve().parents[2] / "test-results" / "layout"
SIGNING_PLACES = {"home", "petition", "form with errors"}

# The checks run in the page: see layout.js.
LAYOUT_PROBLEMS = Path(__file__).with_name("layout.js").read_text()


def screenshot_path(name: str, lang: str, width: int) -> Path:
    """test-results/layout/<page>-<lang>-<width>px.png: a page's screenshots sort together."""
    return SCREENSHOTS / f"{re.sub(r'[^a-z0-9]+', '-', name)}-{lang}-{width:04d}px.png"


def button_problems(tab: Page, *, signing: bool, lang: str) -> list[str]:
    """The buttons that do what a page is for (sign, confirm, unsubscribe…), each brought into
    view as a visitor scrolls to it: visible, whole on the screen, and big enough for a finger.
    signing: the page has the signing form, whose button must be there."""
    problems = []
    if signing:
        with translation.override(lang):
            sign = tab.locator("form.sign-form").get_by_role("button", name=gettext("Sign"))
        if sign.count() != 1:
            problems.append(f"{sign.count()} signing buttons in the signing form")
    screen = tab.viewport_size
    for button in tab.locator("main [type=submit]").all():
        name = button.inner_text()
        button.scroll_into_view_if_needed()
        box = button.bounding_box()
        if box is None or not button.is_visible():
            problems.append(f"the {name!r} button is not visible")
            continue
        # Positions are fractional: a button scrolled to may end a fraction of a pixel past the
        # bottom edge.
        if box["x"] < 0 or box["x"] + box["width"] > screen["width"] + 1:
            problems.append(f"the {name!r} button is not whole on the screen: {box}")
        if box["y"] < -1 or box["y"] + box["height"] > screen["height"] + 1:
            problems.append(f"the {name!r} button is not in view once scrolled to: {box}")
        if box["width"] < TARGET_SIZE or box["height"] < TARGET_SIZE:
            problems.append(f"the {name!r} button is smaller than {TARGET_SIZE} px: {box}")
    return problems


@pytest.mark.parametrize("name", PLACES)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_page_fits_phones_and_desktops(
    tabs: Tabs, settings, petition: Petition, signature: Signature, lang: str, name: str
) -> None:
    first, *_ = SCREENS
    tab = tabs.open(width=first, height=SCREENS[first], error_statuses=(400, 404, 429))
    # Scrolling happens at once rather than smoothly, so that a position can be read at once.
    tab.emulate_media(reduced_motion="reduce")
    visit(tab, name, lang=lang, petition=petition, signature=signature, settings=settings)

    problems = []
    for width, height in SCREENS.items():
        tab.set_viewport_size({"width": width, "height": height})
        found = tab.evaluate(LAYOUT_PROBLEMS)
        found += button_problems(tab, signing=name in SIGNING_PLACES, lang=lang)
        problems += [f"{width} px: {problem}" for problem in found]
        tab.evaluate("window.scrollTo(0, 0)")
        tab.screenshot(path=screenshot_path(name, lang, width), full_page=True)

    if problems:
        pytest.fail(f"{name} ({lang}):\n" + "\n".join(problems), pytrace=False)
