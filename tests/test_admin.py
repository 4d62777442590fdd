"""The staff's admin: petitions in both languages with their proposals, each petition's
dashboard, signatures (searchable, filtered, read-only, with a history of staff actions),
updates to signers from draft to progress, and staff accounts."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta
from itertools import count

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from petition import dashboard
from petition.models import Petition, Signature, Suppression, Update
from tests.conftest import write_update

pytestmark = pytest.mark.django_db

numbers = count()


def signer(petition: Petition, **fields: object) -> Signature:
    n = next(numbers)
    signed_at = fields.pop("signed_at", timezone.now() - timedelta(days=40))
    values: dict[str, object] = {
        "first_name": "Camille",
        "last_name": f"Durand{n}",
        "email": f"camille.{n}@example.org",
        "postal_code": "75011",
        "language": "fr",
        "created_at": signed_at,
        "confirmed_at": signed_at,
        **fields,
    }
    return Signature.objects.create(petition=petition, **values)


def changelist(client, **query: str) -> list[str]:
    """The e-mail addresses the signatures' changelist shows for a query."""
    response = client.get(reverse("admin:petition_signature_changelist"), query)
    assert response.status_code == 200
    return sorted(signature.email for signature in response.context["cl"].result_list)


@pytest.fixture
def staff_member(django_user_model):
    """Staff who may edit petitions and updates and send them, but not export."""
    user = django_user_model.objects.create_user(
        "claire", "claire@example.org", "pw", is_staff=True, first_name="Claire"
    )
    codenames = [
        f"{action}_{model}"
        for action in ("view", "add", "change", "delete")
        for model in ("petition", "proposal", "update", "signature")
    ]
    user.user_permissions.set(Permission.objects.filter(codename__in=[*codenames, "send_update"]))
    return user


@pytest.fixture
def staff_client(client, staff_member):
    client.force_login(staff_member)
    return client


# Petitions.


def test_a_petition_is_edited_in_french_and_english_with_its_proposals_in_order(
    staff_client, petition
):
    response = staff_client.get(reverse("admin:petition_petition_change", args=[petition.pk]))

    form = response.context["adminform"].form
    assert {"title_fr", "title_en", "introduction_fr", "introduction_en", "goal", "is_open"} <= set(
        form.fields
    )
    inline = response.context["inline_admin_formsets"][0]
    positions = [form.instance.position for form in inline.formset.forms]
    assert len(positions) == 4
    assert positions == sorted(positions)
    assert {"text_fr", "text_en"} <= set(inline.formset.forms[0].fields)
    assert reverse("admin:petition_petition_dashboard", args=[petition.pk]) in (
        response.content.decode()
    )


def test_the_dashboard_shows_today_this_week_total_and_the_trend(staff_client, petition):
    today = timezone.localdate()
    now = timezone.now()
    for _ in range(3):
        signer(petition, signed_at=now)
    for days in (8, 9):  # in the previous seven days
        signer(
            petition,
            signed_at=timezone.make_aware(datetime.combine(today, time(12))) - timedelta(days=days),
        )
    signer(petition, confirmed_at=None, signed_at=now)

    response = staff_client.get(reverse("admin:petition_petition_dashboard", args=[petition.pk]))

    assert response.status_code == 200
    figures = response.context["figures"]
    monday = today - timedelta(days=today.weekday())
    assert figures.today == 3
    assert figures.this_week == 3
    assert figures.total == 5
    assert figures.pending == 1
    assert (figures.last_7_days, figures.previous_7_days) == (3, 2)
    assert figures.trend_percent == 50
    assert figures.chart.bars[-1].count == 3
    assert monday <= today
    page = response.content.decode()
    assert re.search(r'data-figure="today">3<', page)
    assert re.search(r'data-figure="total">5<', page)
    assert 'data-figure="trend">+50' in page


def test_the_weeks_count_starts_on_monday(petition):
    wednesday = (
        timezone.localdate() - timedelta(days=timezone.localdate().weekday()) + timedelta(days=2)
    )
    paris = timezone.get_current_timezone()
    for day in (wednesday, wednesday - timedelta(days=1), wednesday - timedelta(days=3)):
        signer(petition, signed_at=datetime.combine(day, time(10), tzinfo=paris))

    figures = dashboard.dashboard(petition, today=wednesday)

    assert (figures.today, figures.this_week) == (1, 2)


def test_staff_without_view_permission_cannot_see_a_dashboard(client, django_user_model, petition):
    client.force_login(django_user_model.objects.create_user("nobody", is_staff=True))

    response = client.get(reverse("admin:petition_petition_dashboard", args=[petition.pk]))

    assert response.status_code == 403


