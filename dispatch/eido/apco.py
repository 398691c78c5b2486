"""Beacon call type codes -> APCO common incident types (APCO ANS 2.103, as listed in NENA's
NIEM ``apco.yaml``), for ``incidentTypeCommonRegistryText``.

Only the default call types (``dispatch.reference_data``) are mapped, and only where the APCO
list has a type that means the same thing. A type with no such code (a generic "medical" or
"fire", "other", or an agency's own type) is sent as ``LOCAL:<code>`` with ``mapped=False``:
the receiving CAD sees that it is Beacon's local code, never a guessed APCO one. The Beacon code
and name always travel too (``incidentTypeInternalCode``/``Text``). See docs/eido.md.
"""

from __future__ import annotations

from dataclasses import dataclass

LOCAL_PREFIX = "LOCAL:"

# Beacon code -> APCO incident category code. Several Beacon types may share one APCO code; the
# first listed is the one an import of that APCO code becomes.
# Deliberately not mapped: ALARM ("burglar/panic": APCO splits alarms by kind and audible/silent,
# ALRBA, ALRBS, ALRPANA, ALRPANS..., and Beacon does not know which) and PATROL (APCO has no
# patrol type; ADMIN means administrative work, and a receiver would file it wrongly).
# Read as meaning the same thing: DOMESTIC -> DVNA (domestic, no assault reported: a disturbance;
# one with an assault is ASSAULT), SUSP-PERS -> PERSUSP, MISSING -> PERMISS and TRAFFIC -> THAZ
# (traffic hazard; complaints about driving are the same call type in Beacon).
APCO_BY_CALL_TYPE: dict[str, str] = {
    "ASSAULT": "ASSAULT",
    "ASSAULT-IP": "ASSAULT",
    "BURG-RES": "BURGLARY",
    "BURG-COM": "BURGLARY",
    "BURG-VEH": "BURGLARY",
    "THEFT": "LARCENY",
    "SHOPLIFT": "SHOPLIFT",
    "ROBBERY": "ROBBERY",
    "SHOTS": "SHOOT",
    "WEAPON": "WEAPON",
    "DOMESTIC": "DVNA",
    "DISTURB": "DISORD",
    "NOISE": "NOISE",
    "SUSP-PERS": "PERSUSP",
    "SUSP-VEH": "VEHSUSP",
    "TRESPASS": "TRESPASS",
    "VANDAL": "VANDAL",
    "DRUGS": "DRUGS",
    "WELFARE": "WELFARE",
    "MVC": "MVA",
    "MVC-INJ": "MVAINJY",
    "TRAFFIC": "THAZ",
    "TRAFFIC-STOP": "TSTOP",
    "MISSING": "PERMISS",
    "MENTAL": "EDP",
    "ANIMAL": "ANIMAL",
    "PARKING": "PARKING",
}

CALL_TYPE_BY_APCO: dict[str, str] = {}
for _beacon, _apco in APCO_BY_CALL_TYPE.items():
    CALL_TYPE_BY_APCO.setdefault(_apco, _beacon)


@dataclass(frozen=True)
class IncidentType:
    """The common incident type sent for a call type, and whether it is a real APCO code."""

    code: str
    mapped: bool


def incident_type(call_type_code: str) -> IncidentType:
    """The APCO code for a Beacon call type, or ``LOCAL:<code>`` (``mapped=False``)."""
    apco = APCO_BY_CALL_TYPE.get(call_type_code)
    if apco is None:
        return IncidentType(code=f"{LOCAL_PREFIX}{call_type_code}", mapped=False)
    return IncidentType(code=apco, mapped=True)


def call_type_for(common: str) -> str | None:
    """The Beacon call type code an incoming common incident type stands for, if any."""
    common = (common or "").strip()
    if common.upper().startswith(LOCAL_PREFIX):
        return common[len(LOCAL_PREFIX) :].strip() or None
    return CALL_TYPE_BY_APCO.get(common.upper())
