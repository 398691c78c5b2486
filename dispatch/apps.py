from django.apps import AppConfig


class DispatchConfig(AppConfig):
    """Calls for service, units, AVL, locations, observations, persons and vehicles."""

    name = "dispatch"
    default_auto_field = "django.db.models.BigAutoField"
