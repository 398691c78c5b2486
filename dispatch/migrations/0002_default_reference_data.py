from django.db import migrations

from dispatch.reference_data import load_defaults


def load(apps, schema_editor):
    load_defaults(apps.get_model("dispatch", "CallType"), apps.get_model("dispatch", "Disposition"))


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0001_dispatch_domain")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
