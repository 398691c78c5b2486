"""Roles, data categories, actions and sensitivity levels that access decisions speak in."""

from django.db import models


class Role(models.TextChoices):
    DISPATCHER = "dispatcher", "Dispatcher"
    FIELD = "field", "Field staff"
    SUPERVISOR = "supervisor", "Supervisor"
    ANALYST = "analyst", "Analyst"
    ADMIN = "admin", "Administrator"
    AUDITOR = "auditor", "Auditor"


class Category(models.TextChoices):
    CALL = "call", "Call for service"
    CALLER_IDENTITY = "caller_identity", "Caller identity"
    LOCATION = "location", "Location"
    PREMISE_NOTE = "premise_note", "Premise note"
    FIELD_OBSERVATION = "field_observation", "Field observation"
    PERSON = "person", "Person"
    VEHICLE = "vehicle", "Vehicle"
    UNIT = "unit", "Unit"
    OWN_UNIT = "own_unit", "Own unit (units the user is signed to)"
    AVL = "avl", "AVL history"
    REFERENCE_DATA = "reference_data", "Reference data"
    FINDING = "finding", "Intelligence finding"
    ASSIGNMENT = "assignment", "Assignment"
    AUDIT = "audit", "Audit trail"
    USER = "user", "User account"
    ACCESS_POLICY = "access_policy", "Access rules"


class Action(models.TextChoices):
    VIEW = "view", "View"
    CREATE = "create", "Create"
    CHANGE = "change", "Change"
    EXPORT = "export", "Export"


class Sensitivity(models.IntegerChoices):
    ROUTINE = 1, "Routine"
    RESTRICTED = 2, "Restricted"
    CONFIDENTIAL = 3, "Confidential"


class AgencyKind(models.TextChoices):
    POLICE = "police", "Police / sheriff"
    FIRE = "fire", "Fire"
    EMS = "ems", "EMS"
    SECURITY = "security", "Campus / hospital / event security"
    OTHER = "other", "Other"


class AuditAction(models.TextChoices):
    """What an audit event records (CJIS 5.4.1.1, DPA 2018 s.62 / LED Art. 25 event classes)."""

    LOGIN = "login", "Sign-in"
    LOGIN_FAILED = "login_failed", "Failed sign-in"
    LOGOUT = "logout", "Sign-out"
    VIEW = "view", "View (consultation)"
    CREATE = "create", "Create"
    CHANGE = "change", "Change"
    DELETE = "delete", "Delete"
    EXPORT = "export", "Export"
    DISSEMINATE = "disseminate", "Dissemination"
    PERMISSION_CHANGE = "permission_change", "Permission change"
    FINDING_DECISION = "finding_decision", "Finding decision"
    ASSIGNMENT_ISSUE = "assignment_issue", "Assignment issued"
    RETENTION_PURGE = "retention_purge", "Retention purge"
    LOGIN_LOCKED = "login_locked", "Sign-in locked"
    LOGIN_UNLOCKED = "login_unlocked", "Sign-in unlocked"
    TWO_FACTOR_CHANGE = "two_factor_change", "Two-factor change"


class RetentionCategory(models.TextChoices):
    """What the retention job keeps for a while and then removes (one policy row each)."""

    AVL = "avl", "AVL breadcrumbs (unit positions)"
    FIELD_OBSERVATION = "field_observation", "Field observations"
    PERSON = "person", "Person-level intelligence: person records"
    ENTITY_FINDING = "entity_finding", "Person-level intelligence: entity findings"
    WEBHOOK_DELIVERY = "webhook_delivery", "Webhook delivery log (copies of event payloads)"
    AUDIT = "audit", "Audit trail (never purged by the job)"


class RetentionAction(models.TextChoices):
    """What happens to an expired record."""

    DELETE = "delete", "Delete"
    ANONYMISE = "anonymise", "Anonymise"


class HoldObject(models.TextChoices):
    """The kinds of record a legal hold can cover (``app_label.model``, as in the audit trail)."""

    CALL = "dispatch.call", "Call (and its incident's records)"
    PERSON = "dispatch.person", "Person"
    OBSERVATION = "dispatch.fieldobservation", "Field observation"
    UNIT = "dispatch.unit", "Unit (all its AVL fixes)"
    FINDING = "intelligence.finding", "Finding"
