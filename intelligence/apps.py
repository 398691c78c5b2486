from django.apps import AppConfig


class IntelligenceConfig(AppConfig):
    """Scheduled analyses, findings and their review (built in the intelligence issue)."""

    name = "intelligence"
    default_auto_field = "django.db.models.BigAutoField"
