"""Personal links: each confirmed signer gets one, random and telling nothing about them; the
people who sign through it count for its owner once they confirm, and only then."""

from __future__ import annotations

import re

import pytest
from django.conf import settings
from django.urls import resolve
from django.utils import translation
from django.utils.translation import ngettext

from petition.models import Petition, Signature
from petition.tokens import (
    InvalidToken,
    make_confirmation_token,
    make_sharing_token,
    read_sharing_token,
)

LANGUAGES = ["fr", "en"]
CODE = re.compile(r"^[A-Za-z0-9_-]{16}$")
NOBODY_YET = (
    "Nobody has signed through your link yet: share it to be the first to bring someone along."
)


def signed_through(count: int) -> str:
    return ngettext(
        "%(counter)s person has signed through your link. Thank you!",
        "%(counter)s people have signed through your link. Thank you!",
        count,
    ) % {"counter": count}


@pytest.fixture
def owner(petition: Petition) -> Signature:
    """A signer who has confirmed, and so has a personal link."""
    signature = Signature.objects.create(
        petition=petition,
        first_name="Claude",
        last_name="Moreau",
        email="claude.moreau@example.org",
        postal_code="69003",
        language="fr",
    )
    signature.mark_confirmed()
    return signature


@pytest.fixture
def sign_through(sign, owner):
    """sign_through(code=..., **fields): someone signs the form of a page opened through a
    personal link (the owner's by default)."""

    def sign_through(*, code: str | None = None, **fields: str):
        ref = owner.referral_code if code is None else code
        return sign(ref=ref, **fields)

    return sign_through


def test_confirming_gives_a_random_code_that_says_nothing_of_the_signer(petition, owner):
    other = Signature.objects.create(
        petition=petition, first_name="A", last_name="B", email="a@example.org", language="en"
    )
    assert other.referral_code == ""

    other.mark_confirmed()

    other.refresh_from_db()
    assert CODE.match(owner.referral_code)
    assert CODE.match(other.referral_code)
    assert owner.referral_code != other.referral_code
    # Drawn at random: the same signature would get another code, nothing derived from it.
    first = other.referral_code
    Signature.objects.filter(pk=other.pk).update(referral_code="")
    other.refresh_from_db()
    assert other.ensure_referral_code() != first


def test_confirming_twice_keeps_the_code(owner):
    code = owner.referral_code

    assert not owner.mark_confirmed()

    owner.refresh_from_db()
    assert owner.referral_code == code


def test_a_signature_confirmed_without_a_code_gets_one_when_it_needs_it(owner):
    Signature.objects.filter(pk=owner.pk).update(referral_code="")
    owner.refresh_from_db()

    code = owner.ensure_referral_code()

    assert CODE.match(code)
    assert Signature.objects.get(pk=owner.pk).referral_code == code
    assert owner.ensure_referral_code() == code


def test_a_pending_signature_has_no_personal_link(petition):
    pending = Signature.objects.create(
        petition=petition, first_name="A", last_name="B", email="a@example.org", language="fr"
    )

    with pytest.raises(ValueError, match="confirmed"):
        pending.ensure_referral_code()


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_thank_you_page_gives_the_personal_link(
    lang, confirm_link, press_button, html, translated
):
    page = html(press_button(confirm_link(lang=lang)))

    signature = Signature.objects.get()
    personal_link = f"{settings.SITE_URL}/{lang}/?ref={signature.referral_code}"
    assert page.find("a", class_="share__url").text == personal_link
    assert page.find(class_="share__referred").text == translated(lang, NOBODY_YET)
    box = page.find("div", data_share=True)
    assert box.attrs["data-share-url"] == personal_link
    for link in box.find_all("a"):
        assert f"%3Fref%3D{signature.referral_code}" in link.attrs["href"]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_personal_link_carries_its_code_into_the_form(client, owner, lang, url, html):
    page = html(client.get(f"{url(lang, 'home')}?ref={owner.referral_code}"))

    form = page.find("form", class_="sign-form")
    assert form.form_data()["ref"] == owner.referral_code


def test_the_page_says_nothing_of_whether_a_code_belongs_to_anyone(client, owner, url, html):
    unknown = "Z" * 16

    for code in (owner.referral_code, unknown):
        form = html(client.get(f"{url('fr', 'home')}?ref={code}")).find("form", class_="sign-form")
        assert form.form_data()["ref"] == code


@pytest.mark.parametrize("code", ["", "short", "x" * 17, "<script>abcdefgh", "a" * 200])
def test_a_malformed_code_is_not_echoed(client, petition, code, url, html):
    form = html(client.get(f"{url('fr', 'home')}?ref={code}")).find("form", class_="sign-form")

    assert form.form_data().get("ref", "") == ""


