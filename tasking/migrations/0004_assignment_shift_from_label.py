"""Step 2 of 3: each old shift label becomes a Shift of its agency (no members yet: an admin
fills the roster), and the assignment points at it. Day-shift hours are a placeholder the
admin corrects; the label alone never said them."""

import datetime as dt

from django.db import migrations


def labels_to_shifts(apps, schema_editor):
    Assignment = apps.get_model("tasking", "Assignment")
    Shift = apps.get_model("tasking", "Shift")
    labelled = Assignment.objects.exclude(assignee_shift_label="").order_by("id")
    for a in labelled.iterator():
        shift, _ = Shift.objects.get_or_create(
            agency_id=a.agency_id,
            name=a.assignee_shift_label.strip()[:64],
            defaults={"starts_at": dt.time(7, 0), "ends_at": dt.time(19, 0)},
        )
        Assignment.objects.filter(pk=a.pk).update(assignee_shift=shift)


def shifts_to_labels(apps, schema_editor):
    Assignment = apps.get_model("tasking", "Assignment")
    for a in Assignment.objects.filter(assignee_shift__isnull=False).select_related(
        "assignee_shift"
    ):
        Assignment.objects.filter(pk=a.pk).update(
            assignee_shift_label=a.assignee_shift.name, assignee_shift=None
        )


class Migration(migrations.Migration):
    dependencies = [("tasking", "0003_shifts")]

    operations = [migrations.RunPython(labels_to_shifts, shifts_to_labels)]
