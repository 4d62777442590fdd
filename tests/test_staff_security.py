"""Staff accounts that a stolen password does not open (petition.staff): a second factor for
every staff account, asked again before the dangerous actions, sessions that end, and a record
and an e-mail of what happens to each account.

Logins go through the real pages (allauth's login, its second step); codes are computed here
from the secret of the authenticator app the member enrolled, as the app computes them.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from allauth.core.exceptions import ReauthenticationRequired
from allauth.mfa.models import Authenticator
from allauth.mfa.recovery_codes.internal.auth import RecoveryCodes
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.http import HttpResponse
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone, translation
from django.views import View

from petition import privacy, staff, tasks
from petition.models import Signature, StaffEvent, StaffSession
from tests import passkeys
from tests.conftest import plain_force_login, totp_codes, totp_secret, write_update
from tests.passkeys import SoftPasskey, page_data
from tests.test_security_headers import assert_strict

pytestmark = pytest.mark.django_db

LANGUAGES = ["fr", "en"]
PASSWORD = "correct horse battery staple"


@pytest.fixture
def member(django_user_model):
    """A member of staff who may see, change and export signatures, with a password."""
    user = django_user_model.objects.create_user(
        "claire", "claire@example.org", PASSWORD, is_staff=True, first_name="Claire"
    )
    user.user_permissions.set(
        Permission.objects.filter(
            codename__in=[
                "view_signature",
                "change_signature",
                "export_signatures",
                "view_petition",
                "view_update",
                "change_update",
                "send_update",
            ]
        )
    )
    return user


def log_in_with_password(client: Client, user: object, lang: str = "fr", **extra: str):
    with translation.override(lang):
        login = reverse("account_login")
    return client.post(login, {"login": user.get_username(), "password": PASSWORD, **extra})


def second_step(client: Client, code: str, lang: str = "fr"):
    with translation.override(lang):
        return client.post(reverse("mfa_authenticate"), {"code": code})


def log_in(client: Client, user: object, lang: str = "fr"):
    """The whole login: password, then a code of the member's authenticator app."""
    answer = log_in_with_password(client, user, lang)
    assert answer.status_code == 302, answer.content
    for code in totp_codes(totp_secret(user)):
        answer = second_step(client, code, lang)
        if answer.status_code == 302:
            return answer
    raise AssertionError("no code was taken")


def age_second_factor(client: Client, seconds: float) -> None:
    """As if the session's last use of its second factor were `seconds` older."""
    session = client.session
    records = session["account_authentication_methods"]
    for record in records:
        record["at"] -= seconds
    session["account_authentication_methods"] = records
    session.save()
    client.cookies["sessionid"] = session.session_key


def signers_shown(content: bytes, emails: list[str]) -> list[str]:
    text = content.decode(errors="replace")
    return [email for email in emails if email in text]


# A password alone.


@pytest.mark.parametrize("enrolled", [True, False], ids=["with a factor", "without a factor"])
def test_a_password_alone_opens_no_admin_page_that_shows_a_signer(
    client, member, admin_paths, enrolled
):
    """Every admin page (admin_paths lists each kind, those showing signers included), tried by
    someone who knows only the member's password."""
    if enrolled:
        totp_secret(member)
    signature = Signature.objects.first()
    draft = admin_paths["draft update"].split("/")[-3]
    admin_paths = {
        **admin_paths,
        "signature deletion": reverse("admin:petition_signature_delete", args=[signature.pk]),
        "e-mail preview": reverse("admin:petition_update_preview_email", args=[draft, "fr"]),
        "staff events": reverse("admin:petition_staffevent_changelist"),
    }
    emails = list(Signature.objects.values_list("email", flat=True))
    assert emails
    answer = log_in_with_password(client, member)
    assert answer.status_code == 302

    reached = {}
    for name, path in admin_paths.items():
        response = client.get(path, follow=True)
        final = response.redirect_chain[-1][0] if response.redirect_chain else path
        reached[name] = (final.split("?")[0], signers_shown(response.content, emails))

    # With a factor: the login's second step, still waiting for it; without: the page to enrol
    # one.
    with translation.override("fr"):
        expected = reverse("mfa_authenticate") if enrolled else reverse("mfa_index")
    for name, (final, shown) in reached.items():
        assert shown == [], f"{name} showed signers to a password alone"
        assert final == expected, f"{name} ended at {final}"


