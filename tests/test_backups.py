"""Backups and restores: a restore never undoes a withdrawal or an erasure; the embedded
default's backups are encrypted, consistent and refused when they are not this site's; the age
of the last good backup is monitorable. The point-in-time restore of production's PostgreSQL
is rehearsed whole by `make restore-drill` (tests/drill/)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.utils import timezone

from petition import counting, log, privacy
from petition.backups import files, journal, restore
from petition.backups.models import Erasure
from petition.models import Petition, Signature, SignatureLog

from .conftest import IN_CI, MANIFESTO_SLUG, confirmed_signatures

ROOT = Path(__file__).resolve().parents[1]


def restored(signature: Signature) -> Signature:
    """The row as a backup holds it, put back as a restore would."""
    values = {f.attname: getattr(signature, f.attname) for f in Signature._meta.concrete_fields}
    Signature.objects.bulk_create([Signature(**values)])
    return Signature.objects.get(pk=signature.pk)


def withdrawn_through_the_site(signature: Signature, capture) -> None:
    with capture(execute=True):
        privacy.withdraw(signature=signature)


# The journal of erasures.


def test_a_withdrawal_is_written_down_without_the_address_or_the_name(
    petition, django_capture_on_commit_callbacks
):
    signature = confirmed_signatures(petition, 1)[0]
    withdrawn_through_the_site(signature, django_capture_on_commit_callbacks)

    entry = Erasure.objects.get()
    assert (entry.kind, entry.signature_id, entry.petition_id) == (
        "withdrawn",
        signature.pk,
        petition.pk,
    )
    stored = " ".join(str(v) for v in Erasure.objects.values_list().get())
    for personal in (signature.email, signature.email_canonical, signature.last_name, "alex"):
        assert personal.lower() not in stored.lower()
    assert entry.fingerprint == journal.fingerprint(
        signature.pk, signature.created_at, signature.email_canonical
    )


def test_a_restore_applies_a_withdrawal_again_and_the_count_and_log_follow(
    petition, django_capture_on_commit_callbacks
):
    signatures = confirmed_signatures(petition, 5)
    with django_capture_on_commit_callbacks(execute=True):
        log.reconcile(petition.pk)
    leaving = Signature.objects.get(pk=signatures[0].pk)
    withdrawn_through_the_site(leaving, django_capture_on_commit_callbacks)
    # The restore puts the database back to before the withdrawal: the row is back, counted.
    restored(leaving)
    counting.reconcile(petition.pk)
    assert Petition.objects.get(pk=petition.pk).signature_count == 5

    with django_capture_on_commit_callbacks(execute=True):
        done = restore.finish(journal_entries=journal.entries())

    assert done.withdrawn_again == 1
    assert not Signature.objects.filter(pk=leaving.pk).exists()
    assert done.counts[MANIFESTO_SLUG] == 4
    assert SignatureLog.objects.get(petition=petition).count == 4 == log.recount(petition.pk)
    assert log.latest_head(petition).count == 4


def test_a_later_signature_that_got_the_same_id_after_a_restore_is_left_alone(
    petition, django_capture_on_commit_callbacks
):
    leaving = confirmed_signatures(petition, 1)[0]
    withdrawn_through_the_site(leaving, django_capture_on_commit_callbacks)
    # After a restore, ids are handed out again from the restored sequence.
    newcomer = Signature.objects.create(
        pk=leaving.pk,
        petition=petition,
        first_name="Noa",
        last_name="Leroy",
        email="noa.leroy@example.org",
        language="fr",
    )

    assert journal.reapply(journal.entries()).withdrawn == 0
    assert Signature.objects.filter(pk=newcomer.pk, email="noa.leroy@example.org").exists()


def test_a_withdrawal_is_recognised_after_the_secret_key_was_rotated(
    petition, settings, django_capture_on_commit_callbacks
):
    leaving = confirmed_signatures(petition, 1)[0]
    withdrawn_through_the_site(leaving, django_capture_on_commit_callbacks)
    restored(leaving)
    settings.SECRET_KEY_FALLBACKS = [settings.SECRET_KEY]
    settings.SECRET_KEY = "a-new-secret-key-after-rotation-" + "x" * 30

    with django_capture_on_commit_callbacks(execute=True):
        assert journal.reapply(journal.entries()).withdrawn == 1
    assert not Signature.objects.exists()


def test_a_restore_anonymises_a_closed_petition_again(
    petition, settings, django_capture_on_commit_callbacks
):
    settings.ANONYMISE_AFTER_DAYS = 180
    signatures = confirmed_signatures(petition, 3)
    Signature.objects.update(created_at=timezone.now() - timedelta(days=400))
    petition.is_open = False
    petition.save()
    Petition.objects.filter(pk=petition.pk).update(closed_at=timezone.now() - timedelta(days=181))
    assert privacy.apply_retention().anonymised == 3
    assert Erasure.objects.get().kind == "anonymised"
    # The backup still had their names.
    for signature in signatures:
        Signature.objects.filter(pk=signature.pk).update(
            first_name=signature.first_name,
            email=signature.email,
            email_canonical=signature.email,
            anonymised_at=None,
        )

    assert journal.reapply(journal.entries()).anonymised == 3

    assert set(Signature.objects.values_list("email", "first_name")) == {("", "")}
    assert Signature.objects.confirmed().count() == 3, "anonymised, still counted"


def test_the_journal_is_kept_as_long_as_the_backups_and_then_forgotten(
    petition, settings, django_capture_on_commit_callbacks
):
    settings.BACKUP_RETENTION_DAYS = 14
    for signature in confirmed_signatures(petition, 2):
        withdrawn_through_the_site(signature, django_capture_on_commit_callbacks)
    Erasure.objects.filter(pk=Erasure.objects.earliest("pk").pk).update(
        at=timezone.now() - timedelta(days=17)
    )
    Erasure.objects.filter(pk=Erasure.objects.latest("pk").pk).update(
        at=timezone.now() - timedelta(days=15)
    )

    assert privacy.apply_retention().erasures_forgotten == 1
    assert Erasure.objects.count() == 1


# After a point-in-time restore: the damaged database's log and journal.


@pytest.fixture
def scratch_database(requires_postgresql):
    """scratch_database(): a copy of the test database as it is now, on the same server, as
    the damaged database that a restore replaces; its URL."""
    settings = connection.settings_dict
    name = f"{settings['NAME']}_damaged"
    server = f"postgresql://{settings['USER']}@{settings['HOST'] or 'localhost'}:"
    server += f"{settings['PORT'] or 5432}"
    admin = psycopg.connect(f"{server}/postgres", autocommit=True)

    def copy(petition: Petition) -> str:
        connection.close()  # A template must have no other session.
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{settings["NAME"]}"')
        return f"{server}/{name}"

    yield copy
    admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    admin.close()


@pytest.mark.django_db(transaction=True)
def test_a_damaged_database_whose_log_does_not_extend_ours_is_refused_and_nothing_changes(
    petition, scratch_database
):
    confirmed_signatures(petition, 3)
    log.reconcile(petition.pk)
    log.sign_head(petition)
    damaged = scratch_database(petition)
    with psycopg.connect(damaged, autocommit=True) as other:
        # Another site's log: other leaves, at the same place.
        other.execute(
            "UPDATE petition_logtile SET data = overlay(data PLACING '\\xff'::bytea FROM 2 FOR 1)"
        )
    before = SignatureLog.objects.get(petition=petition).size, log.root_hash(petition.pk, 3)

    with pytest.raises(restore.RestoreRefused, match="not this site's database"):
        restore.finish(damaged_url=damaged)

    assert (SignatureLog.objects.get(petition=petition).size, log.root_hash(petition.pk, 3)) == (
        before
    )


@pytest.mark.django_db(transaction=True)
def test_the_damaged_database_journal_is_applied_again_and_its_log_carried_forward(
    petition, scratch_database
):
    confirmed_signatures(petition, 4)
    log.reconcile(petition.pk)
    log.sign_head(petition)
    leaving = Signature.objects.order_by("pk").first()
    privacy.withdraw(signature=leaving)
    log.reconcile(petition.pk)
    damaged = scratch_database(petition)
    # This database goes back to the backup's moment: the row is back, its erasure unknown.
    restored(leaving)
    Erasure.objects.all().delete()

    done = restore.finish(damaged_url=damaged)

    assert done.log_carried
    assert done.withdrawn_again == 1
    assert not Signature.objects.filter(pk=leaving.pk).exists()
    state = SignatureLog.objects.get(petition=petition)
    assert state.count == 3 == log.recount(petition.pk) == done.counts[MANIFESTO_SLUG]


# The embedded default: manage.py backup and restore FILE.


@pytest.fixture
def scratch_server():
    """scratch_server(name): an empty database of the suite's own on the PostgreSQL server."""
    settings = connection.settings_dict
    server = f"postgresql://{settings['USER']}@{settings['HOST'] or 'localhost'}:"
    server += f"{settings['PORT'] or 5432}"
    made = []
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:

        def make(suffix: str) -> str:
            name = f"{settings['NAME']}_{suffix}"
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
            made.append(name)
            return f"{server}/{name}"

        yield make
        for name in made:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def manage(database: Path, *args: str, **env: str) -> subprocess.CompletedProcess:
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": f"sqlite:///{database}",
        "CACHE_URL": "",
        "BACKUP_DIR": str(database.parent / "backups"),
        **env,
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def python(database: Path, code: str, **env: str) -> str:
    answer = manage(database, "shell", "-c", code, **env)
    assert answer.returncode == 0, answer.stderr
    return answer.stdout.strip().splitlines()[-1]


