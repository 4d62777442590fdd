"""Sharing a petition: the addresses people share, their pre-filled texts, and share links.

Share links are plain links to each network's own share page. No button, script, pixel or font
of theirs is ever loaded by the site: nothing reaches a network until a visitor chooses to go
there.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote, urlencode

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext

from .models import Petition
from .templatetags.typography import typeset

# The query parameter of a signer's personal link: /fr/?ref=<code>.
REFERRAL_PARAMETER = "ref"
HASHTAG = "#LePartage"


@dataclass(frozen=True)
class ShareLink:
    network: str
    name: str
    href: str
    # Links to a network open a new window, so that the page (often the thank-you page, the
    # answer to a POST) stays where it was; e-mail opens the mail program instead.
    new_window: bool = True


@dataclass(frozen=True)
class Share:
    """What a share box offers: the address, its texts, and a link per network."""

    url: str
    title: str
    text: str
    links: list[ShareLink]


def petition_url(petition: Petition, *, referral_code: str = "") -> str:
    """The absolute address of the petition in the active language, with a signer's referral
    code if given. The campaign's own petition is shared as the home page: a shorter link."""
    if petition.slug == settings.HOME_PETITION_SLUG:
        path = reverse("home")
    else:
        path = petition.get_absolute_url()
    url = f"{settings.SITE_URL}{path}"
    if referral_code:
        url += "?" + urlencode({REFERRAL_PARAMETER: referral_code})
    return url


def share_text(title: str, *, signed: bool) -> str:
    """The message pre-filled in each network's share page, in the active language."""
    values = {"title": title, "hashtag": HASHTAG}
    if signed:
        return (
            gettext(
                "I have just signed the CAMELEON manifesto: %(title)s Sign it too and share it! "
                "%(hashtag)s"
            )
            % values
        )
    return gettext("%(title)s Sign the CAMELEON manifesto and share it! %(hashtag)s") % values


def _query(**parameters: str) -> str:
    # %20 rather than +: mailto: (RFC 6068) and several networks read + as a plus sign.
    return urlencode(parameters, quote_via=quote)


def share_links(*, url: str, title: str, text: str) -> list[ShareLink]:
    """A link to each network's share page, pre-filled with text and url."""
    with_url = f"{text} {url}"
    return [
        ShareLink("x", "X", "https://x.com/intent/post?" + _query(text=text, url=url)),
        ShareLink(
            "facebook", "Facebook", "https://www.facebook.com/sharer/sharer.php?" + _query(u=url)
        ),
        ShareLink("whatsapp", "WhatsApp", "https://wa.me/?" + _query(text=with_url)),
        ShareLink(
            "linkedin",
            "LinkedIn",
            "https://www.linkedin.com/sharing/share-offsite/?" + _query(url=url),
        ),
        ShareLink("telegram", "Telegram", "https://t.me/share/url?" + _query(url=url, text=text)),
        ShareLink("bluesky", "Bluesky", "https://bsky.app/intent/compose?" + _query(text=with_url)),
        ShareLink(
            "email",
            gettext("E-mail"),
            "mailto:?" + _query(subject=title, body=f"{text}\r\n\r\n{url}"),
            new_window=False,
        ),
    ]


def share(petition: Petition, *, referral_code: str = "", signed: bool = False) -> Share:
    """The share box of a petition, in the active language: its address, or a signer's
    personal link when referral_code is given."""
    url = petition_url(petition, referral_code=referral_code)
    title = typeset(petition.title)
    text = share_text(title, signed=signed)
    links = share_links(url=url, title=title, text=text)
    return Share(url=url, title=title, text=text, links=links)
