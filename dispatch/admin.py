"""Reference data, units and locations editable by the admin role (gated by the access policy)."""

from django import forms
from django.contrib import admin
from django.db import models

from beacon_core.admin_site import CategoryAdmin, admin_site
from dispatch import services
from dispatch.choices import OBSERVATION_REQUIRABLE_FIELDS
from dispatch.models import (
    AlertFeed,
    CallType,
    DispatchSettings,
    Disposition,
    Location,
    ObservationRequirement,
    PremiseNote,
    Unit,
)
from governance.choices import Category


class CallTypeAdmin(CategoryAdmin):
    access_category = Category.REFERENCE_DATA
    list_display = ["code", "name", "category", "default_priority", "active"]
    list_filter = ["category", "active"]
    search_fields = ["code", "name"]
    list_editable = ["default_priority", "active"]


class DispositionAdmin(CategoryAdmin):
    access_category = Category.REFERENCE_DATA
    list_display = ["code", "name", "active"]
    search_fields = ["code", "name"]


class UnitAdmin(CategoryAdmin):
    access_category = Category.UNIT
    list_display = ["call_sign", "agency", "kind", "home_area", "status", "active"]
    list_filter = ["agency", "kind", "status", "active"]
    search_fields = ["call_sign"]
    filter_horizontal = ["users"]
    readonly_fields = [
        "status",
        "status_changed_at",
        "latitude",
        "longitude",
        "position_at",
        "h3_r7",
        "h3_r9",
        "h3_r11",
    ]


class LocationAdmin(CategoryAdmin):
    access_category = Category.LOCATION
    list_display = ["display_address", "locality", "kind", "latitude", "longitude"]
    list_filter = ["kind"]
    search_fields = ["address_key", "display_address"]
    readonly_fields = ["address_key", "h3_r7", "h3_r9", "h3_r11", "created_at"]


class PremiseNoteAdmin(CategoryAdmin):
    access_category = Category.PREMISE_NOTE
    list_display = ["location", "agency", "kind", "sensitivity", "created_at", "expires_at"]
    list_filter = ["kind", "sensitivity", "agency"]
    raw_id_fields = ["location"]


admin_site.register(CallType, CallTypeAdmin)
admin_site.register(Disposition, DispositionAdmin)
admin_site.register(Unit, UnitAdmin)
admin_site.register(Location, LocationAdmin)
admin_site.register(PremiseNote, PremiseNoteAdmin)


class DispatchSettingsAdmin(CategoryAdmin):
    """One row: adding is allowed only while it does not exist."""

    access_category = Category.REFERENCE_DATA
    fieldsets = [
        (
            "Intake context",
            {"fields": ["context_radius_m", "duplicate_radius_m", "duplicate_window_min"]},
        ),
        (
            "Unit status timers (seconds)",
            {
                "fields": [
                    ("dispatched_warn_s", "dispatched_alert_s"),
                    ("en_route_warn_s", "en_route_alert_s"),
                    ("on_scene_warn_s", "on_scene_alert_s"),
                    ("out_of_service_warn_s", "out_of_service_alert_s"),
                ]
            },
        ),
        (
            "Pending-call timers by priority (seconds)",
            {
                "fields": [
                    ("pending_p1_warn_s", "pending_p1_alert_s"),
                    ("pending_p2_warn_s", "pending_p2_alert_s"),
                    ("pending_p3_warn_s", "pending_p3_alert_s"),
                    ("pending_p4_warn_s", "pending_p4_alert_s"),
                    ("pending_p5_warn_s", "pending_p5_alert_s"),
                ]
            },
        ),
    ]

    def has_add_permission(self, request):  # type: ignore[no-untyped-def]
        return super().has_add_permission(request) and not DispatchSettings.objects.exists()

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        obj.pk = 1
        super().save_model(request, obj, form, change)


admin_site.register(DispatchSettings, DispatchSettingsAdmin)


class ObservationRequirementForm(forms.ModelForm):
    """Required fields as checkboxes: only names the filing service knows can be chosen."""

    required_fields = forms.MultipleChoiceField(
        choices=list(OBSERVATION_REQUIRABLE_FIELDS.items()),
        widget=forms.CheckboxSelectMultiple,
        required=False,
        help_text="What a card of this category must carry; checked on every filing "
        "(API and phone form) from the next card on.",
    )

    class Meta:
        model = ObservationRequirement
        fields = ["category", "required_fields", "narrative_min_length"]


class ObservationRequirementAdmin(CategoryAdmin):
    """Per-category required fields of field observations; saved through the audited service."""

    access_category = Category.REFERENCE_DATA
    form = ObservationRequirementForm
    list_display = ["category", "required_list", "narrative_min_length", "updated_at"]

    def get_readonly_fields(self, request, obj=None):  # type: ignore[no-untyped-def]
        # One row per category: a category is chosen when the row is made, not moved later.
        return ["category"] if obj is not None else []

    @admin.display(description="Required")
    def required_list(self, obj: ObservationRequirement) -> str:
        return ", ".join(obj.required_fields) or "—"

    def save_model(self, request, obj, form, change):  # type: ignore[no-untyped-def]
        saved = services.observation_requirement_set(
            actor=request.user,
            category=obj.category,
            required_fields=form.cleaned_data.get("required_fields") or [],
            narrative_min_length=obj.narrative_min_length,
        )
        obj.pk = saved.pk


admin_site.register(ObservationRequirement, ObservationRequirementAdmin)


class AlertFeedAdmin(CategoryAdmin):
    """Partner CAP feeds polled by beat (docs/alerts.md); the poll fields are the job's."""

    access_category = Category.REFERENCE_DATA
    list_display = ["name", "agency", "url", "interval_minutes", "active", "last_polled_at",
                    "last_status"]  # fmt: skip
    list_filter = ["agency", "active"]
    search_fields = ["name", "url"]
    readonly_fields = ["etag", "last_modified", "last_polled_at", "last_status"]
    exclude = ["seen_entries"]  # the poller's memory of index entries, not an admin's business
    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}


admin_site.register(AlertFeed, AlertFeedAdmin)
