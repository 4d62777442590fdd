from django import template

from petition.advocacy import letters
from petition.advocacy.forms import CirconscriptionForm
from petition.models import Signature

register = template.Library()


@register.inclusion_tag("advocacy/_write.html", takes_context=True)
def write_to_decision_makers(context: template.Context, signature: Signature, token: str) -> dict:
    """On a confirmed signer's pages: their département's députés, the circonscription they
    chose, and a message to open; for a signer abroad, the ministers and platforms."""
    found = letters.recipients(signature)
    form = context.get("circonscription_form") or CirconscriptionForm(recipients=found)
    return {
        "recipients": found,
        "form": form,
        "write_form": context.get("write_form"),
        "signature": signature,
        "token": token,
        "csrf_token": context.get("csrf_token"),
    }
