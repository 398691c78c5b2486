"""Tables of the dispatch domain. Invariants of one row live here; state changes live in services."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length, Trim
from django.db.models.lookups import GreaterThanOrEqual

from dispatch.choices import (
    OBSERVATION_REQUIRABLE_FIELDS,
    OPEN_CALL_STATUSES,
    CallEventKind,
    CallSource,
    CallStatus,
    CriminalActivity,
    InvolvementRole,
    LocationKind,
    ObservationCategory,
    PremiseNoteKind,
    UnitKind,
    UnitStatus,
)
from governance.choices import Sensitivity
from governance.models import Agency

# Shortest reasons accepted where a justification is required (a few real words, not "x").
MIN_JUSTIFICATION = 20

LAT = [MinValueValidator(-90.0), MaxValueValidator(90.0)]
LON = [MinValueValidator(-180.0), MaxValueValidator(180.0)]
PRIORITY = [MinValueValidator(1), MaxValueValidator(5)]


class GeoPointMixin(models.Model):
    """A WGS84 point plus its H3 cells (resolutions 7, 9, 11) for radius and grid queries."""

    latitude = models.FloatField(null=True, blank=True, validators=LAT)
    longitude = models.FloatField(null=True, blank=True, validators=LON)
    h3_r7 = models.CharField(max_length=16, blank=True, default="")
    h3_r9 = models.CharField(max_length=16, blank=True, default="")
    h3_r11 = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        abstract = True


class Location(GeoPointMixin):
    """A physical place (premise, block, intersection), shared by every agency."""

    address_key = models.CharField(max_length=255, help_text="Normalised address; one per place.")
    locality = models.CharField(
        max_length=100, blank=True, default="", help_text="Normalised town/city."
    )
    display_address = models.CharField(max_length=255)
    raw_address = models.CharField(max_length=500, blank=True, default="")
    kind = models.CharField(
        max_length=16, choices=LocationKind.choices, default=LocationKind.PREMISE
    )
    street_line = models.CharField(max_length=255, blank=True, default="")
    unit_designator = models.CharField(max_length=32, blank=True, default="")
    postal_code = models.CharField(max_length=10, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["address_key", "locality"], name="location_unique_key"),
        ]
        indexes = [
            models.Index(fields=["h3_r9"], name="location_h3_r9"),
            models.Index(fields=["h3_r7"], name="location_h3_r7"),
            models.Index(fields=["h3_r11"], name="location_h3_r11"),
            models.Index(fields=["street_line"], name="location_street"),
        ]

    def __str__(self) -> str:
        return self.display_address


class PremiseNote(models.Model):
    """A note or hazard an agency keeps about a location (e.g. dog, weapons, access code)."""

    location = models.ForeignKey(Location, on_delete=models.CASCADE, related_name="premise_notes")
    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(
        max_length=8, choices=PremiseNoteKind.choices, default=PremiseNoteKind.NOTE
    )
    text = models.TextField()
    sensitivity = models.PositiveSmallIntegerField(
        choices=Sensitivity.choices, default=Sensitivity.ROUTINE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-kind", "-created_at"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.text[:40]}"


class CallType(models.Model):
    """A kind of call (reference data) with its category and default priority."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    category = models.CharField(max_length=64, default="general")
    default_priority = models.PositiveSmallIntegerField(default=3, validators=PRIORITY)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(
                condition=Q(default_priority__gte=1, default_priority__lte=5),
                name="calltype_priority_1_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class Disposition(models.Model):
    """How a call ended (reference data)."""

    code = models.CharField(max_length=32, unique=True)
    name = models.CharField(max_length=120)
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class CallNumberCounter(models.Model):
    """The last call number handed out in a year; incremented under a row lock."""

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class CallQuerySet(models.QuerySet["Call"]):
    def open(self) -> CallQuerySet:
        return self.filter(status__in=OPEN_CALL_STATUSES)


class Call(GeoPointMixin):
    """A call for service: who called, where, what, and what happened, with a timestamp per status."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="calls")
    number = models.CharField(max_length=16, unique=True)
    external_id = models.CharField(max_length=64, null=True, blank=True)
    # The incident identifier of the CAD a transferred call came from (an EIDO ``$id``); a second
    # transfer of the same incident finds the call instead of making another (docs/eido.md).
    external_ref = models.CharField(max_length=255, null=True, blank=True)
    call_type = models.ForeignKey(CallType, on_delete=models.PROTECT, related_name="calls")
    priority = models.PositiveSmallIntegerField(validators=PRIORITY)
    status = models.CharField(max_length=16, choices=CallStatus.choices, default=CallStatus.PENDING)
    source = models.CharField(max_length=16, choices=CallSource.choices, default=CallSource.PHONE)
    caller_name = models.CharField(max_length=200, blank=True, default="")
    caller_phone = models.CharField(max_length=40, blank=True, default="")
    narrative = models.TextField(blank=True, default="")
    disposition = models.ForeignKey(
        Disposition, null=True, blank=True, on_delete=models.PROTECT, related_name="calls"
    )
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="calls"
    )
    address_given = models.CharField(max_length=500, blank=True, default="")
    received_at = models.DateTimeField(db_index=True)
    dispatched_at = models.DateTimeField(null=True, blank=True)
    en_route_at = models.DateTimeField(null=True, blank=True)
    on_scene_at = models.DateTimeField(null=True, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)

    objects = CallQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "external_id"],
                condition=Q(external_id__isnull=False),
                name="call_unique_external_id",
            ),
            models.UniqueConstraint(
                fields=["agency", "external_ref"],
                condition=Q(external_ref__isnull=False),
                name="call_unique_external_ref",
            ),
            models.CheckConstraint(
                condition=Q(priority__gte=1, priority__lte=5), name="call_priority_1_5"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "priority", "received_at"], name="call_queue"),
            models.Index(fields=["location", "received_at"], name="call_location_time"),
            models.Index(fields=["h3_r9", "received_at"], name="call_h3_r9_time"),
            models.Index(fields=["h3_r7", "received_at"], name="call_h3_r7_time"),
            models.Index(fields=["agency", "received_at"], name="call_agency_time"),
        ]

    def __str__(self) -> str:
        return self.number

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_CALL_STATUSES


class CallEvent(models.Model):
    """One append-only, attributed entry in a call's timeline."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField()
    kind = models.CharField(max_length=16, choices=CallEventKind.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    text = models.TextField(blank=True, default="")
    data = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["call", "at"], name="callevent_call_time")]

    def __str__(self) -> str:
        return f"{self.call_id} {self.kind} @ {self.at:%Y-%m-%d %H:%M:%S}"


