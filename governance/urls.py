from django.contrib.auth.decorators import login_not_required
from django.urls import path

from governance import access_views, retention_views, views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", login_not_required(views.LoginView.as_view()), name="login"),
    path("logout/", views.LogoutView.as_view(), name="logout"),
    path("governance/audit/", views.audit_page, name="audit-trail"),
    path("governance/audit/export.csv", views.audit_export, name="audit-export"),
    path("governance/access/", access_views.access_page, name="access-rules"),
    path("governance/access/roles/", access_views.role_grants_save, name="access-roles-save"),
    path("governance/access/grants/", access_views.user_grant_add, name="access-grant-add"),
    path(
        "governance/access/grants/<int:grant_id>/revoke/",
        access_views.user_grant_revoke,
        name="access-grant-revoke",
    ),
    path("governance/retention/", retention_views.retention_page, name="retention"),
    path(
        "governance/retention/policies/",
        retention_views.retention_policies_save,
        name="retention-policies-save",
    ),
    path(
        "governance/retention/holds/", retention_views.legal_hold_place, name="retention-hold-place"
    ),
    path(
        "governance/retention/holds/<int:hold_id>/release/",
        retention_views.legal_hold_release,
        name="retention-hold-release",
    ),
]
