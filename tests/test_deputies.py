"""The list of decision-makers: the 577 députés shipped and loaded by a migration, refreshed
from a newer file by `import_deputies` (or the admin's upload), which reports what it added,
changed and retired, retires rather than deletes, and imports nothing of a file with a row it
cannot read."""

from __future__ import annotations

import csv
import hashlib
import io
from collections import Counter
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from petition.advocacy.deputies import SNAPSHOT, read_deputies_file
from petition.advocacy.models import Target, TargetResponse
from petition.advocacy.places import AREAS

pytestmark = pytest.mark.django_db

SNAPSHOT_SHA256 = "d8f758073dadcb979123f816dd1869ffff308c9056bec3177f4466b58df93b0e"
LYON_7E = "abdelkader.lahmar@assemblee-nationale.fr"
HEADER = ["nom", "region", "departement", "email", "groupe", "circonscription"]


def snapshot_rows() -> list[list[str]]:
    with SNAPSHOT.open(encoding="utf-8", newline="") as file:
        return list(csv.reader(file))


def write_csv(path: Path, rows: list[list[str]]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as file:
        csv.writer(file).writerows(rows)
    return path


def import_file(path: Path, *args: str) -> str:
    out = io.StringIO()
    call_command("import_deputies", str(path), *args, stdout=out)
    return out.getvalue()


def deputies(petition) -> dict[str, Target]:
    return {t.email.lower(): t for t in Target.objects.filter(petition=petition, role="deputy")}


def test_the_shipped_snapshot_is_the_published_file_with_its_source_and_date():
    assert hashlib.sha256(SNAPSHOT.read_bytes()).hexdigest() == SNAPSHOT_SHA256
    readme = (SNAPSHOT.parent / "README.md").read_text()
    assert SNAPSHOT_SHA256 in readme
    assert "March 2025" in readme
    assert "Assemblée nationale" in readme


def test_the_embedded_default_knows_every_depute_of_the_snapshot(petition):
    known = Target.objects.filter(petition=petition, role="deputy")

    assert known.count() == 577
    assert known.filter(retired_at__isnull=True).count() == 577
    areas = Counter(known.values_list("departement", flat=True))
    assert len(areas) == 107
    assert set(areas) <= set(AREAS)
    assert areas["99"] == 11
    assert areas["2A"] == areas["2B"] == 2
    # Every area's circonscriptions are numbered 1..n without a gap.
    for area, seats in areas.items():
        numbers = sorted(known.filter(departement=area).values_list("circonscription", flat=True))
        assert numbers == list(range(1, seats + 1)), area
    lyon = known.get(departement="69", circonscription=7)
    assert (lyon.civility, lyon.name) == ("M.", "Abdelkader Lahmar")
    assert lyon.email == "abdelkader.lahmar@assemblee-nationale.fr"
    assert lyon.organisation == "La France insoumise - Nouveau Front Populaire"
    assert lyon.seat() == "Rhône, 7e circonscription"
    assert len(set(known.values_list("organisation", flat=True))) == 12


def test_every_row_of_the_snapshot_reads(petition):
    rows = read_deputies_file(SNAPSHOT.read_bytes())

    assert len(rows) == 577
    assert {row.line for row in rows} == set(range(2, 579))
    assert all(row.civility in {"M.", "Mme"} for row in rows)


def test_importing_the_same_file_again_changes_nothing(petition):
    before = {t.pk: t.updated_at for t in Target.objects.all()}

    output = import_file(SNAPSHOT)

    assert output.splitlines()[0] == "Added: 0, changed: 0, retired: 0, unchanged: 577."
    assert {t.pk: t.updated_at for t in Target.objects.all()} == before


def test_a_newer_file_adds_changes_and_retires_and_reports_each(petition, tmp_path):
    rows = snapshot_rows()
    header, body = rows[0], rows[1:]
    leaving = body.pop(0)  # M. Abdelkader Lahmar, Rhône 7e
    body[0][4] = "Non inscrit"  # M. Alexandre Portier changes group
    newcomer = [
        "Mme Claire Nouvelle",
        "Auvergne-Rhône-Alpes",
        "Rhône",
        "claire.nouvelle@assemblee-nationale.fr",
        "Écologiste et Social",
        "Rhône (7ecirconscription)",
    ]
    response = TargetResponse.objects.create(
        target=deputies(petition)[leaving[3]], position="supports", text="Je soutiens."
    )

    output = import_file(write_csv(tmp_path / "newer.csv", [header, *body, newcomer]))

    lines = output.splitlines()
    assert lines[0] == "Added: 1, changed: 1, retired: 1, unchanged: 575."
    assert "Added: Mme Claire Nouvelle" in lines
    assert "Changed: M. Alexandre Portier (organisation or parliamentary group)" in lines
    assert "Retired: M. Abdelkader Lahmar" in lines
    known = deputies(petition)
    assert len(known) == 578
    retired = known["abdelkader.lahmar@assemblee-nationale.fr"]
    assert retired.retired_at is not None
    assert known["alexandre.portier@assemblee-nationale.fr"].organisation == "Non inscrit"
    seat = Target.objects.active().get(departement="69", circonscription=7)
    assert seat.name == "Claire Nouvelle"
    # The answer keeps its author, who has left office.
    response.refresh_from_db()
    assert response.target == retired

    # Back in office at the next list: the same row, not a new one.
    output = import_file(SNAPSHOT)
    assert "Changed: M. Abdelkader Lahmar (back in office)" in output.splitlines()
    assert "Retired: Mme Claire Nouvelle" in output.splitlines()
    assert (
        Target.objects.filter(email__iexact="abdelkader.lahmar@assemblee-nationale.fr").count() == 1
    )


def test_a_dry_run_reports_and_changes_nothing(petition, tmp_path):
    rows = snapshot_rows()
    path = write_csv(tmp_path / "smaller.csv", rows[:-1])

    output = import_file(path, "--dry-run")

    assert output.splitlines()[0] == "Added: 0, changed: 0, retired: 1, unchanged: 576."
    assert "Dry run: nothing was changed." in output
    assert Target.objects.active().deputies().count() == 577


@pytest.mark.parametrize(
    ("row", "problem"),
    [
        (["M. X", "R", "Atlantide", "x@example.org", "G", "Atlantide (1recirconscription)"],
         "Line 4: the département “Atlantide” is unknown."),
        (["M. X", "R", "Rhône", "pas-une-adresse", "G", "Rhône (2ecirconscription)"],
         "Line 4: the address “pas-une-adresse” is not an e-mail address."),
        (["M. X", "R", "Rhône", "x@assemblee-nationale.fr", "G", "Rhône, deuxième"],
         "Line 4: the circonscription “Rhône, deuxième” cannot be read."),
        (["M. X", "R", "Rhône", "x@assemblee-nationale.fr", "G", "Isère (2ecirconscription)"],
         "Line 4: the circonscription “Isère (2ecirconscription)” is not in Rhône."),
        (["M. X", "R", "Rhône", "x@assemblee-nationale.fr", "G"],
         "Line 4: it has 5 cells instead of 6."),
        (["M. X\u202e", "R", "Rhône", "x@assemblee-nationale.fr", "G", "Rhône (2ecirconscription)"],
         "Line 4: the column “nom” holds characters that are not allowed, or too many."),
        (["M. X", "R", "Rhône", LYON_7E, "G", "Rhône (3ecirconscription)"],
         "Line 4: the address “abdelkader.lahmar@assemblee-nationale.fr” is also on line 2."),
        (["M. X", "R", "Rhône", "x@assemblee-nationale.fr", "G", "Rhône (7ecirconscription)"],
         "Line 4: this circonscription is also on line 2."),
    ],
)  # fmt: skip
def test_a_row_that_cannot_be_read_is_reported_by_line_and_nothing_is_imported(
    petition, tmp_path, row, problem
):
    rows = snapshot_rows()
    changed = list(rows[1])
    changed[4] = "Groupe changé"
    path = write_csv(tmp_path / "bad.csv", [rows[0], changed, rows[2], row, *rows[3:]])
    before = {(t.pk, t.organisation, t.retired_at) for t in Target.objects.all()}

    with pytest.raises(CommandError) as raised:
        import_file(path)

    message = str(raised.value).splitlines()
    assert message[0] == "Nothing was imported."
    assert problem in message
    assert {(t.pk, t.organisation, t.retired_at) for t in Target.objects.all()} == before


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\xff\xfenom", "The file is not text in UTF-8."),
        (b"name,email\r\nX,x@example.org\r\n", "The first line must name the columns"),
        (",".join(HEADER).encode() + b"\r\n", "The file lists no député."),
        (b"", "The first line must name the columns"),
    ],
)
def test_a_file_that_is_not_the_list_is_refused_whole(petition, tmp_path, content, problem):
    path = tmp_path / "list.csv"
    path.write_bytes(content)

    with pytest.raises(CommandError, match=problem):
        import_file(path)

    assert Target.objects.active().deputies().count() == 577