class Unit(GeoPointMixin):
    """A dispatchable resource (car, ambulance, officer on foot) with its status and last AVL fix."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="units")
    call_sign = models.CharField(max_length=32)
    kind = models.CharField(max_length=16, choices=UnitKind.choices, default=UnitKind.PATROL)
    home_area = models.CharField(max_length=64, blank=True, default="")
    status = models.CharField(
        max_length=16, choices=UnitStatus.choices, default=UnitStatus.AVAILABLE
    )
    status_changed_at = models.DateTimeField(null=True, blank=True)
    heading = models.FloatField(null=True, blank=True)
    speed = models.FloatField(null=True, blank=True)
    position_at = models.DateTimeField(null=True, blank=True)
    users = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="units")
    active = models.BooleanField(default=True)

    class Meta:
        ordering = ["call_sign"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "call_sign"], name="unit_unique_call_sign"),
        ]

    def __str__(self) -> str:
        return self.call_sign


class UnitPosition(models.Model):
    """One AVL fix (breadcrumb); high volume, so narrow and indexed by unit and time."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, related_name="positions")
    recorded_at = models.DateTimeField()
    received_at = models.DateTimeField(auto_now_add=True)
    latitude = models.FloatField(validators=LAT)
    longitude = models.FloatField(validators=LON)
    heading = models.FloatField(null=True, blank=True)
    speed = models.FloatField(null=True, blank=True)
    accuracy = models.FloatField(null=True, blank=True)
    h3_r9 = models.CharField(max_length=16, blank=True, default="")

    class Meta:
        constraints = [
            # A device re-sending a batch after a lost reply must not double the track.
            models.UniqueConstraint(fields=["unit", "recorded_at"], name="unitposition_unique_fix"),
        ]
        indexes = [models.Index(fields=["recorded_at"], name="unitposition_time")]

    def __str__(self) -> str:
        return f"{self.unit_id} @ {self.recorded_at:%H:%M:%S}"


