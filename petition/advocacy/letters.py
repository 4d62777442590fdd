"""Whom a signer can write to, and the message the site prepares for them.

The message is in French, whatever the page's language: it goes to French decision-makers. It
opens in the signer's own mail program (a mailto: link) and is shown to copy: the site never
sends mail in a citizen's name.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

from django.template.loader import render_to_string
from django.utils import formats, translation

from ..models import Signature
from ..sharing import petition_url
from ..templatetags.typography import french
from .models import ChosenCirconscription, Target
from .places import area_name, area_of_postal_code, is_monaco


@dataclass(frozen=True)
class Letter:
    target: Target
    subject: str
    body: str

    @property
    def mailto(self) -> str:
        # %20 for spaces (mail programs read + as a plus sign), %0D%0A for line breaks: RFC 6068.
        body = self.body.replace("\r\n", "\n").replace("\n", "\r\n")
        query = f"subject={quote(self.subject, safe='')}&body={quote(body, safe='')}"
        return f"mailto:{quote(self.target.email, safe='@')}?{query}"


@dataclass
class Recipients:
    """What a signer is offered: their département's députés and the circonscription they
    chose, or, for a signer abroad or whose postal code places them nowhere, the ministers and
    platforms."""

    # "deputies", "abroad", "monaco" or "unplaced".
    situation: str
    area: str = ""
    deputies: list[Target] = field(default_factory=list)
    deputy: Target | None = None
    others: list[Target] = field(default_factory=list)

    @property
    def area_name(self) -> str:
        return area_name(self.area) if self.area else ""

    @property
    def must_choose(self) -> bool:
        return len(self.deputies) > 1

    def allowed(self) -> list[Target]:
        """Whom this signer may open a message to."""
        return [*self.deputies, *self.others]


def recipients(signature: Signature) -> Recipients:
    """Whom the signer of `signature` can write to."""
    targets = Target.objects.active().filter(petition_id=signature.petition_id)
    others = list(targets.written_to_from_abroad())
    if signature.country != "FR":
        return Recipients("abroad", others=others)
    area = area_of_postal_code(signature.postal_code)
    if area is None:
        situation = "monaco" if is_monaco(signature.postal_code) else "unplaced"
        return Recipients(situation, others=others)
    deputies = [deputy for deputy in targets.of_area(area) if deputy.email]
    if not deputies:
        return Recipients("unplaced", area=area, others=others)
    chosen = ChosenCirconscription.objects.filter(signature=signature, departement=area).first()
    deputy = None
    if len(deputies) == 1:
        deputy = deputies[0]
    elif chosen is not None:
        deputy = next((d for d in deputies if d.circonscription == chosen.number), None)
    return Recipients("deputies", area=area, deputies=deputies, deputy=deputy, others=others)


def salutation(target: Target) -> str:
    """How a French letter to them opens: "Madame la Députée", "Monsieur le Ministre"…"""
    titles = {
        Target.Role.DEPUTY: ("Madame la Députée", "Monsieur le Député"),
        Target.Role.SENATOR: ("Madame la Sénatrice", "Monsieur le Sénateur"),
        Target.Role.MINISTER: ("Madame la Ministre", "Monsieur le Ministre"),
    }
    if target.role in titles and target.civility:
        madame, monsieur = titles[target.role]
        return madame if target.civility == Target.Civility.MADAME else monsieur
    return "Madame, Monsieur"


def compose(*, signature: Signature, target: Target) -> Letter:
    """The message from this signer to this decision-maker, in French."""
    petition = signature.petition
    with translation.override("fr"):
        others = max(0, petition.signature_count - 1)
        context = {
            "signature": signature,
            "target": target,
            "salutation": salutation(target),
            "title": petition.title_fr or petition.title,
            "others": formats.number_format(others, force_grouping=True) if others else "",
            "url": petition_url(petition),
        }
        subject = " ".join(render_to_string("advocacy/letter_subject.txt", context).split())
        body = render_to_string("advocacy/letter_body.txt", context).strip()
    # No-break spaces before : ! ? and inside « », as French letters have them.
    subject, body = french(subject), french(body)
    return Letter(target=target, subject=subject, body=body)
