from django.contrib.auth.decorators import login_not_required
from django.urls import path

from governance import access_views, login_views, retention_views, views, webhook_views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", login_not_required(login_views.LoginView.as_view()), name="login"),
    path("login/verify/", login_views.login_verify, name="login-verify"),
    path("login/enrol/", login_views.login_enrol, name="login-enrol"),
    path("account/two-factor/", login_views.account_two_factor, name="account-two-factor"),
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
    path("governance/login-policy/", login_views.login_policy_page, name="login-policy"),
    path("governance/login-policy/roles/", login_views.login_policy_save, name="login-policy-save"),
    path(
        "governance/login-policy/locks/<int:throttle_id>/unlock/",
        login_views.login_lock_lift,
        name="login-lock-lift",
    ),
    path(
        "governance/login-policy/two-factor/<int:user_id>/reset/",
        login_views.two_factor_reset,
        name="two-factor-reset",
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
    path("governance/webhooks/", webhook_views.webhook_list, name="webhooks"),
    path("governance/webhooks/new/", webhook_views.webhook_create, name="webhook-create"),
    path(
        "governance/webhooks/<int:webhook_id>/",
        webhook_views.webhook_detail,
        name="webhook-detail",
    ),
    path(
        "governance/webhooks/<int:webhook_id>/secret/",
        webhook_views.webhook_secret,
        name="webhook-secret",
    ),
    path(
        "governance/webhooks/<int:webhook_id>/active/",
        webhook_views.webhook_active,
        name="webhook-active",
    ),
    path(
        "governance/webhooks/<int:webhook_id>/test/",
        webhook_views.webhook_test,
        name="webhook-test",
    ),
]
