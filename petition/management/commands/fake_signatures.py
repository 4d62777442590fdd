"""Fill a petition with made-up signatures, fast, for demonstrations and benchmarks."""

from __future__ import annotations

import random
import re
import time
import unicodedata
from bisect import bisect
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import accumulate, islice
from typing import Any, TypeVar

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone
from faker.providers.person.en_GB import Provider as BritishNames
from faker.providers.person.fr_FR import Provider as FrenchNames
from psycopg import sql

from petition.addresses import canonical_email
from petition.models import Petition, Signature
from petition.tasks import refresh_signature_count

# The columns each made-up row fills, in this order; the others keep their defaults.
FIELDS = (
    "petition",
    "first_name",
    "last_name",
    "email",
    "email_canonical",
    "country",
    "postal_code",
    "wants_news",
    "language",
    "created_at",
    "confirmation_sent_at",
    "confirmed_at",
)
Row = tuple[Any, ...]
T = TypeVar("T")

CHUNK_SIZE = 50_000
SPREAD = timedelta(weeks=6)
MICROSECOND = timedelta(microseconds=1)
# Reserved for documentation (RFC 2606): no message can ever reach a real person there.
DOMAINS = ("example.org", "example.com", "example.net")
WANTS_NEWS_SHARE = 0.35
# Mean delay between receiving the confirmation e-mail and clicking its button.
MEAN_CONFIRMATION_DELAY = 40 * 60


def _email_part(name: str) -> str:
    """'Adélaïde' -> 'adelaide', 'Le Gall' -> 'le-gall': what people put in addresses."""
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9-]", "", ascii_name.lower().replace(" ", "-"))


@dataclass(frozen=True)
class NamePool:
    """Names of one language, each paired with its spelling in an e-mail address."""

    language: str
    first_names: tuple[tuple[str, str], ...]
    last_names: tuple[tuple[str, str], ...]

    @classmethod
    def from_names(cls, language: str, first: Iterable[str], last: Iterable[str]) -> NamePool:
        def pairs(names: Iterable[str]) -> tuple[tuple[str, str], ...]:
            return tuple((name, _email_part(name)) for name in dict.fromkeys(names))

        return cls(language, pairs(first), pairs(last))


# Faker's lists are read once: asking Faker for a name per row is far too slow.
FRENCH = NamePool.from_names("fr", FrenchNames.first_names, FrenchNames.last_names)
ENGLISH = NamePool.from_names("en", BritishNames.first_names, BritishNames.last_names)

Random = Callable[[], float]  # a source of floats in [0, 1), such as random.Random().random


def pick(random: Random, items: Sequence[T]) -> T:
    # Far faster than random.Random.choice, which matters a million times over.
    return items[int(random() * len(items))]


def weighted_thresholds(weights: Iterable[float]) -> tuple[float, ...]:
    """Boundaries in [0, 1) for bisect: index i is drawn with probability weights[i] / sum."""
    cumulative = list(accumulate(weights))
    return tuple(value / cumulative[-1] for value in cumulative[:-1])


# Postal département prefixes, weighted roughly by population (in hundreds of thousands);
# the rest of metropolitan France counts 4 each. 20 is Corsica, 97x the overseas ones.
DEPARTMENT_WEIGHTS = {
    "75": 21, "13": 20, "59": 26, "69": 19, "92": 16, "93": 17, "94": 14, "33": 17, "78": 15,
    "77": 15, "91": 13, "95": 12, "31": 14, "44": 15, "62": 15, "67": 11, "06": 11, "34": 12,
    "76": 12, "35": 11, "38": 13, "57": 10, "83": 11, "20": 3,
    "971": 4, "972": 4, "973": 3, "974": 9, "976": 3,
}  # fmt: skip
DEPARTMENTS = (*(f"{n:02d}" for n in range(1, 96)), "971", "972", "973", "974", "976")
DEPARTMENT_THRESHOLDS = weighted_thresholds(DEPARTMENT_WEIGHTS.get(d, 4) for d in DEPARTMENTS)
# Cities whose arrondissements have postal codes of their own.
ARRONDISSEMENTS = {"75": 20, "69": 9, "13": 16}


