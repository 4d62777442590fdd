"""The dossier staff hand to a député: a PDF in French with the manifesto and its proposals, the
count in the député's circonscription and in France, the signatures per day as a chart, and the
signers of that circonscription in the "for officials" form (names, postal code, date: no
address to write to anyone).

Made with ReportLab rather than WeasyPrint: a dossier for every député is some 20,000 pages at a
million signatures, and ReportLab lays out a long table page by page in a fraction of the time,
from Python alone, where WeasyPrint lays out a whole HTML document at once and needs Pango from
the system. The font (DejaVu Sans, which has the accents and most alphabets signers' names are
written in) ships in fonts/, beside this module; nothing is fetched.

Signers of a circonscription are those who chose it, and, where a département elects a single
député, every signer of that département: the same rule as the public figures.
"""

from __future__ import annotations

import functools
import io
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import reduce
from operator import or_
from pathlib import Path
from typing import BinaryIO
from xml.sax.saxutils import escape

from django.conf import settings
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import formats, timezone, translation

from ..models import Petition, PetitionFigures, Signature, Source
from ..templatetags.typography import french
from .figures import _postal_prefixes, single_seat_areas
from .models import DossierRun, Target

FONTS = Path(__file__).resolve().parent / "fonts"
FONT, BOLD = "DejaVuSans", "DejaVuSans-Bold"
# Days shown in the chart: the last ones, one bar each.
CHART_DAYS = 90
# The list of signers: a line each, in columns (points from the left margin).
ROW_HEIGHT = 11.5
COLUMNS = (0, 175, 315, 390)


@functools.cache
def _register_fonts() -> None:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    pdfmetrics.registerFont(TTFont(FONT, str(FONTS / "DejaVuSans.ttf")))
    pdfmetrics.registerFont(TTFont(BOLD, str(FONTS / "DejaVuSans-Bold.ttf")))


@dataclass(frozen=True)
class Campaign:
    """What every député's dossier shares: read once for a whole run."""

    petition: Petition
    title: str
    introduction: str
    proposals: list[str]
    per_day: list[list]
    in_france: int
    single_seats: dict[str, int]
    made_on: date

    @classmethod
    def of(cls, petition: Petition) -> Campaign:
        with translation.override("fr"):
            figures = PetitionFigures.objects.filter(petition=petition).first()
            return cls(
                petition=petition,
                title=petition.title_fr or petition.title,
                introduction=petition.introduction_fr or petition.introduction,
                proposals=[p.text_fr or p.text for p in petition.proposals.all()],
                per_day=figures.per_day if figures else [],
                in_france=Signature.objects.counted()
                .filter(petition=petition, country="FR")
                .count(),
                single_seats=single_seat_areas(petition),
                made_on=timezone.localdate(),
            )


def signers(campaign: Campaign, deputy: Target) -> QuerySet[Signature]:
    """The counted signatures of the député's circonscription, by name."""
    counted = Signature.objects.counted().filter(petition=campaign.petition)
    seat = Q(
        chosen_circonscription__departement=deputy.departement,
        chosen_circonscription__number=deputy.circonscription,
    )
    if campaign.single_seats.get(deputy.departement) == deputy.circonscription:
        prefixes = _postal_prefixes(deputy.departement)
        placed = reduce(or_, (Q(postal_code__startswith=prefix) for prefix in prefixes))
        seat |= Q(country="FR", chosen_circonscription__isnull=True) & placed
    return counted.filter(seat).order_by("last_name", "first_name", "pk")


def signer_lines(campaign: Campaign, deputy: Target) -> tuple[list[tuple[str, ...]], int]:
    """The dossier's list of signers (name, first name, postal code, date), and how many of
    them signed on paper: those are marked, with the day they were collected."""
    rows = signers(campaign, deputy).values_list(
        "first_name", "last_name", "postal_code", "confirmed_at", "source", "created_at"
    )
    lines = []
    on_paper = 0
    with translation.override("fr"):
        for first, last, postal, at, source, signed in rows:
            if source == Source.PAPER:
                on_paper += 1
                lines.append((last[:48], first[:40], postal, f"papier, {_day(signed)}"))
            else:
                lines.append((last[:48], first[:40], postal, _day(at)))
    return lines, on_paper


