"""The confirmation e-mail leaves once: held while it is sent, swept up when it never left,
retried, and recorded for staff when the mail provider keeps failing. (The same against a real
broker, worker and SMTP server: tests/integration/test_faults.py.)"""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from petition import tasks
from petition.models import Signature


@pytest.fixture
def pending(signature) -> Signature:
    """A signature made a while ago whose e-mail never left (the broker was down)."""
    Signature.objects.filter(pk=signature.pk).update(
        created_at=timezone.now() - timedelta(minutes=10)
    )
    signature.refresh_from_db()
    return signature


def test_a_first_link_is_sent_once_however_often_its_task_runs(pending, mailoutbox):
    assert tasks.send_confirmation_email.apply(args=[pending.pk]).result is True
    assert tasks.send_confirmation_email.apply(args=[pending.pk]).result is False

    assert len(mailoutbox) == 1
    pending.refresh_from_db()
    assert pending.confirmation_sent_at is not None
    assert pending.confirmation_claim == ""


def test_a_signer_who_asks_again_gets_another_copy(pending, mailoutbox):
    tasks.send_confirmation_email.apply(args=[pending.pk])
    tasks.send_confirmation_email.apply(args=[pending.pk, True])

    assert len(mailoutbox) == 2


def test_a_copy_held_by_another_sending_is_not_sent_twice(pending, mailoutbox, settings):
    assert pending.claim_confirmation("a-task-still-sending-it")

    assert tasks.send_confirmation_email.apply(args=[pending.pk, True]).result is False
    assert not mailoutbox


def test_a_hold_left_by_a_dead_worker_expires(pending, mailoutbox, settings):
    settings.CONFIRMATION_CLAIM_SECONDS = 60
    pending.claim_confirmation("a-task-whose-worker-died")
    Signature.objects.filter(pk=pending.pk).update(
        confirmation_claimed_at=timezone.now() - timedelta(seconds=61)
    )

    assert tasks.send_confirmation_email.apply(args=[pending.pk]).result is True
    assert len(mailoutbox) == 1


def test_the_same_task_run_again_takes_its_hold_back_at_once(pending, mailoutbox):
    pending.claim_confirmation("task-1")

    assert tasks.send_confirmation_email.apply(args=[pending.pk], task_id="task-1").result
    assert len(mailoutbox) == 1


def test_the_sweep_sends_what_never_left_once(pending, signer_data, petition, mailoutbox):
    recent = Signature.objects.create(
        petition=petition, first_name="A", last_name="B", email="recent@example.org", language="fr"
    )
    sent = Signature.objects.create(
        petition=petition,
        first_name="C",
        last_name="D",
        email="sent@example.org",
        language="fr",
        created_at=timezone.now() - timedelta(minutes=10),
        confirmation_sent_at=timezone.now() - timedelta(minutes=9),
    )

    assert tasks.send_missing_confirmations.apply().result == 1
    assert tasks.send_missing_confirmations.apply().result == 0

    # Not the one signed a moment ago (its task may still be queued), nor the one sent.
    assert [message.to for message in mailoutbox] == [[pending.email]]
    assert {recent.email, sent.email}.isdisjoint(mailoutbox[0].to)


def dead_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def failing_mail(settings):
    """A mail server that does not answer: nothing listens on the port."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = "127.0.0.1"
    settings.EMAIL_PORT = dead_port()
    settings.EMAIL_TIMEOUT = 1


def test_a_lasting_failure_is_recorded_shown_to_staff_and_not_swept(
    pending,
    failing_mail,
    client,
    admin_user,
    settings,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    with pytest.raises(ConnectionRefusedError):
        tasks.send_confirmation_email.apply(args=[pending.pk], throw=True)

    pending.refresh_from_db()
    assert pending.confirmation_failed_at is not None
    assert "ConnectionRefusedError" in pending.confirmation_error
    assert pending.confirmation_sent_at is None
    assert tasks.send_missing_confirmations.apply().result == 0, "failed for good: staff decide"

    client.force_login(admin_user)
    listing = client.get(
        reverse("admin:petition_signature_changelist") + "?confirmation_failed_at__isnull=False"
    )
    assert listing.context["cl"].result_count == 1
    page = client.get(reverse("admin:petition_signature_change", args=[pending.pk]))
    assert "ConnectionRefusedError" in page.content.decode()

    # The provider works again: staff send it again.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("admin:petition_signature_changelist"),
            {"action": "send_confirmation_again", "_selected_action": [str(pending.pk)]},
        )
    assert response.status_code == 302
    pending.refresh_from_db()
    assert pending.confirmation_failed_at is None
    assert len(mailoutbox) == 1


@pytest.fixture
def broker_attempts(monkeypatch) -> list[tuple]:
    """The broker refuses every task; each attempt to queue one is kept."""
    attempts = []

    def unreachable(*args: object) -> None:
        attempts.append(args)
        raise BrokerUnavailable("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(tasks.send_confirmation_email, "delay", unreachable)
    return attempts


def test_with_the_broker_down_signing_works_and_stops_trying_the_broker(
    sign, broker_attempts, mailoutbox
):
    assert sign(email="first@example.org").status_code == 302
    assert sign(email="second@example.org").status_code == 302

    signed = Signature.objects.filter(email__in=["first@example.org", "second@example.org"])
    assert signed.count() == 2
    assert len(broker_attempts) == 1, "the second signing waited for the broker again"
    assert not mailoutbox  # the sweep sends both once the broker is back


def test_any_failure_to_queue_the_e_mail_still_thanks_the_signer(sign, monkeypatch, caplog):
    def broken(*args: object) -> None:
        raise RuntimeError("not a broker error")

    monkeypatch.setattr(tasks.send_confirmation_email, "delay", broken)

    assert sign(email="camille@example.org").status_code == 302
    assert Signature.objects.filter(email="camille@example.org").exists()
    assert "not a broker error" in caplog.text