def test_signing_through_a_personal_link_records_whose_it_was(sign_through, owner):
    response = sign_through(email="dominique@example.org")

    assert response.status_code == 302
    signature = Signature.objects.get(email="dominique@example.org")
    assert signature.referred_by == owner
    assert owner.referred_count() == 0, "counted only once confirmed"


def test_people_who_sign_through_a_link_count_once_confirmed(sign_through, owner):
    for number in range(3):
        sign_through(email=f"friend{number}@example.org")
    friends = list(Signature.objects.filter(referred_by=owner).order_by("email"))

    friends[0].mark_confirmed()
    friends[1].mark_confirmed()
    friends[1].mark_confirmed()

    assert owner.referred_count() == 2
    annotated = Signature.objects.with_referred_count().get(pk=owner.pk)
    assert annotated.referred_count == 2
    assert Signature.objects.with_referred_count().get(pk=friends[0].pk).referred_count == 0


@pytest.mark.parametrize("code", ["Z" * 16, "short", "<b>not a code</b>"])
def test_an_unknown_or_malformed_code_is_ignored(sign_through, code):
    response = sign_through(code=code, email="dominique@example.org")

    assert response.status_code == 302
    assert Signature.objects.get(email="dominique@example.org").referred_by is None


def test_a_pending_signers_code_does_not_count(sign_through, petition, owner):
    Signature.objects.filter(pk=owner.pk).update(confirmed_at=None)

    sign_through(email="dominique@example.org")

    assert Signature.objects.get(email="dominique@example.org").referred_by is None


def test_a_code_of_another_petition_does_not_count(
    client, petition, owner, signer_data, url, django_capture_on_commit_callbacks
):
    Petition.objects.create(slug="autre", title="Autre", introduction="Texte")

    with django_capture_on_commit_callbacks(execute=True):
        client.post(url("fr", "petition", "autre"), {**signer_data, "ref": owner.referral_code})

    assert Signature.objects.get(petition__slug="autre").referred_by is None


def test_signing_again_through_a_link_changes_nothing(sign, sign_through, owner, signer_data):
    sign()
    sign_through()

    assert Signature.objects.get(email=signer_data["email"]).referred_by is None


def test_withdrawing_the_owner_keeps_the_signatures_made_through_the_link(sign_through, owner):
    sign_through(email="dominique@example.org")

    owner.delete()

    assert Signature.objects.get(email="dominique@example.org").referred_by is None


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_sharing_page_shows_the_link_and_its_count_again(
    client, owner, sign_through, lang, url, html
):
    sign_through(email="dominique@example.org")
    Signature.objects.get(email="dominique@example.org").mark_confirmed()

    response = client.get(url(lang, "sharing", make_sharing_token(owner)))

    assert response.status_code == 200
    assert "no-cache" in response["Cache-Control"]
    page = html(response)
    assert page.find("meta", name="robots").attrs["content"] == "noindex"
    assert page.find("a", class_="share__url").text == (
        f"{settings.SITE_URL}/{lang}/?ref={owner.referral_code}"
    )
    with translation.override(lang):
        assert page.find(class_="share__referred").text == signed_through(1)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_thank_you_page_links_to_the_sharing_page(lang, confirm_link, press_button, html, url):
    page = html(press_button(confirm_link(lang=lang)))

    link = page.find(class_="share__privacy").find("a").attrs["href"]
    # The token carries its time of signing: compare what it stands for, not its text.
    with translation.override(lang):
        match = resolve(link)
    assert match.url_name == "sharing"
    assert link.startswith(f"/{lang}/")
    assert read_sharing_token(match.kwargs["token"]) == Signature.objects.get()


def test_sharing_links_are_bound_to_their_purpose(client, owner, url):
    for token in (make_confirmation_token(owner), make_sharing_token(owner)[:-2] + "xx", "x"):
        with pytest.raises(InvalidToken):
            read_sharing_token(token)
        assert client.get(url("fr", "sharing", token)).status_code == 400


def test_a_pending_signature_has_no_sharing_page(client, petition, url):
    pending = Signature.objects.create(
        petition=petition, first_name="A", last_name="B", email="a@example.org", language="fr"
    )

    response = client.get(url("fr", "sharing", make_sharing_token(pending)))

    assert response.status_code == 400


@pytest.mark.parametrize("lang", LANGUAGES)
def test_the_already_signed_email_gives_the_personal_link_and_the_sharing_page(
    sign, owner, lang, mailoutbox, email_links
):
    Signature.objects.filter(pk=owner.pk).update(language=lang)

    sign(email=owner.email, first_name="Claude")

    [message] = mailoutbox
    personal_link = f"{settings.SITE_URL}/{lang}/?ref={owner.referral_code}"
    assert personal_link in message.body
    assert personal_link in message.alternatives[0][0]
    sharing_path = email_links(message)["sharing"]
    assert sharing_path.startswith(f"/{lang}/")
    assert read_sharing_token(sharing_path.rstrip("/").rsplit("/", 1)[-1]) == owner
