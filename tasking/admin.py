"""Assignments in the admin, read-only: every change goes through ``tasking.services``, which
checks the actor, keeps the lifecycle atomic and tells the devices and the board."""

from beacon_core.admin_site import ReadOnlyCategoryAdmin, admin_site
from governance.choices import Category
from tasking.models import Assignment, AssignmentEvent, AssignmentReport


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


admin_site.register(Assignment, AssignmentAdmin)
admin_site.register(AssignmentEvent, AssignmentEventAdmin)
admin_site.register(AssignmentReport, AssignmentReportAdmin)
