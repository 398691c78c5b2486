from django.db import migrations

from dispatch.reference_data import DEFAULT_CALL_TYPES, DEFAULT_DISPOSITIONS


def load(apps, schema_editor):
    CallType = apps.get_model("dispatch", "CallType")
    Disposition = apps.get_model("dispatch", "Disposition")
    for code, name, category, priority in DEFAULT_CALL_TYPES:
        CallType.objects.get_or_create(
            code=code, defaults={"name": name, "category": category, "default_priority": priority}
        )
    for code, name in DEFAULT_DISPOSITIONS:
        Disposition.objects.get_or_create(code=code, defaults={"name": name})


class Migration(migrations.Migration):
    dependencies = [("dispatch", "0001_dispatch_domain")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
