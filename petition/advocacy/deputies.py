"""The list of députés: read from a CSV in the format of the Assemblée nationale's published list
(data/README.md), loaded into a petition's targets, refreshed from a newer file.

A file is read whole before anything is written: a row that cannot be read is reported with its
line number, and nothing of that file is imported. A refresh adds the newcomers, changes what
changed, and retires (never deletes) the députés who are no longer listed, so that their
answers keep their author.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from .places import AREAS, area_named

SNAPSHOT = Path(__file__).resolve().parent / "data" / "fr-deputies-2025-03.csv"
COLUMNS = ("nom", "region", "departement", "email", "groupe", "circonscription")
# The Assemblée nationale has 577 seats: a file much longer is not its list.
MAX_ROWS = 2000
# "Rhône (7ecirconscription)", "Rhône (1recirconscription)", and spaced variants.
CIRCONSCRIPTION = re.compile(
    r"(?P<area>.+?)\s*\(\s*(?P<number>[0-9]{1,2})\s*(?:re|er|e|ème)\s*circonscription\s*\)",
    re.IGNORECASE,
)
CIVILITY = re.compile(r"(?P<civility>Mme|M\.)\s+(?P<name>\S.*)")
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@dataclass(frozen=True)
class DeputyRow:
    """One député as a file lists them."""

    line: int
    civility: str
    name: str
    departement: str
    circonscription: int
    email: str
    organisation: str

    def fields(self) -> dict[str, object]:
        return {
            "civility": self.civility,
            "name": self.name,
            "departement": self.departement,
            "circonscription": self.circonscription,
            "email": self.email,
            "organisation": self.organisation,
        }


class DeputiesFileError(Exception):
    """The file cannot be imported; `problems` says why, line by line where there is one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


