"""The running count: exact, folded by Celery, never double-counted, repaired when it drifts."""

from __future__ import annotations

import threading
import time
from datetime import timedelta

import pytest
from django.db import connection, connections, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from petition import counting, services, tasks
from petition.models import Petition, Signature


def add(petition: Petition, number: int, *, confirmed_ago: timedelta | None, start: int = 0):
    now = timezone.now()
    Signature.objects.bulk_create(
        Signature(
            petition=petition,
            first_name="Alex",
            last_name=f"Petit {n}",
            email=f"alex.petit.{n}@example.org",
            postal_code="13001",
            language="fr",
            created_at=now - timedelta(days=1),
            confirmed_at=None if confirmed_ago is None else now - confirmed_ago,
        )
        for n in range(start, start + number)
    )


def stored_count(petition: Petition) -> int:
    petition.refresh_from_db()
    return petition.signature_count


@pytest.mark.django_db
def test_fold_counts_confirmed_signatures_only(petition):
    add(petition, 7, confirmed_ago=timedelta(minutes=5))
    add(petition, 3, confirmed_ago=None, start=100)

    counting.fold(petition.pk)

    assert stored_count(petition) == 7


@pytest.mark.django_db
def test_fold_takes_in_new_confirmations_and_settles_old_ones(petition):
    add(petition, 5, confirmed_ago=timedelta(minutes=5))
    counting.fold(petition.pk)
    add(petition, 2, confirmed_ago=timedelta(seconds=1), start=100)

    counting.fold(petition.pk)
    counting.fold(petition.pk)

    petition.refresh_from_db()
    assert petition.signature_count == 7
    assert petition.settled_count == 5  # the two recent ones are still re-counted every fold


@pytest.mark.django_db
def test_a_confirmation_committed_late_inside_the_window_is_still_counted(petition):
    counting.fold(petition.pk)
    # Its confirmed_at was taken 30 s ago, before an earlier fold; it only becomes visible now.
    add(petition, 1, confirmed_ago=timedelta(seconds=30))

    counting.fold(petition.pk)

    assert stored_count(petition) == 1


@pytest.mark.django_db
def test_reconciliation_repairs_a_corrupted_count_and_reports_the_drift(petition, caplog):
    add(petition, 12, confirmed_ago=timedelta(minutes=5))
    counting.fold(petition.pk)
    Petition.objects.filter(pk=petition.pk).update(signature_count=999, settled_count=990)

    tally = counting.reconcile(petition.pk)

    assert tally.signature_count == 12
    assert tally.drift == 12 - 990
    assert stored_count(petition) == 12
    assert "drifted" in caplog.text
    counting.fold(petition.pk)
    assert stored_count(petition) == 12


@pytest.mark.django_db
def test_reconciliation_finds_a_confirmation_older_than_the_window(petition):
    counting.fold(petition.pk)
    # Committed more than the settling window after its timestamp: folds cannot see it.
    add(petition, 1, confirmed_ago=counting.SETTLE_AFTER * 2)
    counting.fold(petition.pk)
    assert stored_count(petition) == 0

    tasks.reconcile_counts()

    assert stored_count(petition) == 1


@pytest.mark.django_db
def test_the_update_time_moves_only_when_the_count_does(petition):
    add(petition, 2, confirmed_ago=timedelta(minutes=5))
    counting.fold(petition.pk)
    petition.refresh_from_db()
    first = petition.count_updated_at

    counting.fold(petition.pk)
    petition.refresh_from_db()
    assert petition.count_updated_at == first

    add(petition, 1, confirmed_ago=timedelta(seconds=1), start=50)
    counting.fold(petition.pk)
    petition.refresh_from_db()
    assert petition.count_updated_at > first


@pytest.mark.django_db
def test_confirming_touches_no_shared_row(petition, django_capture_on_commit_callbacks):
    # With a broker, a beat folds the counts: the request only stamps the signature.
    add(petition, 1, confirmed_ago=None)
    signature = Signature.objects.get()
    tasks.fold_count.app.conf.task_always_eager = False
    try:
        with (
            CaptureQueriesContext(connection) as queries,
            django_capture_on_commit_callbacks() as callbacks,
        ):
            services.confirm(signature=signature)
    finally:
        tasks.fold_count.app.conf.task_always_eager = True
    writes = [q["sql"] for q in queries if q["sql"].startswith(("UPDATE", "INSERT", "DELETE"))]
    assert len(writes) == 1
    assert '"petition_signature"' in writes[0]
    assert callbacks == []
    assert stored_count(petition) == 0


@pytest.mark.django_db(transaction=True)
def test_concurrent_confirmations_leave_the_count_exact(petition, requires_postgresql):
    add(petition, 40, confirmed_ago=None)
    ids = list(Signature.objects.values_list("pk", flat=True))
    barrier = threading.Barrier(8)

    def confirm_share(share: list[int]) -> None:
        try:
            barrier.wait()
            for pk in share:
                services.confirm(signature=Signature.objects.get(pk=pk))
                counting.fold(petition.pk)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=confirm_share, args=(ids[i::8],)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    tasks.fold_counts()

    assert stored_count(petition) == 40


@pytest.mark.django_db(transaction=True)
def test_two_folds_at_once_count_once(petition, requires_postgresql):
    add(petition, 25, confirmed_ago=timedelta(minutes=5))
    results: list[counting.Tally | None] = []
    barrier = threading.Barrier(2)

    def fold_once() -> None:
        try:
            barrier.wait()
            results.append(counting.fold(petition.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=fold_once) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert stored_count(petition) == 25
    assert all(result is None or result.signature_count == 25 for result in results)
    counting.fold(petition.pk)
    assert stored_count(petition) == 25


@pytest.mark.django_db(transaction=True)
def test_a_fold_gives_up_on_a_locked_table_and_the_next_one_counts(petition, requires_postgresql):
    add(petition, 3, confirmed_ago=timedelta(minutes=5))
    locked, release = threading.Event(), threading.Event()

    def hold_the_table() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("LOCK TABLE petition_signature IN ACCESS EXCLUSIVE MODE")
                locked.set()
                release.wait(10)
        finally:
            connections.close_all()

    holder = threading.Thread(target=hold_the_table)
    holder.start()
    try:
        assert locked.wait(5)
        started = time.monotonic()
        tasks.fold_counts()  # neither waits nor fails
        assert time.monotonic() - started < 5
        assert stored_count(petition) == 0
    finally:
        release.set()
        holder.join()

    tasks.fold_counts()
    assert stored_count(petition) == 3
