"""The admin site, opened to the admin role and gated per model by the access policy.

Django admin normally trusts ``is_staff`` and model permissions; Beacon keeps
one source of truth instead, so each ModelAdmin names its data category and asks
:func:`governance.access.can`.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any
from urllib.parse import urlencode

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.module_loading import module_has_submodule
from django.views.decorators.cache import never_cache

from governance.access import can, has_role, max_sensitivity, visible_agency_ids
from governance.choices import Action, Role


class BeaconAdminSite(admin.AdminSite):
    site_header = "Beacon administration"
    site_title = "Beacon admin"
    index_title = "Reference data, units and accounts"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(user.is_active and (user.is_superuser or has_role(user, Role.ADMIN)))

    @method_decorator(never_cache)
    @method_decorator(login_not_required)
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> Any:
        # The admin's own form signs in with the password alone and would skip the second factor
        # (governance.login_views); everyone signs in on Beacon's page. A signed-in person without
        # admin rights still gets the admin's "not authorised" page on GET.
        if request.method == "POST" or not request.user.is_authenticated:
            target = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index")
            return redirect(f"{reverse('login')}?{urlencode({REDIRECT_FIELD_NAME: target})}")
        response: HttpResponse = super().login(request, extra_context)
        return response

    def password_change(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> Any:
        """One's own password change, audited whether it succeeds or is refused (CJIS 5.4.1.1)."""
        from governance.audit import record_password_change

        response = super().password_change(request, extra_context)
        if request.user.is_authenticated:
            record_password_change(request, request.user, response)
        return response

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


def _field_names(model: Any) -> set[str]:
    return {f.name for f in model._meta.get_fields()}


def scope_to_user(qs: Any, user: Any, category: str) -> Any:
    """Rows of ``qs`` the user may see in ``category``: their visible agencies' rows (when the
    model has an agency) up to their sensitivity level (when it has one); superusers see all."""
    names = _field_names(qs.model)
    if "agency" in names:
        agencies = visible_agency_ids(user, category)
        if agencies is not None:
            qs = qs.filter(agency_id__in=agencies)
    if "sensitivity" in names and not user.is_superuser:
        qs = qs.filter(sensitivity__lte=max_sensitivity(user, category))
    return qs


def scope_users(qs: Any, user: Any, category: str) -> Any:
    """Accounts of the agencies the user may see in ``category`` (users have no agency field:
    it is their Membership); accounts of no agency only for superusers."""
    agencies = visible_agency_ids(user, category)
    if agencies is None:
        return qs
    from governance.models import Membership

    return qs.filter(pk__in=Membership.objects.filter(agency_id__in=agencies).values("user_id"))


class CategoryAdmin(admin.ModelAdmin):
    """A ModelAdmin whose permissions come from the access policy for ``access_category``.

    Rows are those the policy lets the user see, like every other interface: another agency's
    units or notes, or notes above the admin's sensitivity level, are not listed, cannot be
    opened (the admin answers as for a missing object) and are not offered in form choices.
    """

    access_category: str = ""

    def _can(self, request: HttpRequest, action: str) -> bool:
        return bool(self.access_category) and can(request.user, action, self.access_category)

    def get_queryset(self, request: HttpRequest) -> Any:
        qs = super().get_queryset(request)
        if not self.access_category:
            return qs.none()
        return scope_to_user(qs, request.user, self.access_category)

    def _scope_choices(self, request: HttpRequest, db_field: Any, kwargs: dict[str, Any]) -> None:
        related = db_field.related_model
        if related is None or request.user.is_superuser:
            return
        base = kwargs.get("queryset")
        if base is None:
            base = related._default_manager.all()
        if related._meta.label == "governance.Agency":
            # New and edited rows belong to an agency the user works for.
            agencies = visible_agency_ids(request.user, self.access_category)
            kwargs["queryset"] = base.none() if not agencies else base.filter(pk__in=agencies)
        elif "agency" in _field_names(related):
            kwargs["queryset"] = scope_to_user(base, request.user, self.access_category)
        elif related._meta.label == settings.AUTH_USER_MODEL:
            kwargs["queryset"] = scope_users(base, request.user, self.access_category)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        self._scope_choices(request, db_field, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        self._scope_choices(request, db_field, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

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
