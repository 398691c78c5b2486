from django.apps import AppConfig


class DispatchConfig(AppConfig):
    """Calls for service, units, AVL, locations, observations, persons and vehicles."""

    name = "dispatch"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Partner alerts are dispatch's own input; they reach the live map and the intake
        # panel through the same provider registry intelligence and tasking use.
        from dispatch.alerts.selectors import alert_context_flags, alert_map_areas
        from dispatch.context import register_context_provider, register_map_area_provider

        register_context_provider(alert_context_flags)
        register_map_area_provider(alert_map_areas)
