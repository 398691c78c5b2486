"""Harbor City: a deterministic generator of demo data with planted, documented patterns.

Pure Python + numpy, no Django: :func:`generate` turns ``(seed, days, anchor)``
into a :class:`DemoPlan` of plain rows (locations, units, users, calls,
observations, persons, vehicles, involvements, notes, open calls, AVL tracks)
plus the ground truth of what was planted:

* **concentration** - eight problem premises (a big-box store, a bar, a
  convenience store, an apartment complex, a motel, ...) draw a Pareto-like
  share of all calls; background calls use log-normal location weights, so a
  few per cent of places hold a large share of calls (Sherman 1989, Weisburd
  2015);
* **hot areas** - Gaussian blobs a few hundred metres wide, one of them
  emerging (its rate ramps up over the last part of the window);
* **hour of week** - evening and weekend-night peaks, commute peaks for
  traffic, daytime for residential burglary; planted windows: the bar's
  disorder on Fri-Sat 19:00-23:00, the convenience store's shoplifting on
  school days 15:00-18:00;
* **near repeat** - residential burglary chains whose members lie within
  ``CHAIN_RADIUS_M`` of the chain's first burglary and within ``CHAIN_DAYS``
  after it (Bowers et al. 2004), over a background of scattered burglaries;
* **recurring persons and vehicles** - a cast that shows up across calls and
  observations in different roles, some of them together.

All times are aware UTC datetimes; the hour-of-week structure is planted in
the agency's local time zone. The same arguments give an equal plan.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

import numpy as np

from dispatch.reference_data import DEFAULT_CALL_TYPES

# --- the town ---------------------------------------------------------------------------

CITY_NAME = "Harbor City"
LOCALITY = "HARBOR CITY"  # what normalize_locality(CITY_NAME) gives; marks every demo location
CENTRE_LAT, CENTRE_LON = 29.4241, -98.4936
M_PER_DEG_LAT = 110_860.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(CENTRE_LAT))

CITY_AGENCY = "city"
CAMPUS_AGENCY = "campus"
CAMPUS_AGENCY_CODE = "hc-campus"

# East-west streets, north to south; the harbour is south of HARBOR ST.
STREETS = (
    "ASH ST",
    "BIRCH ST",
    "CEDAR ST",
    "MAPLE ST",
    "PINE ST",
    "OAK ST",
    "ELM ST",
    "WILLOW ST",
    "MARKET ST",
    "MILL ST",
    "FRONT ST",
    "HARBOR ST",
)
N_AVENUES = 14  # north-south "1ST AVE" .. "14TH AVE", west to east
AVENUE_SPACING_M = 180.0
STREET_SPACING_M = 160.0
COMMERCIAL_STREETS = frozenset({"MARKET ST", "FRONT ST", "HARBOR ST", "5TH AVE", "9TH AVE"})

CHAIN_RADIUS_M = 200.0
CHAIN_DAYS = 7

DEFAULT_SEED = 2026
DEFAULT_DAYS = 120
DEFAULT_CALLS_PER_DAY = 60.0

_PRIORITY = {code: priority for code, _name, _cat, priority in DEFAULT_CALL_TYPES}
_TYPE_NAMES = {code: name for code, name, _cat, _priority in DEFAULT_CALL_TYPES}
_TIME_ZONE = "America/Chicago"


def _ordinal(n: int) -> str:
    suffix = "TH" if 10 <= n % 100 <= 20 else {1: "ST", 2: "ND", 3: "RD"}.get(n % 10, "TH")
    return f"{n}{suffix}"


AVENUES = tuple(f"{_ordinal(i + 1)} AVE" for i in range(N_AVENUES))


def avenue_x(i: int) -> float:
    """Easting (m from the centre) of avenue ``i`` (0 = 1ST AVE)."""
    return (i - (N_AVENUES - 1) / 2) * AVENUE_SPACING_M


def street_y(j: int) -> float:
    """Northing (m from the centre) of street ``j`` (0 = ASH ST, the northernmost)."""
    return ((len(STREETS) - 1) / 2 - j) * STREET_SPACING_M


def to_latlon(x: float, y: float) -> tuple[float, float]:
    """Local metres east/north of the centre to WGS84, rounded to ~10 cm."""
    return (
        round(CENTRE_LAT + y / M_PER_DEG_LAT, 6),
        round(CENTRE_LON + x / M_PER_DEG_LON, 6),
    )


def to_xy(lat: float, lon: float) -> tuple[float, float]:
    """WGS84 to local metres east/north of the centre."""
    return (lon - CENTRE_LON) * M_PER_DEG_LON, (lat - CENTRE_LAT) * M_PER_DEG_LAT


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres (same formula as ``dispatch.geo.haversine_m``)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6_371_008.8 * math.asin(min(1.0, math.sqrt(a)))


# Beats as (avenue indices, street indices); x < 0 is west, y >= 0 is north.
BEAT_GRID: dict[str, tuple[range, range]] = {
    "Beat 1": (range(7), range(6)),
    "Beat 2": (range(7, 14), range(6)),
    "Beat 3": (range(7), range(6, 12)),
    "Beat 4": (range(7, 14), range(6, 12)),
}
CITY_GRID = (range(N_AVENUES), range(len(STREETS)))


def edge_x(i: int, side: int) -> float:
    """The easting of a beat edge next to avenue ``i`` (``side`` -1 west, +1 east)."""
    neighbour = i + side
    if 0 <= neighbour < N_AVENUES:
        return (avenue_x(i) + avenue_x(neighbour)) / 2
    return avenue_x(i) + side * AVENUE_SPACING_M / 2


def edge_y(j: int, side: int) -> float:
    """The northing of a beat edge next to street ``j`` (``side`` -1 north, +1 south)."""
    neighbour = j + side
    if 0 <= neighbour < len(STREETS):
        return (street_y(j) + street_y(neighbour)) / 2
    return street_y(j) - side * STREET_SPACING_M / 2


def _clip(value: float, low: float, high: float) -> float:
    return min(max(float(value), low), high)


def _beat_of(x: float, y: float) -> str:
    # Four quadrants: 1 north-west, 2 north-east, 3 south-west, 4 south-east.
    return str((1 if x < 0 else 2) + (0 if y >= 0 else 2))


# --- rows of the plan -------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class AgencySpec:
    """An agency; ``key`` is how rows refer to it ("city" is the installation's default agency)."""

    key: str
    code: str
    name: str
    kind: str


@dataclass(frozen=True, slots=True)
class UserSpec:
    """A demo login."""

    username: str
    roles: tuple[str, ...]
    first_name: str
    last_name: str
    agency: str


@dataclass(frozen=True, slots=True)
class BeatSpec:
    """A patrol beat as a closed lat/lon ring (for maps and area checks)."""

    name: str
    ring: tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class LocationSpec:
    """A place; ``address`` is already in normalised form (it equals its address key)."""

    address: str
    kind: str  # premise / intersection / block
    latitude: float
    longitude: float
    beat: str
    zone: str  # residential / commercial / intersection / block / campus / civic / problem
    name: str = ""


@dataclass(frozen=True, slots=True)
class UnitSpec:
    """A unit, its crew (usernames) and the status it has outside any open call."""

    agency: str
    call_sign: str
    kind: str
    home_area: str
    users: tuple[str, ...] = ()
    status: str = "available"  # available / out_of_service / off_duty


@dataclass(frozen=True, slots=True)
class UnitLeg:
    """One unit's times on a historical call."""

    call_sign: str
    assigned_at: dt.datetime
    en_route_at: dt.datetime | None
    on_scene_at: dt.datetime | None
    cleared_at: dt.datetime


@dataclass(frozen=True, slots=True)
class CallSpec:
    """A closed historical call with its whole lifecycle."""

    agency: str
    received_at: dt.datetime
    call_type: str
    priority: int
    source: str
    location: int
    disposition: str
    dispatched_at: dt.datetime | None
    en_route_at: dt.datetime | None
    on_scene_at: dt.datetime | None
    cleared_at: dt.datetime | None
    closed_at: dt.datetime
    units: tuple[UnitLeg, ...]
    caller_name: str
    caller_phone: str
    narrative: str
    stream: str  # the pattern that produced it, e.g. "background", "premise:THE ANCHOR BAR"


@dataclass(frozen=True, slots=True)
class ObservationSpec:
    """A field observation card."""

    agency: str
    observed_at: dt.datetime
    location: int
    category: str
    narrative: str
    reported_by: str
    call: int | None
    sensitivity: int
    stream: str


@dataclass(frozen=True, slots=True)
class PersonSpec:
    """A person known to an agency."""

    agency: str
    last_name: str
    first_name: str
    middle_name: str
    date_of_birth: dt.date | None
    sex: str
    description: str
    sensitivity: int = 2


@dataclass(frozen=True, slots=True)
class VehicleSpec:
    """A vehicle known to an agency (plates are normalised, Texas unless stated)."""

    agency: str
    plate: str
    plate_state: str
    make: str
    model: str
    color: str
    year: int
    description: str = ""


@dataclass(frozen=True, slots=True)
class InvolvementSpec:
    """A person or vehicle in a role on a call or observation (indices into the plan's lists)."""

    role: str
    person: int | None
    vehicle: int | None
    call: int | None
    observation: int | None
    notes: str = ""


@dataclass(frozen=True, slots=True)
class PremiseNoteSpec:
    """A note or hazard about a location, kept by one agency."""

    location: int
    agency: str
    kind: str
    text: str
    sensitivity: int


@dataclass(frozen=True, slots=True)
class OpenCallSpec:
    """A call open right now; ``units`` gives each unit and the status it has reached."""

    agency: str
    call_type: str
    priority: int
    location: int
    minutes_ago: int
    source: str
    narrative: str
    caller_name: str
    caller_phone: str
    units: tuple[tuple[str, str], ...]
    persons: tuple[tuple[str, int], ...] = ()  # (role, person index)


@dataclass(frozen=True, slots=True)
class Fix:
    """One AVL breadcrumb, ``seconds_ago`` before the moment of writing."""

    seconds_ago: int
    latitude: float
    longitude: float
    heading: float
    speed: float


@dataclass(frozen=True, slots=True)
class TrackSpec:
    """A unit's recent breadcrumbs, oldest first; the last fix is its current position."""

    call_sign: str
    agency: str
    fixes: tuple[Fix, ...]


# --- ground truth -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ProblemPremise:
    """A planted repeat address: its location index (and its sub-units) and call mix."""

    name: str
    location: int
    sub_locations: tuple[int, ...]
    call_types: tuple[str, ...]
    weight: float


@dataclass(frozen=True, slots=True)
class HotArea:
    """A planted Gaussian cluster of calls; ``trend`` is "stable" or "emerging"."""

    name: str
    latitude: float
    longitude: float
    sigma_m: float
    call_types: tuple[str, ...]
    trend: str


@dataclass(frozen=True, slots=True)
class TimeWindow:
    """A planted local-time window: ``weekdays`` (Mon=0) x ``start_hour`` <= hour < ``end_hour``."""

    name: str
    location: int
    call_types: tuple[str, ...]
    weekdays: tuple[int, ...]
    start_hour: int
    end_hour: int
    planted_share: float

    def contains(self, local: dt.datetime) -> bool:
        """True if a local time falls inside the window."""
        return local.weekday() in self.weekdays and self.start_hour <= local.hour < self.end_hour

    @property
    def uniform_share(self) -> float:
        """The share of hours of the week inside the window (what no pattern would give)."""
        return len(self.weekdays) * (self.end_hour - self.start_hour) / 168


@dataclass(frozen=True, slots=True)
class BurglaryChain:
    """A planted near-repeat chain: calls (the first is the originating burglary)."""

    chain_id: int
    calls: tuple[int, ...]
    radius_m: float
    days: int


@dataclass(frozen=True, slots=True)
class RecurringEntity:
    """A planted recurring person or vehicle and every incident it was put into."""

    kind: str  # person / vehicle
    index: int
    label: str
    calls: tuple[int, ...]
    observations: tuple[int, ...]
    roles: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class DemoPlan:
    """Everything ``seed_demo`` writes, plus the ground truth of what was planted."""

    seed: int
    days: int
    anchor: dt.datetime
    time_zone: str
    agencies: tuple[AgencySpec, ...]
    users: tuple[UserSpec, ...]
    beats: tuple[BeatSpec, ...]
    locations: tuple[LocationSpec, ...]
    units: tuple[UnitSpec, ...]
    calls: tuple[CallSpec, ...]
    observations: tuple[ObservationSpec, ...]
    persons: tuple[PersonSpec, ...]
    vehicles: tuple[VehicleSpec, ...]
    involvements: tuple[InvolvementSpec, ...]
    premise_notes: tuple[PremiseNoteSpec, ...]
    open_calls: tuple[OpenCallSpec, ...]
    tracks: tuple[TrackSpec, ...]
    problem_premises: tuple[ProblemPremise, ...]
    hot_areas: tuple[HotArea, ...]
    time_windows: tuple[TimeWindow, ...]
    burglary_chains: tuple[BurglaryChain, ...]
    recurring_persons: tuple[RecurringEntity, ...]
    recurring_vehicles: tuple[RecurringEntity, ...]

    @property
    def start(self) -> dt.datetime:
        """The start of the historical window (``anchor - days``)."""
        return self.anchor - dt.timedelta(days=self.days)

    def counts(self) -> dict[str, int]:
        """Row counts by kind, for summaries."""
        return {
            "agencies": len(self.agencies),
            "users": len(self.users),
            "locations": len(self.locations),
            "units": len(self.units),
            "calls": len(self.calls),
            "open_calls": len(self.open_calls),
            "observations": len(self.observations),
            "persons": len(self.persons),
            "vehicles": len(self.vehicles),
            "involvements": len(self.involvements),
            "premise_notes": len(self.premise_notes),
            "avl_fixes": sum(len(t.fixes) for t in self.tracks),
        }


# --- static cast ------------------------------------------------------------------------

AGENCIES = (
    AgencySpec(CITY_AGENCY, "default", "Harbor City Police Department", "police"),
    AgencySpec(CAMPUS_AGENCY, CAMPUS_AGENCY_CODE, "Harbor City College Campus Safety", "security"),
)

USERS = (
    UserSpec("dispatcher", ("dispatcher",), "Dana", "Whitfield", CITY_AGENCY),
    UserSpec("field", ("field",), "Luis", "Ortega", CITY_AGENCY),
    UserSpec("field2", ("field",), "Priya", "Shah", CITY_AGENCY),
    UserSpec("supervisor", ("supervisor",), "Sgt. Ray", "Donnelly", CITY_AGENCY),
    UserSpec("analyst", ("analyst",), "Mei", "Chen", CITY_AGENCY),
    UserSpec("admin", ("admin",), "Sam", "Okafor", CITY_AGENCY),
    UserSpec("auditor", ("auditor",), "Ruth", "Lindqvist", CITY_AGENCY),
    UserSpec("campus", ("dispatcher", "field"), "Jo", "Marsh", CAMPUS_AGENCY),
)

# (name, address, zone type mix, weight, call types) - weights fall off like a Pareto curve.
_PROBLEM_PREMISES: tuple[tuple[str, str, tuple[tuple[str, float], ...], float], ...] = (
    (
        "VALUMART",
        "1102 MARKET ST",
        (("SHOPLIFT", 10), ("THEFT", 4), ("BURG-VEH", 2), ("PARKING", 1), ("DISTURB", 1)),
        0.22,
    ),
    (
        "THE ANCHOR BAR",
        "412 FRONT ST",
        (("DISTURB", 6), ("ASSAULT", 3), ("NOISE", 2), ("ASSAULT-IP", 1), ("DRUGS", 1)),
        0.19,
    ),
    (
        "QUIK STOP #12",
        "905 MARKET ST",
        (("SHOPLIFT", 6), ("THEFT", 2), ("SUSP-PERS", 3), ("DISTURB", 2), ("ROBBERY", 1)),
        0.15,
    ),
    (
        "HARBOR VIEW APARTMENTS",
        "1210 WILLOW ST",
        (("DOMESTIC", 5), ("NOISE", 4), ("DISTURB", 3), ("DRUGS", 2), ("WELFARE", 1)),
        0.12,
    ),
    (
        "SEABREEZE MOTEL",
        "1315 FRONT ST",
        (("DRUGS", 4), ("DISTURB", 3), ("WELFARE", 2), ("SUSP-VEH", 2), ("TRESPASS", 2)),
        0.10,
    ),
    (
        "HARBOR CITY TRANSIT CENTER",
        "702 HARBOR ST",
        (("DISTURB", 4), ("SUSP-PERS", 3), ("MENTAL", 2), ("ASSAULT", 1), ("MEDICAL", 2)),
        0.08,
    ),
    (
        "GAS-N-GO",
        "440 8TH AVE",
        (("THEFT", 4), ("SUSP-VEH", 2), ("ROBBERY", 1), ("DISTURB", 1)),
        0.07,
    ),
    (
        "SUNRISE NURSING HOME",
        "610 2ND AVE",
        (("MEDICAL", 5), ("WELFARE", 2), ("MISSING", 1)),
        0.07,
    ),
)

# Type mixes of the background and of the hot areas: (call type code, weight).
_MIX_RESIDENTIAL = (
    ("NOISE", 10),
    ("DISTURB", 6),
    ("DOMESTIC", 6),
    ("SUSP-PERS", 6),
    ("SUSP-VEH", 5),
    ("ALARM", 5),
    ("WELFARE", 6),
    ("THEFT", 5),
    ("BURG-VEH", 4),
    ("VANDAL", 3),
    ("MEDICAL", 6),
    ("ANIMAL", 3),
    ("PARKING", 3),
    ("TRESPASS", 2),
    ("MENTAL", 2),
    ("MISSING", 1),
    ("ASSAULT", 2),
    ("OTHER", 2),
    ("FIRE", 0.5),
)
_MIX_COMMERCIAL = (
    ("ALARM", 8),
    ("SHOPLIFT", 7),
    ("THEFT", 6),
    ("TRESPASS", 4),
    ("SUSP-PERS", 5),
    ("DISTURB", 5),
    ("BURG-COM", 2),
    ("VANDAL", 3),
    ("MEDICAL", 3),
    ("PARKING", 2),
    ("ROBBERY", 1),
    ("OTHER", 2),
)
_MIX_INTERSECTION = (
    ("MVC", 8),
    ("MVC-INJ", 2),
    ("TRAFFIC", 6),
    ("TRAFFIC-STOP", 7),
    ("SUSP-VEH", 2),
    ("DISTURB", 1),
    ("MEDICAL", 1),
    ("SHOTS", 0.5),
)
_MIX_BLOCK = (
    ("SUSP-PERS", 3),
    ("NOISE", 3),
    ("DISTURB", 3),
    ("SHOTS", 1),
    ("DRUGS", 2),
    ("SUSP-VEH", 3),
    ("PATROL", 3),
    ("VANDAL", 2),
)
_MIX_CAMPUS = (
    ("SUSP-PERS", 4),
    ("THEFT", 4),
    ("ALARM", 3),
    ("MEDICAL", 2),
    ("DISTURB", 2),
    ("WELFARE", 2),
    ("NOISE", 2),
    ("TRESPASS", 1),
    ("VANDAL", 1),
)
_ZONE_MIX = {
    "residential": _MIX_RESIDENTIAL,
    "commercial": _MIX_COMMERCIAL,
    "intersection": _MIX_INTERSECTION,
    "block": _MIX_BLOCK,
    "campus": _MIX_CAMPUS,
}

# (name, grid position (avenue, street) as floats, sigma m, type mix, trend, share of hot calls)
_HOT_AREAS: tuple[
    tuple[str, float, float, float, tuple[tuple[str, float], ...], str, float], ...
] = (
    (
        "Waterfront nightlife",
        3.5,
        10.0,
        180.0,
        (
            ("DISTURB", 5),
            ("ASSAULT", 2),
            ("NOISE", 3),
            ("DRUGS", 2),
            ("VANDAL", 1),
            ("BURG-VEH", 2),
        ),
        "stable",
        0.32,
    ),
    (
        "Market Street corridor",
        8.0,
        8.0,
        220.0,
        (
            ("THEFT", 4),
            ("BURG-VEH", 4),
            ("SUSP-PERS", 3),
            ("TRESPASS", 2),
            ("VANDAL", 2),
            ("DRUGS", 1),
        ),
        "stable",
        0.30,
    ),
    (
        "Eastside apartments",
        11.0,
        5.5,
        250.0,
        (
            ("NOISE", 4),
            ("DOMESTIC", 3),
            ("DISTURB", 3),
            ("DRUGS", 2),
            ("SUSP-VEH", 2),
            ("SHOTS", 1),
        ),
        "stable",
        0.24,
    ),
    (
        "Birch Street park",
        2.0,
        1.0,
        150.0,
        (("DRUGS", 3), ("SUSP-PERS", 3), ("VANDAL", 2), ("DISTURB", 2), ("NOISE", 1)),
        "emerging",
        0.14,
    ),
)

# Hour-of-day shapes (local time, index = hour). Weekend nights are boosted in _how().
_GENERAL_24 = (0.9, 0.75, 0.6, 0.45, 0.35, 0.35, 0.45, 0.6, 0.75, 0.85, 0.9, 0.95)
_GENERAL_24 += (1.0, 1.0, 1.0, 1.05, 1.15, 1.25, 1.35, 1.4, 1.4, 1.35, 1.25, 1.1)
_NIGHT_24 = (1.6, 1.5, 1.3, 0.8, 0.4, 0.25, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5)
_NIGHT_24 += (0.55, 0.6, 0.65, 0.7, 0.8, 0.95, 1.1, 1.3, 1.5, 1.7, 1.8, 1.8)
_COMMUTE_24 = (0.3, 0.2, 0.15, 0.1, 0.15, 0.4, 0.9, 1.6, 1.5, 0.9, 0.8, 0.9)
_COMMUTE_24 += (1.0, 0.95, 1.0, 1.3, 1.7, 1.8, 1.4, 1.0, 0.8, 0.6, 0.5, 0.4)
_DAYTIME_24 = (0.2, 0.15, 0.1, 0.1, 0.1, 0.15, 0.3, 0.6, 1.0, 1.3, 1.4, 1.4)
_DAYTIME_24 += (1.3, 1.3, 1.4, 1.4, 1.2, 0.9, 0.6, 0.5, 0.4, 0.35, 0.3, 0.25)
_BUSINESS_24 = (0.3, 0.2, 0.15, 0.1, 0.1, 0.15, 0.3, 0.5, 0.8, 1.0, 1.1, 1.2)
_BUSINESS_24 += (1.3, 1.3, 1.3, 1.4, 1.5, 1.5, 1.4, 1.3, 1.1, 0.9, 0.6, 0.4)

_PROFILE_OF = {
    "NOISE": "night",
    "DISTURB": "night",
    "ASSAULT": "night",
    "ASSAULT-IP": "night",
    "SHOTS": "night",
    "WEAPON": "night",
    "DOMESTIC": "night",
    "DRUGS": "night",
    "ROBBERY": "night",
    "BURG-COM": "night",
    "VANDAL": "night",
    "MVC": "commute",
    "MVC-INJ": "commute",
    "TRAFFIC": "commute",
    "TRAFFIC-STOP": "commute",
    "BURG-RES": "daytime",
    "SHOPLIFT": "business",
    "THEFT": "business",
    "PARKING": "business",
}

_DISPOSITIONS: dict[str, tuple[tuple[str, float], ...]] = {
    "BURG-RES": (("REPORT", 9), ("UNFOUNDED", 1)),
    "BURG-COM": (("REPORT", 9), ("UNFOUNDED", 1)),
    "BURG-VEH": (("REPORT", 8), ("ADVISED", 2)),
    "THEFT": (("REPORT", 7), ("ADVISED", 2), ("UNFOUNDED", 1)),
    "SHOPLIFT": (("REPORT", 4), ("ARREST", 3), ("CITATION", 2), ("GOA", 2)),
    "ROBBERY": (("REPORT", 7), ("ARREST", 2)),
    "ASSAULT": (("REPORT", 5), ("ARREST", 3), ("ADVISED", 2)),
    "ASSAULT-IP": (("ARREST", 5), ("REPORT", 3), ("GOA", 1)),
    "DOMESTIC": (("REPORT", 4), ("ARREST", 3), ("ADVISED", 3)),
    "DISTURB": (("ADVISED", 5), ("WARNING", 2), ("GOA", 3), ("ARREST", 1)),
    "NOISE": (("WARNING", 5), ("ADVISED", 3), ("GOA", 2)),
    "SUSP-PERS": (("UTL", 4), ("ADVISED", 3), ("GOA", 2), ("UNFOUNDED", 1)),
    "SUSP-VEH": (("UTL", 4), ("ADVISED", 3), ("GOA", 2), ("CITATION", 1)),
    "SHOTS": (("UTL", 5), ("REPORT", 3), ("UNFOUNDED", 2)),
    "WEAPON": (("ARREST", 3), ("UTL", 3), ("REPORT", 2)),
    "DRUGS": (("ARREST", 3), ("UTL", 3), ("ADVISED", 2), ("REPORT", 1)),
    "MEDICAL": (("TRANSPORT", 6), ("ADVISED", 3), ("REFERRED", 1)),
    "MENTAL": (("TRANSPORT", 4), ("REFERRED", 3), ("ADVISED", 3)),
    "MVC": (("REPORT", 6), ("CITATION", 3), ("ADVISED", 1)),
    "MVC-INJ": (("REPORT", 6), ("TRANSPORT", 3), ("CITATION", 1)),
    "TRAFFIC": (("ADVISED", 5), ("GOA", 3), ("NO-ACTION", 2)),
    "TRAFFIC-STOP": (("CITATION", 5), ("WARNING", 5)),
    "ALARM": (("NO-ACTION", 6), ("UNFOUNDED", 3), ("REPORT", 1)),
    "WELFARE": (("ADVISED", 6), ("TRANSPORT", 2), ("REFERRED", 2)),
    "MISSING": (("REPORT", 7), ("ADVISED", 3)),
    "ANIMAL": (("REFERRED", 6), ("ADVISED", 4)),
    "PARKING": (("CITATION", 5), ("WARNING", 3), ("GOA", 2)),
    "TRESPASS": (("WARNING", 4), ("ARREST", 2), ("GOA", 3)),
    "VANDAL": (("REPORT", 8), ("ADVISED", 2)),
    "FIRE": (("REFERRED", 8), ("REPORT", 2)),
    "PATROL": (("NO-ACTION", 1),),
    "OTHER": (("ADVISED", 6), ("NO-ACTION", 4)),
}
_DISPOSITIONS_BY_PHONE = (("ADVISED", 5), ("NO-ACTION", 2), ("DUPLICATE", 2), ("REFERRED", 1))
_TWO_UNIT_TYPES = frozenset(
    {"DOMESTIC", "ASSAULT", "ASSAULT-IP", "SHOTS", "WEAPON", "ROBBERY", "MVC-INJ", "BURG-COM"}
)
_FIELD_INITIATED = frozenset({"TRAFFIC-STOP", "PATROL"})
# Median minutes on scene by type (log-normal around it); the rest use 25.
_ON_SCENE_MIN = {
    "DOMESTIC": 50,
    "BURG-RES": 60,
    "BURG-COM": 60,
    "MVC": 45,
    "MVC-INJ": 70,
    "ASSAULT": 45,
    "ROBBERY": 70,
    "NOISE": 12,
    "ALARM": 12,
    "TRAFFIC-STOP": 12,
    "PATROL": 20,
    "MEDICAL": 35,
    "MENTAL": 60,
}

_NARRATIVES: dict[str, tuple[str, ...]] = {
    "NOISE": (
        "Loud music from the residence, going on for over an hour.",
        "Party with loud music, people yelling in the street.",
        "Dog barking nonstop, neighbours complaining.",
    ),
    "DISTURB": (
        "Verbal argument between two people outside.",
        "Group yelling and shoving near the entrance.",
        "Intoxicated male refusing to leave, staff asking for help.",
    ),
    "DOMESTIC": (
        "Caller hears a man and a woman screaming, something breaking.",
        "Female states boyfriend pushed her; he is still inside.",
        "Ongoing argument, caller worried it will turn physical.",
    ),
    "ASSAULT": (
        "Male bleeding from the face after a fight; suspect left on foot.",
        "Victim states she was punched by an acquaintance.",
    ),
    "ASSAULT-IP": ("Fight in progress, several people involved.",),
    "SUSP-PERS": (
        "Male looking into parked cars, trying door handles.",
        "Person walking between houses with a flashlight.",
        "Subject loitering by the door for an hour, watching customers.",
    ),
    "SUSP-VEH": (
        "Grey sedan circling the block slowly, no lights.",
        "Unknown car parked with engine running, two occupants.",
        "Vehicle parked in the alley for hours, occupant watching houses.",
    ),
    "SHOPLIFT": (
        "Loss prevention holding a shoplifter.",
        "Male left without paying for merchandise, last seen heading east.",
    ),
    "THEFT": (
        "Bicycle stolen from the front porch.",
        "Package taken from the doorstep.",
        "Fuel drive-off, pump 4.",
    ),
    "BURG-RES": (
        "Homeowner returned to find the back door forced, jewellery missing.",
        "Rear window broken, electronics taken while residents at work.",
        "Garage entered, tools missing; neighbour saw a grey car earlier.",
    ),
    "BURG-VEH": ("Car window smashed, bag taken from the back seat.",),
    "MVC": ("Two-vehicle crash, no injuries, blocking a lane.",),
    "MVC-INJ": ("Crash with injuries, one driver complaining of neck pain.",),
    "TRAFFIC": ("Debris in the roadway.", "Traffic signal out."),
    "ALARM": ("Audible burglar alarm, rear door zone.", "Panic alarm activation."),
    "WELFARE": ("Elderly neighbour not seen for two days.", "Resident not answering the phone."),
    "MEDICAL": ("Person fell and cannot get up.", "Difficulty breathing."),
    "DRUGS": ("Hand-to-hand transactions in the parking lot.", "Heavy foot traffic to one room."),
    "PARKING": ("Vehicle blocking the driveway.", "Abandoned car, flat tyres, weeks in place."),
    "TRESPASS": ("Subject previously trespassed is back on the property.",),
}

_FIRST_NAMES_M = (
    "James",
    "Robert",
    "Michael",
    "David",
    "Carlos",
    "Jose",
    "Daniel",
    "Anthony",
    "Brandon",
    "Tyler",
    "Eric",
    "Luis",
    "Andre",
    "Kyle",
    "Miguel",
    "Jason",
    "Steven",
    "Adam",
    "Omar",
    "Victor",
)
_FIRST_NAMES_F = (
    "Maria",
    "Jennifer",
    "Linda",
    "Ashley",
    "Jessica",
    "Sarah",
    "Angela",
    "Monica",
    "Laura",
    "Sofia",
    "Rosa",
    "Emily",
    "Nicole",
    "Brenda",
    "Carmen",
    "Alicia",
    "Megan",
    "Keisha",
    "Vanessa",
    "Hannah",
)
_LAST_NAMES = (
    "Garcia",
    "Martinez",
    "Johnson",
    "Williams",
    "Brown",
    "Jones",
    "Miller",
    "Davis",
    "Rodriguez",
    "Lopez",
    "Gonzalez",
    "Wilson",
    "Anderson",
    "Thomas",
    "Taylor",
    "Moore",
    "Jackson",
    "Martin",
    "Lee",
    "Perez",
    "Thompson",
    "White",
    "Harris",
    "Sanchez",
    "Clark",
    "Ramirez",
    "Lewis",
    "Robinson",
    "Walker",
    "Young",
    "Allen",
    "King",
    "Wright",
    "Scott",
    "Torres",
    "Hill",
    "Flores",
    "Green",
    "Adams",
    "Nelson",
    "Baker",
    "Hall",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Carter",
    "Roberts",
    "Gomez",
    "Phillips",
    "Evans",
)
_VEHICLES = (
    ("TOYOTA", "CAMRY"),
    ("HONDA", "ACCORD"),
    ("FORD", "F-150"),
    ("CHEVROLET", "SILVERADO"),
    ("NISSAN", "SENTRA"),
    ("HYUNDAI", "ELANTRA"),
    ("KIA", "SOUL"),
    ("JEEP", "CHEROKEE"),
    ("DODGE", "RAM"),
    ("TOYOTA", "COROLLA"),
)
_COLORS = ("WHITE", "BLACK", "SILVER", "GREY", "BLUE", "RED", "GREEN", "TAN")

# The recurring cast: (last, first, sex, date of birth, description).
_CAST = (
    (
        "REED",
        "MARCUS",
        "M",
        dt.date(1994, 3, 12),
        "Slim, often in a red hoodie; trespass warning at Quik Stop #12.",
    ),
    ("SALAZAR", "DIANA", "F", dt.date(1990, 7, 30), "Resident of Harbor View Apartments #204."),
    (
        "COLE",
        "TRAVIS",
        "M",
        dt.date(1988, 11, 2),
        "Partner of D. Salazar; drives a red Nissan Altima.",
    ),
    (
        "NGUYEN",
        "KEVIN",
        "M",
        dt.date(1999, 1, 19),
        "Seen repeatedly near residential burglaries; grey Honda Civic.",
    ),
    ("BROOKS", "TANYA", "F", dt.date(1996, 5, 8), "Long-term guest at the Seabreeze Motel."),
    ("HOLLOWAY", "DEREK", "M", dt.date(1985, 9, 14), "Regular at The Anchor Bar; prior assaults."),
    (
        "PRICE",
        "JAMAL",
        "M",
        dt.date(1979, 12, 1),
        "Often at the transit center; known to outreach workers.",
    ),
    (
        "VARGAS",
        "ELENA",
        "F",
        dt.date(1962, 4, 22),
        "Frequent caller about noise in the Eastside apartments.",
    ),
)
# (plate, make, model, colour, year, description)
_CAST_VEHICLES = (
    ("KLM4821", "HONDA", "CIVIC", "GREY", 2009, "Tinted windows, dent in rear bumper."),
    ("HCP7730", "DODGE", "CHARGER", "BLACK", 2015, "Loud exhaust."),
    ("JTR5562", "FORD", "F-150", "WHITE", 2012, "Ladder rack, faded paint."),
    ("DVX2290", "NISSAN", "ALTIMA", "RED", 2018, ""),
    ("BRN8814", "CHEVROLET", "IMPALA", "BLUE", 2006, "Flat tyres; often left on the street."),
)

_OBS_NARRATIVES = {
    "suspicious_person": (
        "Male loitering by the entrance, left when approached.",
        "Two subjects checking car door handles in the lot.",
        "Subject known for trespass seen at the rear of the property.",
    ),
    "suspicious_vehicle": (
        "Vehicle idling with lights off, occupant watching houses.",
        "Same car seen circling the block three times.",
        "Vehicle parked in the alley, no occupants, engine warm.",
    ),
    "nuisance": (
        "Large crowd outside at closing time, litter and noise.",
        "Loud music and drinking in the parking lot.",
        "Group gathering nightly, neighbours complaining.",
    ),
    "access_failure": (
        "Rear door propped open, nobody in attendance.",
        "Security gate broken, stays open.",
        "Garage door left open overnight.",
    ),
    "hazard": ("Streetlight out, corner very dark.", "Broken fence, hole into the lot."),
    "other": ("Spoke with staff about recent incidents.", "Area check, nothing unusual."),
}
_PREMISE_OBS = {
    "VALUMART": ("access_failure", "suspicious_vehicle", "suspicious_person"),
    "THE ANCHOR BAR": ("nuisance", "nuisance", "suspicious_person"),
    "QUIK STOP #12": ("suspicious_person", "suspicious_person", "nuisance"),
    "HARBOR VIEW APARTMENTS": ("nuisance", "access_failure", "hazard"),
    "SEABREEZE MOTEL": ("suspicious_vehicle", "nuisance", "suspicious_person"),
    "HARBOR CITY TRANSIT CENTER": ("suspicious_person", "nuisance"),
    "GAS-N-GO": ("suspicious_vehicle", "other"),
    "SUNRISE NURSING HOME": ("access_failure", "other"),
}
_PREMISE_NOTES = {
    "VALUMART": "Business: ValuMart. Loss prevention office at the rear entrance; ask for LP.",
    "THE ANCHOR BAR": "Business: The Anchor Bar. Late licence to 02:00; door staff Fri-Sat.",
    "QUIK STOP #12": "Business: Quik Stop #12, open 24 h; CCTV covers the front lot.",
    "HARBOR VIEW APARTMENTS": "Harbor View Apartments, 10 units; office at #101, gate code 2580#.",
    "SEABREEZE MOTEL": "Business: Seabreeze Motel; night manager at the front desk.",
    "HARBOR CITY TRANSIT CENTER": "Harbor City Transit Center; transit security office by bay 3.",
    "GAS-N-GO": "Business: Gas-N-Go; pre-pay after 22:00.",
    "SUNRISE NURSING HOME": "Sunrise Nursing Home; memory-care wing exits are alarmed.",
}
_CAMPUS_PLACES = (
    ("100 COLLEGE WAY", "LIBRARY"),
    ("110 COLLEGE WAY", "STUDENT UNION"),
    ("120 COLLEGE WAY", "RESIDENCE HALL A"),
    ("130 COLLEGE WAY", "RESIDENCE HALL B"),
    ("140 COLLEGE WAY", "SCIENCE BUILDING"),
    ("150 COLLEGE WAY", "PARKING GARAGE"),
)
HQ_ADDRESS = "500 MILL ST"


def _how(profile: str) -> np.ndarray:
    """A 7x24 hour-of-week weight table (local time, Monday = 0) for a profile."""
    base = {
        "general": _GENERAL_24,
        "night": _NIGHT_24,
        "commute": _COMMUTE_24,
        "daytime": _DAYTIME_24,
        "business": _BUSINESS_24,
    }[profile]
    table = np.tile(np.asarray(base, dtype=float), (7, 1))
    if profile in {"general", "night"}:
        boost = 1.25 if profile == "general" else 1.7
        # Friday and Saturday evenings, and the small hours of Saturday and Sunday.
        table[4, 18:] *= boost
        table[5, 18:] *= boost
        table[5, :4] *= boost * 1.1
        table[6, :4] *= boost * 1.1
        table[5, 4:18] *= 1.1
    elif profile in {"commute", "daytime"}:
        table[5:, :] = table[5:, :] * 0.55 + 0.2  # flatter, lower weekends
    return table


@dataclass(slots=True)
class _Draft:
    """A call being generated (mutable until the plan is frozen)."""

    received: float  # epoch seconds
    call_type: str
    location: int
    agency: str
    stream: str
    seq: int
    caller_name: str = ""
    caller_phone: str = ""
    lifecycle: dict[str, float | None] = field(default_factory=dict)
    units: list[tuple[str, float, float | None, float | None, float]] = field(default_factory=list)
    priority: int = 3
    source: str = "phone"
    disposition: str = "ADVISED"
    narrative: str = ""


@dataclass(slots=True)
class _ObsDraft:
    observed: float
    location: int
    category: str
    stream: str
    seq: int
    agency: str = CITY_AGENCY
    call: int | None = None


class _Builder:
    """Holds the random generator and the growing plan; one instance per :func:`generate` call."""

    def __init__(
        self, *, seed: int, days: int, anchor: dt.datetime, time_zone: str, calls_per_day: float
    ) -> None:
        self.rng = np.random.default_rng(seed)
        self.seed, self.days, self.anchor, self.tz = seed, days, anchor, ZoneInfo(time_zone)
        self.scale = calls_per_day / DEFAULT_CALLS_PER_DAY
        self.calls_per_day = calls_per_day
        self.t_end = anchor.timestamp()
        self.t_start = self.t_end - days * 86_400
        self._hourly_bins()
        self._how_cache: dict[str, np.ndarray] = {}
        self._cum_cache: dict[tuple[tuple[str, float], ...], list[float]] = {}
        self.locations: list[LocationSpec] = []
        self.loc_index: dict[str, int] = {}
        self.drafts: list[_Draft] = []
        self.obs: list[_ObsDraft] = []

    # --- time ----------------------------------------------------------------------------

    def _hourly_bins(self) -> None:
        n = math.ceil((self.t_end - self.t_start) / 3600)
        starts = self.t_start + 3600.0 * np.arange(n)
        wd, hr = np.empty(n, dtype=int), np.empty(n, dtype=int)
        for k, ts in enumerate(starts):
            local = dt.datetime.fromtimestamp(float(ts), tz=dt.UTC).astimezone(self.tz)
            wd[k], hr[k] = local.weekday(), local.hour
        self.bin_start, self.bin_wd, self.bin_hr = starts, wd, hr
        self.bin_frac = (starts - self.t_start) / max(1.0, self.t_end - self.t_start)

    def weights(self, profile: str) -> np.ndarray:
        """Per-hourly-bin weights of an hour-of-week profile."""
        if profile not in self._how_cache:
            self._how_cache[profile] = _how(profile)[self.bin_wd, self.bin_hr]
        return self._how_cache[profile]

    def sample_times(
        self,
        n: int,
        profile: str,
        *,
        trend: Callable[[np.ndarray], np.ndarray] | None = None,
        mask: np.ndarray | None = None,
        latest: float | None = None,
    ) -> np.ndarray:
        """``n`` epoch times drawn from a profile (optionally trended/masked), whole seconds."""
        if n <= 0:
            return np.empty(0)
        w = self.weights(profile).copy()
        if trend is not None:
            w = w * trend(self.bin_frac)
        if mask is not None:
            w = w * mask
        last = self.t_end if latest is None else latest
        w = w * (self.bin_start < last)
        if w.sum() <= 0:
            return np.empty(0)
        bins = self.rng.choice(len(w), size=n, p=w / w.sum())
        times = self.bin_start[bins] + self.rng.uniform(0, 3600, size=n)
        return np.floor(np.minimum(times, last - 1.0))

    def window_mask(self, weekdays: Sequence[int], start_hour: int, end_hour: int) -> np.ndarray:
        """1.0 for the hourly bins inside a local weekday/hour window, else 0."""
        return (
            np.isin(self.bin_wd, list(weekdays))
            & (self.bin_hr >= start_hour)
            & (self.bin_hr < end_hour)
        ).astype(float)

    def when(self, epoch: float) -> dt.datetime:
        """Epoch seconds to an aware UTC datetime."""
        return dt.datetime.fromtimestamp(round(epoch), tz=dt.UTC)

    # --- small random helpers ------------------------------------------------------------

    def pick(self, options: Sequence[tuple[str, float]]) -> str:
        """One code from weighted ``(code, weight)`` options."""
        key = tuple(options)
        cum = self._cum_cache.get(key)
        if cum is None:
            cum = self._cum_cache[key] = list(itertools.accumulate(w for _, w in options))
        k = bisect.bisect_right(cum, float(self.rng.random()) * cum[-1])
        return options[min(k, len(options) - 1)][0]

    def choice(self, seq: Sequence[object]) -> object:
        """One element of a sequence, uniformly."""
        return seq[int(self.rng.integers(len(seq)))]

    def sample(self, seq: Sequence[int], k: int) -> list[int]:
        """Up to ``k`` distinct elements of ``seq`` (in ``seq`` order)."""
        if k >= len(seq):
            return list(seq)
        chosen = sorted(int(i) for i in self.rng.choice(len(seq), size=k, replace=False))
        return [seq[i] for i in chosen]

    def person_name(self) -> tuple[str, str, str]:
        """(last, first, sex) drawn from the name lists."""
        sex = "F" if self.rng.random() < 0.5 else "M"
        first = str(self.choice(_FIRST_NAMES_F if sex == "F" else _FIRST_NAMES_M))
        return str(self.choice(_LAST_NAMES)).upper(), first.upper(), sex

    def phone(self) -> str:
        """A number in the 555-01xx range reserved for fiction."""
        return f"(210) 555-01{int(self.rng.integers(0, 100)):02d}"

    # --- places --------------------------------------------------------------------------

    def add_location(
        self, address: str, kind: str, x: float, y: float, zone: str, name: str = "", beat: str = ""
    ) -> int:
        """Add a location once (by address) and return its index."""
        if address in self.loc_index:
            return self.loc_index[address]
        lat, lon = to_latlon(x, y)
        spec = LocationSpec(address, kind, lat, lon, beat or _beat_of(x, y), zone, name)
        self.loc_index[address] = len(self.locations)
        self.locations.append(spec)
        return len(self.locations) - 1

    @staticmethod
    def premise_xy(address: str) -> tuple[float, float]:
        """Where a grid address lies: numbers run 100 per block from 1ST AVE / ASH ST."""
        number_text, street = address.split(" ", 1)
        street = street.split(" #")[0]
        number = int(number_text)
        block, k = divmod(number, 100)
        if street in STREETS:
            j = STREETS.index(street)
            x = avenue_x(block - 1) + k / 100 * AVENUE_SPACING_M
            y = street_y(j) + (12.0 if k % 2 == 0 else -12.0)
        else:
            i = AVENUES.index(street)
            x = avenue_x(i) + (12.0 if k % 2 == 0 else -12.0)
            y = street_y(block - 1) - k / 100 * STREET_SPACING_M
        return x, y

    def build_places(self) -> None:
        """HQ, problem premises, campus, houses and shops, small apartment buildings, corners, blocks."""
        rng = self.rng
        self.hq = self.add_location(HQ_ADDRESS, "premise", *self.premise_xy(HQ_ADDRESS), "civic")
        self.problem: list[tuple[str, int, list[int], tuple[tuple[str, float], ...], float]] = []
        for name, address, mix, weight in _PROBLEM_PREMISES:
            x, y = self.premise_xy(address)
            base = self.add_location(address, "premise", x, y, "problem", name)
            subs: list[int] = []
            if name == "HARBOR VIEW APARTMENTS":
                for floor in (1, 2):
                    for apt in range(1, 6):
                        unit = f"#{floor}{apt:02d}"
                        subs.append(
                            self.add_location(f"{address} {unit}", "premise", x, y, "problem", name)
                        )
            self.problem.append((name, base, subs, mix, weight))
        self.campus = [
            self.add_location(
                address, "premise", 1450.0 + 40 * k, 620.0 + 25 * (k % 2), "campus", name, "CAMPUS"
            )
            for k, (address, name) in enumerate(_CAMPUS_PLACES)
        ]
        # Houses and shops: random numbers on random block faces (no duplicates).
        target = 380
        self.premises: list[int] = []
        while len(self.premises) < target:
            k = int(rng.integers(2, 97))
            if rng.random() < 0.5:
                j, block = int(rng.integers(len(STREETS))), int(rng.integers(1, N_AVENUES))
                street = STREETS[j]
            else:
                i, block = int(rng.integers(N_AVENUES)), int(rng.integers(1, len(STREETS)))
                street = AVENUES[i]
            address = f"{block * 100 + k} {street}"
            if address in self.loc_index:
                continue
            zone = "commercial" if street in COMMERCIAL_STREETS else "residential"
            self.premises.append(
                self.add_location(address, "premise", *self.premise_xy(address), zone)
            )
        self.residential = [i for i in self.premises if self.locations[i].zone == "residential"]
        # Small apartment buildings: 2-4 numbered units behind some houses.
        self.apartments: list[int] = []
        for base in self.sample(self.residential, 12):
            spec = self.locations[base]
            x, y = to_xy(spec.latitude, spec.longitude)
            for n in range(1, int(rng.integers(2, 5)) + 1):
                self.apartments.append(
                    self.add_location(f"{spec.address} #{n}", "premise", x, y, "residential")
                )
        self.intersections: list[int] = []
        for i in range(N_AVENUES):
            for j in range(len(STREETS)):
                if rng.random() < 0.45 or STREETS[j] in COMMERCIAL_STREETS:
                    address = " & ".join(sorted((AVENUES[i], STREETS[j])))
                    self.intersections.append(
                        self.add_location(
                            address, "intersection", avenue_x(i), street_y(j), "intersection"
                        )
                    )
        self.blocks: list[int] = []
        while len(self.blocks) < 20:
            j, block = int(rng.integers(len(STREETS))), int(rng.integers(1, N_AVENUES))
            address = f"{block * 100} BLOCK {STREETS[j]}"
            if address in self.loc_index:
                continue
            x = avenue_x(block - 1) + AVENUE_SPACING_M / 2
            self.blocks.append(self.add_location(address, "block", x, street_y(j), "block"))
        self.grid_points = self.premises + self.intersections + self.blocks
        pts = np.asarray(
            [
                to_xy(self.locations[i].latitude, self.locations[i].longitude)
                for i in self.grid_points
            ]
        )
        self.grid_xy = pts

    def nearest_grid_location(self, x: float, y: float) -> int:
        """The grid location nearest to a point (hot-area calls snap to real places)."""
        d = (self.grid_xy[:, 0] - x) ** 2 + (self.grid_xy[:, 1] - y) ** 2
        return self.grid_points[int(np.argmin(d))]

    def loc_xy(self, index: int) -> tuple[float, float]:
        """Local metres of a location."""
        spec = self.locations[index]
        return to_xy(spec.latitude, spec.longitude)

    # --- units -------------------------------------------------------------------------

    def build_units(self) -> None:
        """Four beats of three patrol cars, two supervisors, a traffic car, two campus units."""
        units: list[UnitSpec] = []
        self.beat_units: dict[str, list[str]] = {}
        crews = {"1A11": ("field",), "1A21": ("field2",)}
        statuses = {"1A43": "out_of_service", "1A33": "off_duty"}
        for beat in "1234":
            self.beat_units[beat] = []
            for n in (1, 2, 3):
                sign = f"1A{beat}{n}"
                self.beat_units[beat].append(sign)
                units.append(
                    UnitSpec(
                        CITY_AGENCY,
                        sign,
                        "patrol",
                        f"Beat {beat}",
                        crews.get(sign, ()),
                        statuses.get(sign, "available"),
                    )
                )
        units += [
            UnitSpec(CITY_AGENCY, "1S10", "supervisor", "City"),
            UnitSpec(CITY_AGENCY, "1S20", "supervisor", "City", status="off_duty"),
            UnitSpec(CITY_AGENCY, "1T1", "patrol", "City"),
            UnitSpec(CAMPUS_AGENCY, "C1", "security", "Campus", ("campus",)),
            UnitSpec(CAMPUS_AGENCY, "C2", "security", "Campus"),
        ]
        self.beat_units["CAMPUS"] = ["C1", "C2"]
        self.units = units

    # --- call streams --------------------------------------------------------------------

    def emit(
        self,
        locations: Sequence[int],
        types: Sequence[str],
        stream: str,
        *,
        agency: str = CITY_AGENCY,
        trend: Callable[[np.ndarray], np.ndarray] | None = None,
        times: Sequence[float] | None = None,
    ) -> list[_Draft]:
        """Add calls at ``locations`` of ``types``; times follow each type's hour-of-week profile."""
        drafts: list[_Draft] = []
        if times is None:
            when = np.zeros(len(types))
            profiles = [_PROFILE_OF.get(t, "general") for t in types]
            for profile in sorted(set(profiles)):
                idx = [k for k, p in enumerate(profiles) if p == profile]
                drawn = self.sample_times(len(idx), profile, trend=trend)
                when[idx] = drawn
            times = when.tolist()
        for loc, ctype, t in zip(locations, types, times, strict=True):
            draft = _Draft(float(t), ctype, int(loc), agency, stream, len(self.drafts))
            self.drafts.append(draft)
            drafts.append(draft)
        return drafts

    def stream_background(self) -> None:
        """Everyday calls everywhere, with mildly skewed (log-normal) place weights."""
        n = int(self.rng.poisson(0.47 * self.calls_per_day * self.days))
        candidates = self.premises + self.apartments + self.intersections + self.blocks
        weights = self.rng.lognormal(0.0, 1.4, size=len(candidates))
        chosen = self.rng.choice(len(candidates), size=n, p=weights / weights.sum())
        locs = [candidates[int(c)] for c in chosen]
        types = [self.pick(_ZONE_MIX[self.locations[loc].zone]) for loc in locs]
        self.emit(locs, types, "background")

    def stream_hot_areas(self) -> None:
        """Gaussian clusters snapped to the nearest place; one ramps up late in the window."""
        n = int(self.rng.poisson(0.17 * self.calls_per_day * self.days))
        shares = np.asarray([a[6] for a in _HOT_AREAS])
        per_area = self.rng.multinomial(n, shares / shares.sum())
        self.hot_areas: list[HotArea] = []
        for (name, ai, sj, sigma, mix, trend, _share), count in zip(
            _HOT_AREAS, per_area, strict=True
        ):
            cx = avenue_x(0) + ai * AVENUE_SPACING_M
            cy = street_y(0) - sj * STREET_SPACING_M
            lat, lon = to_latlon(cx, cy)
            self.hot_areas.append(
                HotArea(name, lat, lon, sigma, tuple(code for code, _ in mix), trend)
            )
            if trend == "emerging":
                count = int(count * 1.6)  # ramped: the same total arrives in fewer weeks

                def ramp(frac: np.ndarray) -> np.ndarray:
                    return 0.1 + 4.0 * np.clip((frac - 0.55) / 0.45, 0.0, 1.0) ** 1.5

                fn: Callable[[np.ndarray], np.ndarray] | None = ramp
            else:
                fn = None
            xs = self.rng.normal(cx, sigma, size=count)
            ys = self.rng.normal(cy, sigma, size=count)
            locs = [
                self.nearest_grid_location(float(x), float(y)) for x, y in zip(xs, ys, strict=True)
            ]
            types = [self.pick(mix) for _ in locs]
            self.emit(locs, types, f"hot:{name}", trend=fn)

    def stream_problem_premises(self) -> None:
        """A Pareto-like share of calls at eight addresses, with two planted time windows."""
        n = int(self.rng.poisson(0.28 * self.calls_per_day * self.days))
        weights = np.asarray([p[4] for p in self.problem])
        per_premise = self.rng.multinomial(n, weights / weights.sum())
        bar_window = TimeWindow(
            "Bar disorder, Friday-Saturday 19:00-23:00",
            self.loc_index["412 FRONT ST"],
            ("DISTURB", "ASSAULT", "ASSAULT-IP", "NOISE"),
            (4, 5),
            19,
            23,
            0.72,
        )
        store_window = TimeWindow(
            "Convenience-store shoplifting after school, Monday-Friday 15:00-18:00",
            self.loc_index["905 MARKET ST"],
            ("SHOPLIFT",),
            (0, 1, 2, 3, 4),
            15,
            18,
            0.5,
        )
        self.time_windows = (bar_window, store_window)
        windows = {w.location: w for w in self.time_windows}
        self.problem_truth: list[ProblemPremise] = []
        for (name, base, subs, mix, weight), count in zip(self.problem, per_premise, strict=True):
            self.problem_truth.append(
                ProblemPremise(name, base, tuple(subs), tuple(c for c, _ in mix), weight)
            )
            types = [self.pick(mix) for _ in range(int(count))]
            if subs:
                # Apartment calls land on the building or a flat; #204 is the worst flat.
                sub_w = np.asarray(
                    [3.0 if self.locations[s].address.endswith("#204") else 1.0 for s in subs]
                )
                locs = [
                    base
                    if self.rng.random() < 0.55
                    else subs[int(self.rng.choice(len(subs), p=sub_w / sub_w.sum()))]
                    for _ in types
                ]
            else:
                locs = [base] * len(types)
            window = windows.get(base)
            if window is None:
                self.emit(locs, types, f"premise:{name}")
                continue
            times: list[float] = []
            mask = self.window_mask(window.weekdays, window.start_hour, window.end_hour)
            for ctype in types:
                profile = _PROFILE_OF.get(ctype, "general")
                in_window = ctype in window.call_types and self.rng.random() < window.planted_share
                # A history of a few days may not contain the window at all.
                in_window = in_window and bool(mask.any())
                times.append(
                    float(self.sample_times(1, profile, mask=mask if in_window else None)[0])
                )
            self.emit(locs, types, f"premise:{name}", times=times)

    def stream_burglaries(self) -> None:
        """Scattered residential burglaries plus near-repeat chains (<= 200 m, <= 7 days)."""
        n = int(self.rng.poisson(0.6 * self.scale * self.days))
        locs = [self.residential[int(i)] for i in self.rng.integers(len(self.residential), size=n)]
        self.emit(locs, ["BURG-RES"] * n, "background")
        n_chains = max(2, round(self.days / 9))
        margin = 6 * 3600.0  # the whole lifecycle must end before the anchor
        latest_origin = (
            self.t_end - CHAIN_DAYS * 86_400 - margin
            if self.days > CHAIN_DAYS + 1
            else self.t_end - self.days * 86_400 / 2
        )
        self.chains: list[list[_Draft]] = []
        self.chain_watch: list[_Draft] = []
        for chain_id in range(n_chains):
            origin = self.residential[int(self.rng.integers(len(self.residential)))]
            o = self.locations[origin]
            near = [
                i
                for i in self.residential
                if i != origin
                and distance_m(
                    o.latitude, o.longitude, self.locations[i].latitude, self.locations[i].longitude
                )
                <= CHAIN_RADIUS_M - 5.0
            ]
            size = int(self.rng.integers(3, 7))
            members = self.sample(near, size - 1)
            t0 = float(self.sample_times(1, "daytime", latest=latest_origin)[0])
            span = min(CHAIN_DAYS * 86_400 - 3600.0, self.t_end - margin - t0)
            offsets = np.sort(self.rng.uniform(1800.0, max(3600.0, span), size=len(members)))
            times = [t0, *(t0 + float(off) for off in offsets)]
            drafts = self.emit(
                [origin, *members], ["BURG-RES"] * len(times), f"chain:{chain_id}", times=times
            )
            self.chains.append(drafts)
            # Someone watched the street first: a suspicious-vehicle call a day or three before.
            watch_time = t0 - float(self.rng.uniform(0.5, 3.0)) * 86_400
            if chain_id < 4 and watch_time > self.t_start:
                ox, oy = self.loc_xy(origin)
                spot = self.nearest_grid_location(
                    ox + float(self.rng.normal(0, 60)), oy + float(self.rng.normal(0, 60))
                )
                self.chain_watch += self.emit(
                    [spot], ["SUSP-VEH"], f"planted:chain-watch:{chain_id}", times=[watch_time]
                )

    def stream_campus(self) -> None:
        """Campus Safety's own calls on campus."""
        n = int(self.rng.poisson(2.0 * self.scale * self.days))
        locs = [self.campus[int(i)] for i in self.rng.integers(len(self.campus), size=n)]
        types = [self.pick(_MIX_CAMPUS) for _ in locs]
        self.emit(locs, types, "campus", agency=CAMPUS_AGENCY)

    # --- lifecycle -----------------------------------------------------------------------

    def _units_for(self, draft: _Draft, priority: int) -> list[str]:
        beat = self.locations[draft.location].beat
        pool = self.beat_units.get(beat, self.beat_units["1"])
        if draft.call_type in {"MVC", "MVC-INJ", "TRAFFIC-STOP"} and self.rng.random() < 0.4:
            first = "1T1"
        else:
            first = str(self.choice(pool))
        units = [first]
        if draft.call_type in _TWO_UNIT_TYPES or priority == 1:
            others = [u for u in pool if u != first]
            if others:
                units.append(str(self.choice(others)))
        if priority == 1 and draft.agency == CITY_AGENCY and self.rng.random() < 0.15:
            units.append("1S10" if self.rng.random() < 0.6 else "1S20")
        return units

    def lifecycle(self, draft: _Draft) -> None:
        """Priority, source, caller, narrative, unit times and disposition of one closed call."""
        rng = self.rng
        ctype = draft.call_type
        prio = _PRIORITY.get(ctype, 3)
        if rng.random() < 0.1:
            prio = int(min(5, max(1, prio + (1 if rng.random() < 0.5 else -1))))
        draft.priority = prio
        if ctype in _FIELD_INITIATED:
            draft.source = "field"
        elif ctype == "ALARM":
            draft.source = "alarm"
            draft.caller_name, draft.caller_phone = "LONE STAR ALARM MONITORING", "(210) 555-0100"
        else:
            draft.source = "911" if rng.random() < (0.85 if prio <= 2 else 0.25) else "phone"
            if rng.random() < 0.7:
                last, first, _sex = self.person_name()
                draft.caller_name, draft.caller_phone = f"{first} {last}", self.phone()
        texts = _NARRATIVES.get(ctype)
        text = str(self.choice(texts)) if texts else f"{_TYPE_NAMES.get(ctype, ctype)}."
        place = self.locations[draft.location].name
        draft.narrative = f"{place}: {text}" if place and draft.agency == CITY_AGENCY else text
        t = draft.received
        by_phone = draft.source in {"911", "phone"} and prio >= 3 and rng.random() < 0.07
        if by_phone:
            draft.lifecycle = {"closed": t + float(rng.uniform(240, 1500))}
            draft.disposition = self.pick(_DISPOSITIONS_BY_PHONE)
            return
        if draft.source == "field":
            dispatched, en_route = t, None
            on_scene = t + 5.0
        else:
            median = {1: 60, 2: 150, 3: 360, 4: 720, 5: 900}[prio]
            dispatched = t + float(_clip(rng.lognormal(math.log(median), 0.6), 20, 3600))
            en_route = dispatched + float(rng.uniform(10, 90)) if rng.random() < 0.85 else None
            travel = float(_clip(rng.lognormal(math.log(240 if prio <= 2 else 420), 0.5), 60, 2400))
            on_scene = (en_route or dispatched) + travel
        stay = float(
            _clip(rng.lognormal(math.log(_ON_SCENE_MIN.get(ctype, 25) * 60), 0.6), 180, 14_400)
        )
        cleared = on_scene + stay
        closed = cleared + float(rng.uniform(30, 300))
        draft.lifecycle = {
            "dispatched": dispatched,
            "en_route": en_route,
            "on_scene": on_scene,
            "cleared": cleared,
            "closed": closed,
        }
        draft.disposition = self.pick(_DISPOSITIONS.get(ctype, _DISPOSITIONS["OTHER"]))
        for k, sign in enumerate(self._units_for(draft, prio)):
            lag = 0.0 if k == 0 else float(rng.uniform(30, 150))
            draft.units.append(
                (
                    sign,
                    dispatched + lag,
                    None if en_route is None else en_route + lag,
                    on_scene + lag * 1.5,
                    cleared if k == 0 else cleared - float(rng.uniform(0, stay / 2)),
                )
            )

    def finalise_calls(self) -> None:
        """Give every draft a lifecycle, drop the few that would end after the anchor, sort."""
        for draft in self.drafts:
            self.lifecycle(draft)
        kept = [d for d in self.drafts if (d.lifecycle["closed"] or 0) <= self.t_end]
        kept.sort(key=lambda d: (d.received, d.seq))
        self.final = kept
        self.index_of = {d.seq: k for k, d in enumerate(kept)}
        self.calls_by_location: dict[int, list[int]] = {}
        for k, d in enumerate(kept):
            self.calls_by_location.setdefault(d.location, []).append(k)

    # --- observations --------------------------------------------------------------------

    def build_observations(self) -> None:
        """Field cards: at problem premises, in hot areas, around burglary chains, and anywhere."""
        rng = self.rng
        n = int(rng.poisson(3.0 * self.scale * self.days))
        n_problem, n_hot = int(n * 0.35), int(n * 0.30)
        n_random = max(0, n - n_problem - n_hot)
        weights = np.asarray([p[4] for p in self.problem])
        cats_any = (
            ("suspicious_person", 4),
            ("suspicious_vehicle", 3),
            ("nuisance", 3),
            ("access_failure", 2),
            ("hazard", 2),
            ("other", 1),
        )
        for _ in range(n_problem):
            name, base, _subs, _mix, _w = self.problem[
                int(rng.choice(len(self.problem), p=weights / weights.sum()))
            ]
            category = str(self.choice(_PREMISE_OBS[name]))
            profile = "night" if name in {"THE ANCHOR BAR", "SEABREEZE MOTEL"} else "general"
            t = float(self.sample_times(1, profile)[0])
            self.obs.append(_ObsDraft(t, base, category, f"premise:{name}", len(self.obs)))
        hot_w = np.asarray([a[6] for a in _HOT_AREAS])
        hot_cats = (
            ("nuisance", 3),
            ("suspicious_person", 3),
            ("hazard", 1),
            ("suspicious_vehicle", 2),
        )
        for _ in range(n_hot):
            area = self.hot_areas[int(rng.choice(len(self.hot_areas), p=hot_w / hot_w.sum()))]
            cx, cy = to_xy(area.latitude, area.longitude)
            loc = self.nearest_grid_location(
                float(rng.normal(cx, area.sigma_m)), float(rng.normal(cy, area.sigma_m))
            )
            t = float(self.sample_times(1, "night")[0])
            self.obs.append(
                _ObsDraft(t, loc, self.pick(hot_cats), f"hot:{area.name}", len(self.obs))
            )
        for _ in range(n_random):
            loc = self.grid_points[int(rng.integers(len(self.grid_points)))]
            t = float(self.sample_times(1, "general")[0])
            self.obs.append(_ObsDraft(t, loc, self.pick(cats_any), "background", len(self.obs)))
        # Around each chain: the same kind of car seen near the houses, before and during.
        for chain_id, drafts in enumerate(self.chains):
            origin = drafts[0]
            ox, oy = self.loc_xy(origin.location)
            for _ in range(2):
                loc = self.nearest_grid_location(
                    ox + float(rng.normal(0, 80)), oy + float(rng.normal(0, 80))
                )
                t = origin.received + float(rng.uniform(-2.0, 5.0)) * 86_400
                t = min(max(t, self.t_start + 60), self.t_end - 3600)
                self.obs.append(
                    _ObsDraft(t, loc, "suspicious_vehicle", f"chain:{chain_id}", len(self.obs))
                )
        for _ in range(max(3, int(rng.poisson(0.25 * self.scale * self.days)))):
            loc = self.campus[int(rng.integers(len(self.campus)))]
            t = float(self.sample_times(1, "night")[0])
            self.obs.append(
                _ObsDraft(
                    t, loc, self.pick(cats_any), "campus", len(self.obs), agency=CAMPUS_AGENCY
                )
            )
        self.obs.sort(key=lambda o: (o.observed, o.seq))
        # A third of the cards at problem premises follow up a call there in the previous 12 h.
        for ob in self.obs:
            if not ob.stream.startswith("premise:") or rng.random() >= 0.33:
                continue
            earlier = [
                k
                for k in self.calls_by_location.get(ob.location, [])
                if 0 < ob.observed - self.final[k].received <= 12 * 3600
            ]
            if earlier:
                ob.call = earlier[-1]

    # --- persons, vehicles, involvements -------------------------------------------------

    def _group(self, name: str) -> set[int]:
        for pname, base, subs, _mix, _w in self.problem:
            if pname == name:
                return {base, *subs}
        raise KeyError(name)

    def calls_at(
        self, locations: set[int], types: set[str] | None = None, *, stream: str = ""
    ) -> list[int]:
        """Final indices of calls at some locations (optionally of some types / stream prefix)."""
        return [
            k
            for k, d in enumerate(self.final)
            if (not locations or d.location in locations)
            and (types is None or d.call_type in types)
            and d.stream.startswith(stream)
        ]

    def obs_at(
        self, locations: set[int], categories: set[str] | None = None, *, stream: str = ""
    ) -> list[int]:
        """Final indices of observations at some locations (optionally of some categories)."""
        return [
            k
            for k, o in enumerate(self.obs)
            if (not locations or o.location in locations)
            and (categories is None or o.category in categories)
            and o.stream.startswith(stream)
        ]

    def build_people(self) -> None:
        """The recurring cast (planted), then one-off victims, suspects, witnesses and vehicles."""
        rng = self.rng
        persons: list[PersonSpec] = [
            PersonSpec(CITY_AGENCY, last, first, "", dob, sex, desc)
            for last, first, sex, dob, desc in _CAST
        ]
        vehicles: list[VehicleSpec] = [
            VehicleSpec(CITY_AGENCY, plate, "TX", make, model, color, year, desc)
            for plate, make, model, color, year, desc in _CAST_VEHICLES
        ]
        inv: list[InvolvementSpec] = []
        seen: set[tuple[str, int, str, int]] = set()

        def link(
            role: str,
            *,
            person: int | None = None,
            vehicle: int | None = None,
            call: int | None = None,
            obs: int | None = None,
            notes: str = "",
        ) -> None:
            key = (
                "p" if person is not None else "v",
                person if person is not None else vehicle or 0,
                "c" if call is not None else "o",
                call if call is not None else obs or 0,
            )
            if key in seen:
                return
            seen.add(key)
            inv.append(InvolvementSpec(role, person, vehicle, call, obs, notes))

        bar, quik, valu = (
            self._group("THE ANCHOR BAR"),
            self._group("QUIK STOP #12"),
            self._group("VALUMART"),
        )
        apts, motel = self._group("HARBOR VIEW APARTMENTS"), self._group("SEABREEZE MOTEL")
        transit = self._group("HARBOR CITY TRANSIT CENTER")
        apt204 = self.loc_index["1210 WILLOW ST #204"]
        REED, SALAZAR, COLE, NGUYEN, BROOKS, HOLLOWAY, PRICE, VARGAS = range(8)  # noqa: N806
        CIVIC, CHARGER, F150, ALTIMA, IMPALA = range(5)  # noqa: N806

        for k in self.sample(self.calls_at(quik, {"SHOPLIFT", "THEFT"}), 4) + self.sample(
            self.calls_at(valu, {"SHOPLIFT"}), 2
        ):
            link("suspect", person=REED, call=k)
        for k in self.sample(self.obs_at(quik, {"suspicious_person"}), 3):
            link("subject", person=REED, obs=k)
        bar_assaults = self.calls_at(bar, {"ASSAULT", "ASSAULT-IP"})
        for k in self.sample(bar_assaults, 1):
            link("victim", person=REED, call=k)
        # The couple at #204: the same domestic calls, victim and suspect.
        domestics = self.calls_at({apt204}, {"DOMESTIC"}) + self.calls_at(
            apts - {apt204}, {"DOMESTIC"}
        )
        for n, k in enumerate(sorted(domestics[:5])):
            link("victim", person=SALAZAR, call=k)
            link("suspect", person=COLE, call=k)
            if n < 2:
                link("subject", vehicle=ALTIMA, call=k, notes="Suspect's car parked outside.")
        for k in self.sample(self.calls_at(apts, {"NOISE"}), 2):
            link("caller", person=SALAZAR, call=k)
            self.final[k].caller_name = "DIANA SALAZAR"
        for k in self.sample(self.calls_at(bar, {"DISTURB"}), 2):
            link("subject", person=COLE, call=k)
        for k in self.sample(self.obs_at(apts), 1):
            link("subject", vehicle=ALTIMA, obs=k)
        # The burglary-chain cast: the watcher, his grey Civic, the chain-area sightings.
        for d in self.chain_watch:
            k = self.index_of[d.seq]
            link("subject", person=NGUYEN, call=k)
            link(
                "suspect",
                vehicle=CIVIC,
                call=k,
                notes="Grey Honda Civic, occupant watching houses.",
            )
        for drafts in self.chains[:3]:
            k = self.index_of[drafts[min(1, len(drafts) - 1)].seq]
            link("suspect", vehicle=CIVIC, call=k, notes="Neighbour saw a grey Civic leave.")
        if self.chains:
            k = self.index_of[self.chains[-1][-1].seq]
            link("suspect", person=NGUYEN, call=k, notes="Identified from a neighbour's camera.")
        chain_obs = self.obs_at(set(), {"suspicious_vehicle"}, stream="chain:")
        for n, k in enumerate(chain_obs):
            link("subject", vehicle=CIVIC, obs=k)
            if n % 2 == 0:
                link("driver", person=NGUYEN, obs=k)
        for k in self.sample(self.calls_at(motel, {"DRUGS"}), 4) + self.sample(
            self.calls_at(motel, {"WELFARE"}), 1
        ):
            link("subject", person=BROOKS, call=k)
        for k in self.sample(self.calls_at(set(), {"ROBBERY"}), 1):
            link("victim", person=BROOKS, call=k)
        for k in self.sample(self.obs_at(motel), 2):
            link("subject", person=BROOKS, obs=k)
        for k in self.sample(self.calls_at(bar, {"ASSAULT", "ASSAULT-IP", "DISTURB"}), 5):
            link("suspect", person=HOLLOWAY, call=k)
        bar_obs = self.obs_at(bar)
        for k in self.sample(bar_obs, 2):
            link("subject", person=HOLLOWAY, obs=k)
        for k in self.sample(self.calls_at(bar, {"DISTURB"}), 2):
            link("subject", vehicle=CHARGER, call=k)
        for n, k in enumerate(self.sample(self.obs_at(bar | motel), 3)):
            link("subject", vehicle=CHARGER, obs=k)
            if n == 0:
                link("driver", person=HOLLOWAY, obs=k)
        for k in self.sample(self.calls_at(transit, {"MENTAL", "DISTURB"}), 4):
            link("subject", person=PRICE, call=k)
        for k in self.sample(self.calls_at(transit, {"ASSAULT"}), 1):
            link("victim", person=PRICE, call=k)
        for k in self.sample(self.obs_at(transit), 1):
            link("subject", person=PRICE, obs=k)
        eastside = self.calls_at(set(), {"NOISE", "DISTURB"}, stream="hot:Eastside apartments")
        for k in self.sample(eastside, 8):
            link("caller", person=VARGAS, call=k)
            self.final[k].caller_name, self.final[k].caller_phone = "ELENA VARGAS", "(210) 555-0177"
        for k in self.sample(
            self.calls_at(set(), {"DOMESTIC"}, stream="hot:Eastside apartments"), 1
        ):
            link("witness", person=VARGAS, call=k)
        for k in self.sample(self.calls_at(motel, {"SUSP-VEH", "DRUGS"}), 2):
            link("suspect", vehicle=F150, call=k)
        for k in self.sample(self.obs_at(motel), 3):
            link("subject", vehicle=F150, obs=k)
        for k in self.sample(self.calls_at(set(), {"PARKING"}), 3):
            link("subject", vehicle=IMPALA, call=k, notes="Abandoned, flat tyres.")
        for k in self.sample(self.obs_at(set(), {"hazard", "other"}), 1):
            link("subject", vehicle=IMPALA, obs=k)

        # A short history may leave someone of the cast without a script incident; every
        # demo person and car must figure somewhere (that is how a reset finds them).
        city_obs = [k for k, o in enumerate(self.obs) if o.agency == CITY_AGENCY]
        for index in range(len(persons)):
            if not any(i.person == index for i in inv):
                link("subject", person=index, obs=int(self.choice(city_obs)))
        for index in range(len(vehicles)):
            if not any(i.vehicle == index for i in inv):
                link("subject", vehicle=index, obs=int(self.choice(city_obs)))

        def truth(kind: str, index: int, label: str) -> RecurringEntity:
            mine = [i for i in inv if (i.person if kind == "person" else i.vehicle) == index]
            return RecurringEntity(
                kind,
                index,
                label,
                tuple(sorted({i.call for i in mine if i.call is not None})),
                tuple(sorted({i.observation for i in mine if i.observation is not None})),
                tuple(sorted({i.role for i in mine})),
            )

        self.recurring_persons = tuple(
            truth("person", k, f"{p.last_name}, {p.first_name}") for k, p in enumerate(persons)
        )
        self.recurring_vehicles = tuple(
            truth("vehicle", k, f"TX {v.plate} {v.color} {v.make} {v.model}")
            for k, v in enumerate(vehicles)
        )

        # One-off people and vehicles.
        plates = {v.plate for v in vehicles}

        def new_person(agency: str) -> int:
            last, first, sex = self.person_name()
            year = int(rng.integers(1950, 2007))
            dob = dt.date(year, int(rng.integers(1, 13)), int(rng.integers(1, 29)))
            persons.append(
                PersonSpec(agency, last, first, "", dob if rng.random() < 0.8 else None, sex, "")
            )
            return len(persons) - 1

        def new_vehicle(agency: str) -> int:
            while True:
                letters = "".join(chr(65 + int(c)) for c in rng.integers(0, 26, size=3))
                plate = f"{letters}{int(rng.integers(0, 10_000)):04d}"
                if plate not in plates:
                    break
            plates.add(plate)
            make, model = self.choice(_VEHICLES)  # type: ignore[misc]
            vehicles.append(
                VehicleSpec(
                    agency,
                    plate,
                    "TX",
                    str(make),
                    str(model),
                    str(self.choice(_COLORS)),
                    int(rng.integers(2004, 2025)),
                )
            )
            return len(vehicles) - 1

        victim_p = {
            "ASSAULT": 0.5,
            "ROBBERY": 0.6,
            "THEFT": 0.25,
            "BURG-RES": 0.5,
            "BURG-VEH": 0.3,
            "DOMESTIC": 0.4,
        }
        suspect_p = {
            "SHOPLIFT": 0.4,
            "ASSAULT": 0.25,
            "DOMESTIC": 0.3,
            "TRESPASS": 0.3,
            "DRUGS": 0.2,
        }
        for k, d in enumerate(self.final):
            if rng.random() < victim_p.get(d.call_type, 0.0):
                link("victim", person=new_person(d.agency), call=k)
            if rng.random() < suspect_p.get(d.call_type, 0.0):
                link("suspect", person=new_person(d.agency), call=k)
            if d.call_type in {"MVC", "MVC-INJ"} and rng.random() < 0.5:
                link("driver", person=new_person(d.agency), call=k)
                link("subject", vehicle=new_vehicle(d.agency), call=k)
                link("subject", vehicle=new_vehicle(d.agency), call=k)
            if d.call_type == "SUSP-VEH" and rng.random() < 0.3:
                link("suspect", vehicle=new_vehicle(d.agency), call=k)
        for k, o in enumerate(self.obs):
            if o.category == "suspicious_person" and rng.random() < 0.25:
                link("subject", person=new_person(o.agency), obs=k)
            if o.category == "suspicious_vehicle" and rng.random() < 0.35:
                link("subject", vehicle=new_vehicle(o.agency), obs=k)
        self.persons, self.vehicles, self.involvements = persons, vehicles, inv

    # --- notes, open calls, tracks -------------------------------------------------------

    def build_notes(self) -> None:
        """Business notes at the problem premises and a few hazards (dog, weapons, oxygen...)."""
        notes: list[PremiseNoteSpec] = [
            PremiseNoteSpec(
                self.hq,
                CITY_AGENCY,
                "note",
                "Harbor City Police headquarters; sally port on the MILL ST side.",
                1,
            )
        ]
        for name, base, _subs, _mix, _w in self.problem:
            notes.append(PremiseNoteSpec(base, CITY_AGENCY, "note", _PREMISE_NOTES[name], 1))
        notes += [
            PremiseNoteSpec(
                self.loc_index["1210 WILLOW ST #204"],
                CITY_AGENCY,
                "hazard",
                "Known weapons: resident keeps a handgun; repeated domestic calls - send two units.",
                2,
            ),
            PremiseNoteSpec(
                self.loc_index["1315 FRONT ST"],
                CITY_AGENCY,
                "hazard",
                "Needles found in rooms 8-12; wear gloves when searching.",
                1,
            ),
        ]
        homes = self.sample(self.residential, 4)
        texts = (
            ("hazard", "Dog on premises: large, aggressive, loose in the back yard.", 1),
            ("hazard", "Occupant on home oxygen - no open flames.", 1),
            ("note", "Side gate code 1357#.", 2),
            ("note", "Resident is in a protection programme; do not broadcast the address.", 3),
        )
        for loc, (kind, text, level) in zip(homes, texts, strict=False):
            notes.append(PremiseNoteSpec(loc, CITY_AGENCY, kind, text, level))
        notes.append(
            PremiseNoteSpec(
                self.campus[0],
                CAMPUS_AGENCY,
                "note",
                "After-hours access code 4471#; call C1 before entry.",
                2,
            )
        )
        self.premise_notes = notes

    def build_open_calls(self) -> None:
        """A handful of calls open right now, in every state, with units on them."""
        busy: set[str] = {"1A11"}
        off = {u.call_sign for u in self.units if u.status != "available"}

        def take(beat: str) -> str:
            pool = self.beat_units.get(beat, []) + [
                u for b in ("1", "2", "3", "4") for u in self.beat_units[b]
            ]
            for sign in pool:
                if sign not in busy and sign not in off:
                    busy.add(sign)
                    return sign
            raise RuntimeError("no free unit for the open calls")

        def beat(loc: int) -> str:
            return self.locations[loc].beat

        bar, apt204 = self.loc_index["412 FRONT ST"], self.loc_index["1210 WILLOW ST #204"]
        quik, nursing = self.loc_index["905 MARKET ST"], self.loc_index["610 2ND AVE"]
        beat1_homes = [i for i in self.residential if self.locations[i].beat == "1"]
        noise_loc = beat1_homes[int(self.rng.integers(len(beat1_homes)))]
        corners = [i for i in self.intersections if self.locations[i].beat == "2"]
        mvc_loc = corners[int(self.rng.integers(len(corners)))]
        last_origin = self.chains[-1][0].location
        ox, oy = self.loc_xy(last_origin)
        watch_loc = self.nearest_grid_location(ox + 90.0, oy - 40.0)
        open_calls = [
            OpenCallSpec(
                CITY_AGENCY,
                "NOISE",
                4,
                noise_loc,
                12,
                "phone",
                "Loud party, music and shouting.",
                "KAREN LEWIS",
                "(210) 555-0131",
                (("1A11", "en_route"),),
            ),
            OpenCallSpec(
                CITY_AGENCY,
                "DOMESTIC",
                2,
                apt204,
                18,
                "911",
                "Female states boyfriend is throwing things; children in the flat.",
                "DIANA SALAZAR",
                "(210) 555-0162",
                ((take(beat(apt204)), "on_scene"), (take(beat(apt204)), "on_scene")),
                (("victim", 1), ("suspect", 2)),
            ),
            OpenCallSpec(
                CITY_AGENCY,
                "SUSP-VEH",
                3,
                watch_loc,
                6,
                "phone",
                "Grey Honda Civic circling slowly, same car as before the break-ins.",
                "TOM BAKER",
                "(210) 555-0148",
                ((take(beat(watch_loc)), "dispatched"),),
            ),
            OpenCallSpec(
                CITY_AGENCY,
                "SHOPLIFT",
                3,
                quik,
                9,
                "phone",
                "QUIK STOP #12: clerk reports the man in the red hoodie took beer and left east.",
                "QUIK STOP #12",
                "(210) 555-0112",
                ((take(beat(quik)), "en_route"),),
                (("suspect", 0),),
            ),
            OpenCallSpec(
                CITY_AGENCY,
                "MVC",
                2,
                mvc_loc,
                25,
                "911",
                "Two cars, fender bender, blocking the lane.",
                "ALICIA TORRES",
                "(210) 555-0190",
                (("1T1", "on_scene"),),
            ),
            OpenCallSpec(
                CITY_AGENCY,
                "DISTURB",
                3,
                bar,
                4,
                "phone",
                "THE ANCHOR BAR: door staff report a group arguing outside, one with a bottle.",
                "THE ANCHOR BAR",
                "(210) 555-0124",
                (),
            ),
            OpenCallSpec(
                CITY_AGENCY,
                "WELFARE",
                3,
                nursing,
                1,
                "phone",
                "SUNRISE NURSING HOME: resident missed a medication round, room empty.",
                "SUNRISE NURSING HOME",
                "(210) 555-0155",
                (),
            ),
            OpenCallSpec(
                CAMPUS_AGENCY,
                "SUSP-PERS",
                3,
                self.campus[0],
                5,
                "phone",
                "LIBRARY: person trying locked office doors on the second floor.",
                "LIBRARY DESK",
                "(210) 555-0109",
                (("C1", "en_route"),),
            ),
        ]
        busy.add("1T1")
        self.open_calls = open_calls

    def _track(
        self,
        end: tuple[float, float],
        waypoint: Callable[[tuple[float, float], tuple[float, float] | None], tuple[float, float]],
        speeds: tuple[float, float],
        stationary_s: float,
        duration_s: int = 7200,
        interval_s: int = 30,
    ) -> tuple[Fix, ...]:
        """Breadcrumbs ending at ``end``: walked backwards in time along waypoints, with stops."""
        rng = self.rng
        path = [end]
        prev: tuple[float, float] | None = None
        length = 0.0
        while length < duration_s * speeds[1] + 500:
            nxt = waypoint(path[-1], prev)
            length += math.dist(path[-1], nxt)
            prev = path[-1]
            path.append(nxt)
        cum = np.concatenate(
            [[0.0], np.cumsum([math.dist(a, b) for a, b in itertools.pairwise(path)])]
        )

        def at(s: float) -> tuple[float, float]:
            k = int(np.searchsorted(cum, s, side="right") - 1)
            k = min(max(k, 0), len(path) - 2)
            seg = cum[k + 1] - cum[k]
            f = 0.0 if seg <= 0 else (s - cum[k]) / seg
            (x0, y0), (x1, y1) = path[k], path[k + 1]
            return x0 + (x1 - x0) * f, y0 + (y1 - y0) * f

        distances: list[float] = []
        s, dwell, next_wp = 0.0, stationary_s, 1
        for _ in range(duration_s // interval_s + 1):
            distances.append(s)
            if dwell > 0:
                dwell -= interval_s
                continue
            s_new = s + float(rng.uniform(*speeds)) * interval_s
            if next_wp < len(cum) and s_new >= cum[next_wp]:
                if rng.random() < 0.12:
                    s_new, dwell = float(cum[next_wp]), float(rng.integers(60, 480))
                while next_wp < len(cum) and cum[next_wp] <= s_new:
                    next_wp += 1
            s = s_new
        points = [at(d) for d in distances]  # index 0 = now, going back in time
        fixes: list[Fix] = []
        heading = float(rng.uniform(0, 360))
        for k in range(len(points) - 1, -1, -1):
            x, y = points[k]
            if k + 1 < len(points):
                px, py = points[k + 1]  # the position one interval earlier
                moved = math.dist((x, y), (px, py))
                if moved > 1.0:
                    heading = (math.degrees(math.atan2(x - px, y - py)) + 360.0) % 360.0
                speed = moved / interval_s
            else:
                speed = 0.0
            jx, jy = rng.normal(0, 3.0, size=2)
            lat, lon = to_latlon(x + float(jx), y + float(jy))
            fixes.append(Fix(k * interval_s, lat, lon, round(heading, 1), round(speed, 1)))
        return tuple(fixes)

    def build_tracks(self) -> None:
        """The last two hours of AVL for every unit on duty."""
        rng = self.rng
        regions = {**{name[-1]: r for name, r in BEAT_GRID.items()}, "City": CITY_GRID}
        on_call: dict[str, tuple[int, str, int]] = {}
        for oc in self.open_calls:
            for sign, status in oc.units:
                on_call[sign] = (oc.location, status, oc.minutes_ago)

        def grid_walker(
            region: tuple[range, range],
        ) -> Callable[[tuple[float, float], tuple[float, float] | None], tuple[float, float]]:
            irange, jrange = region

            def step(
                here: tuple[float, float], prev: tuple[float, float] | None
            ) -> tuple[float, float]:
                i = min(irange, key=lambda a: abs(avenue_x(a) - here[0]))
                j = min(jrange, key=lambda b: abs(street_y(b) - here[1]))
                node = (avenue_x(i), street_y(j))
                if math.dist(node, here) > 1.0:
                    return node
                options = [
                    (avenue_x(i + di), street_y(j + dj))
                    for di, dj in ((1, 0), (-1, 0), (0, 1), (0, -1))
                    if (i + di) in irange and (j + dj) in jrange
                ]
                if prev is not None and len(options) > 1:
                    options = [o for o in options if math.dist(o, prev) > 1.0] or options
                return options[int(rng.integers(len(options)))]

            return step

        campus_xy = [self.loc_xy(i) for i in self.campus]

        def campus_walker(
            here: tuple[float, float], prev: tuple[float, float] | None
        ) -> tuple[float, float]:
            options = [p for p in campus_xy if math.dist(p, here) > 1.0]
            return options[int(rng.integers(len(options)))]

        tracks: list[TrackSpec] = []
        for unit in self.units:
            if unit.status == "off_duty":
                continue
            area = unit.home_area.replace("Beat ", "")
            if unit.agency == CAMPUS_AGENCY:
                walker, speeds = campus_walker, (0.8, 1.8)
                home = campus_xy[int(rng.integers(len(campus_xy)))]
            else:
                region = regions.get(area, regions["City"])
                walker, speeds = grid_walker(region), (6.0, 13.0)
                home = (
                    avenue_x(int(self.choice(list(region[0])))),
                    street_y(int(self.choice(list(region[1])))),
                )
            stationary = float(rng.integers(0, 600))
            if unit.status == "out_of_service":
                home, stationary = self.loc_xy(self.hq), 7200.0
            elif unit.call_sign in on_call:
                loc, status, minutes = on_call[unit.call_sign]
                target = self.loc_xy(loc)
                if status == "on_scene":
                    home, stationary = target, max(60.0, (minutes - 6) * 60.0)
                elif status == "en_route":
                    dx, dy = home[0] - target[0], home[1] - target[1]
                    norm = math.hypot(dx, dy) or 1.0
                    reach = min(350.0, norm)
                    home, stationary = (
                        (target[0] + dx / norm * reach, target[1] + dy / norm * reach),
                        0.0,
                    )
                else:
                    stationary = 0.0
            tracks.append(
                TrackSpec(
                    unit.call_sign, unit.agency, self._track(home, walker, speeds, stationary)
                )
            )
        self.tracks = tracks

    # --- assembly ------------------------------------------------------------------------

    def beats(self) -> tuple[BeatSpec, ...]:
        """Beat rectangles as closed lat/lon rings; inner edges run midway between streets."""
        out = []
        for name, (irange, jrange) in BEAT_GRID.items():
            x0 = edge_x(irange[0], -1)
            x1 = edge_x(irange[-1], 1)
            y0 = edge_y(jrange[-1], 1)
            y1 = edge_y(jrange[0], -1)
            corners = ((x0, y0), (x1, y0), (x1, y1), (x0, y1), (x0, y0))
            out.append(BeatSpec(name, tuple(to_latlon(x, y) for x, y in corners)))
        return tuple(out)

    def plan(self) -> DemoPlan:
        """Freeze everything into a :class:`DemoPlan`."""
        w = self.when
        calls = []
        for d in self.final:
            lc = d.lifecycle
            calls.append(
                CallSpec(
                    agency=d.agency,
                    received_at=w(d.received),
                    call_type=d.call_type,
                    priority=d.priority,
                    source=d.source,
                    location=d.location,
                    disposition=d.disposition,
                    dispatched_at=w(lc["dispatched"]) if lc.get("dispatched") is not None else None,
                    en_route_at=w(lc["en_route"]) if lc.get("en_route") is not None else None,
                    on_scene_at=w(lc["on_scene"]) if lc.get("on_scene") is not None else None,
                    cleared_at=w(lc["cleared"]) if lc.get("cleared") is not None else None,
                    closed_at=w(lc["closed"]),  # type: ignore[arg-type]
                    units=tuple(
                        UnitLeg(
                            sign,
                            w(a),
                            None if e is None else w(e),
                            None if o is None else w(o),
                            w(c),
                        )
                        for sign, a, e, o, c in d.units
                    ),
                    caller_name=d.caller_name,
                    caller_phone=d.caller_phone,
                    narrative=d.narrative,
                    stream=d.stream,
                )
            )
        observations = [
            ObservationSpec(
                agency=o.agency,
                observed_at=w(o.observed),
                location=o.location,
                category=o.category,
                narrative=self._obs_text(o),
                reported_by=self._reporter(o),
                call=o.call,
                sensitivity=2
                if o.category in {"suspicious_person", "suspicious_vehicle"} and o.seq % 5 == 0
                else 1,
                stream=o.stream,
            )
            for o in self.obs
        ]
        chains = tuple(
            BurglaryChain(
                cid, tuple(self.index_of[d.seq] for d in drafts), CHAIN_RADIUS_M, CHAIN_DAYS
            )
            for cid, drafts in enumerate(self.chains)
        )
        return DemoPlan(
            seed=self.seed,
            days=self.days,
            anchor=self.anchor,
            time_zone=str(self.tz),
            agencies=AGENCIES,
            users=USERS,
            beats=self.beats(),
            locations=tuple(self.locations),
            units=tuple(self.units),
            calls=tuple(calls),
            observations=tuple(observations),
            persons=tuple(self.persons),
            vehicles=tuple(self.vehicles),
            involvements=tuple(self.involvements),
            premise_notes=tuple(self.premise_notes),
            open_calls=tuple(self.open_calls),
            tracks=tuple(self.tracks),
            problem_premises=tuple(self.problem_truth),
            hot_areas=tuple(self.hot_areas),
            time_windows=self.time_windows,
            burglary_chains=chains,
            recurring_persons=self.recurring_persons,
            recurring_vehicles=self.recurring_vehicles,
        )

    def _obs_text(self, o: _ObsDraft) -> str:
        # Derived from the card's sequence number, not the generator, so adding a
        # category never shifts the random stream of everything generated after it.
        options = _OBS_NARRATIVES[o.category]
        text = options[o.seq % len(options)]
        place = self.locations[o.location].name
        return f"{place}: {text}" if place and o.agency == CITY_AGENCY else text

    def _reporter(self, o: _ObsDraft) -> str:
        if o.agency == CAMPUS_AGENCY:
            return "campus"
        return ("field", "field2", "field", "field2", "supervisor")[o.seq % 5]


def generate(
    *,
    seed: int = DEFAULT_SEED,
    days: int = DEFAULT_DAYS,
    anchor: dt.datetime,
    time_zone: str = _TIME_ZONE,
    calls_per_day: float = DEFAULT_CALLS_PER_DAY,
) -> DemoPlan:
    """Generate Harbor City's demo data for ``days`` before ``anchor`` (an aware datetime).

    Deterministic: the same ``seed``, ``days``, ``anchor``, ``time_zone`` and
    ``calls_per_day`` give an equal :class:`DemoPlan`. Open calls and AVL
    tracks are given relative to the moment of writing (minutes/seconds ago).
    """
    if anchor.tzinfo is None or anchor.utcoffset() is None:
        raise ValueError("anchor must be an aware datetime")
    if not 1 <= days <= 3650:
        raise ValueError("days must be between 1 and 3650")
    if calls_per_day <= 0:
        raise ValueError("calls_per_day must be positive")
    builder = _Builder(
        seed=seed,
        days=days,
        anchor=anchor.astimezone(dt.UTC),
        time_zone=time_zone,
        calls_per_day=calls_per_day,
    )
    builder.build_places()
    builder.build_units()
    builder.stream_background()
    builder.stream_hot_areas()
    builder.stream_problem_premises()
    builder.stream_burglaries()
    builder.stream_campus()
    builder.finalise_calls()
    builder.build_observations()
    builder.build_people()
    builder.build_notes()
    builder.build_open_calls()
    builder.build_tracks()
    return builder.plan()
