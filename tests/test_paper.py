"""Paper signatures: a typed-in sheet imported from the admin (all of it or nothing, duplicates
by mailbox set aside and listed), a sheet counted by its number alone, both counted in the
public count, which says how many were on paper, in exports and dossiers, entered in the public
log as far as they have rows, never written to, and undone as a whole."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from petition import log
from petition.advocacy import dossier
from petition.advocacy.models import Target
from petition.export import SignatureExport
from petition.models import PaperImport, Signature, SignatureLog, Source
from petition.paper.admin import PAPER_FILE_MAX_BYTES
from petition.paper.services import duplicate_lines
from petition.tasks import fold_count, refresh_signature_count

pytestmark = pytest.mark.django_db

HEADER = ["name", "postal_code", "country", "email", "event", "date"]
EVENT = "Exposition #LePartage, Guéret"
DAY = "2026-03-14"


def sheet(rows: list[list[str]], *, header: list[str] = HEADER, delimiter: str = ",") -> bytes:
    content = io.StringIO()
    writer = csv.writer(content, delimiter=delimiter)
    writer.writerows([header, *rows])
    return content.getvalue().encode()


def words(response) -> str:
    """A page's text, tags left out and spaces collapsed."""
    return " ".join(re.sub(r"<[^>]+>", "", response.content.decode()).split())


def creuse_rows(count: int, *, emails: bool = True) -> list[list[str]]:
    """Signers from the Creuse, a département with a single député."""
    return [
        [
            f"Marie Lefèvre-{n}",
            "23000",
            "FR",
            f"marie.lefevre.{n}@example.org" if emails and n % 2 else "",
            EVENT,
            DAY,
        ]
        for n in range(count)
    ]


@pytest.fixture
def importer(client, django_user_model):
    user = django_user_model.objects.create_user("ines", "ines@example.org", "pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            codename__in=[
                "add_paperimport",
                "view_paperimport",
                "view_signature",
                "view_petition",
                "export_signatures",
            ]
        )
    )
    client.force_login(user)
    client.user = user
    return client


def upload(client, content: bytes, petition, name: str = "feuille.csv"):
    return client.post(
        reverse("admin:petition_paperimport_import"),
        {
            "kind": "file",
            "file-petition": petition.pk,
            "file-file": SimpleUploadedFile(name, content, "text/csv"),
        },
    )


def count_sheet(client, petition, **changes: object):
    data = {
        "kind": "count",
        "count-petition": petition.pk,
        "count-event": "Fête de quartier, Lyon 7e",
        "count-collected_on": DAY,
        "count-count": "150",
        **{f"count-{name}": value for name, value in changes.items()},
    }
    return client.post(reverse("admin:petition_paperimport_import"), data)


@pytest.fixture
def imported(importer, petition, django_capture_on_commit_callbacks):
    """A sheet of 20 signatures imported from the admin, the count task run after it."""
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(importer, sheet(creuse_rows(20)), petition)
    assert response.status_code == 302, response.context and response.context["file_form"].errors
    petition.refresh_from_db()
    return PaperImport.objects.get()


def test_a_sheet_of_20_is_imported_marked_as_paper_and_counted(
    imported, importer, petition, add_signatures, url
):
    assert Signature.objects.filter(source=Source.PAPER).count() == 20
    assert imported.rows_created == 20
    assert petition.signature_count == 20
    assert petition.paper_count == 20
    add_signatures(3)
    petition.refresh_from_db()
    assert petition.signature_count == 23

    page = importer.get(reverse("admin:petition_paperimport_change", args=[imported.pk]))
    assert page.status_code == 200
    shown = [str(message) for message in page.context["messages"]]
    assert shown == [
        "20 signatures sur papier importées\u00a0; doublons écartés\u00a0: 0. "
        "Le compteur suit dans les secondes qui viennent."
    ]


def test_a_paper_signature_has_the_day_it_was_collected_and_no_personal_link(imported):
    signature = Signature.objects.filter(source=Source.PAPER, email="").first()
    assert signature.first_name == "Marie"
    assert signature.last_name.startswith("Lefèvre")
    assert timezone.localtime(signature.created_at).date().isoformat() == DAY
    assert signature.is_counted
    assert signature.paper_import == imported
    assert signature.email_canonical == ""
    assert not signature.receives_email


