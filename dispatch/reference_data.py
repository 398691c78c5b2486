"""The default reference data a new installation starts with (editable afterwards in the admin)."""

from __future__ import annotations

from typing import Any

# code, name, category, default priority (1 = most urgent)
DEFAULT_CALL_TYPES: list[tuple[str, str, str, int]] = [
    ("ALARM", "Alarm (burglar/panic)", "property", 3),
    ("ASSAULT", "Assault", "person", 2),
    ("ASSAULT-IP", "Assault in progress", "person", 1),
    ("BURG-RES", "Burglary, residential", "property", 2),
    ("BURG-COM", "Burglary, commercial", "property", 2),
    ("BURG-VEH", "Burglary of vehicle", "property", 3),
    ("THEFT", "Theft", "property", 3),
    ("SHOPLIFT", "Shoplifting", "property", 3),
    ("ROBBERY", "Robbery", "person", 1),
    ("SHOTS", "Shots fired", "person", 1),
    ("WEAPON", "Person with a weapon", "person", 1),
    ("DOMESTIC", "Domestic disturbance", "person", 2),
    ("DISTURB", "Disturbance", "disorder", 3),
    ("NOISE", "Noise / loud music", "disorder", 4),
    ("SUSP-PERS", "Suspicious person", "suspicious", 3),
    ("SUSP-VEH", "Suspicious vehicle", "suspicious", 3),
    ("TRESPASS", "Trespass", "disorder", 3),
    ("VANDAL", "Vandalism / criminal mischief", "property", 4),
    ("DRUGS", "Narcotics activity", "disorder", 3),
    ("WELFARE", "Welfare check", "service", 3),
    ("MEDICAL", "Medical emergency", "medical", 1),
    ("FIRE", "Fire", "fire", 1),
    ("MVC", "Motor vehicle crash", "traffic", 2),
    ("MVC-INJ", "Motor vehicle crash with injuries", "traffic", 1),
    ("TRAFFIC", "Traffic hazard / complaint", "traffic", 4),
    ("TRAFFIC-STOP", "Officer traffic stop", "traffic", 5),
    ("PATROL", "Patrol by / directed patrol", "proactive", 5),
    ("MISSING", "Missing person", "person", 2),
    ("MENTAL", "Mental health crisis", "person", 2),
    ("ANIMAL", "Animal complaint", "service", 4),
    ("PARKING", "Parking complaint", "traffic", 5),
    ("OTHER", "Other / unclassified", "general", 4),
]

DEFAULT_DISPOSITIONS: list[tuple[str, str]] = [
    ("REPORT", "Report taken"),
    ("ARREST", "Arrest made"),
    ("CITATION", "Citation issued"),
    ("WARNING", "Warning given"),
    ("ADVISED", "Advised / assisted"),
    ("GOA", "Gone on arrival"),
    ("UTL", "Unable to locate"),
    ("UNFOUNDED", "Unfounded"),
    ("DUPLICATE", "Duplicate call"),
    ("TRANSPORT", "Transported"),
    ("REFERRED", "Referred to other agency"),
    ("NO-ACTION", "No action required"),
]

IMPORTED_CATEGORY = "imported"


def load_defaults(call_type_model: Any = None, disposition_model: Any = None) -> None:
    """Create any missing default call types and dispositions (idempotent).

    Used by the data migration (with historical models) and by tests that run
    after a transactional flush emptied the tables.
    """
    if call_type_model is None or disposition_model is None:
        from dispatch.models import CallType, Disposition

        call_type_model, disposition_model = CallType, Disposition
    existing = set(call_type_model.objects.values_list("code", flat=True))
    call_type_model.objects.bulk_create(
        [
            call_type_model(code=code, name=name, category=category, default_priority=priority)
            for code, name, category, priority in DEFAULT_CALL_TYPES
            if code not in existing
        ]
    )
    existing = set(disposition_model.objects.values_list("code", flat=True))
    disposition_model.objects.bulk_create(
        [
            disposition_model(code=code, name=name)
            for code, name in DEFAULT_DISPOSITIONS
            if code not in existing
        ]
    )
