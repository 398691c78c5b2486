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
