"""Loads the 577 députés of March 2025 (petition/advocacy/data/) as the targets of the campaign's
own petition, so that a fresh database already knows every député. A newer list is loaded with
`manage.py import_deputies`."""

from django.db import migrations

SLUG = "stop-cyberpedocriminalite"


def load_deputies(apps, schema_editor):
    from petition.advocacy.deputies import SNAPSHOT, read_deputies_file

    Petition = apps.get_model("petition", "Petition")
    Target = apps.get_model("petition", "Target")
    petition = Petition.objects.filter(slug=SLUG).first()
    if petition is None or Target.objects.filter(petition=petition, role="deputy").exists():
        return
    rows = read_deputies_file(SNAPSHOT.read_bytes())
    Target.objects.bulk_create(
        Target(petition=petition, role="deputy", **row.fields()) for row in rows
    )


def unload_deputies(apps, schema_editor):
    Target = apps.get_model("petition", "Target")
    Target.objects.filter(role="deputy", responses__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("petition", "0009_targets")]

    operations = [migrations.RunPython(load_deputies, unload_deputies)]
