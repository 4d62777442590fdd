"""Privacy as the notice promises it: consent recorded word for word, personal data kept no
longer than said, and a signature its signer can take back from any e-mail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.utils import timezone, translation

from petition import counting, privacy
from petition.forms import SignatureForm
from petition.models import ConsentWording, Petition, Signature

LANGUAGES = ["fr", "en"]


# Consent.


@pytest.mark.parametrize("lang", LANGUAGES)
def test_consent_to_sign_and_to_news_are_recorded_word_for_word(sign, lang):
    sign(lang=lang, wants_news="on")

    signature = Signature.objects.get()
    with translation.override(lang):
        shown = {
            name: str(SignatureForm.base_fields[name].label) for name in ("consent", "wants_news")
        }
    assert (signature.consent.kind, signature.consent.language) == ("sign", lang)
    assert signature.consent.text == shown["consent"]
    assert signature.news_consent.text == shown["wants_news"]
    # Its time is the signature's: both boxes are ticked on the form that is sent.
    assert signature.consent.first_used_at <= signature.created_at


def test_no_news_consent_is_recorded_for_a_signer_who_did_not_tick_it(sign):
    sign()

    signature = Signature.objects.get()
    assert signature.consent is not None
    assert signature.news_consent is None


def test_a_wording_is_stored_once_however_many_agree_to_it(sign):
    for number in range(3):
        sign(email=f"signer.{number}@example.org", wants_news="on")

    assert ConsentWording.objects.count() == 2


@pytest.mark.parametrize("lang", LANGUAGES)
def test_signing_without_consent_is_refused_with_a_translated_message(
    sign, lang, html, translated, mailoutbox
):
    response = sign(lang=lang, consent="")

    assert response.status_code == 400
    assert translated(lang, "Please tick this box to sign.") in html(response).text
    assert not Signature.objects.exists()
    assert not mailoutbox


# Retention.


def make_signature(petition: Petition, number: int, *, age: timedelta, confirmed: bool):
    created = timezone.now() - age
    return Signature.objects.create(
        petition=petition,
        first_name="Dominique",
        last_name=f"Martin {number}",
        email=f"dominique.{number}@example.net",
        postal_code="69001",
        language="fr",
        created_at=created,
        confirmed_at=created + timedelta(minutes=1) if confirmed else None,
        ip_hash=f"hash{number}",
        referral_code=f"code{number:012d}" if confirmed else "",
    )


def test_unconfirmed_signatures_are_deleted_after_the_retention_period(petition, settings):
    settings.PENDING_RETENTION_DAYS = 30
    stale = make_signature(petition, 1, age=timedelta(days=31), confirmed=False)
    recent = make_signature(petition, 2, age=timedelta(days=29), confirmed=False)
    old_confirmed = make_signature(petition, 3, age=timedelta(days=300), confirmed=True)

    done = privacy.apply_retention()

    assert done.pending_deleted == 1
    remaining = set(Signature.objects.values_list("pk", flat=True))
    assert remaining == {recent.pk, old_confirmed.pk}
    assert stale.pk not in remaining


def test_address_fingerprints_are_dropped_after_a_short_time(petition, settings):
    settings.IP_HASH_RETENTION_DAYS = 7
    old = make_signature(petition, 1, age=timedelta(days=8), confirmed=True)
    fresh = make_signature(petition, 2, age=timedelta(days=6), confirmed=True)

    privacy.apply_retention()

    old.refresh_from_db()
    fresh.refresh_from_db()
    assert (old.ip_hash, fresh.ip_hash) == ("", "hash2")


def test_signatures_of_a_long_closed_petition_are_anonymised_and_still_count(
    petition, settings, admin_user
):
    settings.ANONYMISE_AFTER_DAYS = 180
    signatures = [
        make_signature(petition, n, age=timedelta(days=400), confirmed=True) for n in range(3)
    ]
    LogEntry.objects.log_actions(
        user_id=admin_user.pk,
        queryset=signatures[:1],
        action_flag=CHANGE,
        change_message="Stopped e-mails to this signer.",
    )
    counting.reconcile(petition.pk)
    petition.is_open = False
    petition.save()
    Petition.objects.filter(pk=petition.pk).update(closed_at=timezone.now() - timedelta(days=181))
    other = Petition.objects.create(slug="other", title="Other", introduction="…", is_open=False)
    kept = make_signature(other, 9, age=timedelta(days=400), confirmed=True)

    assert privacy.apply_retention().anonymised == 3

    for signature in Signature.objects.filter(petition=petition):
        assert (signature.first_name, signature.last_name, signature.email) == ("", "", "")
        assert (signature.ip_hash, signature.referral_code) == ("", "")
        assert signature.postal_code == "69001"
        assert signature.confirmed_at
        assert signature.anonymised_at
    entry = LogEntry.objects.get(content_type=ContentType.objects.get_for_model(Signature))
    assert "Martin" not in entry.object_repr
    counting.reconcile(petition.pk)
    assert Petition.objects.get(pk=petition.pk).signature_count == 3
    kept.refresh_from_db()
    assert kept.email == "dominique.9@example.net", "closed only just now: kept"
    assert privacy.apply_retention().anonymised == 0, "done once"


def test_closing_a_petition_records_when_and_reopening_clears_it(petition):
    petition.is_open = False
    petition.save(update_fields=["is_open"])
    assert Petition.objects.get().closed_at is not None

    petition.is_open = True
    petition.save()
    assert Petition.objects.get().closed_at is None


# Withdrawal.


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_signer_withdraws_from_the_link_in_any_email_and_the_count_follows(
    confirm_link, press_button, csrf_client, mailoutbox, email_links, html, translated, lang
):
    press_button(confirm_link(lang=lang))
    assert Petition.objects.get().signature_count == 1
    unsubscribe = email_links(mailoutbox[0])["unsubscribe"]

    page = html(csrf_client.get(unsubscribe))
    withdraw_links = [
        a.attrs["href"]
        for a in page.find("main").find_all("a")
        if a.text == translated(lang, "Withdraw my signature")
    ]
    assert withdraw_links
    asked = csrf_client.get(withdraw_links[0])
    assert asked.status_code == 200
    assert Signature.objects.exists(), "opening the link changes nothing"

    done = press_button(withdraw_links[0])

    assert done.status_code == 200
    assert translated(lang, "Your signature is withdrawn") in html(done).text
    assert not Signature.objects.exists()
    assert Petition.objects.get().signature_count == 0
    assert csrf_client.get(withdraw_links[0]).status_code == 400, "nothing left to withdraw"


def test_withdrawing_erases_the_signature_from_the_admin_history(
    signature, admin_user, django_capture_on_commit_callbacks
):
    LogEntry.objects.log_actions(
        user_id=admin_user.pk, queryset=[signature], action_flag=CHANGE, change_message="x"
    )

    with django_capture_on_commit_callbacks(execute=True):
        privacy.withdraw(signature=signature)

    entry = LogEntry.objects.get()
    assert signature.last_name not in entry.object_repr
    assert not Signature.objects.exists()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_privacy_notice_states_the_durations_that_are_applied(
    client, settings, url, html, lang
):
    settings.PENDING_RETENTION_DAYS = 31
    settings.IP_HASH_RETENTION_DAYS = 6
    settings.ANONYMISE_AFTER_DAYS = 95
    settings.BACKUP_RETENTION_DAYS = 13

    text = html(client.get(url(lang, "privacy"))).find("main").text

    for days in (31, 6, 95, 13):
        assert f"{days}" in text