def french_postal_code(random: Random) -> str:
    department = DEPARTMENTS[bisect(DEPARTMENT_THRESHOLDS, random())]
    if department in ARRONDISSEMENTS and random() < 0.7:
        return f"{department}0{1 + int(random() * ARRONDISSEMENTS[department]):02d}"
    if len(department) == 3:
        return f"{department}{int(random() * 10)}0"
    return f"{department}{int(random() * 100):02d}0"


def digits(random: Random, low: int, high: int) -> str:
    """A number from low to high (included), with as many digits as high has."""
    return str(low + int(random() * (high - low + 1))).zfill(len(str(high)))


BRITISH_AREAS = ("SW", "SE", "N", "E", "W", "NW", "EC", "M", "B", "L", "LS", "G", "EH", "BS")
BRITISH_INWARD_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
CANADIAN_FIRST_LETTERS = "GHJKMV"  # Quebec, Montreal, Ontario, Toronto, British Columbia
CANADIAN_LETTERS = "ABCEGHJKLMNPRSTVWXYZ"


def british_postal_code(random: Random) -> str:
    area = pick(random, BRITISH_AREAS)
    inward = pick(random, BRITISH_INWARD_LETTERS) + pick(random, BRITISH_INWARD_LETTERS)
    return f"{area}{digits(random, 1, 20).lstrip('0')} {digits(random, 0, 9)}{inward}"


def canadian_postal_code(random: Random) -> str:
    return (
        f"{pick(random, CANADIAN_FIRST_LETTERS)}{digits(random, 0, 9)}"
        f"{pick(random, CANADIAN_LETTERS)} {digits(random, 0, 9)}"
        f"{pick(random, CANADIAN_LETTERS)}{digits(random, 0, 9)}"
    )


@dataclass(frozen=True)
class Country:
    code: str
    weight: int
    french_share: float  # of signers there whose names (and language) are French
    postal_code: Callable[[Random], str]


COUNTRIES = (
    Country("FR", 880, 0.97, french_postal_code),
    Country("BE", 30, 0.9, lambda random: digits(random, 1000, 9992)),
    Country("CH", 20, 0.9, lambda random: digits(random, 1000, 9658)),
    Country("LU", 5, 0.85, lambda random: digits(random, 1009, 9990)),
    Country("MC", 2, 0.9, lambda random: "98000"),
    Country("CA", 15, 0.55, canadian_postal_code),
    Country("GB", 20, 0.08, british_postal_code),
    Country("US", 8, 0.1, lambda random: digits(random, 1001, 99950)),
    Country("DE", 7, 0.6, lambda random: digits(random, 1067, 99998)),
    Country("ES", 5, 0.6, lambda random: digits(random, 1, 52) + digits(random, 0, 999)),
)
COUNTRY_THRESHOLDS = weighted_thresholds(country.weight for country in COUNTRIES)


class SignatureFaker:
    """Makes signature rows (in the order of FIELDS) for one petition.

    Addresses are unique within a run through a sequence number, and across runs through
    run_tag, which the caller takes from the rows already stored.
    """

    def __init__(
        self, *, petition_id: int, run_tag: int, rng: random.Random, now: datetime
    ) -> None:
        self.petition_id = petition_id
        self.run_tag = run_tag
        self.rng = rng
        self.now = now

    def rows(self, count: int, *, pending: int) -> Iterator[Row]:
        """Yield count rows, exactly `pending` of them left unconfirmed, spread over time."""
        random = self.rng.random
        expovariate = self.rng.expovariate
        # Times are counted in whole microseconds from the start of the spread: integer
        # arithmetic is several times faster than building timedeltas from floats.
        start = self.now - SPREAD
        end = SPREAD // MICROSECOND
        step = end / count
        pending_left = pending
        for index in range(count):
            country = COUNTRIES[bisect(COUNTRY_THRESHOLDS, random())]
            names = FRENCH if random() < country.french_share else ENGLISH
            first_name, first_part = pick(random, names.first_names)
            last_name, last_part = pick(random, names.last_names)
            email = f"{first_part}.{last_part}.{self.run_tag}.{index}@{pick(random, DOMAINS)}"
            # Signatures arrive in order over the last weeks; the e-mail leaves seconds later.
            created = int((index + random()) * step)
            sent = min(created + int(1_000_000 + 19_000_000 * random()), end)
            # Selection sampling: exactly `pending` rows stay pending, spread evenly at random.
            if random() * (count - index) < pending_left:
                pending_left -= 1
                confirmed_at = None
            else:
                delay = int(1_000_000 * expovariate(1 / MEAN_CONFIRMATION_DELAY))
                confirmed_at = start + MICROSECOND * min(sent + delay, end)
            yield (
                self.petition_id,
                first_name,
                last_name,
                email,
                canonical_email(email),
                country.code,
                country.postal_code(random),
                random() < WANTS_NEWS_SHARE,
                names.language,
                start + MICROSECOND * created,
                start + MICROSECOND * sent,
                confirmed_at,
            )


