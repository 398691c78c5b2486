"""Write a seeded, realistic-skew year of synthetic calls into the database (for benchmarks).

    .venv/bin/python scripts/synthetic_calls.py --calls 1000000 [--seed 1] [--end ISO] [--agency CODE]

What it plants (all from ``--seed``; the same arguments give the same rows):

* **a city** of ``calls / 5`` locations (San Antonio's file has ~4.7 calls per place) around
  one centre: 70 % scattered over ~10 km, 30 % in 60 dense clusters a few hundred metres wide;
  65 % residential premises, 25 % commercial premises, 10 % street blocks, each with its own
  call-type mix;
* **concentration**: each location's call rate is Pareto-distributed (shape 1.2, capped), and
  doubled in clusters, so about 5 % of locations give about half of all calls (Sherman 1989;
  Weisburd 2015); ~1 % of calls have no location (unknown address);
* **time**: one year ending at ``--end``; an hour-of-week profile in the agency's time zone
  (night lows, evening peaks, busier Friday/Saturday nights) times a mild annual cycle; the 1 %
  busiest locations have 30 % of their calls in one weekly window (Fri-Sat evening, school-day
  afternoons, weekend small hours or weekday mornings); two clusters are emerging (calls ramp up
  over the last 12 weeks) and one is diminishing;
* **near repeats**: a quarter of residential burglaries follow an earlier one within 200 m and
  7 days;
* **persons and vehicles**: involvements on ~25 % of calls (more for person crimes and traffic);
  two thirds of the persons and vehicles are one-offs, the rest come from a small known pool with
  Pareto weights, so some recur in many calls, in several roles.

Rows are valid the way imported ones are: closed (3 % cancelled) calls with consistent status
timestamps, yearly ``YYYY-NNNNNN`` numbers from ``call_numbers_allocate``, the agency's call
types and dispositions, locations with a normalised address key, point and H3 cells (the call
takes its location's point and cells, as the importer does). Locations, calls and involvements go
in through the importer's batch inserter (``executemany`` on SQLite, ``COPY`` on PostgreSQL:
the rows ``bulk_create`` would write, without its per-field overhead), persons and vehicles
through ``bulk_create`` (their keys are needed). Locations get the locality ``SYNTH CITY <seed>``;
the script refuses to write a second city with the same seed into one database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

CENTRE_LAT, CENTRE_LON = 29.4241, -98.4936
M_PER_DEG_LAT = 110_860.0
M_PER_DEG_LON = 111_320.0 * math.cos(math.radians(CENTRE_LAT))
DEFAULT_END = "2026-07-01T00:00:00+00:00"
DEFAULT_TIME_ZONE = "America/Chicago"
CALLS_PER_LOCATION = 5
N_CLUSTERS = 60
PARETO_SHAPE = 1.2  # with the cap and the sampling noise: top 5 % of places ~ half the calls
RATE_CAP = 300.0  # no single place above ~0.1 % of a big city's calls
BATCH = 20_000

RESIDENTIAL, COMMERCIAL, BLOCK = 0, 1, 2

# Relative weight of each call type by kind of place: residential, commercial, street block.
TYPE_MIX: dict[str, tuple[float, float, float]] = {
    "ALARM": (5, 10, 0),
    "ASSAULT": (3, 3, 1),
    "ASSAULT-IP": (0.5, 0.5, 0.3),
    "BURG-RES": (3, 0, 0),
    "BURG-COM": (0, 3, 0),
    "BURG-VEH": (3, 4, 2),
    "THEFT": (6, 10, 1),
    "SHOPLIFT": (0, 14, 0),
    "ROBBERY": (0.3, 1.5, 0.5),
    "SHOTS": (1, 0.5, 2),
    "WEAPON": (0.7, 0.7, 0.7),
    "DOMESTIC": (8, 0.5, 0.5),
    "DISTURB": (10, 10, 5),
    "NOISE": (8, 2, 1),
    "SUSP-PERS": (6, 8, 5),
    "SUSP-VEH": (4, 2, 8),
    "TRESPASS": (2, 7, 1),
    "VANDAL": (4, 3, 1),
    "DRUGS": (2, 3, 3),
    "WELFARE": (8, 3, 3),
    "MEDICAL": (8, 5, 2),
    "FIRE": (0.5, 0.3, 0.3),
    "MVC": (0, 2, 12),
    "MVC-INJ": (0, 0.3, 3),
    "TRAFFIC": (0, 0, 14),
    "TRAFFIC-STOP": (0, 0, 20),
    "PATROL": (1, 2, 10),
    "MISSING": (1, 0.2, 0),
    "MENTAL": (3, 1, 1),
    "ANIMAL": (4, 0.5, 3),
    "PARKING": (3, 3, 6),
    "OTHER": (6, 6, 5),
}
PERSON_SHARE = {  # chance that a call of this category involves a person
    "person": 0.6,
    "disorder": 0.35,
    "suspicious": 0.4,
    "property": 0.25,
    "traffic": 0.3,
}
VEHICLE_SHARE = {"MVC": 0.8, "MVC-INJ": 0.8, "TRAFFIC-STOP": 0.9, "SUSP-VEH": 0.7, "BURG-VEH": 0.3}
PERSON_ROLES = ("caller", "victim", "witness", "suspect", "subject", "associate")
PERSON_ROLE_WEIGHTS = (30, 20, 10, 15, 20, 5)
VEHICLE_ROLES = ("driver", "owner", "subject")
VEHICLE_ROLE_WEIGHTS = (60, 25, 15)
SOURCES = ("phone", "911", "field", "alarm")
SOURCE_WEIGHTS = (55, 30, 12, 3)
LAST_NAMES = [
    "GARCIA",
    "MARTINEZ",
    "HERNANDEZ",
    "LOPEZ",
    "GONZALEZ",
    "RODRIGUEZ",
    "PEREZ",
    "SANCHEZ",
    "RAMIREZ",
    "TORRES",
    "SMITH",
    "JOHNSON",
    "WILLIAMS",
    "BROWN",
    "JONES",
    "MILLER",
    "DAVIS",
    "WILSON",
    "ANDERSON",
    "TAYLOR",
    "THOMAS",
    "MOORE",
    "JACKSON",
    "WHITE",
    "HARRIS",
    "MARTIN",
    "THOMPSON",
    "FLORES",
    "RIVERA",
    "GOMEZ",
    "DIAZ",
    "REYES",
    "CRUZ",
    "MORALES",
    "ORTIZ",
    "GUTIERREZ",
]
FIRST_NAMES = [
    "JOSE",
    "MARIA",
    "JUAN",
    "ANA",
    "LUIS",
    "ROSA",
    "CARLOS",
    "ELENA",
    "JAMES",
    "MARY",
    "JOHN",
    "LINDA",
    "ROBERT",
    "PATRICIA",
    "MICHAEL",
    "JENNIFER",
    "DAVID",
    "SARAH",
    "DANIEL",
    "LAURA",
    "ALEX",
    "JORDAN",
    "TAYLOR",
    "CHRIS",
    "SAM",
]
STREET_NAMES = [
    "OAK",
    "ELM",
    "PINE",
    "CEDAR",
    "MAPLE",
    "WILLOW",
    "ASH",
    "BIRCH",
    "PECAN",
    "MESQUITE",
    "CYPRESS",
    "LAUREL",
    "MAGNOLIA",
    "SYCAMORE",
    "HICKORY",
    "JUNIPER",
    "ALAMO",
    "BEXAR",
    "MISSION",
    "RIVER",
    "CROCKETT",
    "BOWIE",
    "TRAVIS",
    "HOUSTON",
    "AUSTIN",
    "NAVARRO",
    "SOLEDAD",
    "COMMERCE",
    "MARKET",
    "NUEVA",
    "DOLOROSA",
    "FLORES",
    "FRIO",
    "MEDINA",
    "PRESA",
    "ZARZAMORA",
]
# Weekly windows planted at the busiest places: (weekdays Mon=0, first hour, hours).
WINDOWS = (((4, 5), 19, 4), ((0, 1, 2, 3, 4), 15, 3), ((5, 6), 0, 3), ((0, 1, 2, 3, 4), 7, 2))


@dataclass
class Plan:
    """The generated city and calls as arrays (indices into each other), before any database."""

    end: dt.datetime
    locality: str
    # locations
    loc_lat: np.ndarray
    loc_lon: np.ndarray
    loc_kind: np.ndarray  # RESIDENTIAL / COMMERCIAL / BLOCK
    loc_address: list[str]
    loc_street: list[str]
    # calls, sorted by time
    call_loc: np.ndarray  # location index, -1 for none
    call_time: np.ndarray  # epoch seconds (float)
    call_type: np.ndarray  # index into TYPE_CODES
    call_source: np.ndarray
    call_disposition: np.ndarray
    call_cancelled: np.ndarray  # bool
    call_delays: (
        np.ndarray
    )  # (n, 5) seconds after received: dispatched, en route, on scene, cleared, closed
    # involvements: call index, person index or -1, vehicle index or -1, role
    inv_call: np.ndarray
    inv_person: np.ndarray
    inv_vehicle: np.ndarray
    inv_role: list[str]
    n_persons: int
    n_vehicles: int


TYPE_CODES = tuple(TYPE_MIX)


def _hour_bins(end: dt.datetime, tz: ZoneInfo) -> tuple[np.ndarray, np.ndarray]:
    """Start (epoch s) and local hour of week of every hour in the year before ``end``."""
    n = 365 * 24
    start = end - dt.timedelta(hours=n)
    starts = np.array([start.timestamp() + 3600 * h for h in range(n)])
    how = np.empty(n, dtype=np.int64)
    for h in range(n):
        local = (start + dt.timedelta(hours=h)).astimezone(tz)
        how[h] = 24 * local.weekday() + local.hour
    return starts, how


def _hour_of_week_profile() -> np.ndarray:
    hourly = np.array(
        [
            0.45,
            0.38,
            0.32,
            0.27,
            0.25,
            0.3,
            0.45,
            0.65,
            0.8,
            0.9,
            0.95,
            1.0,
            1.02,
            1.0,
            1.0,
            1.05,
            1.12,
            1.2,
            1.22,
            1.2,
            1.15,
            1.05,
            0.9,
            0.7,
        ]
    )
    profile = np.tile(hourly, 7)
    for day, hours in ((4, range(20, 24)), (5, range(20, 24)), (5, range(4)), (6, range(4))):
        for h in hours:
            profile[24 * day + h] *= 1.35  # Friday and Saturday nights
    profile[24 * 6 + 8 : 24 * 6 + 20] *= 0.85  # quieter Sunday daytime
    return profile


def generate(
    n_calls: int,
    *,
    seed: int = 1,
    end: dt.datetime | None = None,
    time_zone: str = DEFAULT_TIME_ZONE,
    n_locations: int | None = None,
) -> Plan:
    """The city and its year of calls as arrays; pure numpy, no database."""
    rng = np.random.default_rng(seed)
    end = end or dt.datetime.fromisoformat(DEFAULT_END)
    tz = ZoneInfo(time_zone)
    n_loc = n_locations or max(200, n_calls // CALLS_PER_LOCATION)

    # --- the city: scattered places plus dense clusters ---------------------------------
    centres = rng.normal(0.0, 6_000.0, size=(N_CLUSTERS, 2))
    widths = rng.uniform(150.0, 500.0, size=N_CLUSTERS)
    in_cluster = rng.random(n_loc) < 0.3
    cluster = np.where(in_cluster, rng.integers(0, N_CLUSTERS, n_loc), -1)
    xy = rng.normal(0.0, 9_000.0, size=(n_loc, 2))
    xy = np.clip(xy, -25_000.0, 25_000.0)
    c = cluster[in_cluster]
    xy[in_cluster] = centres[c] + rng.normal(0.0, 1.0, size=(c.size, 2)) * widths[c, None]
    kind = rng.choice(3, size=n_loc, p=[0.65, 0.25, 0.10])
    # Clusters are commercial strips and dense housing: more commercial places in them.
    kind[in_cluster & (rng.random(n_loc) < 0.2)] = COMMERCIAL
    lat = CENTRE_LAT + xy[:, 1] / M_PER_DEG_LAT
    lon = CENTRE_LON + xy[:, 0] / M_PER_DEG_LON

    # Addresses: east-west streets every 100 m, house numbers along them every ~10 m.
    street_row = np.floor(xy[:, 1] / 100.0).astype(np.int64)
    house = (np.floor((xy[:, 0] + 30_000.0) / 10.0).astype(np.int64) // 2) * 2 + 100
    addresses: list[str] = []
    streets: list[str] = []
    seen: dict[str, int] = {}
    for i in range(n_loc):
        row = int(street_row[i]) + 400
        street = f"{STREET_NAMES[row % len(STREET_NAMES)]} {row // len(STREET_NAMES) + 1} ST"
        if kind[i] == BLOCK:
            line = f"{int(house[i]) // 100 * 100} BLOCK {street}"
        else:
            line = f"{int(house[i])} {street}"
        key = line
        n = seen.get(line, 0)
        if n:
            key = f"{line} #{n}"  # several units at one number
        seen[line] = n + 1
        addresses.append(key)
        streets.append(line)

    # --- concentration: Pareto call rates, doubled in clusters, capped ------------------
    rate = rng.pareto(PARETO_SHAPE, n_loc) + 1.0
    rate = np.minimum(rate, RATE_CAP)
    rate[in_cluster] *= 2.0
    loc_p = rate / rate.sum()

    # --- calls: where ------------------------------------------------------------------
    call_loc = rng.choice(n_loc, size=n_calls, p=loc_p)
    call_loc[rng.random(n_calls) < 0.01] = -1
    loc_kind_of_call = np.where(call_loc >= 0, kind[np.maximum(call_loc, 0)], BLOCK)

    # what: a call-type mix per kind of place
    mix = np.array([TYPE_MIX[c] for c in TYPE_CODES], dtype=np.float64).T  # (3, n_types)
    mix /= mix.sum(axis=1, keepdims=True)
    call_type = np.empty(n_calls, dtype=np.int64)
    for k in (RESIDENTIAL, COMMERCIAL, BLOCK):
        sel = np.flatnonzero(loc_kind_of_call == k)
        call_type[sel] = rng.choice(len(TYPE_CODES), size=sel.size, p=mix[k])

    # --- calls: when -------------------------------------------------------------------
    bin_start, bin_how = _hour_bins(end, tz)
    day = np.arange(bin_start.size) / 24.0
    seasonal = 1.0 + 0.12 * np.sin(2 * np.pi * (day / 365.0 - 0.3))
    weight = _hour_of_week_profile()[bin_how] * seasonal
    call_bin = rng.choice(bin_start.size, size=n_calls, p=weight / weight.sum())
    # Weekly windows at the busiest 1 % of places: 30 % of their calls.
    busiest = np.argsort(rate)[-max(1, n_loc // 100) :]
    window_of = np.full(n_loc, -1)
    window_of[busiest] = rng.integers(0, len(WINDOWS), busiest.size)
    has_window = (call_loc >= 0) & (window_of[np.maximum(call_loc, 0)] >= 0)
    moved = np.flatnonzero(has_window & (rng.random(n_calls) < 0.3))
    for w, (days, first, hours) in enumerate(WINDOWS):
        mask = np.isin(bin_how, [24 * d + h for d in days for h in range(first, first + hours)])
        bins = np.flatnonzero(mask)
        these = moved[window_of[call_loc[moved]] == w]
        call_bin[these] = rng.choice(bins, size=these.size, p=weight[bins] / weight[bins].sum())
    call_time = bin_start[call_bin] + rng.random(n_calls) * 3600.0
    # Emerging and diminishing clusters: half their calls in the last 12 weeks, on a ramp.
    ramp_start = end.timestamp() - 84 * 86_400.0
    for cl, rising in ((0, True), (1, True), (2, False)):
        at = np.flatnonzero((call_loc >= 0) & (cluster[np.maximum(call_loc, 0)] == cl))
        at = at[rng.random(at.size) < 0.5]
        u = np.sqrt(rng.random(at.size))
        call_time[at] = ramp_start + 84 * 86_400.0 * (u if rising else 1.0 - u)

    # Near repeats: a quarter of residential burglaries follow an earlier one nearby.
    from scipy.spatial import cKDTree

    burg = np.flatnonzero((call_type == TYPE_CODES.index("BURG-RES")) & (call_loc >= 0))
    followers = burg[rng.random(burg.size) < 0.25]
    if followers.size and burg.size > 1:
        leaders = rng.choice(burg, size=followers.size)
        tree = cKDTree(xy)
        dist, near = tree.query(xy[call_loc[leaders]], k=min(12, n_loc))
        pick = rng.integers(0, near.shape[1], followers.size)
        ok = dist[np.arange(followers.size), pick] < 200.0
        new_time = call_time[leaders] + rng.random(followers.size) * 7 * 86_400.0
        ok &= (leaders != followers) & (new_time < end.timestamp())
        call_loc[followers[ok]] = near[np.arange(followers.size), pick][ok]
        call_time[followers[ok]] = new_time[ok]

    order = np.argsort(call_time, kind="stable")
    call_loc, call_time, call_type = call_loc[order], call_time[order], call_type[order]

    # --- what happened: source, disposition, status times ------------------------------
    source = rng.choice(len(SOURCES), size=n_calls, p=np.array(SOURCE_WEIGHTS) / 100)
    source[call_type == TYPE_CODES.index("ALARM")] = SOURCES.index("alarm")
    source[np.isin(call_type, [TYPE_CODES.index(c) for c in ("TRAFFIC-STOP", "PATROL")])] = (
        SOURCES.index("field")
    )
    disposition = rng.integers(0, 12, n_calls)
    cancelled = rng.random(n_calls) < 0.03
    steps = np.column_stack(
        [
            rng.lognormal(math.log(120), 0.8, n_calls),  # received -> dispatched
            rng.uniform(5, 60, n_calls),  # -> en route
            rng.lognormal(math.log(420), 0.6, n_calls),  # -> on scene
            rng.lognormal(math.log(1800), 0.8, n_calls),  # -> cleared
            rng.uniform(30, 600, n_calls),  # -> closed
        ]
    )
    delays = np.cumsum(steps, axis=1)

    # --- persons and vehicles ----------------------------------------------------------
    from dispatch.reference_data import DEFAULT_CALL_TYPES  # plain data, no Django

    category = {code: cat for code, _, cat, _ in DEFAULT_CALL_TYPES}
    p_person = np.array([PERSON_SHARE.get(category[c], 0.1) for c in TYPE_CODES])[call_type]
    p_vehicle = np.array([VEHICLE_SHARE.get(c, 0.02) for c in TYPE_CODES])[call_type]
    with_person = np.flatnonzero(rng.random(n_calls) < p_person)
    second = with_person[rng.random(with_person.size) < 0.25]
    with_vehicle = np.flatnonzero(rng.random(n_calls) < p_vehicle)

    def entities(n_inv: int, pool: int, one_off: float) -> tuple[np.ndarray, int]:
        """Entity index per involvement: one-offs, or a Pareto-weighted known pool."""
        w = rng.pareto(1.2, pool) + 1.0
        w = np.minimum(w, np.quantile(w, 0.999))
        known = rng.choice(pool, size=n_inv, p=w / w.sum())
        fresh = rng.random(n_inv) < one_off
        ids = known.copy()
        ids[fresh] = pool + np.arange(int(fresh.sum()))
        used, ids = np.unique(ids, return_inverse=True)
        return ids, used.size

    person_calls = np.concatenate([with_person, second])
    person_ids, n_persons = entities(person_calls.size, max(10, n_calls // 50), 0.65)
    vehicle_ids, n_vehicles = entities(with_vehicle.size, max(10, n_calls // 100), 0.7)
    roles = [PERSON_ROLES[i] for i in _weighted(rng, PERSON_ROLE_WEIGHTS, person_calls.size)]
    roles += [VEHICLE_ROLES[i] for i in _weighted(rng, VEHICLE_ROLE_WEIGHTS, with_vehicle.size)]
    return Plan(
        end=end,
        locality=f"SYNTH CITY {seed}",
        loc_lat=lat,
        loc_lon=lon,
        loc_kind=kind,
        loc_address=addresses,
        loc_street=streets,
        call_loc=call_loc,
        call_time=call_time,
        call_type=call_type,
        call_source=source,
        call_disposition=disposition,
        call_cancelled=cancelled,
        call_delays=delays,
        inv_call=np.concatenate([person_calls, with_vehicle]),
        inv_person=np.concatenate([person_ids, np.full(with_vehicle.size, -1)]),
        inv_vehicle=np.concatenate([np.full(person_calls.size, -1), vehicle_ids]),
        inv_role=roles,
        n_persons=n_persons,
        n_vehicles=n_vehicles,
    )


def _weighted(rng: np.random.Generator, weights: tuple[int, ...], n: int) -> np.ndarray:
    p = np.array(weights, dtype=np.float64)
    return rng.choice(len(weights), size=n, p=p / p.sum())


# --- writing -------------------------------------------------------------------------------


def write(plan: Plan, *, agency_code: str = "", progress: bool = True) -> dict[str, int]:
    """Write ``plan`` for one agency (default: the default agency); return the row counts."""
    from django.db import transaction
    from tqdm import tqdm

    from dispatch.geo import h3_cells
    from dispatch.importing.writer import LOCATION_COLUMNS, _Inserter
    from dispatch.models import Call, CallType, Disposition, Involvement, Location, Person, Vehicle
    from dispatch.reference_data import load_defaults
    from dispatch.services import call_numbers_allocate
    from governance.models import Agency
    from governance.services import agency_get_or_create_default

    agency = Agency.objects.get(code=agency_code) if agency_code else agency_get_or_create_default()
    if Location.objects.filter(locality=plan.locality).exists():
        raise SystemExit(f"{plan.locality!r} is already in this database; use another --seed.")
    tz = ZoneInfo(agency.time_zone or DEFAULT_TIME_ZONE)
    load_defaults()
    types = dict(CallType.objects.filter(code__in=TYPE_CODES).values_list("code", "pk"))
    priorities = dict(CallType.objects.values_list("code", "default_priority"))
    type_ids = [types[c] for c in TYPE_CODES]
    type_prio = [priorities[c] for c in TYPE_CODES]
    dispo_ids = list(Disposition.objects.order_by("pk").values_list("pk", flat=True))[:12]
    n_calls = plan.call_time.size
    bar = tqdm(
        total=plan.loc_lat.size + n_calls,
        desc="synthetic",
        unit="row",
        disable=not progress,
        file=sys.stderr,
        smoothing=0.05,
    )

    # Locations
    kinds = {RESIDENTIAL: "premise", COMMERCIAL: "premise", BLOCK: "block"}
    loc_rows = []
    loc_cells = []
    for i, key in enumerate(plan.loc_address):
        lat, lon = float(plan.loc_lat[i]), float(plan.loc_lon[i])
        cells = h3_cells(lat, lon)
        loc_cells.append((cells["h3_r7"], cells["h3_r9"], cells["h3_r11"]))
        unit = key[len(plan.loc_street[i]) :].strip()
        loc_rows.append(
            (
                key,
                plan.locality,
                key,
                key.title(),
                kinds[int(plan.loc_kind[i])],
                plan.loc_street[i],
                unit,
                "",
                lat,
                lon,
                *loc_cells[-1],
            )
        )
    inserter = _Inserter(Location, LOCATION_COLUMNS)
    for start in range(0, len(loc_rows), BATCH):
        with transaction.atomic():
            inserter.insert(loc_rows[start : start + BATCH])
        bar.update(len(loc_rows[start : start + BATCH]))
    by_key = dict(Location.objects.filter(locality=plan.locality).values_list("address_key", "pk"))
    loc_pk = np.array([by_key[k] for k in plan.loc_address], dtype=np.int64)

    # Persons and vehicles (bulk_create: their keys are needed for the involvements)
    rng = np.random.default_rng(int(plan.end.timestamp()) + plan.loc_lat.size)
    persons = []
    for i in range(plan.n_persons):
        last = LAST_NAMES[int(rng.integers(len(LAST_NAMES)))]
        first = FIRST_NAMES[int(rng.integers(len(FIRST_NAMES)))]
        persons.append(
            Person(
                agency=agency,
                last_name=f"{last}{i % 97 or ''}",
                first_name=first,
                name_key=f"{last}{i % 97 or ''}|{first}",
                date_of_birth=dt.date(1950, 1, 1) + dt.timedelta(days=int(rng.integers(0, 20_000))),
            )
        )
    Person.objects.bulk_create(persons, batch_size=2_000)
    prefix = plan.locality.rsplit(" ", 1)[-1][-3:]
    vehicles = [
        Vehicle(agency=agency, plate=f"S{prefix}{i:06d}", plate_state="TX", make="SYNTH")
        for i in range(plan.n_vehicles)
    ]
    Vehicle.objects.bulk_create(vehicles, batch_size=2_000)
    person_pk = np.array([p.pk for p in persons], dtype=np.int64)
    vehicle_pk = np.array([v.pk for v in vehicles], dtype=np.int64)

    # Calls, then their involvements, batch by batch
    columns = (
        "agency_id",
        "number",
        "external_id",
        "call_type_id",
        "priority",
        "status",
        "source",
        "disposition_id",
        "location_id",
        "address_given",
        "received_at",
        "dispatched_at",
        "en_route_at",
        "on_scene_at",
        "cleared_at",
        "closed_at",
        "cancelled_at",
        "latitude",
        "longitude",
        "h3_r7",
        "h3_r9",
        "h3_r11",
    )
    call_inserter = _Inserter(Call, columns)
    inv_inserter = _Inserter(Involvement, ("role", "person_id", "vehicle_id", "call_id"))
    inv_order = np.argsort(plan.inv_call, kind="stable")
    inv_calls_sorted = plan.inv_call[inv_order]
    utc = dt.UTC
    empty_cells = ("", "", "")
    n_inv = 0
    for start in range(0, n_calls, BATCH):
        stop = min(start + BATCH, n_calls)
        received = [dt.datetime.fromtimestamp(t, utc) for t in plan.call_time[start:stop].tolist()]
        by_year: dict[int, list[int]] = {}
        for i, when in enumerate(received):
            by_year.setdefault(when.astimezone(tz).year, []).append(i)
        rows: list[tuple[object, ...]] = []
        numbers = [""] * (stop - start)
        with transaction.atomic():
            for year, idx in sorted(by_year.items()):
                for i, number in zip(
                    idx, call_numbers_allocate(year=year, count=len(idx)), strict=True
                ):
                    numbers[i] = number
            delays = plan.call_delays[start:stop].tolist()
            for i in range(stop - start):
                g = start + i
                loc = int(plan.call_loc[g])
                t = int(plan.call_type[g])
                when = received[i]
                d = delays[i]
                if plan.call_cancelled[g]:
                    status = "cancelled"
                    times = (None, None, None, None, None, when + dt.timedelta(seconds=d[0]))
                else:
                    status = "closed"
                    times = (*(when + dt.timedelta(seconds=s) for s in d), None)
                if loc >= 0:
                    lat, lon = float(plan.loc_lat[loc]), float(plan.loc_lon[loc])
                    cells = loc_cells[loc]
                    location_id, address = int(loc_pk[loc]), plan.loc_address[loc]
                else:
                    lat = lon = None
                    cells, location_id, address = empty_cells, None, "UNKNOWN"
                rows.append(
                    (
                        agency.pk,
                        numbers[i],
                        None,
                        type_ids[t],
                        type_prio[t],
                        status,
                        SOURCES[int(plan.call_source[g])],
                        dispo_ids[int(plan.call_disposition[g])],
                        location_id,
                        address,
                        when,
                        *times,
                        lat,
                        lon,
                        *cells,
                    )
                )
            call_inserter.insert(rows)
            lo, hi = np.searchsorted(inv_calls_sorted, [start, stop])
            these = inv_order[lo:hi]
            if these.size:
                wanted = sorted({numbers[int(plan.inv_call[j]) - start] for j in these})
                pk_of = dict(Call.objects.filter(number__in=wanted).values_list("number", "pk"))
                inv_rows = []
                for j in these.tolist():
                    p, v = int(plan.inv_person[j]), int(plan.inv_vehicle[j])
                    inv_rows.append(
                        (
                            plan.inv_role[j],
                            int(person_pk[p]) if p >= 0 else None,
                            int(vehicle_pk[v]) if v >= 0 else None,
                            pk_of[numbers[int(plan.inv_call[j]) - start]],
                        )
                    )
                inv_inserter.insert(inv_rows)
                n_inv += len(inv_rows)
        bar.update(stop - start)
    bar.close()
    return {
        "calls": n_calls,
        "locations": len(loc_rows),
        "persons": plan.n_persons,
        "vehicles": plan.n_vehicles,
        "involvements": n_inv,
    }


def top_share(call_loc: np.ndarray, n_locations: int, fraction: float = 0.05) -> float:
    """Share of located calls at the busiest ``fraction`` of all locations."""
    counts = np.sort(np.bincount(call_loc[call_loc >= 0], minlength=n_locations))[::-1]
    top = max(1, round(n_locations * fraction))
    return float(counts[:top].sum() / max(1, counts.sum()))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--calls", type=int, required=True)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--end", default=DEFAULT_END, help="End of the year of calls (ISO).")
    parser.add_argument("--agency", default="", help="Agency code (default: the default agency).")
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--json", action="store_true", help="Print the summary as JSON.")
    args = parser.parse_args()
    end = dt.datetime.fromisoformat(args.end)
    if end.tzinfo is None:
        raise SystemExit("--end needs a UTC offset")

    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    import django

    django.setup()
    started = time.perf_counter()
    plan = generate(args.calls, seed=args.seed, end=end)
    generated = time.perf_counter() - started
    counts = write(plan, agency_code=args.agency, progress=not args.no_progress)
    summary = {
        **counts,
        "top5pct_share": round(top_share(plan.call_loc, plan.loc_lat.size), 3),
        "as_of": end.isoformat(),
        "generate_s": round(generated, 2),
        "total_s": round(time.perf_counter() - started, 2),
    }
    if args.json:
        print(json.dumps(summary))
    else:
        print(" ".join(f"{k} {v}" for k, v in summary.items()))


if __name__ == "__main__":
    main()