# Signatures.


def test_signatures_are_searched_by_name_address_and_postal_code(staff_client, petition):
    signer(petition, last_name="Lefèvre", email="elodie@example.org", postal_code="69003")
    signer(petition, last_name="Martin", email="jean@example.net", postal_code="13001")

    assert changelist(staff_client, q="Lefèvre") == ["elodie@example.org"]
    assert changelist(staff_client, q="jean@example") == ["jean@example.net"]
    assert changelist(staff_client, q="13001") == ["jean@example.net"]


def test_signatures_are_filtered_by_status_country_news_unsubscription_and_date(
    staff_client, petition
):
    confirmed = signer(petition, email="confirmed@example.org", wants_news=True)
    pending = signer(petition, email="pending@example.org", confirmed_at=None)
    gone = signer(petition, email="gone@example.org", unsubscribed_at=timezone.now())
    bounced = signer(petition, email="bounced@example.org", country="BE")
    recent = signer(petition, email="recent@example.org", signed_at=timezone.now())
    Suppression.objects.create(email=bounced.email, bounced_at=timezone.now())
    everyone = sorted(s.email for s in (confirmed, pending, gone, bounced, recent))

    assert changelist(staff_client) == everyone
    assert changelist(staff_client, status="pending") == [pending.email]
    assert changelist(staff_client, status="unsubscribed") == [gone.email]
    assert changelist(staff_client, status="suppressed") == [bounced.email]
    assert pending.email not in changelist(staff_client, status="confirmed")
    assert changelist(staff_client, country__exact="BE") == [bounced.email]
    assert changelist(staff_client, wants_news__exact="1") == [confirmed.email]
    assert changelist(staff_client, unsubscribed_at__isempty="0") == [gone.email]
    today = timezone.localdate()
    assert changelist(
        staff_client,
        created_at__year=str(today.year),
        created_at__month=str(today.month),
        created_at__day=str(today.day),
    ) == [recent.email]


def test_personal_data_is_read_only_and_the_reason_of_a_bounce_is_shown(staff_client, petition):
    signature = signer(petition, first_name="Camille", email="bounced@example.org")
    Suppression.objects.create(
        email="bounced@example.org",
        bounced_at=timezone.now(),
        provider="Brevo",
        reason="Brevo: bounced — 550 5.1.1 user unknown",
    )
    url = reverse("admin:petition_signature_change", args=[signature.pk])

    page = staff_client.get(url)
    staff_client.post(url, {"first_name": "Changed", "email": "changed@example.org"})

    assert page.context["adminform"].form.fields == {}
    assert "550 5.1.1 user unknown" in page.content.decode()
    signature.refresh_from_db()
    assert (signature.first_name, signature.email) == ("Camille", "bounced@example.org")
    assert staff_client.get(reverse("admin:petition_signature_add")).status_code == 403


def test_stopping_emails_in_bulk_is_in_each_signatures_history(
    staff_client, staff_member, petition, translated
):
    first, second = signer(petition), signer(petition)

    response = staff_client.post(
        reverse("admin:petition_signature_changelist"),
        {"action": "stop_emails", "_selected_action": [first.pk, second.pk]},
    )

    assert response.status_code == 302
    first.refresh_from_db()
    assert first.unsubscribed_at is not None
    entries = LogEntry.objects.filter(user=staff_member, action_flag=CHANGE)
    assert sorted(int(entry.object_id) for entry in entries) == sorted([first.pk, second.pk])
    message = translated("fr", "Stopped e-mails to this signer.")
    assert {entry.change_message for entry in entries} == {message}
    history = staff_client.get(reverse("admin:petition_signature_history", args=[first.pk]))
    assert message in history.content.decode()


# Updates to signers.


@pytest.fixture
def draft(petition, staff_member) -> Update:
    return write_update(petition, staff_member)


def test_staff_write_an_update_in_french_and_english(staff_client, staff_member, petition):
    response = staff_client.post(
        reverse("admin:petition_update_add"),
        {
            "petition": petition.pk,
            "subject_fr": "Objet",
            "subject_en": "Subject",
            "body_fr": "Texte",
            "body_en": "Text",
        },
    )

    assert response.status_code == 302
    update = Update.objects.get()
    assert (update.subject_fr, update.body_en, update.created_by) == ("Objet", "Text", staff_member)
    assert update.is_draft


def test_the_preview_shows_the_update_in_each_language(staff_client, draft):
    response = staff_client.get(reverse("admin:petition_update_preview", args=[draft.pk]))

    assert response.status_code == 200
    subjects = [message.subject for _language, _label, message in response.context["previews"]]
    assert subjects == ["Nouvelles du manifeste", "News of the manifesto"]
    assert "Claire," in response.context["previews"][1][2].text
    assert "sandbox" in response.content.decode()