SIGNERS = (
    "import json; from petition.models import Petition, Signature\n"
    "print(json.dumps([Signature.objects.count(), Petition.objects.get().signature_count]))"
)


@pytest.fixture(scope="module")
def embedded(tmp_path_factory) -> dict[str, object]:
    """A SQLite site with 20 signatures, backed up; then one signer withdraws and five more
    sign. The backup's key and file."""
    folder = tmp_path_factory.mktemp("embedded")
    database = folder / "db.sqlite3"
    key = manage(database, "backup", "--new-key").stdout.strip().split("=", 1)[1]
    assert manage(database, "migrate", "--verbosity", "0").returncode == 0
    assert manage(database, "fake_signatures", MANIFESTO_SLUG, "20").returncode == 0
    made = manage(database, "backup", BACKUP_ENCRYPTION_KEY=key)
    assert made.returncode == 0, made.stderr
    backup = next((folder / "backups").glob("*.backup"))
    python(
        database,
        "from petition import privacy; from petition.models import Signature\n"
        "privacy.withdraw(signature=Signature.objects.order_by('pk').first())",
    )
    assert manage(database, "fake_signatures", MANIFESTO_SLUG, "5").returncode == 0
    return {"database": database, "key": key, "backup": backup}


def fingerprint_of(database: Path) -> str:
    return hashlib.sha256(database.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("key", "site", "message"),
    [
        ("", "http://testserver", "BACKUP_ENCRYPTION_KEY is not set"),
        ("not-a-key", "http://testserver", "is not a key made by"),
        ("another", "http://testserver", "cannot be decrypted with BACKUP_ENCRYPTION_KEY"),
        ("the backup's", "https://another.example.org", "not of this site"),
    ],
)
def test_a_backup_that_cannot_be_restored_here_is_refused_and_changes_nothing(
    embedded, key, site, message
):
    database = embedded["database"]
    before = fingerprint_of(database)
    keys = {"another": files.new_key(), "the backup's": embedded["key"]}
    env = {"BACKUP_ENCRYPTION_KEY": keys.get(key, key), "SITE_URL": site}

    answer = manage(database, "restore", str(embedded["backup"]), **env)

    assert answer.returncode != 0
    assert message in answer.stderr
    assert fingerprint_of(database) == before