def test_a_session_that_never_passed_the_second_factor_must_sign_in_again(client, member):
    totp_secret(member)
    plain_force_login(client, member)

    answer = client.get(reverse("admin:index"))

    assert answer.status_code == 302
    assert answer["Location"].startswith(reverse("account_login"))
    assert "_auth_user_id" not in client.session


# Logging in.


@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_login_takes_the_password_then_a_code_and_is_recorded_and_emailed_once_per_browser(
    client, member, lang, mailoutbox, django_capture_on_commit_callbacks, translated
):
    secret = totp_secret(member)
    with django_capture_on_commit_callbacks(execute=True):
        first = log_in_with_password(client, member, lang)
        assert first.status_code == 302
        assert first["Location"].startswith(f"/{lang}/admin/account/2fa/authenticate/")
        # Not signed in yet: the admin still asks for the login.
        assert client.get(f"/{lang}/admin/").status_code == 302
        done = second_step(client, totp_codes(secret)[0], lang)

    assert done.status_code == 302
    assert client.get(f"/{lang}/admin/").status_code == 200
    login = StaffEvent.objects.get(kind=StaffEvent.Kind.LOGIN)
    assert (login.user, login.language, len(login.ip_hash)) == (member, lang, 32)
    assert login.detail == "first login from this browser"
    [notice] = mailoutbox
    assert notice.to == ["claire@example.org"]
    assert notice.subject == translated(lang, "New sign-in to your CAMELEON staff account")
    assert "/admin/account/sessions/" in notice.body

    # The same browser again: recorded, no e-mail.
    client.post(f"/{lang}/admin/logout/")
    with django_capture_on_commit_callbacks(execute=True):
        log_in_with_password(client, member, lang)
        second_step(client, totp_codes(secret)[1], lang)
    assert StaffEvent.objects.filter(kind=StaffEvent.Kind.LOGIN).count() == 2
    assert len(mailoutbox) == 1


def test_wrong_codes_are_recorded_and_limited(client, member, translated):
    secret = totp_secret(member)
    log_in_with_password(client, member)
    wrong = [second_step(client, "000000") for _ in range(5)]
    assert all(answer.status_code == 200 for answer in wrong)

    refused = second_step(client, totp_codes(secret)[0])

    assert refused.status_code == 200, "not even the right code, once limited"
    assert (
        translated("fr", "Too many failed attempts. Please wait a few minutes before trying again.")
        in refused.content.decode()
    )
    assert client.get(reverse("admin:index")).status_code == 302
    assert StaffEvent.objects.filter(kind=StaffEvent.Kind.SECOND_FACTOR_FAILED).count() == 5


def test_a_recovery_code_signs_in_once(
    client, member, client_factory, mailoutbox, django_capture_on_commit_callbacks, translated
):
    totp_secret(member)
    codes = RecoveryCodes.activate(member).generate_codes()

    with django_capture_on_commit_callbacks(execute=True):
        log_in_with_password(client, member)
        assert second_step(client, codes[0]).status_code == 302
    assert client.get(reverse("admin:index")).status_code == 200

    again = client_factory()
    log_in_with_password(again, member)
    assert second_step(again, codes[0]).status_code == 200
    assert again.get(reverse("admin:index")).status_code == 302
    used = StaffEvent.objects.get(kind=StaffEvent.Kind.RECOVERY_CODE_USED)
    assert used.detail == f"{len(codes) - 1} left"
    assert sorted(m.subject for m in mailoutbox) == sorted(
        [
            translated("fr", "New sign-in to your CAMELEON staff account"),
            translated("fr", "A recovery code of your CAMELEON staff account was used"),
        ]
    )