class CallAssignment(models.Model):
    """A unit committed to a call, with the unit's own status times on that call."""

    call = models.ForeignKey(Call, on_delete=models.CASCADE, related_name="assignments")
    unit = models.ForeignKey(Unit, on_delete=models.PROTECT, related_name="assignments")
    assigned_at = models.DateTimeField()
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    en_route_at = models.DateTimeField(null=True, blank=True)
    on_scene_at = models.DateTimeField(null=True, blank=True)
    cleared_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["assigned_at", "id"]
        constraints = [
            # The database backs up the atomic claim: one open assignment per unit.
            models.UniqueConstraint(
                fields=["unit"],
                condition=Q(cleared_at__isnull=True),
                name="callassignment_one_open_per_unit",
            ),
        ]
        indexes = [models.Index(fields=["call", "cleared_at"], name="callassignment_call_open")]

    def __str__(self) -> str:
        return f"{self.unit_id} -> {self.call_id}"

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None


class FieldObservation(GeoPointMixin):
    """A structured field card: what staff saw, where and when, optionally tied to a call."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="observations")
    observed_at = models.DateTimeField(db_index=True)
    location = models.ForeignKey(
        Location, null=True, blank=True, on_delete=models.PROTECT, related_name="observations"
    )
    category = models.CharField(max_length=24, choices=ObservationCategory.choices)
    narrative = models.TextField(blank=True, default="")
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    call = models.ForeignKey(
        Call, null=True, blank=True, on_delete=models.SET_NULL, related_name="observations"
    )
    sensitivity = models.PositiveSmallIntegerField(
        choices=Sensitivity.choices, default=Sensitivity.ROUTINE
    )
    created_at = models.DateTimeField(auto_now_add=True)
    # Set when the retention job blanked the narrative and removed the person/vehicle links.
    anonymised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["location", "observed_at"], name="observation_location_time"),
            models.Index(fields=["h3_r9", "observed_at"], name="observation_h3_r9_time"),
        ]

    def __str__(self) -> str:
        return f"{self.get_category_display()} @ {self.observed_at:%Y-%m-%d %H:%M}"


class Person(models.Model):
    """A person known to an agency through calls or observations."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="persons")
    last_name = models.CharField(max_length=100)
    first_name = models.CharField(max_length=100, blank=True, default="")
    middle_name = models.CharField(max_length=100, blank=True, default="")
    date_of_birth = models.DateField(null=True, blank=True)
    sex = models.CharField(
        max_length=1, blank=True, default="", choices=[("F", "F"), ("M", "M"), ("X", "X")]
    )
    name_key = models.CharField(
        max_length=255, db_index=True, help_text="Upper-case LAST|FIRST for matching."
    )
    description = models.TextField(blank=True, default="")
    sensitivity = models.PositiveSmallIntegerField(
        choices=Sensitivity.choices, default=Sensitivity.RESTRICTED
    )
    need_to_know = models.ManyToManyField(
        "governance.NeedToKnowGroup",
        blank=True,
        related_name="persons",
        help_text="When set, only members of these groups see the person (on top of roles).",
    )
    # Collection standards (28 CFR 23.20(a)): a person is an intelligence subject only with a
    # criminal-activity category and a written reasonable-suspicion justification.
    intelligence_subject = models.BooleanField(default=False)
    criminal_activity = models.CharField(
        max_length=16, blank=True, default="", choices=CriminalActivity.choices
    )
    suspicion_justification = models.TextField(
        blank=True,
        default="",
        help_text="Why the person is reasonably suspected of involvement in that activity.",
    )
    subject_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    subject_recorded_at = models.DateTimeField(null=True, blank=True)
    # 28 CFR 23.20(b): political, religious or social views, associations or activities are kept
    # only when directly related to criminal conduct, with the reason written down.
    views_or_associations = models.TextField(blank=True, default="")
    views_related_to_criminal_conduct = models.BooleanField(default=False)
    views_justification = models.TextField(blank=True, default="")
    # The retention clock (governance.retention) runs from the later of these two and never from
    # an edit: 28 CFR 23 says updating identifying information is not a review. Only
    # ``person_validate`` sets the validation fields.
    created_at = models.DateTimeField(auto_now_add=True)
    validated_at = models.DateTimeField(null=True, blank=True)
    validated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    validation_rationale = models.TextField(blank=True, default="")
    # Set when the retention job blanked the identifying fields; such a row is never
    # re-processed, and its statistical fields (agency, sex, involvements) stay.
    anonymised_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(intelligence_subject=False)
                | Q(
                    ~Q(criminal_activity=""),
                    GreaterThanOrEqual(Length(Trim("suspicion_justification")), MIN_JUSTIFICATION),
                ),
                name="person_subject_needs_suspicion",
            ),
            models.CheckConstraint(
                condition=Q(criminal_activity="")
                | Q(criminal_activity__in=CriminalActivity.values),
                name="person_criminal_activity_known",
            ),
            models.CheckConstraint(
                condition=Q(views_or_associations="")
                | Q(
                    Q(views_related_to_criminal_conduct=True),
                    GreaterThanOrEqual(Length(Trim("views_justification")), MIN_JUSTIFICATION),
                ),
                name="person_views_need_criminal_link",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name}".strip(", ")


