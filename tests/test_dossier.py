"""Dossiers for députés: a PDF in French for one, a ZIP of one PDF each for a département or
all of them, listing the signers of the circonscription (those who chose it, or everyone in a
département with a single député) without any address; made by Celery from the admin, with
its progress, for staff who may export signatures."""

from __future__ import annotations

import io
import zipfile

import pytest
from django.contrib.auth.models import Permission
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from petition.advocacy import dossier
from petition.advocacy.models import ChosenCirconscription, DossierRun, Target
from petition.models import Signature

pytestmark = pytest.mark.django_db

LYON_7E = "abdelkader.lahmar@assemblee-nationale.fr"


@pytest.fixture(autouse=True)
def dossier_root(settings, tmp_path):
    settings.DOSSIER_ROOT = str(tmp_path / "dossiers")


def confirmed(petition, n: int, **fields) -> Signature:
    values = {
        "first_name": "Émilie",
        "last_name": f"Dupont {n}",
        "email": f"emilie.{n}@example.org",
        "postal_code": "69007",
        "language": "fr",
        **fields,
    }
    signature = Signature.objects.create(petition=petition, **values)
    signature.mark_confirmed()
    return signature


@pytest.fixture
def signers(petition) -> dict[str, list[Signature]]:
    lyon = [confirmed(petition, n) for n in range(3)]
    for signature in lyon:
        ChosenCirconscription.objects.create(signature=signature, departement="69", number=7)
    unplaced = [confirmed(petition, n) for n in range(3, 5)]  # Lyon, no choice: unknown
    creuse = [confirmed(petition, n, postal_code="23000") for n in range(5, 7)]
    suspect = confirmed(petition, 7, suspect_reason="honeypot")
    ChosenCirconscription.objects.create(signature=suspect, departement="69", number=7)
    return {"lyon": lyon, "unplaced": unplaced, "creuse": creuse}


def test_a_deputes_signers_are_those_who_chose_the_seat_or_its_single_seat_area(petition, signers):
    campaign = dossier.Campaign.of(petition)
    lahmar = Target.objects.get(email=LYON_7E)
    creuse = Target.objects.get(departement="23")

    assert list(dossier.signers(campaign, lahmar)) == sorted(
        signers["lyon"], key=lambda s: s.last_name
    )
    assert set(dossier.signers(campaign, creuse)) == set(signers["creuse"])
    assert campaign.in_france == 7


def test_the_command_writes_one_deputes_pdf(petition, signers, tmp_path):
    out = io.StringIO()
    path = tmp_path / "lahmar.pdf"

    call_command("dossier", petition.slug, "--depute", LYON_7E, "--output", str(path), stdout=out)

    assert path.read_bytes().startswith(b"%PDF-")
    assert b"/Title (Manifeste CAMELEON" in path.read_bytes()
    assert "1 PDF, 3 signers" in out.getvalue()


def test_a_departement_is_a_zip_of_one_pdf_per_depute(petition, signers, tmp_path):
    path = tmp_path / "rhone.zip"

    call_command("dossier", petition.slug, "--departement", "69", "--output", str(path))

    with zipfile.ZipFile(path) as archive:
        names = archive.namelist()
        assert len(names) == 14
        assert "69-07-abdelkader-lahmar.pdf" in names
        assert all(archive.read(name).startswith(b"%PDF-") for name in names)


def test_the_pdf_reads_names_postal_codes_and_dates_and_no_address(petition, signers):
    campaign = dossier.Campaign.of(petition)
    buffer = io.BytesIO()

    with CaptureQueriesContext(connection) as queries:
        count = dossier.write_pdf(campaign, Target.objects.get(email=LYON_7E), buffer)

    assert count == 3
    read = [query["sql"] for query in queries if '"petition_signature"' in query["sql"]]
    assert read
    assert not any('"petition_signature"."email' in sql for sql in read)
    # Text is drawn with the font the project ships, embedded: nothing is looked for elsewhere.
    assert b"DejaVuSans" in buffer.getvalue()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--departement", "ZZ"], "No département has the code 'ZZ'."),
        (["--depute", "nobody@example.org"], "No député in office matches."),
    ],
)
def test_the_command_refuses_what_names_no_depute(petition, tmp_path, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("dossier", petition.slug, *args, "--output", str(tmp_path / "x.pdf"))


# The admin.


@pytest.fixture
def exporter(client, django_user_model):
    user = django_user_model.objects.create_user("lea", "lea@example.org", "pw", is_staff=True)
    user.user_permissions.set(
        Permission.objects.filter(
            codename__in=["view_target", "view_petition", "export_signatures"]
        )
    )
    client.force_login(user)
    return client


def test_staff_download_one_deputes_dossier_at_once(exporter, petition, signers):
    lahmar = Target.objects.get(email=LYON_7E)

    response = exporter.post(
        reverse("admin:petition_target_dossiers"), {"petition": petition.pk, "depute": lahmar.pk}
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert 'filename="69-07-abdelkader-lahmar.pdf"' in response["Content-Disposition"]
    assert response.content.startswith(b"%PDF-")


def test_every_deputes_dossier_is_made_by_celery_with_its_progress(
    exporter, petition, signers, django_capture_on_commit_callbacks
):
    page = reverse("admin:petition_target_dossiers")
    with django_capture_on_commit_callbacks(execute=True):
        response = exporter.post(page, {"petition": petition.pk, "departement": "69"})

    assert response.status_code == 302
    run = DossierRun.objects.get()
    assert (run.total, run.done) == (14, 14)
    assert run.finished_at is not None
    listed = exporter.get(page)
    assert "14 / 14" in listed.content.decode()
    download = exporter.get(reverse("admin:petition_target_dossier_download", args=[run.pk]))
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    assert len(archive.namelist()) == 14


def test_the_admin_asks_for_one_choice_in_the_staffs_language(exporter, petition):
    response = exporter.post(
        reverse("admin:petition_target_dossiers"),
        {"petition": petition.pk, "departement": "69", "everyone": "on"},
    )

    assert response.status_code == 200
    assert "Choisissez un député, un département, ou tous les députés." in (
        response.content.decode()
    )
    assert not DossierRun.objects.exists()


def test_staff_who_may_not_export_signatures_make_no_dossier(client, django_user_model, petition):
    user = django_user_model.objects.create_user("sam", "sam@example.org", "pw", is_staff=True)
    user.user_permissions.set(Permission.objects.filter(codename="view_target"))
    client.force_login(user)

    assert client.get(reverse("admin:petition_target_dossiers")).status_code == 403
    response = client.post(
        reverse("admin:petition_target_dossiers"), {"petition": petition.pk, "everyone": "on"}
    )
    assert response.status_code == 403
    assert not DossierRun.objects.exists()


def test_dossiers_are_deleted_with_their_files_after_the_days_the_notice_says(petition, settings):
    from datetime import timedelta

    from django.utils import timezone

    from petition import privacy

    old = DossierRun.objects.create(petition=petition, total=1, done=1)
    DossierRun.objects.filter(pk=old.pk).update(
        requested_at=timezone.now() - timedelta(days=settings.DOSSIER_KEEP_DAYS, hours=1)
    )
    recent = DossierRun.objects.create(petition=petition, total=1, done=1)
    for run in (old, recent):
        dossier.run_path(run).parent.mkdir(parents=True, exist_ok=True)
        dossier.run_path(run).write_bytes(b"PK")

    done = privacy.apply_retention()

    assert done.dossiers_deleted == 1
    assert list(DossierRun.objects.all()) == [recent]
    assert not dossier.run_path(old).exists()
    assert dossier.run_path(recent).exists()
