"""A signing is answered once: its e-mail held while it is sent, swept up when it never left
(the "already signed" note as much as the confirmation), retried, and recorded for staff when
the mail provider keeps failing. (The same against a real broker, worker and SMTP server:
tests/integration/test_faults.py.)"""

from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from kombu.exceptions import OperationalError as BrokerUnavailable

from petition import services, tasks
from petition.forms import SignatureForm
from petition.models import MailboxAllowance, Signature, SigningRequest
from tests.conftest import signing_form

CONFIRM_SUBJECT = "Confirm your signature of the CAMELEON manifesto"
ALREADY_SIGNED_SUBJECT = "You have already signed the CAMELEON manifesto"


@pytest.fixture
def take(petition, django_capture_on_commit_callbacks):
    """take(email=…): a signing taken in by the site, its task not yet run (as when the
    broker was down); returns the request's id."""

    def take(**changes: str) -> int:
        form = SignatureForm(signing_form(**changes))
        assert form.is_valid(), form.errors
        with django_capture_on_commit_callbacks(execute=False):
            request = services.sign(petition=petition, details=form.details(), language="fr")
        return request.pk

    return take


def answer(request_id: int, **options: object) -> str:
    return tasks.answer_signing.apply(args=[request_id], **options).result


def age(request_id: int, minutes: int = 10) -> None:
    SigningRequest.objects.filter(pk=request_id).update(
        created_at=timezone.now() - timedelta(minutes=minutes)
    )


def test_a_signing_is_answered_once_however_often_its_task_runs(take, mailoutbox):
    request_id = take()

    assert answer(request_id) == "confirm"
    assert answer(request_id) == ""

    assert len(mailoutbox) == 1
    signature = Signature.objects.get()
    assert signature.confirmation_sent_at is not None
    assert not SigningRequest.objects.exists(), "nothing of what the signer typed is kept twice"


def test_a_signer_who_signs_again_gets_another_copy(take, mailoutbox, translated):
    answer(take())
    answer(take())

    assert [message.subject for message in mailoutbox] == [translated("fr", CONFIRM_SUBJECT)] * 2
    assert Signature.objects.count() == 1


def test_a_request_held_by_another_task_is_not_sent_twice(take, mailoutbox):
    request_id = take()
    assert services.decide_signing(request_id=request_id, holder="a-task-still-sending-it")

    assert answer(request_id) == ""
    assert not mailoutbox


def test_a_hold_left_by_a_dead_worker_expires(take, mailoutbox):
    request_id = take()
    services.decide_signing(request_id=request_id, holder="a-task-whose-worker-died")
    SigningRequest.objects.filter(pk=request_id).update(
        held_until=timezone.now() - timedelta(seconds=1)
    )

    assert answer(request_id) == "confirm"
    assert len(mailoutbox) == 1


def test_the_same_task_run_again_takes_its_hold_back_and_sends_what_was_decided(
    take, mailoutbox, settings
):
    settings.SIGNING_MAILS_PER_DAY = 1
    request_id = take()
    services.decide_signing(request_id=request_id, holder="task-1")

    # Deciding again would find the allowance spent: the decision made stands.
    assert answer(request_id, task_id="task-1") == "confirm"
    assert len(mailoutbox) == 1
    [allowance] = MailboxAllowance.objects.all()
    assert len(allowance.sent) == 1


def test_the_sweep_answers_what_was_never_answered_once(take, sign, mailoutbox):
    old = take(email="old@example.org")
    age(old)
    take(email="recent@example.org")  # its task may still be queued
    held = take(email="held@example.org")
    age(held)
    services.decide_signing(request_id=held, holder="a-task-sending-it")

    assert tasks.answer_unanswered_signings.apply().result == 1
    assert tasks.answer_unanswered_signings.apply().result == 0

    assert [message.to for message in mailoutbox] == [["old@example.org"]]


def test_an_already_signed_note_lost_with_the_broker_is_swept_up_and_sent_once(
    take, signature, mailoutbox, translated
):
    Signature.objects.filter(pk=signature.pk).update(confirmed_at=timezone.now())
    lost = take(email=signature.email)
    age(lost)

    assert tasks.answer_unanswered_signings.apply().result == 1
    assert tasks.answer_unanswered_signings.apply().result == 0

    assert [message.subject for message in mailoutbox] == [translated("fr", ALREADY_SIGNED_SUBJECT)]
    assert mailoutbox[0].to == [signature.email]


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
    take,
    failing_mail,
    client,
    admin_user,
    settings,
    mailoutbox,
    django_capture_on_commit_callbacks,
):
    request_id = take()
    age(request_id)
    with pytest.raises(ConnectionRefusedError):
        answer(request_id, throw=True)

    pending = Signature.objects.get()
    assert pending.confirmation_failed_at is not None
    assert "ConnectionRefusedError" in pending.confirmation_error
    assert pending.confirmation_sent_at is None
    assert tasks.answer_unanswered_signings.apply().result == 0, "failed for good: staff decide"

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

    monkeypatch.setattr(tasks.answer_signings, "delay", unreachable)
    return attempts


def test_with_the_broker_down_signing_works_and_stops_trying_the_broker(
    sign, broker_attempts, mailoutbox, monkeypatch
):
    assert sign(email="first@example.org").status_code == 302
    assert sign(email="second@example.org").status_code == 302

    taken = SigningRequest.objects.filter(email__in=["first@example.org", "second@example.org"])
    assert taken.count() == 2
    assert len(broker_attempts) == 1, "the second signing waited for the broker again"
    assert not mailoutbox

    # The broker is back: the sweep answers both, once.
    monkeypatch.undo()
    taken.update(created_at=timezone.now() - timedelta(minutes=10))
    assert tasks.answer_unanswered_signings.apply().result == 2
    assert sorted(message.to[0] for message in mailoutbox) == [
        "first@example.org",
        "second@example.org",
    ]


def test_any_failure_to_queue_the_e_mail_still_thanks_the_signer(sign, monkeypatch, caplog):
    def broken(*args: object) -> None:
        raise RuntimeError("not a broker error")

    monkeypatch.setattr(tasks.answer_signings, "delay", broken)

    assert sign(email="camille@example.org").status_code == 302
    assert SigningRequest.objects.filter(email="camille@example.org").exists()
    assert "not a broker error" in caplog.text
