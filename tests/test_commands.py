"""fake_signatures: demonstration and benchmark data, made fast."""

from __future__ import annotations

import io
import random
import re
from datetime import timedelta

import pytest
from django.core.management import CommandError, call_command
from django.db.models.functions import Lower
from django.utils import timezone
from faker.providers.person.en_GB import Provider as BritishNames
from faker.providers.person.fr_FR import Provider as FrenchNames

from petition.management.commands.fake_signatures import Command, SignatureFaker, chunked
from petition.models import Petition, Signature

pytestmark = pytest.mark.django_db

RESERVED_DOMAINS = {"example.org", "example.com", "example.net"}


def fake(slug: str, *args: str) -> str:
    out = io.StringIO()
    call_command("fake_signatures", slug, *args, stdout=out)
    return out.getvalue()


def lowercase_emails(petition: Petition) -> list[str]:
    return list(
        Signature.objects.filter(petition=petition)
        .annotate(address=Lower("email"))
        .values_list("address", flat=True)
    )


def test_adds_exactly_count_confirmed_signatures_and_counts_them(petition):
    output = fake(petition.slug, "300", "--seed", "1")

    signatures = Signature.objects.filter(petition=petition)
    assert signatures.count() == 300
    assert signatures.confirmed().count() == 300
    petition.refresh_from_db()
    assert petition.signature_count == 300
    assert "300 signatures" in output
    assert re.search(r"in \d+\.\d s", output)


def test_addresses_are_distinct_lowercase_and_on_reserved_domains(petition):
    fake(petition.slug, "500", "--seed", "2")

    emails = list(Signature.objects.filter(petition=petition).values_list("email", flat=True))
    assert len(set(emails)) == 500
    assert all(email == email.lower() for email in emails)
    assert {email.rpartition("@")[2] for email in emails} <= RESERVED_DOMAINS


def test_running_twice_with_the_same_seed_adds_without_collisions(petition):
    fake(petition.slug, "200", "--seed", "3")
    fake(petition.slug, "200", "--seed", "3")

    emails = lowercase_emails(petition)
    assert len(emails) == 400
    assert len(set(emails)) == 400
    petition.refresh_from_db()
    assert petition.signature_count == 400


def test_the_same_seed_makes_the_same_signers(petition):
    other = Petition.objects.create(slug="other", title="Other", introduction="Another text.")
    fake(petition.slug, "50", "--seed", "4")
    fake(other.slug, "50", "--seed", "4")

    def signers(target: Petition) -> list[tuple[str, ...]]:
        return list(
            Signature.objects.filter(petition=target)
            .order_by("pk")
            .values_list("first_name", "last_name", "country", "postal_code", "language")
        )

    assert signers(petition) == signers(other)


def test_signatures_already_there_are_kept_and_counted(petition):
    now = timezone.now()
    Signature.objects.create(
        petition=petition,
        first_name="Camille",
        last_name="Durand",
        email="camille.durand@example.org",
        language="fr",
        postal_code="75011",
        created_at=now,
        confirmed_at=now,
    )

    fake(petition.slug, "100", "--seed", "5")

    petition.refresh_from_db()
    assert petition.signature_count == 101
    assert "camille.durand@example.org" in lowercase_emails(petition)


def test_unconfirmed_share_leaves_pending_signatures_uncounted(petition):
    output = fake(petition.slug, "400", "--seed", "6", "--unconfirmed-share", "0.25")

    signatures = Signature.objects.filter(petition=petition)
    assert signatures.count() == 400
    assert signatures.pending().count() == 100
    petition.refresh_from_db()
    assert petition.signature_count == 300
    assert "100 of them unconfirmed" in output


def test_french_postal_codes_have_five_digits_of_a_real_department(petition):
    fake(petition.slug, "2000", "--seed", "7")

    french = list(
        Signature.objects.filter(petition=petition, country="FR").values_list(
            "postal_code", flat=True
        )
    )
    assert len(french) > 1500  # most signers live in France
    assert all(re.fullmatch(r"\d{5}", code) for code in french)
    departments = {code[:2] for code in french}
    assert departments <= {f"{n:02d}" for n in range(1, 96)} | {"97"}
    assert len(departments) > 50


def test_signers_abroad_are_there_too(petition):
    fake(petition.slug, "2000", "--seed", "8")

    countries = set(Signature.objects.filter(petition=petition).values_list("country", flat=True))
    assert {"FR", "BE", "CH", "GB", "CA"} <= countries


def test_language_follows_the_names(petition):
    fake(petition.slug, "1000", "--seed", "9")

    rows = Signature.objects.filter(petition=petition).values_list(
        "first_name", "last_name", "language"
    )
    languages = {language for _, _, language in rows}
    assert languages == {"fr", "en"}
    for first_name, last_name, language in rows:
        pool = FrenchNames if language == "fr" else BritishNames
        assert first_name in pool.first_names
        assert last_name in pool.last_names


def test_signatures_are_spread_over_recent_weeks_and_confirmed_after(petition):
    before = timezone.now()
    fake(petition.slug, "500", "--seed", "10")
    after = timezone.now()

    rows = list(
        Signature.objects.filter(petition=petition).values_list(
            "created_at", "confirmation_sent_at", "confirmed_at", "wants_news"
        )
    )
    signed = [created for created, _, _, _ in rows]
    assert min(signed) >= before - timedelta(weeks=8)
    assert max(signed) - min(signed) > timedelta(weeks=4)
    for created, sent, confirmed, _ in rows:
        assert created <= sent <= confirmed <= after
    assert {wants_news for *_, wants_news in rows} == {True, False}


def test_unknown_petition_is_an_error(petition):
    with pytest.raises(CommandError, match="no-such-petition"):
        fake("no-such-petition", "10")
    assert not Signature.objects.exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["0"], "at least 1"),
        (["10", "--unconfirmed-share", "1.5"], "between 0 and 1"),
        (["10", "--unconfirmed-share", "-0.1"], "between 0 and 1"),
    ],
)
def test_impossible_requests_are_errors(petition, args, message):
    with pytest.raises(CommandError, match=message):
        fake(petition.slug, *args)
    assert not Signature.objects.exists()


def test_databases_without_copy_get_the_same_rows_through_the_orm(petition):
    # The path SQLite takes, exercised here on the suite's database.
    faker = SignatureFaker(
        petition_id=petition.pk,
        run_tag=0,
        rng=random.Random(11),  # noqa: S311
        now=timezone.now(),
    )
    rows = list(faker.rows(120, pending=20))

    Command().bulk_create(chunked(rows, 50), total=len(rows))

    stored = Signature.objects.filter(petition=petition)
    assert sorted(stored.values_list("email", flat=True)) == sorted(row[3] for row in rows)
    assert stored.pending().count() == 20
