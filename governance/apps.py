from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    """Roles, agencies, access decisions, the audit trail and (later) retention."""

    name = "governance"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Django's own auth signals are the one place every sign-in path (the login page, the
        # admin's, test clients) passes through, so the audit hooks hang there.
        from django.contrib.auth import signals

        from governance import audit

        signals.user_logged_in.connect(audit.on_user_logged_in, dispatch_uid="beacon_audit_login")
        signals.user_login_failed.connect(
            audit.on_user_login_failed, dispatch_uid="beacon_audit_login_failed"
        )
        signals.user_logged_out.connect(
            audit.on_user_logged_out, dispatch_uid="beacon_audit_logout"
        )
