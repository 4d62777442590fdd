"""Who may export signatures from the admin, and the audit log every export leaves.

Being staff is not enough: exports need the "Can export signatures" permission. The command
line (export_signatures) is for operators with shell access; tests/test_export.py covers it.
"""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from petition import export
from petition.models import ExportRecord, Petition, Signature

pytestmark = pytest.mark.django_db

BOM = "\ufeff"


def export_url(**filters: str) -> str:
    query = "&".join(f"{name}={value}" for name, value in filters.items())
    return reverse("admin:petition_signature_export") + (f"?{query}" if query else "")


@pytest.fixture
def signatures(petition) -> list[Signature]:
    signed_at = timezone.now() - timedelta(days=1)
    rows = [
        ("Camille", "Durand", "camille@example.org", "75011", signed_at),
        ("Jean", "Martin", "jean@example.org", "69003", signed_at),
        ("Léa", "Dupont", "lea@example.org", "13001", None),
    ]
    return [
        Signature.objects.create(
            petition=petition,
            first_name=first,
            last_name=last,
            email=email,
            postal_code=postal_code,
            language="fr",
            created_at=signed_at,
            confirmed_at=confirmed_at,
        )
        for first, last, email, postal_code, confirmed_at in rows
    ]


def make_staff(django_user_model, username: str, *permissions: str):
    user = django_user_model.objects.create_user(
        username, f"{username}@example.org", "pw", is_staff=True
    )
    user.user_permissions.set(
        Permission.objects.filter(content_type__app_label="petition", codename__in=permissions)
    )
    return user


@pytest.fixture
def staff_client(client, django_user_model):
    """A member of staff who may see and change signatures, but not export them."""
    client.force_login(
        make_staff(django_user_model, "viewer", "view_signature", "change_signature")
    )
    return client


@pytest.fixture
def exporter_client(client, django_user_model):
    client.force_login(
        make_staff(django_user_model, "exporter", "view_signature", "export_signatures")
    )
    return client


def download(response) -> str:
    return b"".join(response.streaming_content).decode()


def rows_of(text: str, delimiter: str = ",") -> list[dict[str, str]]:
    assert text.startswith(BOM)
    header, *rows = csv.reader(io.StringIO(text.removeprefix(BOM), newline=""), delimiter=delimiter)
    return [dict(zip(header, row, strict=True)) for row in rows]


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("filters", [{}, {"status": "confirmed"}, {"q": "Durand"}])
def test_staff_without_the_export_permission_get_403_from_every_export_path(
    staff_client, signatures, method, filters
):
    data = {"variant": "full", "delimiter": ","} if method == "post" else None

    response = getattr(staff_client, method)(export_url(**filters), data)

    assert response.status_code == 403
    assert not ExportRecord.objects.exists()


def test_staff_without_the_permission_see_no_export_link(staff_client, signatures):
    response = staff_client.get(reverse("admin:petition_signature_changelist"))

    assert response.status_code == 200
    assert reverse("admin:petition_signature_export") not in response.content.decode()


def test_visitors_are_sent_to_the_login_page(client, signatures):
    response = client.post(export_url(), {"variant": "full", "delimiter": ","})

    assert response.status_code == 302
    assert "/login/" in response["Location"]
    assert not ExportRecord.objects.exists()


def test_with_the_permission_the_changelist_links_to_an_export_of_its_filter(exporter_client):
    response = exporter_client.get(
        reverse("admin:petition_signature_changelist") + "?status=pending"
    )

    assert f'href="{export_url(status="pending")}"' in response.content.decode()


def test_the_export_page_says_how_many_rows_the_filter_holds(exporter_client, signatures):
    response = exporter_client.get(export_url(status="confirmed"))

    assert response.status_code == 200
    assert response.context["count"] == 2
    assert response.context["filters"] == "status=confirmed"


