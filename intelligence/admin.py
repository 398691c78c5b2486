"""Findings and analysis runs, read-only in the admin: decisions go through ``finding_decide``."""

from typing import Any

from django.http import HttpRequest

from beacon_core.admin_site import CategoryAdmin, admin_site
from governance.choices import Category
from intelligence.models import AnalysisRun, Finding


class ReadOnlyCategoryAdmin(CategoryAdmin):
    """Viewable by the policy's FINDING viewers; nothing added or edited here."""

    access_category = Category.FINDING

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> list[str]:
        return [f.name for f in self.model._meta.fields]


class FindingAdmin(ReadOnlyCategoryAdmin):
    list_display = ["id", "kind", "agency", "subject_key", "status", "updated_at"]
    list_filter = ["kind", "status", "agency"]
    search_fields = ["subject_key", "explanation"]


class AnalysisRunAdmin(ReadOnlyCategoryAdmin):
    list_display = ["id", "kind", "agency", "as_of", "status", "duration_ms", "started_at"]
    list_filter = ["kind", "status"]


admin_site.register(Finding, FindingAdmin)
admin_site.register(AnalysisRun, AnalysisRunAdmin)
