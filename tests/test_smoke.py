import pytest
from django.core import mail
from django.urls import reverse

from petition.models import Signature


@pytest.mark.django_db
def test_sign_confirm_counts(client, petition, signer_data, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("petition", args=[petition.slug]), signer_data)
    assert response.status_code == 302
    assert len(mail.outbox) == 1
    body = mail.outbox[0].body
    link = next(line for line in body.splitlines() if "/confirm" in line or "/confirmer" in line)
    path = link.replace("http://testserver", "")
    assert client.get(path).status_code == 200
    assert Signature.objects.confirmed().count() == 0
    with django_capture_on_commit_callbacks(execute=True):
        client.post(path)
    petition.refresh_from_db()
    assert petition.signature_count == 1
