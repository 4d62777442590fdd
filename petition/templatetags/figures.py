from django import template

from petition import figures
from petition.models import Petition

register = template.Library()


@register.inclusion_tag("petition/_figures.html")
def petition_figures(petition: Petition) -> dict:
    """The figures section. A tag rather than view context, so that a cached page reads
    nothing for it."""
    return figures.page_context(petition)