class Vehicle(models.Model):
    """A vehicle known to an agency, identified by normalised plate and issuing state."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="vehicles")
    plate = models.CharField(max_length=16, blank=True, default="")
    plate_state = models.CharField(max_length=2, blank=True, default="")
    make = models.CharField(max_length=40, blank=True, default="")
    model = models.CharField(max_length=40, blank=True, default="")
    color = models.CharField(max_length=30, blank=True, default="")
    year = models.PositiveSmallIntegerField(null=True, blank=True)
    description = models.TextField(blank=True, default="")
    sensitivity = models.PositiveSmallIntegerField(
        choices=Sensitivity.choices, default=Sensitivity.RESTRICTED
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # One record of a plate per agency and sensitivity level: someone not cleared for a
            # confidential record of the plate records their own, and is never told it exists.
            models.UniqueConstraint(
                fields=["agency", "plate", "plate_state", "sensitivity"],
                condition=~Q(plate=""),
                name="vehicle_unique_plate_per_level",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.plate_state} {self.plate}".strip() or f"vehicle {self.pk}"

    @property
    def label(self) -> str:
        """Plate plus what it looks like, for panels: "TX ABC123 white Ford Transit"."""
        return " ".join(p for p in (str(self), self.color, self.make, self.model) if p)


class Involvement(models.Model):
    """How a person or vehicle figures in a call or an observation (caller, suspect, driver, ...)."""

    role = models.CharField(max_length=16, choices=InvolvementRole.choices)
    person = models.ForeignKey(
        Person, null=True, blank=True, on_delete=models.CASCADE, related_name="involvements"
    )
    vehicle = models.ForeignKey(
        Vehicle, null=True, blank=True, on_delete=models.CASCADE, related_name="involvements"
    )
    call = models.ForeignKey(
        Call, null=True, blank=True, on_delete=models.CASCADE, related_name="involvements"
    )
    observation = models.ForeignKey(
        FieldObservation,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="involvements",
    )
    notes = models.CharField(max_length=500, blank=True, default="")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(person__isnull=False, vehicle__isnull=True)
                    | Q(person__isnull=True, vehicle__isnull=False)
                ),
                name="involvement_one_entity",
            ),
            models.CheckConstraint(
                condition=(
                    Q(call__isnull=False, observation__isnull=True)
                    | Q(call__isnull=True, observation__isnull=False)
                ),
                name="involvement_one_incident",
            ),
        ]
        indexes = [
            models.Index(fields=["person", "role"], name="involvement_person_role"),
            models.Index(fields=["vehicle", "role"], name="involvement_vehicle_role"),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.person_id or self.vehicle_id}"


class DispatchSettings(models.Model):
    """Console knobs an admin edits in the browser; one row (pk=1), read fresh on every request."""

    context_radius_m = models.PositiveIntegerField(
        default=250,
        validators=[MinValueValidator(25), MaxValueValidator(5_000)],
        help_text="Radius for 'calls nearby' in the intake context panel (metres).",
    )
    duplicate_radius_m = models.PositiveIntegerField(
        default=150,
        validators=[MinValueValidator(10), MaxValueValidator(2_000)],
        help_text="An open call this close, of a related type, is flagged as a possible duplicate (metres).",
    )
    duplicate_window_min = models.PositiveIntegerField(
        default=30,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 60)],
        help_text="How far back to look for possible duplicates (minutes).",
    )
    dispatched_warn_s = models.PositiveIntegerField(
        default=120, help_text="Dispatched: amber after (s)."
    )
    dispatched_alert_s = models.PositiveIntegerField(
        default=300, help_text="Dispatched: red after (s)."
    )
    en_route_warn_s = models.PositiveIntegerField(
        default=600, help_text="En route: amber after (s)."
    )
    en_route_alert_s = models.PositiveIntegerField(
        default=1200, help_text="En route: red after (s)."
    )
    on_scene_warn_s = models.PositiveIntegerField(
        default=1800, help_text="On scene: amber after (s)."
    )
    on_scene_alert_s = models.PositiveIntegerField(
        default=3600, help_text="On scene: red after (s)."
    )
    out_of_service_warn_s = models.PositiveIntegerField(
        default=3600, help_text="Out of service: amber after (s)."
    )
    out_of_service_alert_s = models.PositiveIntegerField(
        default=7200, help_text="Out of service: red after (s)."
    )
    pending_p1_warn_s = models.PositiveIntegerField(
        default=60, help_text="Pending P1: amber after (s)."
    )
    pending_p1_alert_s = models.PositiveIntegerField(
        default=180, help_text="Pending P1: red after (s)."
    )
    pending_p2_warn_s = models.PositiveIntegerField(
        default=180, help_text="Pending P2: amber after (s)."
    )
    pending_p2_alert_s = models.PositiveIntegerField(
        default=600, help_text="Pending P2: red after (s)."
    )
    pending_p3_warn_s = models.PositiveIntegerField(
        default=600, help_text="Pending P3: amber after (s)."
    )
    pending_p3_alert_s = models.PositiveIntegerField(
        default=1200, help_text="Pending P3: red after (s)."
    )
    pending_p4_warn_s = models.PositiveIntegerField(
        default=1200, help_text="Pending P4: amber after (s)."
    )
    pending_p4_alert_s = models.PositiveIntegerField(
        default=2400, help_text="Pending P4: red after (s)."
    )
    pending_p5_warn_s = models.PositiveIntegerField(
        default=1800, help_text="Pending P5: amber after (s)."
    )
    pending_p5_alert_s = models.PositiveIntegerField(
        default=3600, help_text="Pending P5: red after (s)."
    )
    updated_at = models.DateTimeField(auto_now=True)

    STATUSES = ("dispatched", "en_route", "on_scene", "out_of_service")

    class Meta:
        verbose_name = "dispatch settings"
        verbose_name_plural = "dispatch settings"
        constraints = [models.CheckConstraint(condition=Q(pk=1), name="dispatchsettings_singleton")]

    def __str__(self) -> str:
        return "Dispatch settings"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        errors = {}
        pairs = [(f"{s}_warn_s", f"{s}_alert_s") for s in self.STATUSES]
        pairs += [(f"pending_p{p}_warn_s", f"pending_p{p}_alert_s") for p in range(1, 6)]
        for warn, alert in pairs:
            if getattr(self, warn) >= getattr(self, alert):
                errors[alert] = "Red must come after amber."
        if errors:
            raise ValidationError(errors)

    def as_dict(self) -> dict[str, object]:
        """The console's settings shape (see dispatch.console_config.DEFAULTS)."""
        return {
            "context_radius_m": float(self.context_radius_m),
            "duplicate_radius_m": float(self.duplicate_radius_m),
            "duplicate_window_min": self.duplicate_window_min,
            "status_thresholds": {
                s: [getattr(self, f"{s}_warn_s"), getattr(self, f"{s}_alert_s")]
                for s in self.STATUSES
            },
            "pending_thresholds": {
                str(p): [
                    getattr(self, f"pending_p{p}_warn_s"),
                    getattr(self, f"pending_p{p}_alert_s"),
                ]
                for p in range(1, 6)
            },
        }


