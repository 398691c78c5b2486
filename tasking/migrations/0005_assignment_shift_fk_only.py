"""Step 3 of 3: the label goes; exactly one assignee again, the shift now a foreign key."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("tasking", "0004_assignment_shift_from_label")]

    operations = [
        migrations.RemoveField(model_name="assignment", name="assignee_shift_label"),
        migrations.AddConstraint(
            model_name="assignment",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(
                        ("assignee_shift__isnull", True),
                        ("assignee_unit__isnull", False),
                        ("assignee_user__isnull", True),
                    ),
                    models.Q(
                        ("assignee_shift__isnull", True),
                        ("assignee_unit__isnull", True),
                        ("assignee_user__isnull", False),
                    ),
                    models.Q(
                        ("assignee_shift__isnull", False),
                        ("assignee_unit__isnull", True),
                        ("assignee_user__isnull", True),
                    ),
                    _connector="OR",
                ),
                name="assignment_one_assignee",
            ),
        ),
        migrations.AddIndex(
            model_name="assignment",
            index=models.Index(
                fields=["assignee_shift", "status"], name="assignment_shift_status"
            ),
        ),
    ]
