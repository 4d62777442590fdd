"""Signature lists for staff to hand over, as CSV that streams in constant memory."""

from __future__ import annotations

import io
from collections.abc import Iterator
from itertools import islice

from defusedcsv import csv

from .models import Petition, Signature

# Stable headers, whatever the language of the person exporting: scripts read them too.
HEADER = (
    "first_name",
    "last_name",
    "email",
    "country_code",
    "postal_code",
    "language",
    "signed_at",
    "confirmed_at",
    "wants_news",
    "unsubscribed",
)
COLUMNS = (
    "first_name",
    "last_name",
    "email",
    "country",
    "postal_code",
    "language",
    "created_at",
    "confirmed_at",
    "wants_news",
    "unsubscribed_at",
)
# "," for most software; ";" for spreadsheets set up for French, where "," is the decimal mark.
DELIMITERS = (",", ";")
# Without it, Excel reads UTF-8 as Windows-1252 and mangles accented names.
BYTE_ORDER_MARK = "\ufeff"
YES_NO = {True: "yes", False: "no"}
# defusedcsv escapes cells that start with = + - @ | %, but not with a tab or a carriage
# return, which spreadsheets skip before reading a formula (OWASP, "CSV injection").
UNESCAPED_FORMULA_STARTS = ("\t", "\r")


def _defused(text: str) -> str:
    return "'" + text if text.startswith(UNESCAPED_FORMULA_STARTS) else text


def signature_csv_lines(
    petition: Petition, *, delimiter: str = ",", chunk_size: int = 2000
) -> Iterator[str]:
    """Yield the petition's confirmed signatures as CSV text, a header and then rows.

    The first chunk starts with a byte order mark, so the UTF-8 text is meant to be written
    as it is. Rows come in chunks of chunk_size from one query and one server-side cursor,
    oldest first, and cells that a spreadsheet would run as a formula are escaped.
    """
    if delimiter not in DELIMITERS:
        raise ValueError(f"The delimiter must be one of {DELIMITERS}, not {delimiter!r}.")
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)

    def flush() -> str:
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    writer.writerow(HEADER)
    yield BYTE_ORDER_MARK + flush()

    rows = (
        Signature.objects.confirmed()
        .filter(petition=petition)
        .order_by("pk")
        .values_list(*COLUMNS)
        .iterator(chunk_size=chunk_size)
    )
    while chunk := list(islice(rows, chunk_size)):
        writer.writerows(
            (
                _defused(first_name),
                _defused(last_name),
                _defused(email),
                country,
                _defused(postal_code),
                language,
                signed_at.isoformat(timespec="seconds"),
                confirmed_at.isoformat(timespec="seconds"),
                YES_NO[wants_news],
                YES_NO[unsubscribed_at is not None],
            )
            for (
                first_name,
                last_name,
                email,
                country,
                postal_code,
                language,
                signed_at,
                confirmed_at,
                wants_news,
                unsubscribed_at,
            ) in chunk
        )
        yield flush()
