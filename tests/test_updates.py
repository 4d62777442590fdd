"""Updates to signers: who receives them, in which language, with which links, in batches, and
what a failure or a crash leaves (petition.mailings). Tasks run eagerly here; the integration
test test_update_resume kills a real worker."""

from __future__ import annotations

import smtplib
from datetime import timedelta
from itertools import count

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.test import Client
from django.utils import timezone, translation
from django.utils.translation import gettext

from manifesto.celery import app as celery_app
from petition import mailings, tasks
from petition.models import Petition, Signature, Suppression, Update, UpdateDelivery

pytestmark = pytest.mark.django_db

numbers = count()
Skip = UpdateDelivery.SkipReason


@pytest.fixture(autouse=True)
def unthrottled(settings):
    # Throttling has tests of its own; elsewhere batches follow one another at once.
    settings.UPDATE_SEND_RATE = 0
    settings.UPDATE_BATCH_SIZE = 500


def signer(petition: Petition, **fields: object) -> Signature:
    n = next(numbers)
    signed_at = timezone.now() - timedelta(days=3)
    values: dict[str, object] = {
        "first_name": "Camille",
        "last_name": f"Durand {n}",
        "email": f"camille.{n}@example.org",
        "postal_code": "75011",
        "language": "fr",
        "wants_news": True,
        "created_at": signed_at,
        "confirmed_at": signed_at + timedelta(minutes=3),
        **fields,
    }
    return Signature.objects.create(petition=petition, **values)


def write_update(petition: Petition, **fields: str) -> Update:
    values = {
        "subject_fr": "Le manifeste au Parlement",
        "subject_en": "The manifesto goes to Parliament",
        "body_fr": "Nous avons remis vos signatures.\n\nMerci à vous : https://example.org/suite",
        "body_en": "We handed over your signatures.\n\nThank you: https://example.org/next",
        **fields,
    }
    return Update.objects.create(petition=petition, **values)


@pytest.fixture
def staff(django_user_model):
    return django_user_model.objects.create_user(
        "claire", "claire@example.org", "pw", is_staff=True, first_name="Claire"
    )


@pytest.fixture
def send(django_capture_on_commit_callbacks, staff):
    """send(update): order the sending as staff do, and let the tasks run after the commit."""

    def send(update: Update) -> bool:
        with django_capture_on_commit_callbacks(execute=True):
            return mailings.start_sending(update=update, user=staff)

    return send


def sent_to(outbox: list) -> list[str]:
    return sorted(address for message in outbox for address in message.to)


def test_an_update_reaches_confirmed_signers_who_asked_for_news_in_their_own_language(
    petition, send
):
    french = signer(petition, first_name="Élodie", language="fr")
    english = signer(petition, first_name="Oliver", language="en")
    update = write_update(petition)

    assert send(update)

    assert sent_to(mail.outbox) == sorted([french.email, english.email])
    by_address = {message.to[0]: message for message in mail.outbox}
    fr, en = by_address[french.email], by_address[english.email]
    assert fr.subject == "Le manifeste au Parlement"
    assert en.subject == "The manifesto goes to Parliament"
    with translation.override("fr"):
        assert gettext("Hello %(name)s,") % {"name": "Élodie"} in fr.body
    assert "Hello Oliver," in en.body
    assert "Nous avons remis vos signatures." in fr.body
    html = {mimetype: content for content, mimetype in fr.alternatives}["text/html"]
    assert '<html lang="fr">' in html
    assert '<a href="https://example.org/suite" rel="nofollow">' in html
    update.refresh_from_db()
    assert update.recipient_count == 2
    assert update.finished_at is not None
    assert mailings.progress(update).sent == 2


def test_unsubscribed_bounced_complaining_unconfirmed_and_uninterested_signers_get_nothing(
    petition, send
):
    receives = signer(petition)
    signer(petition, confirmed_at=None)
    signer(petition, wants_news=False)
    signer(petition, unsubscribed_at=timezone.now())
    bounced = signer(petition)
    complained = signer(petition)
    Suppression.objects.create(email=bounced.email.upper(), bounced_at=timezone.now())
    Suppression.objects.create(email=complained.email, complained_at=timezone.now())
    other = Petition.objects.create(slug="other", title="Other", introduction="Another.")
    signer(other)

    send(write_update(petition))

    assert sent_to(mail.outbox) == [receives.email]


