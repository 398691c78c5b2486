from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _sync_beat_schedule(using: str = "default", **kwargs: Any) -> None:
    # Setup, not business logic: every deployment's migrate step installs the central
    # schedule (creating missing entries only; admins' edits stay).
    from intelligence.management.commands.sync_beat_schedule import (
        beat_schedule_sync,
        beat_tables_exist,
    )

    if beat_tables_exist(using):
        beat_schedule_sync(using=using)


class IntelligenceConfig(AppConfig):
    """Scheduled analyses, findings and their review (built in the intelligence issue)."""

    name = "intelligence"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        post_migrate.connect(
            _sync_beat_schedule, sender=self, dispatch_uid="intelligence.sync_beat_schedule"
        )
        # Findings feed dispatch through its context-provider hook (dispatch imports nothing of ours).
        from dispatch.context import register_context_provider, register_map_area_provider
        from intelligence.context_provider import (
            accepted_hotspot_areas,
            intelligence_flags,
            near_repeat_zone_areas,
        )

        register_context_provider(intelligence_flags)
        register_map_area_provider(accepted_hotspot_areas)
        register_map_area_provider(near_repeat_zone_areas)
        from dispatch.alerts.selectors import register_alert_action
        from intelligence.context_provider import alert_finding_action

        register_alert_action(alert_finding_action)
