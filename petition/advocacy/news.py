"""The campaign's public news: the updates staff made public, and its milestones (goal reached,
signatures delivered, outcome), newest first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext

from ..models import Outcome, Petition, PetitionFigures, Update


@dataclass(frozen=True)
class Entry:
    day: date
    # "update", "goal", "delivered", "victory" or "outcome".
    kind: str
    title: str
    body: str = ""


def goal_reached_on(petition: Petition, per_day: list[list]) -> date | None:
    """The day the confirmed signatures reached the goal staff set, from the daily figures."""
    total = 0
    for day, count in per_day:
        total += count
        if total >= petition.goal:
            return date.fromisoformat(day)
    return None


def entries(petition: Petition) -> list[Entry]:
    """Everything the news page lists, newest first; on the same day, milestones after news."""
    found: list[Entry] = []
    for update in Update.objects.filter(petition=petition, published_at__isnull=False):
        found.append(
            Entry(timezone.localdate(update.published_at), "update", update.subject, update.body)
        )
    figures = PetitionFigures.objects.filter(petition=petition).only("per_day").first()
    reached = goal_reached_on(petition, figures.per_day) if figures else None
    if reached is not None:
        goal = number_format(petition.goal, force_grouping=True)
        title = gettext("The goal of %(goal)s signatures is reached") % {"goal": goal}
        found.append(Entry(reached, "goal", title))
    if petition.delivered_on:
        title = gettext("The signatures were delivered to %(whom)s") % {
            "whom": petition.delivered_to
        }
        found.append(Entry(petition.delivered_on, "delivered", title))
    if petition.outcome and petition.outcome_on:
        if petition.outcome == Outcome.VICTORY:
            title = gettext("Victory!")
        else:
            title = gettext("What came of the campaign")
        found.append(Entry(petition.outcome_on, petition.outcome, title, petition.outcome_text))
    order = {"update": 0, "goal": 1, "delivered": 2, "victory": 3, "other": 3}
    return sorted(found, key=lambda entry: (entry.day, order[entry.kind]), reverse=True)