def test_staff_send_themselves_a_test_and_it_is_in_the_history(
    staff_client, staff_member, draft, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(reverse("admin:petition_update_test", args=[draft.pk]))

    assert response.status_code == 302
    assert [message.to for message in mail.outbox] == [["claire@example.org"]] * 2
    assert LogEntry.objects.filter(user=staff_member, object_id=str(draft.pk)).exists()
    draft.refresh_from_db()
    assert draft.tested_at is not None
    assert draft.is_draft


def test_sending_asks_for_confirmation_then_sends_and_shows_the_progress(
    staff_client, staff_member, draft, petition, django_capture_on_commit_callbacks, settings
):
    settings.UPDATE_SEND_RATE = 0
    signer(petition, wants_news=True, language="fr")
    signer(petition, wants_news=True, language="en")
    signer(petition, wants_news=False)
    url = reverse("admin:petition_update_send", args=[draft.pk])

    confirmation = staff_client.get(url)
    assert confirmation.status_code == 200
    assert confirmation.context["total"] == 2
    assert [count for _language, count in confirmation.context["audience"]] == [1, 1]
    assert mail.outbox == []

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(url)

    assert response.status_code == 302
    assert len(mail.outbox) == 2
    draft.refresh_from_db()
    assert draft.queued_by == staff_member
    assert draft.finished_at is not None
    page = staff_client.get(reverse("admin:petition_update_change", args=[draft.pk]))
    progress = page.context["progress"]
    assert (progress.total, progress.sent, progress.percent) == (2, 2, 100)
    assert 'data-progress="sent">2' in page.content.decode()
    assert LogEntry.objects.filter(
        user=staff_member, object_id=str(draft.pk), change_message__contains="2"
    ).exists()


def test_a_sent_update_can_be_neither_changed_nor_deleted_nor_sent_again(
    staff_client, staff_member, draft, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        staff_client.post(reverse("admin:petition_update_send", args=[draft.pk]))
    change_url = reverse("admin:petition_update_change", args=[draft.pk])

    staff_client.post(
        change_url,
        {"subject_fr": "Autre", "subject_en": "Other", "body_fr": "x", "body_en": "y"},
    )
    delete = staff_client.post(
        reverse("admin:petition_update_delete", args=[draft.pk]), {"post": "yes"}
    )
    again = staff_client.post(reverse("admin:petition_update_send", args=[draft.pk]))

    draft.refresh_from_db()
    assert draft.subject_fr == "Nouvelles du manifeste"
    assert delete.status_code == 403
    assert again.status_code == 302
    assert Update.objects.count() == 1


def test_staff_without_the_send_permission_cannot_send(client, django_user_model, draft):
    user = django_user_model.objects.create_user("writer", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(codename__in=["view_update", "change_update"])
    )
    client.force_login(user)

    get = client.get(reverse("admin:petition_update_send", args=[draft.pk]))
    post = client.post(reverse("admin:petition_update_send", args=[draft.pk]))

    assert (get.status_code, post.status_code) == (403, 403)
    draft.refresh_from_db()
    assert draft.is_draft


def test_suppressed_addresses_are_listed_with_the_reason_and_cannot_be_added(admin_client):
    Suppression.objects.create(
        email="gone@example.org", bounced_at=timezone.now(), reason="550 user unknown"
    )

    listing = admin_client.get(reverse("admin:petition_suppression_changelist"))

    assert "gone@example.org" in listing.content.decode()
    assert admin_client.get(reverse("admin:petition_suppression_add")).status_code == 403


# Staff accounts.


@pytest.mark.parametrize("lang", ["fr", "en"])
def test_permissions_are_named_in_the_language_of_the_page_whatever_the_table_holds(
    admin_client, lang, url, html, translated
):
    # Django stores its own permissions' names in English, and custom ones in the language
    # active when the table was filled: here French.
    export = Permission.objects.get(codename="export_signatures")
    export.name = translated("fr", "Can export signatures")
    export.save()
    view = Permission.objects.get(codename="view_exportrecord")
    assert view.name == "Can view export of signatures"

    page = html(admin_client.get(url(lang, "admin:auth_group_add")))

    names = {
        option.attrs["value"]: option.text.rpartition(" | ")[2]
        for option in page.find("select", name="permissions").find_all("option")
    }
    assert names[str(export.pk)] == translated(lang, "Can export signatures")
    assert names[str(view.pk)] == translated(lang, "Can view %(name)s") % {
        "name": translated(lang, "export of signatures")
    }
