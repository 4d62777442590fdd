"""Typed-in paper sheets: a CSV read whole before anything is written.

One row per signature: the name (one column `name`, or `first_name` and `last_name`), the
postal code, the country, an e-mail address if the signer wrote one, the event and the date it
was collected. Column names may be in English or French; cells are separated by "," or ";";
the file is UTF-8, with or without a byte order mark. A row that cannot be read is reported
with its line number, and nothing of the file is imported.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext
from django_countries import countries

from ..addresses import canonical_email
from ..forms import CONTROL_CHARACTERS, domain_reaches_as_typed

# A sheet typed in after an event is a few hundred lines; a whole exhibition, some thousands.
MAX_ROWS = 20_000
# Paper signatures are not older than the campaign's first events.
EARLIEST = date(2020, 1, 1)
# The names a column may go by, lower case, without accents.
ALIASES = {
    "name": ("name", "nom_complet", "full_name"),
    "first_name": ("first_name", "prenom", "firstname"),
    "last_name": ("last_name", "nom", "lastname"),
    "postal_code": ("postal_code", "code_postal", "postcode", "zip"),
    "country": ("country", "pays"),
    "email": ("email", "e-mail", "courriel", "mail"),
    "event": ("event", "evenement"),
    "date": ("date", "collected_on", "date_de_collecte"),
}
REQUIRED = ("postal_code", "country", "event", "date")
FRENCH_POSTAL_CODE = re.compile(r"[0-9]{5}")
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d.%m.%Y")
# Country names as a signer or a volunteer writes them, in either language.
COUNTRY_NAMES: dict[str, str] = {}


class PaperFileError(Exception):
    """The file cannot be imported; `problems` says why, line by line where there is one."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class PaperRow:
    """One signature as a sheet gives it."""

    line: int
    first_name: str
    last_name: str
    postal_code: str
    country: str
    email: str
    event: str
    collected_on: date

    @property
    def mailbox(self) -> str:
        return canonical_email(self.email) if self.email else ""