class ObservationRequirement(models.Model):
    """What an observation card of one category must carry, set by admins (enforced on filing)."""

    category = models.CharField(max_length=24, unique=True, choices=ObservationCategory.choices)
    required_fields = models.JSONField(
        default=list,
        blank=True,
        help_text="Any of: " + ", ".join(OBSERVATION_REQUIRABLE_FIELDS) + ".",
    )
    narrative_min_length = models.PositiveIntegerField(
        default=0,
        validators=[MaxValueValidator(2_000)],
        help_text="Shortest narrative accepted, in characters (0: no minimum).",
    )
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category"]

    def __str__(self) -> str:
        return f"Requirements for {self.get_category_display()}"

    def clean(self) -> None:
        from django.core.exceptions import ValidationError

        fields = self.required_fields
        if not isinstance(fields, list) or not all(isinstance(f, str) for f in fields):
            raise ValidationError({"required_fields": "A list of field names."})
        unknown = sorted(set(fields) - set(OBSERVATION_REQUIRABLE_FIELDS))
        if unknown:
            raise ValidationError(
                {
                    "required_fields": f"Unknown field(s): {', '.join(unknown)}; use "
                    f"{', '.join(OBSERVATION_REQUIRABLE_FIELDS)}."
                }
            )
        self.required_fields = [f for f in OBSERVATION_REQUIRABLE_FIELDS if f in fields]


