from django.contrib.admin import StackedInline
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User

from beacon_core.admin_site import CategoryAdmin, admin_site
from governance.choices import Category
from governance.models import Agency, AgencyShare, Membership


class MembershipInline(StackedInline):
    model = Membership
    can_delete = False

    def has_add_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return True

    def has_change_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return True

    def has_view_permission(self, request, obj=None):  # type: ignore[no-untyped-def]
        return True


class BeaconUserAdmin(CategoryAdmin, UserAdmin):
    access_category = Category.USER
    inlines = [MembershipInline]


class BeaconGroupAdmin(CategoryAdmin, GroupAdmin):
    access_category = Category.USER


admin_site.register(User, BeaconUserAdmin)
admin_site.register(Group, BeaconGroupAdmin)


class AgencyAdmin(CategoryAdmin):
    access_category = Category.USER
    list_display = ["code", "name", "kind", "active"]
    search_fields = ["code", "name"]


class AgencyShareAdmin(CategoryAdmin):
    access_category = Category.USER
    list_display = ["owner", "viewer", "category", "created_at"]


admin_site.register(Agency, AgencyAdmin)
admin_site.register(AgencyShare, AgencyShareAdmin)
