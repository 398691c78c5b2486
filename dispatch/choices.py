"""Status lifecycles and enumerations of the dispatch domain."""

from django.db import models


class CallStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    DISPATCHED = "dispatched", "Dispatched"
    EN_ROUTE = "en_route", "En route"
    ON_SCENE = "on_scene", "On scene"
    CLEARED = "cleared", "Cleared"
    CLOSED = "closed", "Closed"
    CANCELLED = "cancelled", "Cancelled"


OPEN_CALL_STATUSES = (
    CallStatus.PENDING,
    CallStatus.DISPATCHED,
    CallStatus.EN_ROUTE,
    CallStatus.ON_SCENE,
    CallStatus.CLEARED,
)
TERMINAL_CALL_STATUSES = (CallStatus.CLOSED, CallStatus.CANCELLED)

# Allowed call transitions. Forward skips are allowed (a unit may arrive without
# ever reporting en route; a call may be handled by phone and closed from
# pending); going backwards, or leaving a terminal state, is not.
CALL_TRANSITIONS: dict[str, frozenset[str]] = {
    CallStatus.PENDING: frozenset({CallStatus.DISPATCHED, CallStatus.CLOSED, CallStatus.CANCELLED}),
    CallStatus.DISPATCHED: frozenset(
        {CallStatus.EN_ROUTE, CallStatus.ON_SCENE, CallStatus.CLEARED, CallStatus.CANCELLED}
    ),
    CallStatus.EN_ROUTE: frozenset({CallStatus.ON_SCENE, CallStatus.CLEARED, CallStatus.CANCELLED}),
    CallStatus.ON_SCENE: frozenset({CallStatus.CLEARED, CallStatus.CANCELLED}),
    CallStatus.CLEARED: frozenset({CallStatus.CLOSED, CallStatus.DISPATCHED}),
    CallStatus.CLOSED: frozenset(),
    CallStatus.CANCELLED: frozenset(),
}

# Which timestamp field records arrival in each status.
CALL_STATUS_TIMESTAMP: dict[str, str] = {
    CallStatus.DISPATCHED: "dispatched_at",
    CallStatus.EN_ROUTE: "en_route_at",
    CallStatus.ON_SCENE: "on_scene_at",
    CallStatus.CLEARED: "cleared_at",
    CallStatus.CLOSED: "closed_at",
    CallStatus.CANCELLED: "cancelled_at",
}


class CallSource(models.TextChoices):
    PHONE = "phone", "Phone"
    E911 = "911", "911"
    FIELD = "field", "Field-initiated"
    ALARM = "alarm", "Alarm"
    PARTNER = "partner", "Partner alert"
    IMPORT = "import", "Import"
    TRANSFER = "transfer", "Transfer from another CAD"


class CallEventKind(models.TextChoices):
    CREATED = "created", "Created"
    NOTE = "note", "Note"
    STATUS = "status", "Status change"
    UNIT_ASSIGNED = "unit_assigned", "Unit assigned"
    UNIT_STATUS = "unit_status", "Unit status"
    EDITED = "edited", "Edited"
    ATTACHED = "attached", "Information attached"
    INVOLVEMENT = "involvement", "Person/vehicle involved"


class UnitKind(models.TextChoices):
    PATROL = "patrol", "Patrol"
    SUPERVISOR = "supervisor", "Supervisor"
    EMS = "ems", "EMS"
    FIRE = "fire", "Fire"
    SECURITY = "security", "Security"
    OTHER = "other", "Other"


class UnitStatus(models.TextChoices):
    AVAILABLE = "available", "Available"
    DISPATCHED = "dispatched", "Dispatched"
    EN_ROUTE = "en_route", "En route"
    ON_SCENE = "on_scene", "On scene"
    OUT_OF_SERVICE = "out_of_service", "Out of service"
    OFF_DUTY = "off_duty", "Off duty"


COMMITTED_UNIT_STATUSES = (UnitStatus.DISPATCHED, UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE)

# Statuses a unit may report itself. Dispatched is set only by an assignment;
# leaving a call goes through clearing it.
UNIT_TRANSITIONS: dict[str, frozenset[str]] = {
    UnitStatus.AVAILABLE: frozenset({UnitStatus.OUT_OF_SERVICE, UnitStatus.OFF_DUTY}),
    UnitStatus.DISPATCHED: frozenset(
        {UnitStatus.EN_ROUTE, UnitStatus.ON_SCENE, UnitStatus.AVAILABLE}
    ),
    UnitStatus.EN_ROUTE: frozenset({UnitStatus.ON_SCENE, UnitStatus.AVAILABLE}),
    UnitStatus.ON_SCENE: frozenset({UnitStatus.AVAILABLE}),
    UnitStatus.OUT_OF_SERVICE: frozenset({UnitStatus.AVAILABLE, UnitStatus.OFF_DUTY}),
    UnitStatus.OFF_DUTY: frozenset({UnitStatus.AVAILABLE, UnitStatus.OUT_OF_SERVICE}),
}


class LocationKind(models.TextChoices):
    PREMISE = "premise", "Premise (house number)"
    BLOCK = "block", "Block"
    RANGE = "range", "Address range"
    INTERSECTION = "intersection", "Intersection"
    STREET = "street", "Street / highway segment"
    PLACE = "place", "Named place"
    POINT = "point", "Coordinates only"


class PremiseNoteKind(models.TextChoices):
    NOTE = "note", "Note"
    HAZARD = "hazard", "Hazard"


class ObservationCategory(models.TextChoices):
    SUSPICIOUS_PERSON = "suspicious_person", "Suspicious person"
    SUSPICIOUS_VEHICLE = "suspicious_vehicle", "Suspicious vehicle"
    NUISANCE = "nuisance", "Nuisance"
    ACCESS_FAILURE = "access_failure", "Access / security failure"
    HAZARD = "hazard", "Hazard"
    OTHER = "other", "Other"


class InvolvementRole(models.TextChoices):
    CALLER = "caller", "Caller"
    VICTIM = "victim", "Victim"
    WITNESS = "witness", "Witness"
    SUSPECT = "suspect", "Suspect"
    SUBJECT = "subject", "Subject"
    ASSOCIATE = "associate", "Associate"
    OWNER = "owner", "Owner"
    DRIVER = "driver", "Driver"


class CriminalActivity(models.TextChoices):
    """The criminal activity an intelligence subject is reasonably suspected of (28 CFR 23.20(a))."""

    DRUGS = "drugs", "Drugs"
    VIOLENCE = "violence", "Violence against the person"
    PROPERTY = "property", "Property crime (burglary, theft, criminal damage)"
    WEAPONS = "weapons", "Weapons"
    ORGANISED = "organised", "Gangs / organised crime"
    FRAUD = "fraud", "Fraud and financial crime"
    SEXUAL = "sexual", "Sexual offences"
    TERRORISM = "terrorism", "Terrorism / violent extremism"
    OTHER = "other", "Other criminal activity"


# What an admin may require of an observation card, per category (ObservationRequirement).
OBSERVATION_REQUIRABLE_FIELDS: dict[str, str] = {
    "address": "a street address (a GPS point alone is not enough)",
    "narrative": "a narrative",
    "persons": "at least one person seen",
    "vehicles": "at least one vehicle seen",
}


# The fields of a call that identify the caller (the caller identity data category).
CALLER_FIELDS = ("caller_name", "caller_phone")
