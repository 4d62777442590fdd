"""Signature lists for staff to hand over, as CSV streamed in constant memory.

On PostgreSQL the database writes the CSV itself: `COPY (SELECT …) TO STDOUT (FORMAT csv)`, with
every cell formatted and neutralised in the SELECT, and the bytes streamed through psycopg as
they come, so a million rows cost little more than PostgreSQL's own COPY of the raw columns.
Other databases (SQLite, the embedded default) get the very same bytes from Python's csv module;
a test holds the two paths to that.

Either way the file is UTF-8 with a byte order mark (Excel reads it as Windows-1252 otherwise),
lines end with "\\n", cells are quoted only when they hold the delimiter, a double quote or a
line break, and empty cells are left empty. A cell that starts with = + - @, a tab or a carriage
return, which a spreadsheet would read as a formula, starts with a single quote instead (OWASP,
"CSV injection").

Every export leaves an ExportRecord: who, when, which filter, which format, how many rows.
"""

from __future__ import annotations

import csv
import io
import zoneinfo
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db import connections
from django.db.models import QuerySet
from django.utils.translation import gettext
from django_countries import countries
from psycopg import errors as psycopg_errors
from psycopg import pq, sql

from .models import ExportRecord, Petition, Signature, Source

Variant = ExportRecord.Variant
# "," for most software; ";" for spreadsheets set up for French, where "," is the decimal mark.
DELIMITERS = (",", ";")
BYTE_ORDER_MARK = "\ufeff"
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Every formula start is an ASCII character up to "@" (64): a cell whose first character lies
# beyond, as nearly every name does, is known safe after one comparison.
assert max(map(ord, FORMULA_STARTS)) <= 64  # noqa: S101
# Bytes gathered before they are handed on: large enough that the per-chunk cost vanishes,
# small enough to be nothing in memory.
CHUNK_BYTES = 64 * 1024
YES_NO = {True: "yes", False: "no"}
HALF_A_SECOND = timedelta(microseconds=500_000)

# The columns read from the signatures table, in this order, by both paths.
SOURCE = (
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
    "source",
)
Row = tuple[Any, ...]
FIRST_NAME, LAST_NAME, EMAIL, COUNTRY, POSTAL_CODE, LANGUAGE = range(6)
CREATED_AT, CONFIRMED_AT, WANTS_NEWS, UNSUBSCRIBED_AT, SIGNATURE_SOURCE = range(6, 11)


def neutralised(value: str) -> str | None:
    """A cell a spreadsheet will show as text; None (an empty cell) for an empty string."""
    if value.startswith(FORMULA_STARTS):
        return "'" + value
    return value or None


def neutralised_sql(expression: str) -> str:
    """neutralised(), as SQL over a text expression."""
    codes = ", ".join(str(ord(start)) for start in FORMULA_STARTS)
    return (
        f"CASE WHEN ascii({expression}) > 64 THEN {expression} "
        f"WHEN ascii({expression}) IN ({codes}) THEN '''' || {expression} "
        f"ELSE NULLIF({expression}, '') END"
    )


def utc_timestamp(value: datetime | None) -> str | None:
    """ISO 8601 to the nearest second, in UTC: 2026-03-01T09:30:00+00:00."""
    if value is None:
        return None
    # Half a second up, then cut: what PostgreSQL's timestamp(0) does (to times after 2000).
    rounded = (value.astimezone(UTC) + HALF_A_SECOND).replace(microsecond=0)
    return rounded.isoformat()


def utc_timestamp_sql(expression: str) -> str:
    # Rounding with timestamp(0) and printing the text as is (ISO in the ISO DateStyle, which
    # psycopg's loaders need too) costs the server a third of to_char() or date_trunc();
    # {iso} tells whether this session may take the short way.
    utc = f"({expression} AT TIME ZONE 'UTC')::timestamp(0)"
    return (
        f"CASE WHEN {{iso}} THEN replace({utc}::text, ' ', 'T') || '+00:00' "
        f'ELSE to_char({utc}, \'YYYY-MM-DD"T"HH24:MI:SS"+00:00"\') END'
    )