def test_signers_who_leave_after_the_list_is_made_are_skipped_with_the_reason(
    petition, staff, django_capture_on_commit_callbacks
):
    stays, leaves, bounces = signer(petition), signer(petition), signer(petition)
    update = write_update(petition)
    mailings.start_sending(update=update, user=staff)
    mailings.prepare(update_id=update.pk)
    leaves.mark_unsubscribed()
    Suppression.objects.create(email=bounces.email, bounced_at=timezone.now())

    mailings.send_batch(update_id=update.pk)

    assert sent_to(mail.outbox) == [stays.email]
    reasons = dict(update.deliveries.values_list("signature_id", "skip_reason"))
    assert reasons == {stays.pk: "", leaves.pk: Skip.UNSUBSCRIBED, bounces.pk: Skip.SUPPRESSED}


def test_every_message_carries_its_signers_own_unsubscribe_link_and_the_rfc_8058_headers(
    petition, send, email_links
):
    first, second = signer(petition), signer(petition, language="en")
    send(write_update(petition))
    by_address = {message.to[0]: message for message in mail.outbox}

    for signature in (first, second):
        message = by_address[signature.email]
        link = email_links(message)["unsubscribe"]
        html = message.alternatives[0][0]
        assert link in html
        assert message.extra_headers["List-Unsubscribe"] == f"<http://testserver{link}>"
        assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"

    # What a mail client does with the header: a bare POST, no cookie, no CSRF token.
    header = by_address[second.email].extra_headers["List-Unsubscribe"].strip("<>")
    response = Client(enforce_csrf_checks=True).post(
        header.removeprefix("http://testserver"), {"List-Unsubscribe": "One-Click"}
    )
    assert response.status_code == 200
    first.refresh_from_db()
    second.refresh_from_db()
    assert second.unsubscribed_at is not None
    assert first.unsubscribed_at is None


def test_a_first_name_is_escaped_in_html_and_left_as_typed_in_text(petition, send):
    signer(petition, first_name="<b>Léa</b> & Co")

    send(write_update(petition))

    message = mail.outbox[0]
    assert "<b>Léa</b> & Co," in message.body
    assert "&lt;b&gt;Léa&lt;/b&gt; &amp; Co," in message.alternatives[0][0]


def test_ordering_twice_sends_once(petition, send):
    signer(petition)
    update = write_update(petition)

    assert send(update)
    assert not send(update)
    tasks.prepare_update(update.pk)
    tasks.send_update_batch(update.pk)

    assert len(mail.outbox) == 1
    assert update.deliveries.count() == 1


def test_the_list_of_recipients_is_made_once(petition, staff):
    signer(petition)
    update = write_update(petition)
    mailings.start_sending(update=update, user=staff)

    assert mailings.prepare(update_id=update.pk)
    signer(petition)  # signs after the list was made
    assert not mailings.prepare(update_id=update.pk)

    assert update.deliveries.count() == 1


def test_sending_waits_for_the_commit(petition, staff, django_capture_on_commit_callbacks):
    signer(petition)
    update = write_update(petition)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        mailings.start_sending(update=update, user=staff)

    assert mail.outbox == []
    assert len(callbacks) == 1
    callbacks[0]()
    assert len(mail.outbox) == 1