def test_a_file_with_a_byte_order_mark_reads_as_without(petition, tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbf" + SNAPSHOT.read_bytes())

    assert import_file(path).splitlines()[0] == "Added: 0, changed: 0, retired: 0, unchanged: 577."


def test_a_depute_needs_a_seat_and_one_address_per_petition(petition):
    with pytest.raises(IntegrityError), transaction.atomic():
        Target.objects.create(petition=petition, role="deputy", name="Sans Siège")
    with pytest.raises(IntegrityError), transaction.atomic():
        Target.objects.create(
            petition=petition,
            role="deputy",
            name="Double",
            departement="69",
            circonscription=7,
            email="ABDELKADER.LAHMAR@assemblee-nationale.fr",
        )
    # A minister has no seat.
    Target.objects.create(petition=petition, role="minister", name="Ministre", email="m@gouv.fr")


# The admin: the list, its upload, and who may use it.


@pytest.fixture
def importer(client, django_user_model):
    user = django_user_model.objects.create_user("lea", "lea@example.org", "pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            codename__in=["view_target", "add_target", "change_target", "view_petition"]
        )
    )
    client.force_login(user)
    return client


def upload(client, content: bytes, petition, name: str = "deputes.csv"):
    return client.post(
        reverse("admin:petition_target_import"),
        {"petition": petition.pk, "file": SimpleUploadedFile(name, content, "text/csv")},
    )


