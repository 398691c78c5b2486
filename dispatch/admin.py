"""Reference data, units and locations editable by the admin role (gated by the access policy)."""

from beacon_core.admin_site import CategoryAdmin, admin_site
from dispatch.models import CallType, Disposition, Location, PremiseNote, Unit
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
    readonly_fields = ["status", "status_changed_at", "latitude", "longitude", "position_at",
                       "h3_r7", "h3_r9", "h3_r11"]




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