def test_failed_logins_are_recorded_without_a_name_that_no_account_has(client, member):
    client.post(reverse("account_login"), {"login": "claire", "password": "wrong"})
    client.post(reverse("account_login"), {"login": "hunter2", "password": "wrong"})

    failed = StaffEvent.objects.filter(kind=StaffEvent.Kind.LOGIN_FAILED).order_by("at")
    assert [(event.user, event.username) for event in failed] == [(member, "claire"), (None, "")]


# Enrolling. allauth reports a factor added once its transaction has committed, within the
# request: these tests commit for real, as production does.


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("lang", LANGUAGES)
def test_a_member_without_a_factor_enrols_an_authenticator_app_before_anything_else(
    client, member, lang, translated, mailoutbox
):
    log_in_with_password(client, member, lang)
    sent_away = client.get(f"/{lang}/admin/petition/signature/")
    with translation.override(lang):
        index, activate = reverse("mfa_index"), reverse("mfa_activate_totp")
    assert sent_away.status_code == 302
    assert sent_away["Location"] == index
    page = client.get(index).content.decode()
    assert translated(lang, "Enrol a second factor to reach the staff pages") in page

    form = client.get(activate)
    secret = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', form.content.decode())[1]
    assert "<svg" in form.content.decode()
    assert "data:image" not in form.content.decode()
    wrong = client.post(activate, {"code": "123456"})
    assert translated(lang, "This code is not right, or was used already.") in (
        wrong.content.decode()
    )
    done = client.post(activate, {"code": totp_codes(secret)[0]})

    assert done.status_code == 302
    codes = client.get(done["Location"])
    assert len(re.findall(r"<li><code>\d{8}</code></li>", codes.content.decode())) == 10
    assert client.get(f"/{lang}/admin/petition/signature/").status_code == 200
    added = StaffEvent.objects.get(kind=StaffEvent.Kind.FACTOR_ADDED, detail="authenticator app")
    assert added.user == member
    assert translated(lang, "A second factor was added to your CAMELEON staff account") in [
        message.subject for message in mailoutbox
    ]


# Fresh proof before the dangerous actions.


def test_the_export_asks_for_the_second_factor_again_after_ten_minutes(client, member, petition):
    client.force_login(member)
    export = reverse("admin:petition_signature_export")
    assert client.get(export).status_code == 200

    age_second_factor(client, 601)
    asked = client.post(export, {"variant": "full", "delimiter": ","})

    assert asked.status_code == 302
    assert asked["Location"].startswith(reverse("mfa_reauthenticate"))
    assert client.get(asked["Location"]).status_code == 200
    back = client.post(
        asked["Location"], {"code": totp_codes(totp_secret(member))[1], "next": export}
    )
    assert back.status_code == 302
    assert back["Location"] == export
    answer = client.post(export, {"variant": "full", "delimiter": ","})
    assert answer.status_code == 200
    assert answer["Content-Type"].startswith("text/csv")
    assert StaffEvent.objects.filter(kind=StaffEvent.Kind.REAUTHENTICATED).count() == 1


@pytest.fixture
def dangerous(admin_user, petition, member):
    """The actions that ask for the second factor again, as {name: (method, path, data)}."""
    update = write_update(petition, admin_user)
    signature = Signature.objects.create(
        petition=petition,
        first_name="Sam",
        last_name="Lee",
        email="sam@example.org",
        postal_code="69001",
        language="fr",
    )
    changelist = reverse("admin:petition_signature_changelist")
    ticked = {"_selected_action": [signature.pk], "index": "0"}
    return {
        "export": ("get", reverse("admin:petition_signature_export"), None),
        "send an update": ("get", reverse("admin:petition_update_send", args=[update.pk]), None),
        "invalidate": ("post", changelist, {**ticked, "action": "invalidate"}),
        "restore": ("post", changelist, {**ticked, "action": "restore"}),
        "a member's permissions": (
            "get",
            reverse("admin:auth_user_change", args=[member.pk]),
            None,
        ),
        "a new account": ("get", reverse("admin:auth_user_add"), None),
        "a member's password": (
            "get",
            reverse("admin:auth_user_password_change", args=[member.pk]),
            None,
        ),
        "a group": ("get", reverse("admin:auth_group_add"), None),
        "a member's factors": (
            "get",
            reverse("admin:auth_user_reset_factors", args=[member.pk]),
            None,
        ),
        "the authenticator app": ("get", reverse("mfa_activate_totp"), None),
        "recovery codes": ("get", reverse("mfa_generate_recovery_codes"), None),
    }


