"""Abuse without third parties: one signature per mailbox, throwaway addresses refused, the
fraud rules' quiet "suspect" state, staff decisions in bulk, the hourly report, kill switches and
the limits on signing and on staff login."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from petition import abuse, counting, mailings
from petition.addresses import canonical_email, is_disposable
from petition.models import AbuseReport, Petition, Signature, Switches, Update
from tests.conftest import form_shown

LANGUAGES = ["fr", "en"]


# One signature per mailbox.


@pytest.mark.parametrize(
    ("typed", "mailbox"),
    [
        ("Camille.Durand+petition@Gmail.com", "camilledurand@gmail.com"),
        ("c.a.m.i.l.l.e.durand@googlemail.com", "camilledurand@gmail.com"),
        ("camille+news@outlook.fr", "camille@outlook.fr"),
        ("Camille.Durand@hotmail.com", "camille.durand@hotmail.com"),
        # Elsewhere dots and "+" may be part of the name: only the case is ignored.
        ("camille.durand+x@orange.fr", "camille.durand+x@orange.fr"),
        ("  CAMILLE@Example.ORG ", "camille@example.org"),
    ],
)
def test_addresses_compare_by_the_mailbox_they_reach(typed, mailbox):
    assert canonical_email(typed) == mailbox


def test_a_gmail_variant_of_a_signed_address_finds_the_same_signature(sign, petition, mailoutbox):
    first = sign(email="camille.durand@gmail.com")
    again = sign(email="Camille.Durand+manifeste@googlemail.com")

    assert Signature.objects.count() == 1
    assert Signature.objects.get().email == "camille.durand@gmail.com"
    # The same answer as for any signing: nothing tells that the mailbox had signed.
    assert (first.status_code, first["Location"]) == (again.status_code, again["Location"])
    assert [message.to for message in mailoutbox] == [["camille.durand@gmail.com"]] * 2


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("address", ["camille@yopmail.com", "camille@abc.yopmail.com"])
def test_throwaway_addresses_are_refused_with_a_translated_message(
    sign, lang, address, html, translated, collapsed, mailoutbox
):
    response = sign(lang=lang, email=address)

    assert response.status_code == 400
    errors = html(response).find(id="form-errors").text
    refusal = translated(
        lang,
        "Addresses from throwaway-mailbox services cannot sign: please use an address you "
        "will keep.",
    )
    assert collapsed(refusal) in collapsed(errors)
    assert not Signature.objects.exists()
    assert not mailoutbox


def test_staff_can_refuse_more_throwaway_domains(settings):
    settings.DISPOSABLE_DOMAINS_EXTRA = frozenset({"jetable.example"})

    assert is_disposable("camille@jetable.example")
    assert not is_disposable("camille@example.org")


# The quiet "suspect" state.


def signed_and_confirmed(sign, press_button, mailoutbox, email_links, **fields) -> Signature:
    response = sign(**fields)
    assert response.status_code == 302
    press_button(email_links(mailoutbox[-1])["confirm"])
    return Signature.objects.get(email=fields.get("email", "camille.durand@example.org"))


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"website": "http://spam.example"}, abuse.HONEYPOT),
        ({"started": "just now"}, "signed 0."),
        ({"started": ""}, abuse.NO_FORM_TIME),
        ({"started": "1700000000.0:forged"}, abuse.NO_FORM_TIME),
    ],
    ids=["honeypot", "too-fast", "no-time", "forged-time"],
)
def test_a_signature_that_trips_a_rule_looks_normal_but_is_not_counted(
    sign, press_button, mailoutbox, email_links, petition, fields, reason
):
    if fields.get("started") == "just now":
        fields = {"started": form_shown(seconds_ago=0.5)}
    signature = signed_and_confirmed(sign, press_button, mailoutbox, email_links, **fields)

    # The visitor saw the usual pages and received the usual e-mail; the signature is kept.
    assert signature.is_confirmed
    assert reason in signature.suspect_reason
    petition.refresh_from_db()
    assert petition.signature_count == 0
    assert not Signature.objects.counted().exists()


def test_an_honest_signature_is_not_suspect(sign, press_button, mailoutbox, email_links, petition):
    signature = signed_and_confirmed(sign, press_button, mailoutbox, email_links)

    assert signature.suspect_reason == ""
    petition.refresh_from_db()
    assert petition.signature_count == 1


def test_signatures_beyond_the_hourly_limit_of_one_client_address_are_suspect(
    sign, settings, petition
):
    settings.SUSPECT_AFTER_PER_ADDRESS_PER_HOUR = 2
    for number in range(4):
        sign(email=f"signer.{number}@example.org")

    reasons = list(Signature.objects.order_by("pk").values_list("suspect_reason", flat=True))
    assert reasons[:2] == ["", ""]
    assert all("client address" in reason for reason in reasons[2:])


def test_the_client_address_is_stored_only_as_a_keyed_hash(sign, settings):
    sign()

    signature = Signature.objects.get()
    assert signature.ip_hash == abuse.address_hash("127.0.0.1")
    assert "127.0.0.1" not in signature.ip_hash
    settings.SECRET_KEY = "another-secret-key-entirely-for-this-test"
    assert abuse.address_hash("127.0.0.1") != signature.ip_hash, "keyed by the site's secret"


def test_ipv6_clients_are_taken_by_their_network():
    assert abuse.address_hash("2001:db8::1") == abuse.address_hash("2001:db8::ffff")
    assert abuse.address_hash("2001:db8::1") != abuse.address_hash("2001:db8:0:1::1")
    assert abuse.address_hash("not an address") == ""


# Staff decisions, in bulk, with a preview count.


@pytest.fixture
def moderator(django_user_model):
    user = django_user_model.objects.create_user("mod", "mod@example.org", "pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_signature", "change_signature"])
    )
    return user


def confirmed_signatures(petition: Petition, count: int, **fields) -> list[Signature]:
    now = timezone.now()
    return Signature.objects.bulk_create(
        Signature(
            petition=petition,
            first_name="Dominique",
            last_name=f"Martin {number}",
            email=f"dominique.{number}@{fields.get('domain', 'example.net')}",
            language="fr",
            created_at=now - timedelta(minutes=5),
            confirmed_at=now - timedelta(minutes=4),
            suspect_reason=fields.get("suspect_reason", ""),
        )
        for number in range(count)
    )


def test_staff_invalidate_by_condition_after_a_preview_and_the_count_follows(
    client, moderator, petition, django_capture_on_commit_callbacks
):
    confirmed_signatures(petition, 3, domain="flood.example")
    confirmed_signatures(petition, 2, domain="example.net")
    counting.reconcile(petition.pk)
    client.force_login(moderator)
    changelist = reverse("admin:petition_signature_changelist")
    condition = "?email__iendswith=%40flood.example"
    choice = {"action": "invalidate", "select_across": "1", "index": "0"}
    ids = Signature.objects.values_list("pk", flat=True)

    preview = client.post(
        changelist + condition, {**choice, "_selected_action": [str(pk) for pk in ids]}
    )
    assert preview.status_code == 200
    assert 'data-preview-count="3"' in preview.content.decode()
    assert Signature.objects.counted().count() == 5, "a preview changes nothing"

    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            changelist + condition,
            {**choice, "_selected_action": [str(pk) for pk in ids], "confirmed": "yes"},
        )
    assert done.status_code == 302
    assert Signature.objects.invalidated().count() == 3
    petition.refresh_from_db()
    assert petition.signature_count == 2


def test_restoring_clears_suspicion_and_invalidation_and_counts_again(
    petition, django_capture_on_commit_callbacks
):
    confirmed_signatures(petition, 2, suspect_reason=abuse.HONEYPOT)
    with django_capture_on_commit_callbacks(execute=True):
        abuse.invalidate(Signature.objects.filter(pk=Signature.objects.earliest("pk").pk))
    assert Petition.objects.get().signature_count == 0

    with django_capture_on_commit_callbacks(execute=True):
        restored = abuse.restore(Signature.objects.all())

    assert restored == 2
    assert Signature.objects.counted().count() == 2
    assert Petition.objects.get().signature_count == 2


def test_staff_without_the_change_permission_cannot_invalidate(client, django_user_model, petition):
    viewer = django_user_model.objects.create_user("v", "v@example.org", "pw", is_staff=True)
    viewer.user_permissions.set(Permission.objects.filter(codename="view_signature"))
    confirmed_signatures(petition, 1)
    client.force_login(viewer)

    response = client.post(
        reverse("admin:petition_signature_changelist"),
        {
            "action": "invalidate",
            "_selected_action": [str(Signature.objects.get().pk)],
            "confirmed": "yes",
        },
    )

    assert response.status_code in {200, 302, 403}
    assert not Signature.objects.invalidated().exists()


# The hourly report.


def test_the_hourly_report_shows_busy_addresses_and_domains_with_links(
    client, moderator, petition, settings
):
    settings.ABUSE_REPORT_MIN_SIGNATURES = 3
    now = timezone.now()
    busy = abuse.address_hash("198.51.100.9")
    for number in range(4):
        Signature.objects.create(
            petition=petition,
            first_name="Bot",
            last_name=str(number),
            email=f"bot{number}@flood.example",
            language="fr",
            ip_hash=busy,
            created_at=now - timedelta(minutes=10),
            suspect_reason=abuse.HONEYPOT if number else "",
        )
    Signature.objects.create(
        petition=petition,
        first_name="Camille",
        last_name="Durand",
        email="camille@example.org",
        language="fr",
        ip_hash=abuse.address_hash("192.0.2.1"),
        created_at=now - timedelta(minutes=5),
    )

    for number, domain in enumerate(["Flood.example", "example.org", "example.org", "x.net"]):
        Signature.objects.create(
            petition=petition,
            first_name="Earlier",
            last_name=str(number),
            email=f"earlier{number}@{domain}",
            language="fr",
            created_at=now - timedelta(days=10),
        )

    report = abuse.report(end=now)

    assert (report.signatures, report.suspect) == (5, 3)
    assert report.addresses == [[busy, 4, 3]]
    # 4 of the hour's 5 signatures, against 1 in 4 over the month before: it stands out.
    assert report.domains == [["flood.example", 4, 25.0, 80.0]]
    client.force_login(moderator)
    moderator.user_permissions.add(Permission.objects.get(codename="view_abusereport"))
    page = client.get(reverse("admin:petition_abusereport_change", args=[report.pk]))
    content = page.content.decode()
    assert page.status_code == 200
    assert f"?q={busy}" in content
    assert "email__iendswith=%40flood.example" in content
    listed = client.get(reverse("admin:petition_signature_changelist") + f"?q={busy}")
    assert listed.context["cl"].result_count == 4


def test_no_one_can_edit_a_report(client, admin_user, petition):
    report = abuse.report()
    client.force_login(admin_user)

    response = client.post(
        reverse("admin:petition_abusereport_change", args=[report.pk]), {"signatures": 99}
    )

    assert response.status_code == 403
    assert AbuseReport.objects.get().signatures == 0


# Kill switches.


@pytest.mark.parametrize("lang", LANGUAGES)
def test_paused_signing_shows_a_notice_and_keeps_what_was_typed(
    client, sign, petition, lang, url, html, translated, mailoutbox
):
    Switches(signing_paused=True).save()

    page = html(client.get(url(lang, "home")))
    notice = translated(
        lang,
        "Signing is paused for a few moments. Your signature matters: please come back a "
        "little later.",
    )
    assert notice in page.find("main").text
    assert not page.find_all("form", class_="sign-form")

    response = sign(lang=lang, first_name="Camille")
    assert response.status_code == 503
    form = html(response).find("form", class_="sign-form")
    assert form.find("input", name="first_name").attrs["value"] == "Camille"
    assert not Signature.objects.exists()
    assert not mailoutbox

    Switches(signing_paused=False).save()
    assert sign(lang=lang).status_code == 302
    assert Signature.objects.count() == 1


def test_switches_are_turned_in_the_admin(client, admin_user):
    client.force_login(admin_user)

    listing = client.get(reverse("admin:petition_switches_changelist"))
    assert listing.status_code == 302
    response = client.post(listing["Location"], {"signing_paused": "on"})

    assert response.status_code == 302
    assert Switches.current().signing_paused
    assert not Switches.current().mailings_paused


def test_paused_mailings_send_nothing_until_switched_back(petition, mailoutbox):
    confirmed = confirmed_signatures(petition, 2)
    Signature.objects.filter(pk__in=[s.pk for s in confirmed]).update(wants_news=True)
    update = Update.objects.create(
        petition=petition, subject="News", body="Body", queued_at=timezone.now()
    )
    mailings.prepare(update_id=update.pk)
    Switches(mailings_paused=True).save()

    outcome = mailings.send_batch(update_id=update.pk)

    assert (outcome.sent, outcome.more) == (0, False)
    assert not mailoutbox
    assert mailings.resume().send == []
    Switches(mailings_paused=False).save()
    assert mailings.send_batch(update_id=update.pk).sent == 2
    assert len(mailoutbox) == 2


# Limits.


def test_a_flood_on_one_petition_is_limited_whatever_the_client_address(
    client, petition, signer_data, settings, url
):
    settings.SIGN_RATE_PER_PETITION = "3/m"
    path = url("fr", "petition", petition.slug)
    statuses = [
        client.post(
            path, {**signer_data, "email": f"s{n}@example.org"}, REMOTE_ADDR=f"192.0.2.{n}"
        ).status_code
        for n in range(5)
    ]

    assert statuses == [302, 302, 302, 429, 429]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_staff_login_attempts_are_limited(client, admin_user, settings, lang, url, translated):
    settings.LOGIN_RATE = "3/m"
    login = url(lang, "admin:login")
    answers = [
        client.post(login, {"login": "admin", "password": "wrong"}).status_code for _ in range(4)
    ]

    assert answers == [200, 200, 200, 429]
    refused = client.post(login, {"login": "admin", "password": "password"})
    assert refused.status_code == 429, "not even the right password, once limited"
    assert translated(lang, "Too many attempts") in refused.content.decode()