def test_a_file_that_is_not_a_backup_is_refused(embedded, tmp_path):
    other = tmp_path / "notes.backup"
    other.write_text("hello")
    answer = manage(
        embedded["database"], "restore", str(other), BACKUP_ENCRYPTION_KEY=embedded["key"]
    )
    assert answer.returncode != 0
    assert "is not a backup made by `manage.py backup`" in answer.stderr


def test_a_backup_is_encrypted_and_private(embedded):
    content = embedded["backup"].read_bytes()
    assert b"example" not in content
    assert b"SQLite format" not in content
    assert embedded["backup"].stat().st_mode & 0o077 == 0


def test_restoring_the_embedded_backup_keeps_the_withdrawal_made_since(embedded, tmp_path):
    database = tmp_path / "db.sqlite3"
    shutil.copy(embedded["database"], database)
    assert json.loads(python(database, SIGNERS)) == [24, 24]

    answer = manage(
        database, "restore", str(embedded["backup"]), BACKUP_ENCRYPTION_KEY=embedded["key"]
    )

    assert answer.returncode == 0, answer.stderr
    assert "1 withdrawn signatures" in answer.stdout
    assert json.loads(python(database, SIGNERS)) == [19, 19], "the backup's 20, less one"
    log_count = python(
        database,
        "from petition.models import SignatureLog; print(SignatureLog.objects.get().count)",
    )
    assert log_count == "19"


