from django.apps import AppConfig


class TaskingConfig(AppConfig):
    """Directed assignments from accepted findings: issuing, delivery, execution, outcome."""

    name = "tasking"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # The live feed is dispatch's; it asks us who may receive every assignment of an agency
        # (the board's audience) rather than importing tasking.
        from dispatch.realtime import register_agency_audience
        from governance.choices import Category
        from tasking.permissions import sees_agency_assignments

        register_agency_audience(Category.ASSIGNMENT, sees_agency_assignments)

        from dispatch.demo.signals import demo_seeded
        from tasking.demo import seed_demo_shifts

        demo_seeded.connect(seed_demo_shifts, dispatch_uid="tasking-demo-shifts")