@dataclass(frozen=True)
class Column:
    """One column of an export: its header, and how each path computes its cells."""

    header: Callable[[], str]
    # SQL over the source row "s" and the country names "c"; {time_zone} is the site's, and
    # {iso} whether the session's DateStyle is ISO.
    sql: str
    python: Callable[[Row, dict[str, str]], str | None]
    uses_country_names: bool = False


def _full_columns() -> list[Column]:
    # Stable headers, whatever the language of the person exporting: scripts read them.
    def text(header: str, index: int, source: str) -> Column:
        return Column(
            lambda: header, neutralised_sql(f"s.{source}"), lambda row, _: neutralised(row[index])
        )

    return [
        text("first_name", FIRST_NAME, "first_name"),
        text("last_name", LAST_NAME, "last_name"),
        text("email", EMAIL, "email"),
        text("country_code", COUNTRY, "country"),
        text("postal_code", POSTAL_CODE, "postal_code"),
        text("language", LANGUAGE, "language"),
        Column(
            lambda: "signed_at",
            utc_timestamp_sql("s.created_at"),
            lambda row, _: utc_timestamp(row[CREATED_AT]),
        ),
        Column(
            lambda: "confirmed_at",
            utc_timestamp_sql("s.confirmed_at"),
            lambda row, _: utc_timestamp(row[CONFIRMED_AT]),
        ),
        Column(
            lambda: "wants_news",
            "CASE WHEN s.wants_news THEN 'yes' ELSE 'no' END",
            lambda row, _: YES_NO[row[WANTS_NEWS]],
        ),
        Column(
            lambda: "unsubscribed",
            "CASE WHEN s.unsubscribed_at IS NULL THEN 'no' ELSE 'yes' END",
            lambda row, _: YES_NO[row[UNSUBSCRIBED_AT] is not None],
        ),
        # "online" or "paper" (petition.paper); a code, as the other cells of this format.
        text("source", SIGNATURE_SOURCE, "source"),
    ]


def _place(row: Row, country_names: dict[str, str]) -> str | None:
    if row[COUNTRY] == "FR" and row[POSTAL_CODE]:
        return neutralised(row[POSTAL_CODE])
    return neutralised(country_names.get(row[COUNTRY], row[COUNTRY]))


def _officials_columns() -> list[Column]:
    # For a minister's office: names, where (a French postal code tells the constituency), and
    # the day, nothing to write to. Headers in the language of the person exporting.
    local_date = (
        "CASE WHEN {iso} THEN (s.created_at AT TIME ZONE {time_zone})::date::text "
        "ELSE to_char(s.created_at AT TIME ZONE {time_zone}, 'YYYY-MM-DD') END"
    )
    time_zone = zoneinfo.ZoneInfo(settings.TIME_ZONE)
    return [
        Column(
            lambda: gettext("First name"),
            neutralised_sql("s.first_name"),
            lambda row, _: neutralised(row[FIRST_NAME]),
        ),
        Column(
            lambda: gettext("Last name"),
            neutralised_sql("s.last_name"),
            lambda row, _: neutralised(row[LAST_NAME]),
        ),
        Column(
            lambda: gettext("Postal code or country"),
            f"CASE WHEN s.country = 'FR' AND s.postal_code <> '' "
            f"THEN {neutralised_sql('s.postal_code')} "
            f"ELSE {neutralised_sql('coalesce(c.name, s.country)')} END",
            _place,
            uses_country_names=True,
        ),
        Column(
            lambda: gettext("Signed on"),
            local_date,
            lambda row, _: row[CREATED_AT].astimezone(time_zone).date().isoformat(),
        ),
        _officials_source(),
    ]


