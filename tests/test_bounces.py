"""Bounces and complaints, as the mail provider reports them to anymail's tracking webhooks:
those addresses get no more e-mail, and staff see why (petition.tracking)."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta

import pytest
from anymail.signals import AnymailTrackingEvent, EventType, RejectReason
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from petition import mailings, services, tasks, tracking
from petition.models import Petition, Signature, SigningRequest, Suppression, Update

pytestmark = pytest.mark.django_db

WEBHOOK = "/anymail/brevo/tracking/"
SECRET = "provider:s3cret-webhook-password"


@pytest.fixture(autouse=True)
def webhook_secret(settings):
    settings.ANYMAIL = {**settings.ANYMAIL, "WEBHOOK_SECRET": SECRET}


def basic_auth(credentials: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(credentials.encode()).decode()}


def brevo_event(event: str, email: str, **fields: object) -> dict[str, object]:
    """A transactional webhook call as Brevo makes it."""
    return {
        "event": event,
        "email": email,
        "id": 1234567,
        "date": "2026-03-01 10:30:00",
        "ts": 1772357400,
        "message-id": "<202603011030.12345678901@smtp-relay.mailin.fr>",
        "ts_event": 1772357400,
        "subject": "Le manifeste au Parlement",
        "ts_epoch": 1772357400123,
        **fields,
    }


def post_event(client, payload: dict[str, object], credentials: str = SECRET):
    return client.post(
        WEBHOOK, json.dumps(payload), content_type="application/json", **basic_auth(credentials)
    )


def signer(petition: Petition, email: str, **fields: object) -> Signature:
    signed_at = timezone.now() - timedelta(days=1)
    values = {
        "first_name": "Camille",
        "last_name": "Durand",
        "language": "fr",
        "wants_news": True,
        "created_at": signed_at,
        "confirmed_at": signed_at,
        **fields,
    }
    return Signature.objects.create(petition=petition, email=email, **values)


def test_a_hard_bounce_suppresses_the_address_and_says_why(client, petition):
    signer(petition, "gone@example.org")

    response = post_event(
        client,
        brevo_event("hard_bounce", "gone@example.org", reason="550 5.1.1 user unknown"),
    )

    assert response.status_code == 200
    suppression = Suppression.objects.get()
    assert suppression.email == "gone@example.org"
    assert suppression.bounced_at == datetime(2026, 3, 1, 9, 30, 0, 123000, tzinfo=UTC)
    assert suppression.complained_at is None
    assert suppression.provider == "Brevo"
    assert "550 5.1.1 user unknown" in suppression.reason
    assert Signature.objects.suppressed().count() == 1


def test_a_complaint_suppresses_the_address(client, petition):
    signer(petition, "annoyed@example.org")

    post_event(client, brevo_event("spam", "annoyed@example.org"))

    suppression = Suppression.objects.get()
    assert suppression.complained_at is not None
    assert suppression.bounced_at is None


def test_a_soft_bounce_or_a_delivery_changes_nothing(client, petition):
    signer(petition, "full@example.org")

    for event in ["soft_bounce", "deferred", "delivered", "opened", "click"]:
        assert post_event(client, brevo_event(event, "full@example.org")).status_code == 200

    assert not Suppression.objects.exists()


@pytest.mark.parametrize(
    "credentials", ["provider:wrong-password", "someone:s3cret-webhook-password", ""]
)
def test_a_webhook_call_without_the_secret_is_refused(client, petition, credentials):
    signer(petition, "gone@example.org")
    headers = basic_auth(credentials) if credentials else {}

    response = client.post(
        WEBHOOK,
        json.dumps(brevo_event("hard_bounce", "gone@example.org")),
        content_type="application/json",
        **headers,
    )

    assert response.status_code == 400
    assert not Suppression.objects.exists()


def test_the_providers_unsubscribe_link_stops_the_campaigns_emails(client, petition):
    signature = signer(petition, "Leaving@Example.org")

    post_event(client, brevo_event("unsubscribe", "leaving@example.org"))

    signature.refresh_from_db()
    assert signature.unsubscribed_at is not None
    assert not Suppression.objects.exists()


def test_a_suppressed_address_gets_no_update(client, petition, django_user_model):
    signer(petition, "fine@example.org")
    signer(petition, "Bounced@Example.org")
    signer(petition, "complained@example.org")
    post_event(client, brevo_event("hard_bounce", "bounced@example.org"))
    post_event(client, brevo_event("complaint", "complained@example.org"))
    update = Update.objects.create(
        petition=petition, subject_fr="S", subject_en="S", body_fr="B", body_en="B"
    )
    staff = django_user_model.objects.create_user("staff", is_staff=True)

    mailings.start_sending(update=update, user=staff)
    tasks.prepare_update(update.pk)

    assert [message.to for message in mail.outbox] == [["fine@example.org"]]


def test_a_suppressed_address_gets_no_confirmation_either(
    client, petition, django_capture_on_commit_callbacks
):
    pending = signer(petition, "typo@exmaple.org", confirmed_at=None)
    post_event(client, brevo_event("hard_bounce", "typo@exmaple.org"))

    with django_capture_on_commit_callbacks(execute=True):
        services.send_confirmation(signature=pending)

    assert mail.outbox == []
    assert not SigningRequest.objects.exists()


def test_suppression_is_per_address_whatever_the_petition_or_the_letter_case(petition):
    other = Petition.objects.create(slug="other", title="Other", introduction="Another.")
    first = signer(petition, "Dominique@Example.org")
    second = signer(other, "dominique@example.org")

    services.record_delivery_problem(email="DOMINIQUE@example.org", bounced=True, reason="x")
    services.record_delivery_problem(email="dominique@example.org", complained=True, reason="y")

    suppression = Suppression.objects.get()
    assert suppression.bounced_at is not None
    assert suppression.complained_at is not None
    assert suppression.reason == "x\ny"
    assert set(Signature.objects.suppressed()) == {first, second}
    assert not Signature.objects.reachable().exists()


def event(event_type: str, **fields: object) -> AnymailTrackingEvent:
    return AnymailTrackingEvent(event_type=event_type, recipient="x@example.org", **fields)


@pytest.mark.parametrize(
    ("tracking_event", "bounced", "complained"),
    [
        (event(EventType.BOUNCED, description="Permanent: NoEmail"), True, False),
        (event(EventType.BOUNCED, description="Transient: MailboxFull"), False, False),
        (event(EventType.BOUNCED, esp_event={"event": "soft_bounce"}), False, False),
        (event(EventType.REJECTED, reject_reason=RejectReason.BOUNCED), True, False),
        (event(EventType.REJECTED, reject_reason=RejectReason.SPAM), False, True),
        (event(EventType.REJECTED, reject_reason=RejectReason.BLOCKED), False, False),
        (event(EventType.COMPLAINED), False, True),
        (event(EventType.DEFERRED), False, False),
    ],
)
def test_which_events_suppress(petition, tracking_event, bounced, complained):
    tracking.record_delivery_problem(sender=None, event=tracking_event, esp_name="Amazon SES")

    suppression = Suppression.objects.first()
    assert (suppression is not None and suppression.bounced_at is not None) == bounced
    assert (suppression is not None and suppression.complained_at is not None) == complained


def test_check_deploy_warns_when_the_webhooks_have_no_secret(settings):
    settings.EMAIL_BACKEND = "anymail.backends.brevo.EmailBackend"
    settings.ANYMAIL = {"BREVO_API_KEY": "key"}

    assert [message.id for message in tracking.check_webhook_secret()] == ["petition.W001"]
    settings.ANYMAIL = {"BREVO_API_KEY": "key", "WEBHOOK_SECRET": SECRET}
    assert tracking.check_webhook_secret() == []
    call_command("check", "--deploy", "--fail-level", "ERROR")  # registered, and not an error
