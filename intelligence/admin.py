"""Findings and analysis runs, read-only in the admin: decisions go through ``finding_decide``."""

from beacon_core.admin_site import ReadOnlyCategoryAdmin, admin_site
from governance.choices import Category
from intelligence.models import AnalysisRun, Finding, FindingOutcome


class FindingAdmin(ReadOnlyCategoryAdmin):
    access_category = Category.FINDING
    list_display = ["id", "kind", "agency", "subject_key", "status", "updated_at"]
    list_filter = ["kind", "status", "agency"]
    search_fields = ["subject_key", "explanation"]


class AnalysisRunAdmin(ReadOnlyCategoryAdmin):
    access_category = Category.FINDING
    list_display = ["id", "kind", "agency", "as_of", "status", "duration_ms", "started_at"]
    list_filter = ["kind", "status"]


class FindingOutcomeAdmin(ReadOnlyCategoryAdmin):
    access_category = Category.FINDING
    list_display = ["id", "finding", "period_start", "period_end", "verdict", "evaluated_at"]
    list_filter = ["verdict"]


admin_site.register(Finding, FindingAdmin)
admin_site.register(FindingOutcome, FindingOutcomeAdmin)
admin_site.register(AnalysisRun, AnalysisRunAdmin)