class AlertFeed(models.Model):
    """A partner's CAP 1.2 feed URL that beat polls every ``interval_minutes`` (conditional GET)."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="alert_feeds")
    name = models.CharField(max_length=200)
    url = models.URLField(max_length=1000)
    interval_minutes = models.PositiveIntegerField(
        default=5, validators=[MinValueValidator(1), MaxValueValidator(24 * 60)]
    )
    etag = models.CharField(max_length=500, blank=True, default="")
    last_modified = models.CharField(max_length=100, blank=True, default="")
    last_polled_at = models.DateTimeField(null=True, blank=True)
    last_status = models.CharField(max_length=500, blank=True, default="")
    active = models.BooleanField(default=True)
    allow_private_network = models.BooleanField(
        default=False,
        help_text="Let this feed and the alerts its index links to be fetched from private, "
        "loopback or link-local addresses (an agency-internal CAP server). Off: only public "
        "addresses, like webhooks.",
    )
    # Keys of the index entries already handled (Atom id/link + updated), newest last, capped
    # at ``MAX_SEEN_ENTRIES``: an unchanged entry is not fetched again at every poll.
    seen_entries = models.JSONField(default=list, blank=True)

    MAX_SEEN_ENTRIES = 2000

    class Meta:
        ordering = ["agency", "name"]
        constraints = [
            models.UniqueConstraint(fields=["agency", "url"], name="alertfeed_unique_url"),
        ]

    def __str__(self) -> str:
        return self.name


class PartnerAlertQuerySet(models.QuerySet["PartnerAlert"]):
    def active(self, now: Any) -> PartnerAlertQuerySet:
        """Actual alerts neither cancelled nor superseded with an info in force at ``now``."""
        return self.filter(
            status="Actual",
            cancelled_at__isnull=True,
            superseded_by__isnull=True,
            infos__in=AlertInfo.objects.in_force(now),
        ).distinct()


class PartnerAlert(models.Model):
    """One CAP 1.2 alert received from a partner, kept whole (``raw``) and broken down."""

    agency = models.ForeignKey(Agency, on_delete=models.PROTECT, related_name="partner_alerts")
    identifier = models.CharField(max_length=500)
    sender = models.CharField(max_length=500)
    sent = models.DateTimeField()
    status = models.CharField(max_length=16)
    msg_type = models.CharField(max_length=16)
    scope = models.CharField(max_length=16)
    references = models.JSONField(default=list, blank=True)
    signed = models.BooleanField(default=False)
    superseded_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="supersedes"
    )
    cancelled_at = models.DateTimeField(null=True, blank=True)
    raw = models.TextField()
    received_via = models.CharField(max_length=32, help_text='"upload" or "feed:<id>"')
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    received_at = models.DateTimeField(auto_now_add=True)

    objects = PartnerAlertQuerySet.as_manager()

    class Meta:
        ordering = ["-sent", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["agency", "sender", "identifier", "sent"], name="partneralert_unique_msg"
            ),
        ]
        indexes = [models.Index(fields=["agency", "sent"], name="partneralert_agency_sent")]

    def __str__(self) -> str:
        return f"{self.sender} {self.identifier}"


class AlertInfoQuerySet(models.QuerySet["AlertInfo"]):
    def in_force(self, now: Any) -> AlertInfoQuerySet:
        """Infos effective at ``now`` (effective, else the alert's sent) and not yet expired."""
        return self.filter(
            Q(effective__lte=now) | Q(effective__isnull=True, alert__sent__lte=now),
            Q(expires__gt=now) | Q(expires__isnull=True),
        )


class AlertInfo(models.Model):
    """One ``<info>`` block of an alert (one per language)."""

    alert = models.ForeignKey(PartnerAlert, on_delete=models.CASCADE, related_name="infos")
    language = models.CharField(max_length=35, default="en-US")
    category = models.JSONField(default=list, blank=True)
    event = models.CharField(max_length=500, blank=True, default="")
    urgency = models.CharField(max_length=16, blank=True, default="")
    severity = models.CharField(max_length=16, blank=True, default="")
    certainty = models.CharField(max_length=16, blank=True, default="")
    headline = models.CharField(max_length=500, blank=True, default="")
    description = models.TextField(blank=True, default="")
    instruction = models.TextField(blank=True, default="")
    effective = models.DateTimeField(null=True, blank=True)
    onset = models.DateTimeField(null=True, blank=True)
    expires = models.DateTimeField(null=True, blank=True)
    sender_name = models.CharField(max_length=500, blank=True, default="")
    web = models.CharField(max_length=1000, blank=True, default="")
    contact = models.CharField(max_length=500, blank=True, default="")

    objects = AlertInfoQuerySet.as_manager()

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.event} ({self.language})"


class AlertArea(models.Model):
    """One ``<area>``: polygons ([[lat, lon], ...]), circles ([lat, lon, radius_km]), geocodes."""

    info = models.ForeignKey(AlertInfo, on_delete=models.CASCADE, related_name="areas")
    area_desc = models.TextField()
    polygons = models.JSONField(default=list, blank=True)
    circles = models.JSONField(default=list, blank=True)
    geocodes = models.JSONField(default=list, blank=True)
    # Too big to cover with cells within the cap: point tests check its shape directly.
    uncovered = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return self.area_desc[:80]


class AlertAreaCell(models.Model):
    """An H3 cell (res 7 or 9) overlapping an alert area: the index for point-in-area lookups."""

    area = models.ForeignKey(AlertArea, on_delete=models.CASCADE, related_name="cells")
    resolution = models.PositiveSmallIntegerField()
    cell = models.CharField(max_length=16)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["area", "cell"], name="alertareacell_unique"),
        ]
        indexes = [models.Index(fields=["cell"], name="alertareacell_cell")]

    def __str__(self) -> str:
        return f"{self.cell} (res {self.resolution})"
