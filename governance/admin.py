from typing import Any

from django import forms
from django.contrib.admin import StackedInline
from django.contrib.auth.admin import GroupAdmin, UserAdmin
from django.contrib.auth.models import Group, User
from django.db.models import Q
from django.http import HttpRequest

from beacon_core.admin_site import CategoryAdmin, ReadOnlyCategoryAdmin, admin_site, scope_users
from governance import audit
from governance.access import forget_cached_access, user_roles, visible_agency_ids
from governance.access_rules import announce_access_changed
from governance.choices import AuditAction, Category
from governance.models import Agency, AgencyShare, AuditEvent, Membership, NeedToKnowGroup


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

    def get_queryset(self, request: HttpRequest) -> Any:
        # Accounts are scoped through their Membership: an agency's admin sees its own people.
        return scope_users(UserAdmin.get_queryset(self, request), request.user, Category.USER)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        """Roles are groups: a change of them is a permission change, audited and applied at
        once to the person's open screens."""
        user = form.instance
        before = sorted(user_roles(user)) if change else []
        super().save_related(request, form, formsets, change)
        forget_cached_access(user)
        after = sorted(user_roles(user))
        if before != after:
            audit.record(
                action=AuditAction.PERMISSION_CHANGE,
                actor=request.user,
                obj=user,
                details={"scope": "roles", "user": user.get_username(), "roles": [before, after]},
            )
            announce_access_changed()

    def user_change_password(self, request: HttpRequest, id: str, form_url: str = "") -> Any:
        """Setting someone's password in the admin, audited whether it succeeds or is refused."""
        response = super().user_change_password(request, id, form_url)
        account = self.get_object(request, id) if request.method == "POST" else None
        audit.record_password_change(request, account, response)
        return response


class BeaconGroupAdmin(CategoryAdmin, GroupAdmin):
    access_category = Category.USER


admin_site.register(User, BeaconUserAdmin)
admin_site.register(Group, BeaconGroupAdmin)


class AgencyAdmin(CategoryAdmin):
    access_category = Category.USER
    list_display = ["code", "name", "kind", "active"]
    search_fields = ["code", "name"]

    def get_queryset(self, request: HttpRequest) -> Any:
        qs = super().get_queryset(request)
        agencies = visible_agency_ids(request.user, Category.USER)
        return qs if agencies is None else qs.filter(pk__in=agencies)


class AgencyShareAdmin(CategoryAdmin):
    access_category = Category.USER
    list_display = ["owner", "viewer", "category", "created_at"]

    def get_queryset(self, request: HttpRequest) -> Any:
        qs = super().get_queryset(request)
        agencies = visible_agency_ids(request.user, Category.USER)
        if agencies is None:
            return qs
        return qs.filter(Q(owner_id__in=agencies) | Q(viewer_id__in=agencies))


class NeedToKnowGroupForm(forms.ModelForm):
    class Meta:
        model = NeedToKnowGroup
        fields = ["agency", "name", "description", "members"]

    def clean(self) -> dict[str, Any]:
        """Members are people of the group's agency (superusers' forms list every account)."""
        data = super().clean()
        agency, members = data.get("agency"), data.get("members") or []
        if agency is not None and members:
            own = set(
                Membership.objects.filter(agency=agency, user__in=members).values_list(
                    "user_id", flat=True
                )
            )
            strangers = [m.get_username() for m in members if m.pk not in own]
            if strangers:
                self.add_error("members", f"Not people of {agency}: {', '.join(strangers)}.")
        return data


class NeedToKnowGroupAdmin(CategoryAdmin):
    """Need-to-know groups and their members; membership changes are audited."""

    form = NeedToKnowGroupForm

    access_category = Category.ACCESS_POLICY
    list_display = ["name", "agency"]
    list_filter = ["agency"]
    search_fields = ["name"]
    filter_horizontal = ["members"]

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        group = form.instance
        before = sorted(group.members.values_list("username", flat=True)) if change else []
        super().save_related(request, form, formsets, change)
        after = sorted(group.members.values_list("username", flat=True))
        if before != after:
            audit.record(
                action=AuditAction.PERMISSION_CHANGE,
                actor=request.user,
                obj=group,
                details={"scope": "need_to_know", "members": [before, after]},
            )
            announce_access_changed()


admin_site.register(Agency, AgencyAdmin)
admin_site.register(NeedToKnowGroup, NeedToKnowGroupAdmin)
admin_site.register(AgencyShare, AgencyShareAdmin)


class AuditEventAdmin(ReadOnlyCategoryAdmin):
    """The audit trail, read-only; the admin site is for admins, so in practice superusers see it
    here and auditors use /governance/audit/. Reads here are recorded like the page's."""

    access_category = Category.AUDIT
    list_display = ["seq", "at", "actor_username", "action", "object_type", "object_id", "ip"]
    list_filter = ["action"]
    search_fields = ["actor_username", "object_type", "object_id"]
    show_full_result_count = False  # no second COUNT(*) over the whole trail per page

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False  # not even for superusers: the trail is append-only

    def changelist_view(self, request: HttpRequest, extra_context: Any = None) -> Any:
        if self.has_view_permission(request):
            self._record_read(request, {"admin": "changelist", "query": request.GET.dict()})
        return super().changelist_view(request, extra_context)

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None
    ) -> Any:
        if self.has_view_permission(request):
            self._record_read(request, {"admin": "detail", "event": object_id[:32]})
        return super().change_view(request, object_id, form_url, extra_context)

    @staticmethod
    def _record_read(request: HttpRequest, details: dict[str, Any]) -> None:
        audit.record(
            action=AuditAction.VIEW,
            actor=request.user,
            object_type="governance.auditevent",
            object_label="Audit trail",
            details={"outcome": "allowed", **details},
        )


admin_site.register(AuditEvent, AuditEventAdmin)