def read_deputies_file(content: bytes) -> list[DeputyRow]:
    """The députés of a file's bytes (UTF-8, with or without a byte order mark)."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise DeputiesFileError([gettext("The file is not text in UTF-8.")]) from error
    return read_deputies(io.StringIO(text, newline=""))


def read_deputies(lines: Iterable[str]) -> list[DeputyRow]:
    """Every row of the file, or DeputiesFileError listing every row that cannot be read."""
    reader = csv.reader(lines)
    try:
        header = next(reader, None)
        if header is None or tuple(cell.strip() for cell in header) != COLUMNS:
            raise DeputiesFileError(
                [
                    gettext("The first line must name the columns %(columns)s.")
                    % {"columns": ", ".join(COLUMNS)}
                ]
            )
        rows: list[DeputyRow] = []
        problems: list[str] = []
        emails: dict[str, int] = {}
        seats: dict[tuple[str, int], int] = {}
        for cells in reader:
            line = reader.line_num
            if len(rows) + len(problems) >= MAX_ROWS:
                raise DeputiesFileError(
                    [gettext("The file has more than %(count)d rows.") % {"count": MAX_ROWS}]
                )
            if not any(cell.strip() for cell in cells):
                continue
            try:
                row = _row(line, cells)
            except ValidationError as error:
                problems.append(
                    gettext("Line %(line)d: %(problem)s") % {"line": line, "problem": error.message}
                )
                continue
            for key, taken, message in (
                (
                    row.email.lower(),
                    emails,
                    gettext("the address “%(value)s” is also on line %(other)d."),
                ),
                (
                    (row.departement, row.circonscription),
                    seats,
                    gettext("this circonscription is also on line %(other)d."),
                ),
            ):
                if key in taken:
                    problem = message % {"value": row.email, "other": taken[key]}
                    problems.append(
                        gettext("Line %(line)d: %(problem)s") % {"line": line, "problem": problem}
                    )
                taken.setdefault(key, line)
            rows.append(row)
    except csv.Error as error:
        raise DeputiesFileError(
            [gettext("Line %(line)d: this is not CSV.") % {"line": reader.line_num}]
        ) from error
    if problems:
        raise DeputiesFileError(problems)
    if not rows:
        raise DeputiesFileError([gettext("The file lists no député.")])
    return rows


def _row(line: int, cells: list[str]) -> DeputyRow:
    if len(cells) != len(COLUMNS):
        raise ValidationError(
            gettext("it has %(found)d cells instead of %(expected)d.")
            % {"found": len(cells), "expected": len(COLUMNS)}
        )
    values = dict(zip(COLUMNS, (" ".join(cell.split()) for cell in cells), strict=True))
    for name, value in values.items():
        if CONTROL_CHARACTERS.search(value) or len(value) > 200:
            raise ValidationError(
                gettext(
                    "the column “%(column)s” holds characters that are not allowed, or too many."
                )
                % {"column": name}
            )
    found = CIVILITY.fullmatch(values["nom"])
    civility, name = (found["civility"], found["name"]) if found else ("", values["nom"])
    if not name:
        raise ValidationError(gettext("the name is missing."))
    area = area_named(values["departement"])
    if area is None:
        raise ValidationError(
            gettext("the département “%(name)s” is unknown.") % {"name": values["departement"]}
        )
    seat = CIRCONSCRIPTION.fullmatch(values["circonscription"])
    if seat is None or int(seat["number"]) < 1:
        raise ValidationError(
            gettext("the circonscription “%(value)s” cannot be read.")
            % {"value": values["circonscription"]}
        )
    if area_named(seat["area"]) != area:
        raise ValidationError(
            gettext("the circonscription “%(value)s” is not in %(name)s.")
            % {"value": values["circonscription"], "name": AREAS[area]}
        )
    try:
        validate_email(values["email"])
    except ValidationError as error:
        raise ValidationError(
            gettext("the address “%(value)s” is not an e-mail address.")
            % {"value": values["email"]}
        ) from error
    return DeputyRow(
        line=line,
        civility=civility,
        name=name,
        departement=area,
        circonscription=int(seat["number"]),
        email=values["email"],
        organisation=values["groupe"],
    )


@dataclass
class ImportReport:
    """What an import did, by député."""

    added: list[str] = field(default_factory=list)
    changed: list[tuple[str, list[str]]] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    unchanged: int = 0

    def summary(self) -> str:
        return gettext(
            "Added: %(added)d, changed: %(changed)d, retired: %(retired)d, "
            "unchanged: %(unchanged)d."
        ) % {
            "added": len(self.added),
            "changed": len(self.changed),
            "retired": len(self.retired),
            "unchanged": self.unchanged,
        }

    def lines(self) -> list[str]:
        """The summary, then one line per député added, changed or retired."""
        lines = [self.summary()]
        lines += [gettext("Added: %(name)s") % {"name": name} for name in self.added]
        lines += [
            gettext("Changed: %(name)s (%(fields)s)") % {"name": name, "fields": ", ".join(fields)}
            for name, fields in self.changed
        ]
        lines += [gettext("Retired: %(name)s") % {"name": name} for name in self.retired]
        return lines


@transaction.atomic
def import_deputies(*, petition: object, rows: list[DeputyRow]) -> ImportReport:
    """Make the petition's députés those of `rows`: a député is recognised by their address."""
    from .models import Target

    report = ImportReport()
    now = timezone.now()
    known = list(
        Target.objects.select_for_update().filter(petition=petition, role=Target.Role.DEPUTY)
    )
    by_email = {target.email.lower(): target for target in known if target.email}
    listed = {row.email.lower() for row in rows}
    # Retired first: a successor may take the seat in the same import.
    for target in known:
        if target.email.lower() not in listed and target.retired_at is None:
            target.retired_at = now
            target.save(update_fields=["retired_at", "updated_at"])
            report.retired.append(target.full_name)
    for row in rows:
        target = by_email.get(row.email.lower())
        if target is None:
            target = Target.objects.create(
                petition=petition, role=Target.Role.DEPUTY, **row.fields()
            )
            report.added.append(target.full_name)
            continue
        changes = [
            str(Target._meta.get_field(name).verbose_name)
            for name, value in row.fields().items()
            if getattr(target, name) != value
        ]
        if target.retired_at is not None:
            changes.append(gettext("back in office"))
            target.retired_at = None
        if not changes:
            report.unchanged += 1
            continue
        for name, value in row.fields().items():
            setattr(target, name, value)
        target.save()
        report.changed.append((target.full_name, changes))
    return report