def test_a_small_postgresql_site_is_backed_up_and_restored_in_place(
    requires_postgresql, scratch_server, tmp_path
):
    database = scratch_server("embedded")
    env = {"DATABASE_URL": database, "BACKUP_ENCRYPTION_KEY": files.new_key()}
    for args in (("migrate", "--verbosity", "0"), ("fake_signatures", MANIFESTO_SLUG, "12")):
        assert manage(tmp_path / "unused", *args, **env).returncode == 0
    made = manage(tmp_path / "unused", "backup", "--output", str(tmp_path / "pg.backup"), **env)
    assert made.returncode == 0, made.stderr
    python(
        tmp_path / "unused",
        "from petition import privacy; from petition.models import Signature\n"
        "privacy.withdraw(signature=Signature.objects.order_by('pk').first())",
        **env,
    )
    assert (
        manage(tmp_path / "unused", "fake_signatures", MANIFESTO_SLUG, "3", **env).returncode == 0
    )

    answer = manage(tmp_path / "unused", "restore", str(tmp_path / "pg.backup"), **env)

    assert answer.returncode == 0, answer.stderr
    assert json.loads(python(tmp_path / "unused", SIGNERS, **env)) == [11, 11]


# Monitoring.


def test_backup_status_fails_without_a_backup_then_passes_then_fails_when_it_is_old(
    settings, tmp_path
):
    settings.BACKUP_STANZA = ""
    settings.BACKUP_DIR = str(tmp_path)
    settings.BACKUP_MAX_AGE_HOURS = 24
    with pytest.raises(CommandError, match="No good backup"):
        call_command("backup_status")

    made = tmp_path / "petition-20261207-010000.backup"
    made.write_bytes(b"x")
    call_command("backup_status")

    old = time.time() - 25 * 3600
    os.utime(made, (old, old))
    with pytest.raises(CommandError, match="older than BACKUP_MAX_AGE_HOURS"):
        call_command("backup_status")


def test_backup_status_says_why_pgbackrest_has_no_good_backup(settings, tmp_path, monkeypatch):
    if shutil.which("pgbackrest") is None:
        if IN_CI:
            pytest.fail("CI must have pgbackrest (make pgbackrest)", pytrace=False)
        pytest.skip("pgbackrest is not installed (make pgbackrest)")
    config = tmp_path / "pgbackrest.conf"
    config.write_text(f"[global]\nrepo1-path={tmp_path}/repo\nlog-level-file=off\n")
    monkeypatch.setenv("PGBACKREST_CONFIG", str(config))
    settings.BACKUP_STANZA = "nowhere"
    with pytest.raises(CommandError, match="No good backup"):
        call_command("backup_status")