def deputies(petition: Petition, *, departement: str = "", email: str = "") -> QuerySet[Target]:
    found = Target.objects.active().deputies().filter(petition=petition)
    if departement:
        found = found.filter(departement=departement)
    if email:
        found = found.filter(email__iexact=email)
    return found.order_by("departement", "circonscription")


def file_name(deputy: Target) -> str:
    """ "69-07-abdelkader-lahmar.pdf": sorted by seat in a ZIP."""
    from django.utils.text import slugify

    return f"{deputy.departement}-{deputy.circonscription:02d}-{slugify(deputy.name)}.pdf"


def write_pdf(campaign: Campaign, deputy: Target, out: BinaryIO) -> int:
    """Write the député's dossier to `out`; returns how many signers it lists."""

    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.lib.utils import simpleSplit  # noqa: F401  (keeps the import cost here)
    from reportlab.platypus import (
        KeepTogether,
        ListFlowable,
        ListItem,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
    )

    _register_fonts()
    body = ParagraphStyle("body", fontName=FONT, fontSize=10, leading=14, spaceAfter=6)
    small = ParagraphStyle("small", parent=body, fontSize=8, leading=10, textColor=colors.grey)
    heading = ParagraphStyle("h1", parent=body, fontName=BOLD, fontSize=18, leading=22)
    subheading = ParagraphStyle("h2", parent=body, fontName=BOLD, fontSize=13, leading=17)
    figure = ParagraphStyle("figure", parent=body, fontName=BOLD, fontSize=14, leading=18)

    def text(value: str, style: ParagraphStyle = body) -> Paragraph:
        # French typography: no-break spaces before : ! ? and inside « », curly apostrophes.
        typeset = french(value).replace("'", "\u2019")
        return Paragraph(escape(typeset).replace("\n", "<br/>"), style)

    table, on_paper = signer_lines(campaign, deputy)
    count = len(table)
    with translation.override("fr"):
        story = [
            text(f"Manifeste CAMELEON « {campaign.title} »", heading),
            text(f"Dossier remis à {deputy.full_name}, député·e ({deputy.seat()})", subheading),
            text(
                f"Groupe : {deputy.organisation}. Établi le "
                f"{formats.date_format(campaign.made_on, 'DATE_FORMAT')}.",
                small,
            ),
            Spacer(1, 4 * mm),
            text(f"{_number(count)} signataires dans votre circonscription", figure),
            text(f"{_number(campaign.in_france)} signataires en France", figure),
            text(
                "Les signatures comptées ont été confirmées par leur auteur, par un lien reçu "
                "par e-mail. Un signataire est compté dans une circonscription s'il l'a choisie "
                "pour écrire à son député·e, ou si son département n'élit qu'un·e député·e.",
                small,
            ),
            *(
                [
                    text(
                        f"Dont {_number(on_paper)} signée{'s' if on_paper > 1 else ''} sur "
                        "papier lors d'événements de la campagne, saisie"
                        f"{'s' if on_paper > 1 else ''} par l'équipe de CAMELEON et marquée"
                        f"{'s' if on_paper > 1 else ''} « papier » dans la liste, à la date de "
                        "leur collecte.",
                        small,
                    )
                ]
                if on_paper
                else []
            ),
            Spacer(1, 4 * mm),
            text("Le manifeste", subheading),
            *[text(paragraph) for paragraph in campaign.introduction.split("\n\n") if paragraph],
            ListFlowable(
                [ListItem(text(proposal)) for proposal in campaign.proposals],
                bulletType="1",
                bulletFontName=BOLD,
            ),
        ]
        chart = _chart(campaign.per_day)
        if chart is not None:
            story += [
                KeepTogether(
                    [
                        text("Signatures confirmées par jour, en France et ailleurs", subheading),
                        chart,
                    ]
                )
            ]
        story += [PageBreak(), text("Les signataires de votre circonscription", subheading)]
        story.append(
            text(
                "Nom, code postal et date de confirmation : aucune adresse pour écrire à qui "
                "que ce soit.",
                small,
            )
        )
        header = ("Nom", "Prénom", "Code postal", "Confirmée le")
        if table:
            story.append(SignerRows(header, table))
        if not count:
            story.append(text("Aucun signataire n'est encore connu dans cette circonscription."))

    def footer(canvas: object, document: object) -> None:
        canvas.saveState()
        canvas.setFont(FONT, 7.5)
        canvas.drawString(18 * mm, 10 * mm, f"CAMELEON — {deputy.full_name} — page {document.page}")
        canvas.restoreState()

    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=f"Manifeste CAMELEON — {deputy.full_name}",
        author="CAMELEON",
        lang="fr",
    )
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return count


