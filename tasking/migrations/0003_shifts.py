"""Shifts become teams (people and units) instead of a free-text label on the assignment.

Step 1 of 3: the ``Shift`` table, and a nullable foreign key beside the old label (renamed
``assignee_shift_label``) so 0004 can move existing rows across before 0005 drops the label.
The steps are separate migrations because PostgreSQL refuses to alter a table in the same
transaction that updated rows under deferred foreign-key checks.
"""

import django.db.models.deletion
import django.db.models.functions.text
import django.db.models.lookups
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dispatch", "0003_dispatch_settings"),
        ("governance", "0002_roles_and_default_agency"),
        ("tasking", "0002_assignment_dosage_summary"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Shift",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=64)),
                ("starts_at", models.TimeField(help_text="Regular start, agency time.")),
                (
                    "ends_at",
                    models.TimeField(
                        help_text="Regular end, agency time (at or before start: next day)."
                    ),
                ),
                ("active", models.BooleanField(default=True)),
                (
                    "agency",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="shifts",
                        to="governance.agency",
                    ),
                ),
                (
                    "members",
                    models.ManyToManyField(
                        blank=True, related_name="tasking_shifts", to=settings.AUTH_USER_MODEL
                    ),
                ),
                (
                    "units",
                    models.ManyToManyField(
                        blank=True, related_name="tasking_shifts", to="dispatch.unit"
                    ),
                ),
            ],
            options={
                "ordering": ["name"],
                "constraints": [
                    models.UniqueConstraint(fields=("agency", "name"), name="shift_unique_name"),
                    models.CheckConstraint(
                        condition=django.db.models.lookups.GreaterThan(
                            django.db.models.functions.text.Length(
                                django.db.models.functions.text.Trim("name")
                            ),
                            0,
                        ),
                        name="shift_name_required",
                    ),
                ],
            },
        ),
        migrations.RemoveConstraint(model_name="assignment", name="assignment_one_assignee"),
        migrations.RenameField(
            model_name="assignment", old_name="assignee_shift", new_name="assignee_shift_label"
        ),
        migrations.AddField(
            model_name="assignment",
            name="assignee_shift",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="assignments",
                to="tasking.shift",
            ),
        ),
    ]