def test_staff_import_a_newer_list_from_the_admin_and_read_the_report(importer, petition):
    rows = snapshot_rows()
    content = io.StringIO()
    csv.writer(content).writerows(rows[:-1])

    response = upload(importer, content.getvalue().encode(), petition)

    assert response.status_code == 302
    page = importer.get(response["Location"])
    shown = [str(message) for message in page.context["messages"]]
    assert (
        shown[0] == "Ajoutés\u00a0: 0, modifiés\u00a0: 0, retirés\u00a0: 1, inchangés\u00a0: 576."
    )
    assert Target.objects.active().deputies().count() == 576


def test_the_admin_refuses_a_bad_file_with_its_lines_and_imports_nothing(importer, petition):
    rows = snapshot_rows()
    content = io.StringIO()
    csv.writer(content).writerows([rows[0], rows[1][:3], *rows[2:-1]])

    response = upload(importer, content.getvalue().encode(), petition)

    assert response.status_code == 200
    errors = response.context["form"].errors["file"]
    assert errors[0] == "Rien n\u2019a été importé."
    assert "Ligne 2\u00a0: elle a 3 cellules au lieu de 6." in errors
    assert Target.objects.active().deputies().count() == 577


def test_the_admin_refuses_a_file_too_large_before_reading_it(importer, petition):
    response = upload(importer, b"x" * 1_000_001, petition)

    assert response.status_code == 200
    [error] = response.context["form"].errors["file"]
    assert "Le fichier dépasse" in error


def test_staff_who_may_not_add_decision_makers_cannot_import(client, django_user_model, petition):
    user = django_user_model.objects.create_user("sam", "sam@example.org", "pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_target"))
    client.force_login(user)

    assert client.get(reverse("admin:petition_target_import")).status_code == 403
    assert upload(client, SNAPSHOT.read_bytes(), petition).status_code == 403
