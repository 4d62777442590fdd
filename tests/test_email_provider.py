"""What the site hands to an e-mail service provider, through anymail's test backend."""

import pytest
from django.core import mail
from django.urls import resolve

from petition.models import Signature
from petition.tokens import read_confirmation_token


@pytest.fixture
def provider(settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_the_provider_gets_one_message_with_both_parts_and_the_unsubscribe_headers(
    provider, sign, lang, translated, email_links
):
    sign(lang=lang)

    (message,) = mail.outbox
    params = message.anymail_test_params
    signature = Signature.objects.get()
    assert params["to"][0].addr_spec == signature.email
    assert params["subject"] == translated(lang, "Confirm your signature of the CAMELEON manifesto")
    assert params["is_batch_send"] is False
    confirm_path = email_links(message)["confirm"]
    assert read_confirmation_token(resolve(confirm_path).kwargs["token"]) == signature
    assert f'{confirm_path}"' in params["html_body"]
    assert "alternatives" not in params  # the HTML part went as the provider's html body
    headers = params["extra_headers"]
    assert headers["List-Unsubscribe"].startswith("<http")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    # The provider writes the Message-ID (some refuse one from the sender); the site writes it
    # only where Django writes the message (tests/integration/test_mail_score.py).
    assert "Message-ID" not in headers
    assert message.anymail_status.status == {"sent"}
    assert Signature.objects.get().confirmation_sent_at is not None
