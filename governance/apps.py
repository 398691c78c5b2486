from django.apps import AppConfig


class GovernanceConfig(AppConfig):
    """Roles, agencies, access rules and decisions, the audit trail, retention and legal holds."""

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

        # A database flushed after migrating (tests, a restored empty backup) has no grants and
        # would deny everything; put the defaults back, once, as migration 0004 did.
        from django.db.models.signals import post_migrate

        post_migrate.connect(_seed_access_rules, sender=self, dispatch_uid="beacon_seed_grants")
        # Access facts shared between requests go stale whenever a rule changes.
        from governance.access_facts import connect_signals

        connect_signals()
        # And API tokens' accounts, shared for a minute (beacon_core/api/authentication.py).
        from beacon_core.api.authentication import connect_signals as connect_token_signals

        connect_token_signals()
        # Same for the retention policies (migration 0006): a flushed database gets the defaults.
        post_migrate.connect(
            _seed_retention_policies, sender=self, dispatch_uid="beacon_seed_retention"
        )


def _seed_access_rules(sender: AppConfig, using: str = "default", **kwargs: object) -> None:
    from django.db import connections
    from django.utils import timezone

    from governance.models import AccessPolicyState, RoleGrant
    from governance.policy import seed_default_grants

    if "governance_rolegrant" not in connections[using].introspection.table_names():
        return  # migrating backwards past 0004
    seed_default_grants(
        RoleGrant.objects.db_manager(using).model, AccessPolicyState, timezone.now()
    )


def _seed_retention_policies(sender: AppConfig, using: str = "default", **kwargs: object) -> None:
    from django.db import connections

    from governance.models import RetentionPolicy
    from governance.retention import seed_default_policies

    if "governance_retentionpolicy" not in connections[using].introspection.table_names():
        return  # migrating backwards past 0006
    seed_default_policies(RetentionPolicy.objects.db_manager(using).model)
