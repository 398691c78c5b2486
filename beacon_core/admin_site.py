"""The admin site, opened to the admin role and gated per model by the access policy.

Django admin normally trusts ``is_staff`` and model permissions; Beacon keeps
one source of truth instead, so each ModelAdmin names its data category and asks
:func:`governance.access.can`.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from django.apps import apps
from django.contrib import admin
from django.http import HttpRequest
from django.utils.module_loading import module_has_submodule

from governance.access import can, has_role
from governance.choices import Action, Role


class BeaconAdminSite(admin.AdminSite):
    site_header = "Beacon administration"
    site_title = "Beacon admin"
    index_title = "Reference data, units and accounts"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and (user.is_superuser or has_role(user, Role.ADMIN)))

    def get_urls(self) -> list[Any]:
        # Registration must happen before the model URLs are built. Django's
        # autodiscover would also import leaflet.admin, which needs GDAL (see
        # stack notes), so only Beacon's own apps' admin modules are imported.
        register_beacon_admins()
        return super().get_urls()


admin_site = BeaconAdminSite(name="admin")

# The apps whose ``admin`` module registers on :data:`admin_site`.
BEACON_ADMIN_APPS = ("governance", "dispatch", "intelligence", "tasking")


def register_beacon_admins() -> None:
    """Import each Beacon app's ``admin`` module (idempotent: Python imports a module once)."""
    for app_config in apps.get_app_configs():
        if app_config.name in BEACON_ADMIN_APPS and module_has_submodule(
            app_config.module, "admin"
        ):
            import_module(f"{app_config.name}.admin")
    import_module("beacon_core.beat_admin")  # the central beat schedule (django-celery-beat)


class CategoryAdmin(admin.ModelAdmin):
    """A ModelAdmin whose permissions come from the access policy for ``access_category``."""

    access_category: str = ""

    def _can(self, request: HttpRequest, action: str) -> bool:
        return bool(self.access_category) and can(request.user, action, self.access_category)

    def has_module_permission(self, request: HttpRequest) -> bool:
        return self._can(request, Action.VIEW)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._can(request, Action.VIEW)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return self._can(request, Action.CREATE)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._can(request, Action.CHANGE)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # Deletion of operational records is a retention decision, not an admin click.
        return request.user.is_superuser


class ReadOnlyCategoryAdmin(CategoryAdmin):
    """Viewable by the policy's viewers of ``access_category``; nothing added or edited here,
    because every write of these models goes through a service (with its checks and events)."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]