def test_the_public_count_says_how_many_were_on_paper_in_both_languages(
    imported, client, url, add_signatures
):
    add_signatures(2)
    for lang, text in (("fr", "dont 20 sur papier"), ("en", "including 20 on paper")):
        page = client.get(url(lang, "petition", imported.petition.slug))
        assert text in words(page)
        embed = client.get(url(lang, "embed", imported.petition.slug))
        assert text in words(embed)
    api = client.get(reverse("petition_api", args=[imported.petition.slug])).json()
    assert api["signature_count"] == 22
    assert api["paper_count"] == 20


def test_a_mailbox_that_signed_online_or_earlier_is_set_aside_and_listed(
    importer, petition, signature, django_capture_on_commit_callbacks
):
    online = Signature.objects.create(
        petition=petition,
        first_name="Léa",
        last_name="Roux",
        email="lea.roux@gmail.com",
        language="fr",
    )
    online.mark_confirmed()
    rows = [
        ["Lea Roux", "23000", "FR", "Lea.Roux+expo@gmail.com", EVENT, DAY],  # line 2
        ["Paul Petit", "23000", "FR", "paul@example.org", EVENT, DAY],  # line 3
        ["Paul Petit", "23000", "FR", "PAUL@example.org", EVENT, DAY],  # line 4
        ["Camille Durand", "75011", "FR", signature.email, EVENT, DAY],  # line 5, pending online
        ["Jo Bernard", "23000", "France", "", EVENT, DAY],  # line 6
    ]
    with django_capture_on_commit_callbacks(execute=True):
        response = upload(importer, sheet(rows), petition)
    assert response.status_code == 302
    first = PaperImport.objects.get()
    assert first.rows_created == 2
    assert duplicate_lines(first) == [
        "Ligne 2\u00a0: cette boîte aux lettres a déjà signé en ligne.",
        "Ligne 4\u00a0: la même boîte aux lettres que la ligne 3.",
        "Ligne 5\u00a0: cette boîte aux lettres a déjà signé en ligne.",
    ]
    page = importer.get(response["Location"])
    assert "la même boîte aux lettres que la ligne 3" in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        upload(importer, sheet(rows[1:2]), petition, name="encore.csv")
    second = PaperImport.objects.latest("imported_at")
    assert second.rows_created == 0
    assert duplicate_lines(second) == [
        "Ligne 2\u00a0: cette boîte aux lettres est déjà sur une feuille papier précédente."
    ]
    petition.refresh_from_db()
    assert petition.signature_count == 3  # Léa online, Paul and Jo on paper
    assert petition.paper_count == 2


def test_a_bad_file_is_refused_with_its_lines_and_nothing_is_written(importer, petition):
    rows = creuse_rows(4)
    rows[1][1] = "2300"  # line 3
    rows[2][3] = "pas-une-adresse"  # line 4
    rows[3][5] = "31/02/2026"  # line 5

    response = upload(importer, sheet(rows), petition)

    assert response.status_code == 200
    errors = response.context["file_form"].errors["file"]
    assert errors[0] == "Rien n\u2019a été importé."
    assert (
        "Ligne 3\u00a0: le code postal «\u00a02300\u00a0» n\u2019est pas un code postal "
        "français de cinq chiffres." in errors
    )
    assert any(error.startswith("Ligne 4\u00a0: l\u2019adresse e-mail") for error in errors)
    assert any(error.startswith("Ligne 5\u00a0: la date") for error in errors)
    assert not PaperImport.objects.exists()
    assert not Signature.objects.exists()


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\xff\xfe n\x00o\x00m\x00", "Le fichier n\u2019est pas du texte en UTF-8."),
        (b"", "Le fichier soumis est vide."),
        (b"\xef\xbb\xbf", "Le fichier est vide."),
        (b"nom;prenom\n", "La première ligne doit nommer les colonnes"),
        (
            b"name,postal_code,country,email,event,date\n",
            "Le fichier ne contient aucune signature.",
        ),
    ],
)
def test_a_file_that_is_not_a_sheet_is_refused_whole(importer, petition, content, problem):
    response = upload(importer, content, petition)

    assert response.status_code == 200
    errors = response.context["file_form"].errors["file"]
    assert any(error.startswith(problem) for error in errors), errors
    assert not PaperImport.objects.exists()