@functools.cache
def _signer_rows_class() -> type:
    from reportlab.lib import colors
    from reportlab.platypus import Flowable

    class SignerRows(Flowable):
        """The signers as lines of text in four columns, cut into pages as they come: a
        table would lay out every cell of a long list before splitting it, and at a million
        signatures that is most of a dossier's time."""

        def __init__(self, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> None:
            super().__init__()
            self.header, self.rows = header, rows

        def wrap(self, available_width: float, available_height: float) -> tuple[float, float]:
            self.width = available_width
            self.height = ROW_HEIGHT * (len(self.rows) + 1)
            return self.width, self.height

        def split(self, available_width: float, available_height: float) -> list:
            fit = int(available_height // ROW_HEIGHT) - 1
            if fit >= len(self.rows):
                return [self]
            if fit < 1:
                return []
            return [
                SignerRows(self.header, self.rows[:fit]),
                SignerRows(self.header, self.rows[fit:]),
            ]

        def draw(self) -> None:
            canvas = self.canv
            top = self.height - ROW_HEIGHT
            canvas.setFont(BOLD, 8.5)
            for x, label in zip(COLUMNS, self.header, strict=True):
                canvas.drawString(x + 2, top + 3, label)
            canvas.setLineWidth(0.6)
            canvas.line(0, top, self.width, top)
            canvas.setFillColor(colors.HexColor("#f3f3f3"))
            for index in range(1, len(self.rows), 2):
                y = top - (index + 1) * ROW_HEIGHT
                canvas.rect(0, y, self.width, ROW_HEIGHT, stroke=0, fill=1)
            canvas.setFillColor(colors.black)
            # One text object per column and page: a text object per cell costs more than its
            # text.
            for column, x in enumerate(COLUMNS):
                text = canvas.beginText(x + 2, top - ROW_HEIGHT + 3)
                text.setFont(FONT, 8.5, leading=ROW_HEIGHT)
                text.textLines([row[column] for row in self.rows], trim=0)
                canvas.drawText(text)

    return SignerRows


def SignerRows(header: tuple[str, ...], rows: list[tuple[str, ...]]) -> object:
    return _signer_rows_class()(header, rows)


def _day(moment: object) -> str:
    return formats.date_format(timezone.localtime(moment), "SHORT_DATE_FORMAT")


def _number(value: int) -> str:
    return formats.number_format(value, force_grouping=True)


def _chart(per_day: list[list]) -> object | None:
    """A bar chart of the last CHART_DAYS days with confirmations, drawn in the PDF itself."""
    from reportlab.graphics.shapes import Drawing, Line, Rect, String
    from reportlab.lib import colors
    from reportlab.lib.units import mm

    days = per_day[-CHART_DAYS:]
    if not days:
        return None
    width, height, left, bottom = 170 * mm, 60 * mm, 14 * mm, 8 * mm
    top = max(count for _day, count in days) or 1
    drawing = Drawing(width, height + bottom + 4)
    bar = min((width - left) / len(days), 8 * mm)
    drawing.add(Line(left, bottom, width, bottom, strokeColor=colors.black, strokeWidth=0.5))
    for index, (_day, count) in enumerate(days):
        bar_height = height * count / top
        drawing.add(
            Rect(
                left + index * bar + bar * 0.1,
                bottom,
                bar * 0.8,
                bar_height,
                fillColor=colors.HexColor("#9e0b3b"),
                strokeColor=None,
            )
        )
    number = formats.number_format(top, force_grouping=True)
    drawing.add(String(0, bottom + height - 6, number, fontName=FONT, fontSize=7))
    drawing.add(String(0, bottom - 1, "0", fontName=FONT, fontSize=7))
    first, last = date.fromisoformat(days[0][0]), date.fromisoformat(days[-1][0])
    first_label = formats.date_format(first, "SHORT_DATE_FORMAT")
    drawing.add(String(left, 0, first_label, fontName=FONT, fontSize=7))
    drawing.add(
        String(
            width,
            0,
            formats.date_format(last, "SHORT_DATE_FORMAT"),
            fontName=FONT,
            fontSize=7,
            textAnchor="end",
        )
    )
    return drawing


def write_zip(campaign: Campaign, targets: Iterable[Target], out: BinaryIO) -> Iterator[Target]:
    """One PDF per député into a ZIP written to `out` as it goes: a PDF at a time is held in
    memory, whatever the number of députés. Yields each député once their PDF is in."""
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:
        for deputy in targets:
            buffer = io.BytesIO()
            write_pdf(campaign, deputy, buffer)
            with translation.override("fr"):
                archive.writestr(file_name(deputy), buffer.getvalue())
            yield deputy


def dossier_root() -> Path:
    """Where the admin's dossiers are kept until staff download them: never served."""
    return Path(settings.DOSSIER_ROOT)


def run_path(run: DossierRun) -> Path:
    return dossier_root() / f"dossiers-{run.pk}.zip"


def start_run(*, petition: Petition, departement: str, user: object) -> DossierRun:
    """Order the dossiers of a département's députés, or all of them: Celery makes them."""
    from ..queueing import after_commit

    with transaction.atomic():
        run = DossierRun.objects.create(
            petition=petition,
            departement=departement,
            requested_by=user,
            total=deputies(petition, departement=departement).count(),
        )
        after_commit("petition.tasks.make_dossiers", run.pk)
    return run


def make_run(*, run_id: int) -> None:
    """Write a run's ZIP, to a scratch file first so that a download never gets half a file."""
    run = DossierRun.objects.select_related("petition").filter(pk=run_id).first()
    if run is None or run.finished_at is not None:
        return
    targets = deputies(run.petition, departement=run.departement)
    campaign = Campaign.of(run.petition)
    path = run_path(run)
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(".part")
    DossierRun.objects.filter(pk=run.pk).update(done=0, total=targets.count())
    with scratch.open("wb") as out:
        for done, _deputy in enumerate(write_zip(campaign, targets.iterator(), out), 1):
            DossierRun.objects.filter(pk=run.pk).update(done=done)
    scratch.replace(path)
    DossierRun.objects.filter(pk=run.pk).update(finished_at=timezone.now())


def delete_stale_runs() -> int:
    """Delete the runs made more than DOSSIER_KEEP_DAYS ago, with their files: they name
    signers, and were made to be handed over, not kept (the privacy notice says so)."""
    cutoff = timezone.now() - timedelta(days=settings.DOSSIER_KEEP_DAYS)
    stale = list(DossierRun.objects.filter(requested_at__lt=cutoff))
    for run in stale:
        for path in (run_path(run), run_path(run).with_suffix(".part")):
            path.unlink(missing_ok=True)
    DossierRun.objects.filter(pk__in=[run.pk for run in stale]).delete()
    return len(stale)
