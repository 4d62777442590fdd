"""What the public page of decision-makers shows: who was asked, who answered and what, their
position, and per député the confirmed signers of their circonscription where it is known."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Prefetch, Q

from ..models import Petition, PetitionFigures
from .models import Target, TargetResponse
from .places import AREAS


@dataclass
class Row:
    target: Target
    response: TargetResponse | None
    # Confirmed signers of the circonscription, when known and at least FIGURES_MIN_BUCKET.
    signers: int | None

    @property
    def position(self) -> str:
        return self.response.position if self.response else ""


@dataclass
class Area:
    code: str
    name: str
    rows: list[Row] = field(default_factory=list)

    @property
    def answered(self) -> int:
        return sum(1 for row in self.rows if row.response)


@dataclass
class TargetsPage:
    others: list[Row]
    areas: list[Area]
    responses: list[TargetResponse]
    asked: int
    answered: int
    supports: int
    opposes: int
    min_bucket: int
    has_circonscription_figures: bool


def targets_page(petition: Petition) -> TargetsPage:
    """The page's content, from three queries: targets, their published responses, figures."""
    published = TargetResponse.objects.filter(published_at__isnull=False).order_by(
        "-received_on", "-pk"
    )
    targets = (
        Target.objects.filter(petition=petition)
        # A député who left office stays on the page if they answered.
        .filter(Q(retired_at__isnull=True) | Q(responses__published_at__isnull=False))
        .distinct()
        .prefetch_related(Prefetch("responses", queryset=published, to_attr="published"))
        .order_by("departement", "circonscription", "name")
    )
    figures = PetitionFigures.objects.filter(petition=petition).first()
    by_seat = {
        (area, number): count
        for area, number, count in (figures.by_circonscription if figures else [])
    }
    others: list[Row] = []
    areas: dict[str, Area] = {}
    responses: list[TargetResponse] = []
    for target in targets:
        response = target.published[0] if target.published else None
        responses += target.published
        if target.role != Target.Role.DEPUTY:
            others.append(Row(target, response, None))
            continue
        area = areas.setdefault(
            target.departement, Area(target.departement, AREAS.get(target.departement, ""))
        )
        signers = by_seat.get((target.departement, target.circonscription))
        area.rows.append(Row(target, response, signers))
    others.sort(key=lambda row: (row.target.role, row.target.name))
    rows = others + [row for area in areas.values() for row in area.rows]
    positions = [row.position for row in rows if row.response]
    return TargetsPage(
        others=others,
        areas=list(areas.values()),
        responses=sorted(responses, key=lambda r: (r.received_on, r.pk), reverse=True),
        asked=len([row for row in rows if not row.target.is_retired]),
        answered=len(positions),
        supports=positions.count(TargetResponse.Position.SUPPORTS),
        opposes=positions.count(TargetResponse.Position.OPPOSES),
        min_bucket=settings.FIGURES_MIN_BUCKET,
        has_circonscription_figures=bool(by_seat),
    )
