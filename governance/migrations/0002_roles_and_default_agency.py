from django.db import migrations

ROLES = ["dispatcher", "field", "supervisor", "analyst", "admin", "auditor"]


def load(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Agency = apps.get_model("governance", "Agency")
    for role in ROLES:
        Group.objects.get_or_create(name=role)
    # Embedded mode serves one agency out of the box; more can be added in the admin.
    Agency.objects.get_or_create(code="default", defaults={"name": "Default agency", "kind": "police"})


class Migration(migrations.Migration):
    dependencies = [("governance", "0001_agencies_and_memberships"), ("auth", "0012_alter_user_first_name_max_length")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
