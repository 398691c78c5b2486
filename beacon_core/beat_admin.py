"""The central beat schedule in /admin/: django-celery-beat's admins, gated by the access policy.

Admin autodiscovery is off (see ``admin_site``), so django-celery-beat's own admin is never
served. Its classes are reused here for their forms (the task picker, crontab preview) and
actions (enable, disable, run now), with permissions from the reference-data category: the
admin role edits the schedule, no other role sees it.

Importing ``django_celery_beat.admin`` also registers its classes on Django's default
``admin.site``, which Beacon does not route; that registration is inert.
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django_celery_beat import admin as beat_admin
from django_celery_beat.models import CrontabSchedule, IntervalSchedule, PeriodicTask

from beacon_core.admin_site import CategoryAdmin, admin_site
from governance.access import can
from governance.choices import Action, Category


class PeriodicTaskInline(beat_admin.PeriodicTaskInline):
    """The tasks using a schedule, visible to whoever may view the schedule."""

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return can(request.user, Action.VIEW, Category.REFERENCE_DATA)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class PeriodicTaskAdmin(CategoryAdmin, beat_admin.PeriodicTaskAdmin):
    """One row per scheduled job; disable a job rather than delete it."""

    access_category = Category.REFERENCE_DATA
    # The package's template runs an inline script, which the Content-Security-Policy refuses.
    change_form_template = "admin/beacon/change_periodictask_form.html"
    list_display = (
        "name",
        "task",
        "enabled",
        "crontab",
        "interval",
        "expire_seconds",
        "last_run_at",
        "total_run_count",
    )
    list_filter = ("enabled", "task")


class CrontabScheduleAdmin(CategoryAdmin, beat_admin.CrontabScheduleAdmin):
    access_category = Category.REFERENCE_DATA
    inlines = [PeriodicTaskInline]


class IntervalScheduleAdmin(CategoryAdmin, beat_admin.IntervalScheduleAdmin):
    access_category = Category.REFERENCE_DATA
    list_display = ("__str__", "every", "period")
    inlines = [PeriodicTaskInline]


for model, model_admin in (
    (PeriodicTask, PeriodicTaskAdmin),
    (CrontabSchedule, CrontabScheduleAdmin),
    (IntervalSchedule, IntervalScheduleAdmin),
):
    if not admin_site.is_registered(model):
        admin_site.register(model, model_admin)
