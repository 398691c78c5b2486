"""Export of locations for supervisors and analysts (the locations GeoJSON export).

Databases seeded before this release get the two new RoleGrant rows; every other row (including
anything an admin changed) is left as it is. A database not seeded yet gets them from the policy.
"""

from django.db import migrations

NEW_GRANTS = (
    # (role, category, action): the level is the role's default maximum, as in the policy.
    ("supervisor", "location", "export"),
    ("analyst", "location", "export"),
)


def add_export_grants(apps, schema_editor):
    from governance.policy import MAX_SENSITIVITY

    RoleGrant = apps.get_model("governance", "RoleGrant")
    AccessPolicyState = apps.get_model("governance", "AccessPolicyState")
    if not AccessPolicyState.objects.exists():
        return  # the first seeding writes the whole policy, these included
    RoleGrant.objects.bulk_create(
        [
            RoleGrant(role=role, category=category, action=action, max_sensitivity=int(MAX_SENSITIVITY[role]))
            for role, category, action in NEW_GRANTS
        ],
        ignore_conflicts=True,
    )


class Migration(migrations.Migration):
    dependencies = [
        ("governance", "0007_merge_login_security_and_retention"),
    ]

    operations = [
        # Reversing leaves the rows: an admin may have kept or changed them since.
        migrations.RunPython(add_export_grants, migrations.RunPython.noop),
    ]