def test_every_dangerous_action_asks_for_the_second_factor_again_once_it_is_old(
    admin_client, dangerous
):
    fresh = {}
    for name, (method, path, data) in dangerous.items():
        if name == "the authenticator app":
            continue
        answer = getattr(admin_client, method)(path, data) if data else admin_client.get(path)
        fresh[name] = answer.status_code
    assert all(status == 200 for status in fresh.values()), fresh

    age_second_factor(admin_client, 601)
    asked = {}
    for name, (method, path, data) in dangerous.items():
        answer = getattr(admin_client, method)(path, data) if data else admin_client.get(path)
        asked[name] = (
            answer["Location"].split("?")[0] if answer.status_code == 302 else answer.status_code
        )
    reauthenticate = reverse("mfa_reauthenticate")
    assert asked == dict.fromkeys(dangerous, reauthenticate)


def test_the_mixin_for_class_based_views_asks_too(member, client):
    class ImportPaperSignatures(staff.FreshSecondFactorMixin, View):
        def get(self, request):
            return HttpResponse("ok")

    client.force_login(member)
    request = RequestFactory().get("/fr/admin/import/")
    request.session = client.session
    request.user = member
    assert ImportPaperSignatures.as_view()(request).content == b"ok"

    age_second_factor(client, 601)
    request.session = client.session
    with pytest.raises(ReauthenticationRequired):
        ImportPaperSignatures.as_view()(request)


# Sessions.


def test_a_session_ends_after_a_working_day_and_after_an_idle_hour(client, member, settings):
    client.force_login(member)
    assert client.get(reverse("admin:index")).status_code == 200
    row = StaffSession.objects.get(user=member)

    StaffSession.objects.filter(pk=row.pk).update(
        last_seen_at=timezone.now() - timedelta(seconds=settings.STAFF_SESSION_IDLE_TIMEOUT)
    )
    assert client.get(reverse("admin:index")).status_code == 302
    assert not StaffSession.objects.filter(pk=row.pk).exists()

    client.force_login(member)
    StaffSession.objects.filter(user=member).update(
        started_at=timezone.now() - timedelta(seconds=settings.STAFF_SESSION_MAX_AGE)
    )
    assert client.get(reverse("admin:index")).status_code == 302


def test_a_member_ends_their_other_sessions(client, client_factory, member):
    laptop, phone = client, client_factory()
    laptop.force_login(member)
    phone.force_login(member)
    assert phone.get(reverse("admin:index")).status_code == 200

    page = laptop.get(reverse("staff_sessions"))
    assert page.content.decode().count('<tr class="staff-session">') == 2
    laptop.post(reverse("staff_sessions"))

    assert phone.get(reverse("admin:index")).status_code == 302
    assert laptop.get(reverse("admin:index")).status_code == 200
    assert StaffEvent.objects.filter(kind=StaffEvent.Kind.SESSIONS_ENDED, detail="1").exists()


def test_a_logged_out_cookie_opens_nothing_again(client, member):
    client.force_login(member)
    stolen = client.cookies["sessionid"].value
    client.post(reverse("admin:logout"))

    thief = Client()
    thief.cookies["sessionid"] = stolen
    assert thief.get(reverse("admin:index")).status_code == 302


