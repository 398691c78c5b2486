from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    """Roles, agencies, access decisions and (later) audit and retention."""

    name = "governance"
    default_auto_field = "django.db.models.BigAutoField"
