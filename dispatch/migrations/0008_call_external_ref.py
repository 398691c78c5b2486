"""Calls transferred in from another CAD (NENA EIDO): the origin's incident identifier, unique per
agency, and the ``transfer`` source."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("dispatch", "0007_vehicle_plate_unique_per_level"),
    ]

    operations = [
        migrations.AddField(
            model_name="call",
            name="external_ref",
            field=models.CharField(blank=True, max_length=255, null=True),
        ),
        migrations.AlterField(
            model_name="call",
            name="source",
            field=models.CharField(
                choices=[
                    ("phone", "Phone"),
                    ("911", "911"),
                    ("field", "Field-initiated"),
                    ("alarm", "Alarm"),
                    ("partner", "Partner alert"),
                    ("import", "Import"),
                    ("transfer", "Transfer from another CAD"),
                ],
                default="phone",
                max_length=16,
            ),
        ),
        migrations.AddConstraint(
            model_name="call",
            constraint=models.UniqueConstraint(
                condition=models.Q(("external_ref__isnull", False)),
                fields=("agency", "external_ref"),
                name="call_unique_external_ref",
            ),
        ),
    ]