def test_french_columns_semicolons_and_a_byte_order_mark_read_as_the_english_ones(
    importer, petition, django_capture_on_commit_callbacks
):
    header = ["Prénom", "Nom", "Code postal", "Pays", "Courriel", "Événement", "Date"]
    rows = [["Anne", "Morel", "23200", "France", "", EVENT, "14/03/2026"]]
    content = "\ufeff".encode() + sheet(rows, header=header, delimiter=";")

    with django_capture_on_commit_callbacks(execute=True):
        response = upload(importer, content, petition)

    assert response.status_code == 302
    signature = Signature.objects.get()
    assert (signature.first_name, signature.last_name, signature.postal_code) == (
        "Anne",
        "Morel",
        "23200",
    )
    assert signature.country == "FR"


def test_a_file_too_large_is_refused_before_it_is_read(importer, petition):
    response = upload(importer, b"x" * (PAPER_FILE_MAX_BYTES + 1), petition)

    assert response.status_code == 200
    [error] = response.context["file_form"].errors["file"]
    assert error.startswith("Le fichier dépasse")
    assert not PaperImport.objects.exists()


def test_a_sheet_not_typed_in_counts_by_its_number_and_is_listed_on_the_log_page(
    importer, client, petition, url, add_signatures, django_capture_on_commit_callbacks
):
    add_signatures(5)
    with django_capture_on_commit_callbacks(execute=True):
        response = count_sheet(importer, petition)
    assert response.status_code == 302
    petition.refresh_from_db()
    assert petition.signature_count == 155
    assert petition.paper_count == 150

    # The count's next folds keep the sheet in the count.
    fold_count(petition.pk)
    petition.refresh_from_db()
    assert petition.signature_count == 155

    page = words(client.get(url("en", "log", petition.slug)))
    assert "Fête de quartier, Lyon 7e" in page
    assert "plus 150 collected on paper sheets that were not typed in" in page


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"count": "0"}, "count", "supérieure ou égale à 1"),
        ({"count": "12abc"}, "count", "Saisissez un nombre entier."),
        ({"count": "100001"}, "count", "inférieure ou égale à 100000"),
        ({"collected_on": "2999-01-01"}, "collected_on", "Ce jour est dans le futur."),
        ({"collected_on": "hier"}, "collected_on", "Saisissez une date valide."),
        ({"event": ""}, "event", "Ce champ est obligatoire."),
        ({"event": "Fête\u202e"}, "event", "Ce champ contient des caractères non autorisés."),
    ],
)
def test_a_bad_count_is_refused_with_a_clear_message(importer, petition, changes, field, message):
    response = count_sheet(importer, petition, **changes)

    assert response.status_code == 200
    errors = response.context["count_form"].errors[field]
    assert any(message in error for error in errors), errors
    assert not PaperImport.objects.exists()


def test_undoing_an_import_takes_its_signatures_back_and_restores_the_count(
    imported, importer, petition, add_signatures, django_capture_on_commit_callbacks
):
    add_signatures(2)
    with django_capture_on_commit_callbacks(execute=True):
        count_sheet(importer, petition)
    petition.refresh_from_db()
    assert petition.signature_count == 172
    sheet_of_150 = PaperImport.objects.get(count_alone=150)
    undo = reverse("admin:petition_paperimport_undo", args=[imported.pk])

    confirm = importer.get(undo)
    assert confirm.status_code == 200
    assert "20" in confirm.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = importer.post(undo)

    assert response.status_code == 302
    imported.refresh_from_db()
    assert imported.undone_at is not None
    assert imported.undone_by_name == "ines"
    assert not Signature.objects.filter(source=Source.PAPER).exists()
    petition.refresh_from_db()
    assert (petition.signature_count, petition.paper_count) == (152, 150)

    with django_capture_on_commit_callbacks(execute=True):
        importer.post(reverse("admin:petition_paperimport_undo", args=[sheet_of_150.pk]))
    petition.refresh_from_db()
    assert (petition.signature_count, petition.paper_count) == (2, 0)
    # Undone twice changes nothing more.
    assert importer.post(undo).status_code == 302
    assert PaperImport.objects.filter(undone_at__isnull=False).count() == 2


def test_imports_and_undoings_are_in_the_staffs_history(imported, importer):
    with_flag = LogEntry.objects.filter(object_id=str(imported.pk)).order_by("pk")
    [added] = with_flag
    assert (added.action_flag, added.user.username) == (ADDITION, "ines")
    assert "20 signatures sur papier importées" in added.change_message
    assert imported.imported_by_name == "ines"

    importer.post(reverse("admin:petition_paperimport_undo", args=[imported.pk]))
    assert with_flag.last().action_flag == CHANGE
    assert "20 signatures sur papier supprimées" in with_flag.last().change_message