def test_a_password_change_ends_the_other_sessions(client, client_factory, member):
    laptop, phone = client, client_factory()
    laptop.force_login(member)
    phone.force_login(member)

    changed = laptop.post(
        reverse("admin:password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "a new Passw0rd!",
            "new_password2": "a new Passw0rd!",
        },
    )

    assert changed.status_code == 302
    assert laptop.get(reverse("admin:index")).status_code == 200
    assert phone.get(reverse("admin:index")).status_code == 302
    assert StaffSession.objects.filter(user=member).count() == 1


def test_removing_a_factor_ends_the_other_sessions_and_tells_the_member(
    client, client_factory, member, mailoutbox, django_capture_on_commit_callbacks, translated
):
    laptop, phone = client, client_factory()
    laptop.force_login(member)
    phone.force_login(member)

    with django_capture_on_commit_callbacks(execute=True):
        removed = laptop.post(reverse("mfa_deactivate_totp"))

    assert removed.status_code == 302
    assert phone.get(reverse("admin:index")).status_code == 302
    # Without a factor now, the member is sent to enrol one.
    assert laptop.get(reverse("admin:index"))["Location"] == reverse("mfa_index")
    assert StaffEvent.objects.filter(kind=StaffEvent.Kind.FACTOR_REMOVED).exists()
    assert translated("fr", "A second factor was removed from your CAMELEON staff account") in [
        m.subject for m in mailoutbox
    ]


# Lost factors.


def test_a_superuser_resets_the_factors_of_a_member_who_lost_them(
    admin_client, client_factory, member, mailoutbox, django_capture_on_commit_callbacks
):
    their_browser = client_factory()
    their_browser.force_login(member)
    reset = reverse("admin:auth_user_reset_factors", args=[member.pk])
    assert admin_client.get(reset).status_code == 200

    with django_capture_on_commit_callbacks(execute=True):
        done = admin_client.post(reset)

    assert done.status_code == 302
    assert not Authenticator.objects.filter(user=member).exists()
    assert their_browser.get(reverse("admin:index")).status_code == 302
    event = StaffEvent.objects.get(kind=StaffEvent.Kind.FACTORS_RESET, user=member)
    assert event.actor == "admin"
    [notice] = [m for m in mailoutbox if m.to == ["claire@example.org"]]
    assert "admin" in notice.body


def test_only_a_superuser_resets_factors(client, member, django_user_model):
    member.user_permissions.add(
        *Permission.objects.filter(codename__in=["change_user", "view_user"])
    )
    client.force_login(member)
    other = django_user_model.objects.create_user("sam", is_staff=True)

    assert client.get(reverse("admin:auth_user_reset_factors", args=[other.pk])).status_code == 403


def test_the_last_superuser_who_lost_everything_is_reset_from_the_shell(admin_user, capsys):
    totp_secret(admin_user)
    RecoveryCodes.activate(admin_user)

    call_command("reset_staff_factors", "admin")

    assert not Authenticator.objects.filter(user=admin_user).exists()
    assert "Removed 2 second factor(s) of admin" in capsys.readouterr().out
    assert StaffEvent.objects.get(kind=StaffEvent.Kind.FACTORS_RESET).actor.startswith("manage.py")


def test_the_reset_command_names_an_unknown_account():
    with pytest.raises(CommandError):
        call_command("reset_staff_factors", "nobody")


# The record.


def test_the_record_of_staff_accounts_can_be_read_and_never_edited(admin_client, member, client):
    log_in_with_password(client, member)
    event = StaffEvent.objects.first()
    listing = admin_client.get(reverse("admin:petition_staffevent_changelist"))
    detail = admin_client.get(reverse("admin:petition_staffevent_change", args=[event.pk]))

    assert listing.status_code == detail.status_code == 200
    assert "claire" in listing.content.decode()
    assert admin_client.get(reverse("admin:petition_staffevent_add")).status_code == 403
    assert (
        admin_client.post(reverse("admin:petition_staffevent_delete", args=[event.pk])).status_code
        == 403
    )