def read_paper_file(content: bytes) -> list[PaperRow]:
    """The signatures of a file's bytes, or PaperFileError."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise PaperFileError([gettext("The file is not text in UTF-8.")]) from error
    first_line = text.partition("\n")[0]
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    return read_paper_rows(io.StringIO(text, newline=""), delimiter=delimiter)


def _column_key(cell: str) -> str:
    plain = cell.strip().lower().replace(" ", "_")
    for accented, bare in (("é", "e"), ("è", "e"), ("ê", "e")):
        plain = plain.replace(accented, bare)
    return plain


def _columns(header: list[str]) -> dict[str, int]:
    keys = [_column_key(cell) for cell in header]
    found: dict[str, int] = {}
    for name, aliases in ALIASES.items():
        for index, key in enumerate(keys):
            if key in aliases and name not in found:
                found[name] = index
    has_names = "name" in found or ("first_name" in found and "last_name" in found)
    if not has_names or any(name not in found for name in REQUIRED):
        raise PaperFileError(
            [
                gettext(
                    "The first line must name the columns: name (or first_name and last_name), "
                    "postal_code, country, email (optional), event and date."
                )
            ]
        )
    return found


def read_paper_rows(lines: Iterable[str], *, delimiter: str = ",") -> list[PaperRow]:
    """Every row of the file, or PaperFileError listing every row that cannot be read."""
    reader = csv.reader(lines, delimiter=delimiter)
    try:
        header = next(reader, None)
        if header is None:
            raise PaperFileError([gettext("The file is empty.")])
        columns = _columns(header)
        rows: list[PaperRow] = []
        problems: list[str] = []
        for cells in reader:
            if len(rows) + len(problems) >= MAX_ROWS:
                raise PaperFileError(
                    [gettext("The file has more than %(count)d rows.") % {"count": MAX_ROWS}]
                )
            if not any(cell.strip() for cell in cells):
                continue
            try:
                rows.append(_row(reader.line_num, cells, columns, len(header)))
            except ValidationError as error:
                problems.append(
                    gettext("Line %(line)d: %(problem)s")
                    % {"line": reader.line_num, "problem": error.message}
                )
    except csv.Error as error:
        raise PaperFileError(
            [gettext("Line %(line)d: this is not CSV.") % {"line": reader.line_num}]
        ) from error
    if problems:
        raise PaperFileError(problems)
    if not rows:
        raise PaperFileError([gettext("The file lists no signature.")])
    return rows


def _row(line: int, cells: list[str], columns: dict[str, int], width: int) -> PaperRow:
    if len(cells) != width:
        raise ValidationError(
            gettext("it has %(found)d cells instead of %(expected)d.")
            % {"found": len(cells), "expected": width}
        )
    values = {name: " ".join(cells[index].split()) for name, index in columns.items()}
    for name, value in values.items():
        if CONTROL_CHARACTERS.search(value) or len(value) > 300:
            raise ValidationError(
                gettext(
                    "the column “%(column)s” holds characters that are not allowed, or too many."
                )
                % {"column": header_name(name)}
            )
    first_name, last_name = _names(values)
    if not last_name:
        raise ValidationError(gettext("the name is missing."))
    if len(first_name) > 100 or len(last_name) > 100:
        raise ValidationError(gettext("the name is longer than 100 characters."))
    country = _country(values["country"])
    postal_code = values["postal_code"].replace(" ", "")
    if country == "FR" and not FRENCH_POSTAL_CODE.fullmatch(postal_code):
        raise ValidationError(
            gettext("the postal code “%(value)s” is not a French postal code of five digits.")
            % {"value": values["postal_code"]}
        )
    if len(postal_code) > 12:
        raise ValidationError(gettext("the postal code is longer than 12 characters."))
    email = values.get("email", "")
    if email:
        try:
            validate_email(email)
        except ValidationError as error:
            raise ValidationError(
                gettext("the e-mail address “%(value)s” is not valid.") % {"value": email}
            ) from error
        if not domain_reaches_as_typed(email):
            raise ValidationError(
                gettext("the e-mail address “%(value)s” is not valid.") % {"value": email}
            )
    if not values["event"]:
        raise ValidationError(gettext("the event is missing."))
    return PaperRow(
        line=line,
        first_name=first_name,
        last_name=last_name,
        postal_code=postal_code,
        country=country,
        email=email,
        event=values["event"],
        collected_on=read_date(values["date"]),
    )


def header_name(name: str) -> str:
    return ALIASES[name][0]


def _names(values: dict[str, str]) -> tuple[str, str]:
    if "first_name" in values and "last_name" in values:
        return values["first_name"], values["last_name"]
    # One column: the last word is the family name, as on most sheets ("Marie Dupont").
    first, _space, last = values["name"].rpartition(" ")
    return first, last


def _country(value: str) -> str:
    if not value:
        return "FR"
    code = value.upper()
    if code in countries:
        return code
    if not COUNTRY_NAMES:
        from django.utils import translation

        for language in ("fr", "en"):
            with translation.override(language):
                COUNTRY_NAMES.update({str(name).lower(): code for code, name in countries})
    found = COUNTRY_NAMES.get(value.lower())
    if found is None:
        raise ValidationError(gettext("the country “%(value)s” is unknown.") % {"value": value})
    return found


def read_date(value: str) -> date:
    """A day written as 2026-03-14 or 14/03/2026, neither in the future nor before 2020."""
    for pattern in DATE_FORMATS:
        try:
            day = datetime.strptime(value, pattern).date()  # noqa: DTZ007 - a day, not a time
        except ValueError:
            continue
        break
    else:
        raise ValidationError(
            gettext("the date “%(value)s” cannot be read: write it 2026-03-14 or 14/03/2026.")
            % {"value": value}
        )
    if day > timezone.localdate():
        raise ValidationError(gettext("the date %(value)s is in the future.") % {"value": value})
    if day < EARLIEST:
        raise ValidationError(
            gettext("the date %(value)s is before %(year)d.")
            % {"value": value, "year": EARLIEST.year}
        )
    return day