def test_the_export_holds_the_current_filter_and_search(exporter_client, signatures, petition):
    response = exporter_client.post(
        export_url(status="confirmed", q="Martin", petition__id__exact=str(petition.pk)),
        {"variant": "full", "delimiter": ";"},
    )

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="signatures-{petition.slug}-full-'
    )
    assert "no-store" in response["Cache-Control"]
    rows = rows_of(download(response), ";")
    assert [row["email"] for row in rows] == ["jean@example.org"]


def test_the_admin_export_for_officials_has_no_contact_data(exporter_client, signatures):
    response = exporter_client.post(
        export_url(status="confirmed"), {"variant": "officials", "delimiter": ","}
    )

    text = download(response)
    assert "@" not in text
    assert len(rows_of(text)) == 2


def test_each_export_is_recorded_with_who_when_which_filter_and_how_many_rows(
    exporter_client, signatures, petition
):
    before = timezone.now()
    response = exporter_client.post(
        export_url(status="confirmed", petition__id__exact=str(petition.pk)),
        {"variant": "officials", "delimiter": ";"},
    )
    record = ExportRecord.objects.get()
    assert record.finished_at is None  # nothing has left yet

    download(response)

    record.refresh_from_db()
    assert record.username == "exporter"
    assert record.user.username == "exporter"
    assert record.source == ExportRecord.Source.ADMIN
    assert record.petition == petition
    assert record.filters == f"status=confirmed, petition__id__exact={petition.pk}"
    assert (record.variant, record.delimiter, record.rows) == ("officials", ";", 2)
    assert before <= record.started_at <= record.finished_at


def test_a_download_broken_off_is_recorded_as_such(petition, django_user_model):
    signed_at = timezone.now() - timedelta(days=1)
    Signature.objects.bulk_create(
        Signature(
            petition=petition,
            first_name="Nom",
            last_name=f"Numéro {n}",
            email=f"n{n}@example.org",
            language="fr",
            created_at=signed_at,
            confirmed_at=signed_at,
        )
        for n in range(3000)
    )
    user = make_staff(django_user_model, "exporter", "export_signatures")
    record, _stream, chunks = export.start(
        Signature.objects.all(),
        user=user,
        username=user.username,
        source=ExportRecord.Source.ADMIN,
        petition=petition,
        filters="",
    )
    next(chunks), next(chunks)  # the header, then the first rows

    chunks.close()  # the browser went away: the server closes the response's iterator

    record.refresh_from_db()
    assert 0 < record.rows < 3000
    assert record.finished_at is None
    assert Signature.objects.count() == 3000  # and the database connection still works


def test_the_audit_log_can_be_read_and_never_edited(admin_client, exporter_client, signatures):
    exporter_client.post(export_url(), {"variant": "full", "delimiter": ","})
    record = ExportRecord.objects.get()

    listing = admin_client.get(reverse("admin:petition_exportrecord_changelist"))
    detail = admin_client.get(reverse("admin:petition_exportrecord_change", args=[record.pk]))
    edit = admin_client.post(
        reverse("admin:petition_exportrecord_change", args=[record.pk]), {"rows": 0}
    )
    delete = admin_client.post(
        reverse("admin:petition_exportrecord_delete", args=[record.pk]), {"post": "yes"}
    )
    add = admin_client.get(reverse("admin:petition_exportrecord_add"))

    assert listing.status_code == 200
    assert "exporter" in listing.content.decode()
    assert detail.status_code == 200
    assert (edit.status_code, delete.status_code, add.status_code) == (403, 403, 403)
    assert ExportRecord.objects.get().rows == record.rows
    assert set(
        Permission.objects.filter(content_type__model="exportrecord").values_list(
            "codename", flat=True
        )
    ) == {"view_exportrecord"}


def test_the_export_permission_exists_for_signatures():
    permission = Permission.objects.get(codename="export_signatures")

    assert permission.content_type.model_class() is Signature


def test_a_filter_on_another_petition_exports_nothing_of_this_one(exporter_client, signatures):
    other = Petition.objects.create(slug="other", title="Other", introduction="Another.")

    response = exporter_client.post(
        export_url(petition__id__exact=str(other.pk)), {"variant": "full", "delimiter": ","}
    )

    assert rows_of(download(response)) == []
