from django.apps import AppConfig


class TaskingConfig(AppConfig):
    """Directed assignments from accepted findings (built in the tasking issue)."""

    name = "tasking"
    default_auto_field = "django.db.models.BigAutoField"