def test_staff_without_the_permission_cannot_import_or_undo(
    client, django_user_model, petition, imported
):
    user = django_user_model.objects.create_user("sam", "sam@example.org", "pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_paperimport"))
    client.force_login(user)

    assert client.get(reverse("admin:petition_paperimport_import")).status_code == 403
    assert upload(client, sheet(creuse_rows(2)), petition).status_code == 403
    undo = reverse("admin:petition_paperimport_undo", args=[imported.pk])
    assert client.post(undo).status_code == 403
    assert Signature.objects.count() == 20


def test_paper_signatures_are_never_written_to(imported, petition, mailoutbox):
    # Even had someone ticked the box for them, they gave no consent online.
    Signature.objects.filter(source=Source.PAPER).update(wants_news=True)

    assert not Signature.objects.filter(petition=petition).news_recipients().exists()
    assert mailoutbox == []


def test_exports_say_which_signatures_are_on_paper_and_keep_formulas_inert(
    importer, petition, settings, django_capture_on_commit_callbacks
):
    rows = [["=HYPERLINK(1) Dupont", "23000", "FR", "", EVENT, DAY]]
    with django_capture_on_commit_callbacks(execute=True):
        upload(importer, sheet(rows), petition)
    online = Signature.objects.create(
        petition=petition,
        first_name="Léa",
        last_name="Roux",
        email="lea@example.org",
        language="fr",
    )
    online.mark_confirmed()
    signatures = Signature.objects.filter(petition=petition)
    copy_paths = (
        [False, True] if settings.DATABASES["default"]["ENGINE"].endswith("postgresql") else [False]
    )

    for use_copy in copy_paths:
        full = list(
            csv.DictReader(
                io.StringIO(
                    b"".join(SignatureExport(signatures, use_copy=use_copy)).decode("utf-8-sig")
                )
            )
        )
        assert [row["source"] for row in full] == ["paper", "online"]
        assert full[0]["first_name"] == "'=HYPERLINK(1)"
        officials = b"".join(
            SignatureExport(signatures, variant="officials", use_copy=use_copy)
        ).decode("utf-8-sig")
        lines = list(csv.reader(io.StringIO(officials)))
        assert lines[0][-1] == "Collecte"
        assert [line[-1] for line in lines[1:]] == ["sur papier", "en ligne"]


def test_the_dossier_counts_and_marks_the_paper_signers(imported, petition):
    creuse = Target.objects.get(departement="23")
    campaign = dossier.Campaign.of(petition)

    lines, on_paper = dossier.signer_lines(campaign, creuse)
    buffer = io.BytesIO()
    count = dossier.write_pdf(campaign, creuse, buffer)

    assert count == 20
    assert on_paper == 20
    assert all(line[3] == "papier, 14/03/2026" for line in lines)
    assert buffer.getvalue().startswith(b"%PDF")


def test_the_log_holds_the_typed_in_signatures_and_the_count_adds_the_untyped_sheets(
    imported, importer, petition, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        count_sheet(importer, petition, count="7")
    log.append_all(petition.pk)
    petition.refresh_from_db()
    state = SignatureLog.objects.get(petition=petition)
    assert state.count == 20 == log.recount(petition.pk)
    assert petition.signature_count == state.count + 7

    with django_capture_on_commit_callbacks(execute=True):
        importer.post(reverse("admin:petition_paperimport_undo", args=[imported.pk]))
    state.refresh_from_db()
    assert (state.additions, state.removals, state.count) == (20, 20, 0)
    petition.refresh_from_db()
    assert petition.signature_count == 7


def test_a_count_task_run_twice_counts_the_sheets_once(
    imported, petition, importer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        count_sheet(importer, petition, count="5")
    refresh_signature_count(petition.pk)
    refresh_signature_count(petition.pk)
    petition.refresh_from_db()
    assert (petition.signature_count, petition.paper_count) == (25, 25)


def test_a_paper_signature_needs_its_import_and_only_paper_may_lack_an_address(petition, imported):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.create(
            petition=petition, first_name="A", last_name="B", email="", language="fr"
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        Signature.objects.create(
            petition=petition,
            first_name="A",
            last_name="B",
            email="",
            language="fr",
            source=Source.PAPER,
        )
    assert timedelta(0) <= timezone.now() - imported.imported_at