def chunked(rows: Iterable[Row], size: int) -> Iterator[list[Row]]:
    iterator = iter(rows)
    while chunk := list(islice(iterator, size)):
        yield chunk


class Command(BaseCommand):
    """Add made-up, mostly confirmed signatures to a petition, then refresh its count.

    PostgreSQL receives them through COPY, which stores a million rows in seconds; other
    databases through bulk_create. Every address is on a domain reserved for examples.
    """

    help = (
        "Add COUNT made-up signatures (confirmed unless --unconfirmed-share says otherwise) "
        "to the petition SLUG, for demonstrations and benchmarks."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", help="the petition's slug")
        parser.add_argument("count", type=int, help="how many signatures to add")
        parser.add_argument(
            "--seed", type=int, help="seed of the random choices, to make the same data again"
        )
        parser.add_argument(
            "--unconfirmed-share",
            type=float,
            default=0.0,
            help="fraction of the signatures left waiting for confirmation (default: 0)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        count: int = options["count"]
        share: float = options["unconfirmed_share"]
        if count < 1:
            raise CommandError("COUNT must be at least 1.")
        if not 0 <= share <= 1:
            raise CommandError("--unconfirmed-share must be between 0 and 1.")
        petition = Petition.objects.filter(slug=options["slug"]).first()
        if petition is None:
            raise CommandError(f'No petition has the slug "{options["slug"]}".')

        pending = round(count * share)
        started = time.monotonic()
        with transaction.atomic():
            # An earlier run whose rows remain took a tag below their ids, hence below the
            # highest id stored now: this tag is new, and with it every address of the run.
            run_tag = Signature.objects.aggregate(top=Max("pk"))["top"] or 0
            faker = SignatureFaker(
                petition_id=petition.pk,
                run_tag=run_tag,
                rng=random.Random(options["seed"]),  # noqa: S311 (made-up data, not secrets)
                now=timezone.now(),
            )
            chunks = chunked(faker.rows(count, pending=pending), CHUNK_SIZE)
            if connection.vendor == "postgresql":
                self.copy(chunks, total=count)
            else:
                self.bulk_create(chunks, total=count)
        refresh_signature_count(petition.pk)
        elapsed = time.monotonic() - started

        if self.stdout.isatty():
            self.stdout.write("")
        self.stdout.write(
            self.style.SUCCESS(
                f"Added {count:,} signatures ({pending:,} of them unconfirmed) to "
                f'"{petition.slug}" in {elapsed:.1f} s.'
            )
        )

    def copy(self, chunks: Iterable[list[Row]], *, total: int) -> None:
        """Stream the rows to PostgreSQL with COPY, in the current transaction."""
        columns = [Signature._meta.get_field(name).column for name in FIELDS]
        statement = sql.SQL("COPY {table} ({columns}) FROM STDIN").format(
            table=sql.Identifier(Signature._meta.db_table),
            columns=sql.SQL(", ").join(map(sql.Identifier, columns)),
        )
        connection.ensure_connection()
        with connection.connection.cursor() as cursor, cursor.copy(statement) as copy:
            done = 0
            for chunk in chunks:
                for row in chunk:
                    copy.write_row(row)
                done += len(chunk)
                self.progress(done, total)

    def bulk_create(self, chunks: Iterable[list[Row]], *, total: int) -> None:
        """Insert the rows through the ORM, for databases without COPY."""
        attributes = [Signature._meta.get_field(name).attname for name in FIELDS]
        done = 0
        for chunk in chunks:
            Signature.objects.bulk_create(
                [Signature(**dict(zip(attributes, row, strict=True))) for row in chunk],
                batch_size=1000,
            )
            done += len(chunk)
            self.progress(done, total)

    def progress(self, done: int, total: int) -> None:
        if self.stdout.isatty():
            self.stdout.write(f"\r{done:,} / {total:,} signatures", ending="")
            self.stdout.flush()
