"""Tasking in the admin. Assignments are read-only: every change goes through
``tasking.services``, which checks the actor, keeps the lifecycle atomic and tells the devices and
the board. Shifts (rosters) are edited here by admins, like units."""

from typing import Any

from django import forms

from beacon_core.admin_site import CategoryAdmin, ReadOnlyCategoryAdmin, admin_site
from governance.choices import Category
from governance.models import Membership
from tasking.models import Assignment, AssignmentEvent, AssignmentReport, Shift


class AssignmentAdmin(ReadOnlyCategoryAdmin):
    access_category = Category.ASSIGNMENT
    list_display = ["id", "kind", "agency", "status", "priority", "finding", "created_at"]
    list_filter = ["kind", "status", "agency"]
    search_fields = ["objective"]


class AssignmentEventAdmin(ReadOnlyCategoryAdmin):
    access_category = Category.ASSIGNMENT
    list_display = ["id", "assignment", "from_status", "to_status", "actor", "at"]


class AssignmentReportAdmin(ReadOnlyCategoryAdmin):
    access_category = Category.ASSIGNMENT
    list_display = ["id", "assignment", "author", "at", "contacts_made"]


class ShiftForm(forms.ModelForm):
    class Meta:
        model = Shift
        fields = ["agency", "name", "starts_at", "ends_at", "members", "units", "active"]

    def clean(self) -> dict[str, Any]:
        """A roster holds only its own agency's people and units (they would receive its work)."""
        data = super().clean()
        agency = data.get("agency")
        if agency is None:
            return data
        outsiders = [u for u in data.get("units") or [] if u.agency_id != agency.pk]
        if outsiders:
            self.add_error("units", f"Not units of {agency}: {', '.join(map(str, outsiders))}.")
        members = data.get("members") or []
        own = set(
            Membership.objects.filter(agency=agency, user__in=members).values_list(
                "user_id", flat=True
            )
        )
        strangers = [m for m in members if m.pk not in own]
        if strangers:
            names = ", ".join(m.get_username() for m in strangers)
            self.add_error("members", f"Not members of {agency}: {names}.")
        return data


class ShiftAdmin(CategoryAdmin):
    """Rosters are staffing, like units: kept by admins, read by the services at issue time."""

    access_category = Category.UNIT
    list_display = ["name", "agency", "starts_at", "ends_at", "active"]
    list_filter = ["agency", "active"]
    search_fields = ["name"]
    filter_horizontal = ["members", "units"]
    form = ShiftForm


admin_site.register(Assignment, AssignmentAdmin)
admin_site.register(Shift, ShiftAdmin)
admin_site.register(AssignmentEvent, AssignmentEventAdmin)
admin_site.register(AssignmentReport, AssignmentReportAdmin)