def test_batches_through_anymail_carry_merge_data_and_headers_per_signer(petition, send, settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.UPDATE_BATCH_SIZE = 2
    signers = [signer(petition, first_name=f"Prénom{i}") for i in range(3)]
    english = signer(petition, first_name="Oliver", language="en")

    send(write_update(petition))

    # Two French batches (2 + 1 signers) and one English: one provider call each.
    assert len(mail.outbox) == 3
    assert all(message.anymail_test_params["is_batch_send"] for message in mail.outbox)
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == sorted(s.email for s in [*signers, english])
    merge_data, merge_headers = {}, {}
    for message in mail.outbox:
        merge_data.update(message.merge_data)
        merge_headers.update(message.merge_headers)
        assert "{{first_name}}" in message.body
        assert "{{first_name_html}}" in message.alternatives[0][0]
        assert message.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert merge_data[english.email]["first_name"] == "Oliver"
    url = merge_data[english.email]["unsubscribe_url"]
    assert "/en/" in url
    assert merge_headers[english.email] == {"List-Unsubscribe": f"<{url}>"}
    assert len({data["unsubscribe_url"] for data in merge_data.values()}) == 4


def test_one_message_per_signer_when_the_merge_syntax_is_off(petition, send, settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.UPDATE_MERGE_FIELD = "off"
    signer(petition), signer(petition)

    send(write_update(petition))

    assert [len(message.to) for message in mail.outbox] == [1, 1]
    assert not any(message.anymail_test_params["is_batch_send"] for message in mail.outbox)


class FlakyBackend(LocmemBackend):
    """A mail server that fails once on the nth message, the way the test says."""

    failures: dict[int, Exception] = {}
    calls = 0

    def send_messages(self, messages: list) -> int:
        FlakyBackend.calls += 1
        error = FlakyBackend.failures.pop(FlakyBackend.calls, None)
        if error is not None:
            raise error
        return super().send_messages(messages)


@pytest.fixture
def flaky(settings):
    settings.EMAIL_BACKEND = "tests.test_updates.FlakyBackend"
    FlakyBackend.calls = 0
    FlakyBackend.failures = {}
    return FlakyBackend


def test_a_refusal_midway_sends_the_rest_later_and_nobody_twice(petition, staff, flaky):
    signers = [signer(petition) for _ in range(5)]
    flaky.failures = {3: smtplib.SMTPDataError(451, b"Try again later")}
    update = write_update(petition)
    mailings.start_sending(update=update, user=staff)
    mailings.prepare(update_id=update.pk)

    with pytest.raises(smtplib.SMTPDataError):
        mailings.send_batch(update_id=update.pk)  # Celery retries it later

    assert len(mail.outbox) == 2
    assert mailings.progress(update).pending == 3
    mailings.send_batch(update_id=update.pk)
    assert sent_to(mail.outbox) == sorted(s.email for s in signers)
    update.refresh_from_db()
    assert update.finished_at is not None


def test_a_connection_lost_while_handing_over_leaves_that_copy_uncertain_and_unsent(
    petition, staff, flaky
):
    signers = [signer(petition) for _ in range(4)]
    flaky.failures = {2: smtplib.SMTPServerDisconnected("Connection unexpectedly closed")}
    update = write_update(petition)
    mailings.start_sending(update=update, user=staff)
    mailings.prepare(update_id=update.pk)

    with pytest.raises(smtplib.SMTPServerDisconnected):
        mailings.send_batch(update_id=update.pk)
    mailings.send_batch(update_id=update.pk)

    progress = mailings.progress(update)
    assert (progress.sent, progress.uncertain, progress.pending) == (3, 1, 0)
    doubtful = update.deliveries.get(skip_reason=Skip.UNCERTAIN)
    assert doubtful.signature == signers[1]
    assert "Connection unexpectedly closed" in doubtful.detail
    assert signers[1].email not in sent_to(mail.outbox)

    # Staff may choose to send it again, knowing it may arrive twice.
    with_commit = mailings.resend_uncertain(update=update)
    assert with_commit == 1
    mailings.send_batch(update_id=update.pk)
    assert sent_to(mail.outbox) == sorted(s.email for s in signers)


def test_a_recipient_refused_for_good_is_recorded_and_not_retried(petition, staff, flaky):
    refused, fine = signer(petition), signer(petition)
    flaky.failures = {
        1: smtplib.SMTPRecipientsRefused({refused.email: (550, b"5.1.1 No such user")})
    }
    update = write_update(petition)
    mailings.start_sending(update=update, user=staff)
    mailings.prepare(update_id=update.pk)

    mailings.send_batch(update_id=update.pk)

    assert sent_to(mail.outbox) == [fine.email]
    rejected = update.deliveries.get(signature=refused)
    assert rejected.skip_reason == Skip.REJECTED
    assert "No such user" in rejected.detail


def test_a_dead_batch_is_taken_over_its_unsent_copies_resent_its_doubtful_one_not(
    petition, staff, settings
):
    settings.UPDATE_BATCH_TIME_LIMIT = 10
    signers = [signer(petition) for _ in range(4)]
    update = write_update(petition)
    mailings.start_sending(update=update, user=staff)
    mailings.prepare(update_id=update.pk)
    # What a worker killed midway leaves: a claim on every copy, the first handed over and
    # recorded sent, the second handed over (it may have left), the others not yet.
    long_ago = timezone.now() - timedelta(seconds=21)
    rows = list(update.deliveries.order_by("pk"))
    update.deliveries.update(claim="00000000-0000-0000-0000-000000000001", claimed_at=long_ago)
    UpdateDelivery.objects.filter(pk=rows[0].pk).update(attempted_at=long_ago, sent_at=long_ago)
    UpdateDelivery.objects.filter(pk=rows[1].pk).update(attempted_at=long_ago)
    Update.objects.filter(pk=update.pk).update(progressed_at=long_ago)

    plan = mailings.resume()

    assert plan.send == [update.pk]
    tasks.send_update_batch(update.pk)
    assert sent_to(mail.outbox) == sorted(s.email for s in signers[2:])
    progress = mailings.progress(update)
    assert (progress.sent, progress.uncertain, progress.pending, progress.in_flight) == (3, 1, 0, 0)
    update.refresh_from_db()
    assert update.finished_at is not None


def test_a_live_batch_is_left_alone(petition, staff):
    signer(petition)
    update = write_update(petition)
    mailings.start_sending(update=update, user=staff)
    mailings.prepare(update_id=update.pk)
    update.deliveries.update(
        claim="00000000-0000-0000-0000-000000000002", claimed_at=timezone.now()
    )

    assert mailings.resume().send == []
    assert mailings.progress(update).in_flight == 1


def test_a_batch_that_outlived_its_lease_hands_over_nothing_taken_back(petition, staff):
    taken_back = signer(petition)
    update = write_update(petition)
    mailings.start_sending(update=update, user=staff)
    mailings.prepare(update_id=update.pk)
    claim = mailings._claim(update, 10)
    # Recovery gave the copy to another batch meanwhile.
    UpdateDelivery.objects.filter(signature=taken_back).update(
        claim="00000000-0000-0000-0000-000000000003"
    )

    assert mailings._attempt(claim, claim.ids) == []


def test_an_ordered_update_whose_list_was_never_made_is_listed_again(petition, staff, settings):
    settings.UPDATE_BATCH_TIME_LIMIT = 10
    signer(petition)
    update = write_update(petition)
    update.mark_queued(staff)  # the broker was down: the task never left
    Update.objects.filter(pk=update.pk).update(queued_at=timezone.now() - timedelta(minutes=1))

    plan = mailings.resume()

    assert plan.prepare == [update.pk]


def test_the_rate_sizes_and_spaces_the_batches(petition, staff, settings):
    settings.UPDATE_SEND_RATE = 4
    for _ in range(6):
        signer(petition)
    update = write_update(petition)
    mailings.start_sending(update=update, user=staff)
    mailings.prepare(update_id=update.pk)

    outcome = mailings.send_batch(update_id=update.pk)

    assert mailings.batch_size() == 4
    assert (outcome.sent, outcome.more) == (4, True)
    assert 0.5 < outcome.wait <= 1.0  # four messages a second
    outcome = mailings.send_batch(update_id=update.pk)
    assert (outcome.sent, outcome.more) == (2, False)


def test_updates_go_on_the_bulk_queue_and_confirmations_do_not():
    def queue(name: str) -> str:
        return celery_app.amqp.router.route({}, name)["queue"].name

    assert queue("petition.tasks.send_update_batch") == "bulk"
    assert queue("petition.tasks.prepare_update") == "bulk"
    assert queue("petition.tasks.resume_updates") == "bulk"
    assert queue("petition.tasks.send_confirmation_email") == "celery"
    assert {q.name for q in celery_app.conf.task_queues} >= {"celery", "counts", "bulk"}
    batch = celery_app.tasks["petition.tasks.send_update_batch"]
    assert batch.acks_late
    assert batch.time_limit


def test_a_test_goes_to_the_staff_member_in_every_language(
    petition, staff, django_capture_on_commit_callbacks
):
    signer(petition)
    update = write_update(petition)

    with django_capture_on_commit_callbacks(execute=True):
        mailings.send_test(update=update, user=staff)

    assert [message.to for message in mail.outbox] == [["claire@example.org"]] * 2
    subjects = sorted(message.subject for message in mail.outbox)
    with translation.override("fr"):
        french = gettext("[Test] %(subject)s") % {"subject": "Le manifeste au Parlement"}
    assert subjects == sorted([french, "[Test] The manifesto goes to Parliament"])
    assert all("Claire," in message.body for message in mail.outbox)
    update.refresh_from_db()
    assert update.tested_at is not None
    assert update.is_draft


def test_placeholder_characters_typed_by_staff_change_nothing(petition, send):
    signer(petition, first_name="Camille")

    send(write_update(petition, body_fr="Avant \ue000first_name\ue001 après"))

    assert "Avant first_name après" in mail.outbox[0].body