def _officials_source() -> Column:
    """Where the signature was collected, in the words of the person exporting."""
    words = {Source.ONLINE: gettext("online"), Source.PAPER: gettext("on paper")}

    def literal(word: str) -> str:
        # Spliced into the SQL, which is formatted afterwards: quotes and braces escaped.
        return "'" + word.replace("'", "''").replace("{", "{{").replace("}", "}}") + "'"

    return Column(
        lambda: gettext("Collected"),
        f"CASE WHEN s.source = '{Source.PAPER.value}' THEN {literal(words[Source.PAPER])} "
        f"ELSE {literal(words[Source.ONLINE])} END",
        lambda row, _: neutralised(words[Source(row[SIGNATURE_SOURCE])]),
    )


# The full format's header, the same in every language: scripts read it.
HEADER = tuple(column.header() for column in _full_columns())


def columns(variant: str) -> list[Column]:
    if variant == Variant.FULL:
        return _full_columns()
    if variant == Variant.OFFICIALS:
        return _officials_columns()
    raise ValueError(f"Unknown export format {variant!r}.")


class _RowWriter:
    """Python's csv module, made to write exactly what PostgreSQL's COPY writes.

    COPY quotes a cell holding a carriage return or a line feed and ends lines with "\\n"; the
    csv module quotes only the characters of its line terminator. So rows are written with
    "\\r\\n", which makes it quote both, and the terminator is then cut down to "\\n".
    """

    def __init__(self, delimiter: str) -> None:
        self.buffer = io.StringIO()
        self.writer = csv.writer(self.buffer, delimiter=delimiter, lineterminator="\r\n")

    def line(self, cells: Sequence[str | None]) -> str:
        self.buffer.seek(0)
        self.buffer.truncate()
        self.writer.writerow(cells)
        return self.buffer.getvalue()[:-2] + "\n"


class SignatureExport:
    """The CSV of some signatures, as an iterable of byte chunks, oldest signature first.

    `rows` counts the rows that have left so far, and `complete` tells whether the last one
    has. Iterate once.
    """

    def __init__(
        self,
        signatures: QuerySet[Signature],
        *,
        variant: str = Variant.FULL,
        delimiter: str = ",",
        use_copy: bool | None = None,
    ) -> None:
        if delimiter not in DELIMITERS:
            raise ValueError(f"The delimiter must be one of {DELIMITERS}, not {delimiter!r}.")
        self.signatures = signatures.order_by()
        self.columns = columns(variant)
        self.delimiter = delimiter
        vendor = connections[signatures.db].vendor
        self.use_copy = vendor == "postgresql" if use_copy is None else use_copy
        self.rows = 0
        self.complete = False

    def __iter__(self) -> Iterator[bytes]:
        header = _RowWriter(self.delimiter).line([column.header() for column in self.columns])
        yield (BYTE_ORDER_MARK + header).encode()
        chunks = self._copy() if self.use_copy else self._python()
        yield from chunks
        self.complete = True

    def _country_names(self) -> dict[str, str]:
        return {code: str(name) for code, name in countries}

    def _python(self) -> Iterator[bytes]:
        """Any database: rows from one query, formatted here."""
        writer = _RowWriter(self.delimiter)
        country_names = self._country_names()
        rows = self.signatures.order_by("pk").values_list(*SOURCE).iterator(chunk_size=2000)
        lines: list[str] = []
        size = 0
        for row in rows:
            line = writer.line([column.python(row, country_names) for column in self.columns])
            lines.append(line)
            size += len(line)
            if size >= CHUNK_BYTES:
                self.rows += len(lines)
                yield "".join(lines).encode()
                lines.clear()
                size = 0
        if lines:
            self.rows += len(lines)
            yield "".join(lines).encode()

    def _copy_statement(self) -> str:
        connection = connections[self.signatures.db]
        source, params = (
            self.signatures.values("pk", *SOURCE).query.get_compiler(self.signatures.db).as_sql()
        )
        raw = connection.connection
        date_style = raw.info.parameter_status("DateStyle") or ""
        cells = sql.SQL(", ").join(
            sql.SQL(column.sql).format(
                time_zone=sql.Literal(settings.TIME_ZONE),
                iso=sql.Literal(date_style.startswith("ISO")),
            )
            for column in self.columns
        )
        joins = sql.SQL("")
        if any(column.uses_country_names for column in self.columns):
            names = sql.SQL(", ").join(
                sql.SQL("({}, {})").format(sql.Literal(code), sql.Literal(name))
                for code, name in self._country_names().items()
            )
            joins = sql.SQL(
                " LEFT JOIN (VALUES {names}) AS c(code, name) ON c.code = s.country"
            ).format(names=names)
        statement = sql.SQL(
            "COPY (SELECT {cells} FROM ({source}) AS s{joins} ORDER BY s.pk) "
            "TO STDOUT (FORMAT csv, DELIMITER {delimiter})"
        ).format(
            cells=cells,
            # The queryset's own SQL, its values bound here: COPY takes no parameters.
            source=sql.SQL(connection.ops.compose_sql(source, params)),
            joins=joins,
            delimiter=sql.Literal(self.delimiter),
        )
        return statement.as_string(raw)

    def _copy(self) -> Iterator[bytes]:
        """PostgreSQL: COPY writes the CSV; its bytes are passed on in chunks."""
        connection = connections[self.signatures.db]
        connection.ensure_connection()
        statement = self._copy_statement()
        raw = connection.connection
        buffer = bytearray()
        with connection.wrap_database_errors, raw.cursor() as cursor, cursor.copy(statement):
            rows = _copy_out(raw.pgconn, raw.info.encoding)
            try:
                for data in rows:
                    buffer += data
                    # PostgreSQL sends one message per row (its protocol promises it), so the
                    # messages count the rows, however many line breaks the cells hold.
                    self.rows += 1
                    if len(buffer) >= CHUNK_BYTES:
                        yield bytes(buffer)
                        buffer.clear()
            except GeneratorExit:
                # Stopped early (the download was broken off). psycopg then cancels the COPY,
                # which aborts the transaction around it, if any: read the rest instead.
                if connection.in_atomic_block:
                    for _ in rows:
                        pass
                raise
        if buffer:
            yield bytes(buffer)


