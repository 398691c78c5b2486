"""The default reference data a new installation starts with (editable afterwards in the admin)."""

from __future__ import annotations

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