def test_the_browser_cookie_is_signed(client, member):
    log_in(client, member)
    cookie = client.cookies[staff.BROWSER_COOKIE]
    assert cookie["httponly"]

    forged = Client()
    forged.cookies[staff.BROWSER_COOKIE] = "forged"
    log_in(forged, member)
    logins = StaffEvent.objects.filter(kind=StaffEvent.Kind.LOGIN).order_by("at")
    # Both were new browsers: the forged cookie names none.
    assert [event.detail for event in logins] == ["first login from this browser"] * 2


def test_the_staffs_own_pages_allow_no_inline_code(client, member):
    pages = {"login": client.get(reverse("account_login"))}
    log_in_with_password(client, member)
    for name in ("mfa_index", "mfa_activate_totp", "mfa_add_webauthn"):
        pages[name] = client.get(reverse(name))
    client.force_login(member)
    for name in ("staff_sessions", "mfa_reauthenticate"):
        pages[name] = client.get(reverse(name))
    for name, response in pages.items():
        assert response.status_code == 200, name
        assert_strict(response, name)


@pytest.mark.django_db(transaction=True)
def test_a_passkey_is_enrolled_and_signs_in_and_its_button_shows_only_to_its_owner(member):
    """A passkey in software answers the site's challenges; the site's WebAuthn library checks
    them (tests/integration/test_staff_browser.py does the same with Chromium's)."""
    browser = Client(HTTP_HOST=passkeys.HOST)
    log_in_with_password(browser, member)
    add = reverse("mfa_add_webauthn")
    passkey = SoftPasskey()
    credential = passkey.create(page_data(browser.get(add).content)["creation_options"])
    added = browser.post(add, {"name": "laptop", "credential": credential})
    assert added.status_code == 302
    assert browser.get(reverse("admin:index")).status_code == 200
    browser.post(reverse("admin:logout"))

    log_in_with_password(browser, member)
    step = browser.get(reverse("mfa_authenticate"))
    assert 'id="mfa_webauthn_authenticate"' in step.content.decode()
    answer = passkey.get(page_data(step.content)["request_options"])
    signed_in = browser.post(reverse("mfa_authenticate"), {"credential": answer})
    assert signed_in.status_code == 302
    assert browser.get(reverse("admin:index")).status_code == 200

    # The same answer again (its challenge spent) signs nobody in.
    again = Client(HTTP_HOST=passkeys.HOST)
    log_in_with_password(again, member)
    again.get(reverse("mfa_authenticate"))
    assert again.post(reverse("mfa_authenticate"), {"credential": answer}).status_code == 200
    assert again.get(reverse("admin:index")).status_code == 302


def test_a_member_without_a_passkey_is_not_offered_one(client, member):
    totp_secret(member)
    log_in_with_password(client, member)

    step = client.get(reverse("mfa_authenticate")).content.decode()

    assert 'id="mfa_webauthn_authenticate"' not in step
    assert 'id="id_code"' in step


def test_a_notice_leaves_once_however_often_its_task_runs(member, mailoutbox):
    event = staff.record(StaffEvent.Kind.FACTORS_RESET, user=member, detail="2", actor="admin")

    assert tasks.send_staff_notice(event.pk) is True
    assert tasks.send_staff_notice(event.pk) is False
    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["claire@example.org"]


def test_the_record_of_staff_accounts_is_kept_a_year_and_expired_sessions_are_forgotten(
    member, settings
):
    now = timezone.now()
    old = staff.record(StaffEvent.Kind.LOGIN, user=member)
    recent = staff.record(StaffEvent.Kind.LOGIN, user=member)
    StaffEvent.objects.filter(pk=old.pk).update(
        at=now - timedelta(days=settings.STAFF_EVENTS_RETENTION_DAYS + 1)
    )
    StaffSession.objects.create(key="expired", user=member, last_seen_at=now - timedelta(days=2))
    StaffSession.objects.create(key="current", user=member)

    done = privacy.apply_retention()

    assert done.staff_events_deleted == 1
    assert list(StaffEvent.objects.values_list("pk", flat=True)) == [recent.pk]
    assert list(StaffSession.objects.values_list("key", flat=True)) == ["current"]