def _copy_out(pgconn: pq.abc.PGconn, encoding: str) -> Iterator[memoryview]:
    """The rows of the COPY TO running on this connection, as they come, then its outcome.

    psycopg started the COPY (and ends it, should this stop early); its Copy object would also
    hand the rows over, but through a generator and a wait for each one, which costs more CPU
    than the rest of the export. libpq's blocking read (psycopg's documented low-level
    interface) takes less than half as much.
    """
    while True:
        size, data = pgconn.get_copy_data(0)
        if size < 0:  # -1: the rows are over (an error is -2, which psycopg raises)
            break
        yield data
    while (result := pgconn.get_result()) is not None:
        if result.status != pq.ExecStatus.COMMAND_OK:
            raise psycopg_errors.error_from_result(result, encoding=encoding)


def describe(**filters: object) -> str:
    """A filter as the audit log shows it: "status=confirmed, since=2026-03-01"."""
    return ", ".join(
        f"{name}={value}" for name, value in filters.items() if value not in ("", None)
    )


def start(
    signatures: QuerySet[Signature],
    *,
    user: AbstractBaseUser | AnonymousUser | None,
    username: str,
    source: str,
    petition: Petition | None,
    filters: str,
    variant: str = Variant.FULL,
    delimiter: str = ",",
) -> tuple[ExportRecord, SignatureExport, Iterator[bytes]]:
    """Record an export in the audit log and return it with the bytes to send.

    The record exists before the first byte leaves; it holds the number of rows sent when the
    stream ends, and its finished_at only if the stream reached the last row (a download
    broken off midway stays visible as such).
    """
    export = SignatureExport(signatures, variant=variant, delimiter=delimiter)
    record = ExportRecord.objects.create(
        user=user if user is not None and user.is_authenticated else None,
        username=username,
        source=source,
        petition=petition,
        filters=filters,
        variant=variant,
        delimiter=delimiter,
    )

    def audited() -> Iterator[bytes]:
        try:
            yield from export
        finally:
            record.record_rows(export.rows, finished=export.complete)

    return record, export, audited()
