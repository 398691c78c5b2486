"""Glue between an assignment and the pure dosage analysis: which fixes, which area, which windows.

``tasking.analysis.dosage`` knows nothing of Django; this module loads the assignee units' AVL
fixes (``dispatch.models.UnitPosition``) over the assignment's expanded windows, widened by the
analysis' ``max_gap_s`` at both ends (so a stop already under way when a window opens is credited
from its first instant), and turns the verdicts into rows people read.

Whose fixes: the assigned unit's; for an assignment to a person, the units that person is signed
to now (Beacon keeps no history of who crewed which unit); for a shift, the shift's units. A
shift without units has no AVL, so its dosage is reported as unmeasured rather than as unmet.

Only windows that have opened are evaluated; a window is judged (met / unmet) once it has
closed, and shown as met early if its dose is already delivered while it is open.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db.models import Q
from shapely.geometry import Polygon

from dispatch.models import Unit, UnitPosition
from tasking.analysis import dosage, schedule
from tasking.models import Assignment, Shift

# The analysis' default; the load margin must equal it (see the module docstring).
MAX_GAP_S = 120.0
MARGIN = dt.timedelta(seconds=MAX_GAP_S)

Tracks = dict[int, tuple[np.ndarray, np.ndarray, np.ndarray]]


@dataclass(frozen=True, slots=True)
class WindowRow:
    """One window as the pages show it; ``met`` is None until it can be judged."""

    start: dt.datetime
    end: dt.datetime
    state: str  # "upcoming", "open" or "closed"
    covered_minutes: float | None
    visits: int | None
    drive_throughs: int | None
    met: bool | None


@dataclass(frozen=True, slots=True)
class DosageSummary:
    """Per assignment: how many windows closed and how many of those met their dose."""

    total: int
    past: int
    met: int
    measured: bool
    next_start: dt.datetime | None
    rows: tuple[WindowRow, ...] = field(default=(), repr=False)

    def as_dict(self) -> dict[str, Any]:
        """JSON form (board rows, and what the schedule records on the assignment)."""
        return {
            "total": self.total,
            "past": self.past,
            "met": self.met,
            "measured": self.measured,
            "next_start": self.next_start.isoformat() if self.next_start else None,
        }


def area_of(area: dict[str, Any]) -> dosage.Area:
    """The stored area JSON (validated by the service) as the analysis' area type."""
    kind = area.get("type")
    if kind == "circle":
        return dosage.CircleArea(
            float(area["latitude"]), float(area["longitude"]), float(area["radius_m"])
        )
    if kind == "cells":
        return dosage.CellsArea(frozenset(area["cells"]))
    if kind == "polygon":
        # Stored as [lat, lon]; shapely works in (x, y) = (lon, lat).
        return dosage.PolygonArea(Polygon([(lon, lat) for lat, lon in area["points"]]))
    raise ValueError(f"area: unknown type {kind!r}")


def target_of(spec: dict[str, Any]) -> dosage.DosageTarget | None:
    """The assignment's dosage as a target; None when it has none (e.g. a follow-up)."""
    if not spec:
        return None
    return dosage.DosageTarget(
        visit_minutes=float(spec["minutes_per_visit"]), visits=int(spec["visits_per_window"])
    )


def intervals_of(assignment: Assignment) -> list[schedule.Interval]:
    """The assignment's windows as sorted UTC intervals."""
    return schedule.expand(schedule.parse_windows(assignment.windows))


def period_of(assignment: Assignment) -> tuple[dt.datetime, dt.datetime] | None:
    """[first window start, last window end): the assignment's period, for outcomes."""
    intervals = intervals_of(assignment)
    if not intervals:
        return None
    return intervals[0].start, max(i.end for i in intervals)


def unit_ids_of(
    assignment: Assignment, signed: dict[int, list[int]], shift_units: dict[int, list[int]]
) -> list[int]:
    """Units whose fixes count: the assigned unit, the assigned person's units, or the shift's,
    from the maps ``dosage_for`` preloads (user id -> units, shift id -> units)."""
    if assignment.assignee_unit_id:
        return [assignment.assignee_unit_id]
    if assignment.assignee_user_id:
        return signed.get(assignment.assignee_user_id, [])
    if assignment.assignee_shift_id:
        return shift_units.get(assignment.assignee_shift_id, [])
    return []


def _started(intervals: Sequence[schedule.Interval], now: dt.datetime) -> list[schedule.Interval]:
    return [i for i in intervals if i.start <= now]


def _load_range(
    intervals: Sequence[schedule.Interval], now: dt.datetime
) -> tuple[dt.datetime, dt.datetime] | None:
    started = _started(intervals, now)
    if not started:
        return None
    return started[0].start - MARGIN, min(max(i.end for i in started), now) + MARGIN


def load_tracks(requests: Iterable[tuple[Sequence[int], dt.datetime, dt.datetime]]) -> Tracks:
    """Every fix of the given units in the given ranges, in one query, as arrays per unit.

    Ranges of the same unit may overlap (two assignments); each fix is loaded once and each
    assignment later picks its own time range out of the arrays.
    """
    q = Q()
    for unit_ids, lo, hi in requests:
        if unit_ids:
            q |= Q(unit_id__in=list(unit_ids), recorded_at__gte=lo, recorded_at__lte=hi)
    if not q:
        return {}
    rows = UnitPosition.objects.filter(q).values_list(
        "unit_id", "recorded_at", "latitude", "longitude"
    )
    per_unit: dict[int, list[tuple[float, float, float]]] = defaultdict(list)
    for unit_id, at, lat, lon in rows.iterator(chunk_size=5000):
        per_unit[unit_id].append((at.timestamp(), lat, lon))
    tracks: Tracks = {}
    for unit_id, fixes in per_unit.items():
        arr = np.asarray(fixes, dtype=float)
        tracks[unit_id] = (arr[:, 0], arr[:, 1], arr[:, 2])
    return tracks


def _slice(tracks: Tracks, unit_ids: Sequence[int], lo: dt.datetime, hi: dt.datetime) -> Tracks:
    out: Tracks = {}
    a, b = lo.timestamp(), hi.timestamp()
    for unit_id in unit_ids:
        t, lat, lon = tracks.get(unit_id, (np.empty(0), np.empty(0), np.empty(0)))
        keep = (t >= a) & (t <= b)
        out[unit_id] = (t[keep], lat[keep], lon[keep])
    return out


def summarise(
    assignment: Assignment,
    *,
    now: dt.datetime,
    tracks: Tracks,
    unit_ids: Sequence[int],
) -> DosageSummary:
    """Per-window rows and the summary for one assignment, from already loaded tracks."""
    intervals = intervals_of(assignment)
    started = _started(intervals, now)
    upcoming = [i for i in intervals if i.start > now]
    target = target_of(assignment.dosage)
    measured = bool(unit_ids) and target is not None
    rows: list[WindowRow] = []
    if started and measured:
        lo, hi = _load_range(intervals, now)  # type: ignore[misc]
        verdicts = dosage.window_dosage(
            _slice(tracks, unit_ids, lo, hi),
            area_of(assignment.area),
            started,
            target=target,
            max_gap_s=MAX_GAP_S,
        )
        for interval, v in zip(started, verdicts, strict=True):
            closed = interval.end <= now
            rows.append(
                WindowRow(
                    start=interval.start,
                    end=interval.end,
                    state="closed" if closed else "open",
                    covered_minutes=round(v.covered.seconds / 60, 1),
                    visits=len(v.covered.visits),
                    drive_throughs=v.covered.drive_throughs,
                    # An open window not yet met may still be met: no verdict until it closes.
                    met=v.met if closed or v.met else None,
                )
            )
    else:
        for interval in started:
            state = "closed" if interval.end <= now else "open"
            rows.append(WindowRow(interval.start, interval.end, state, None, None, None, None))
    rows.extend(WindowRow(i.start, i.end, "upcoming", None, None, None, None) for i in upcoming)
    closed_rows = [r for r in rows if r.state == "closed"]
    return DosageSummary(
        total=len(intervals),
        past=len(closed_rows),
        met=sum(bool(r.met) for r in closed_rows),
        measured=measured,
        next_start=upcoming[0].start if upcoming else None,
        rows=tuple(rows),
    )


def assignment_dosage(assignment: Assignment, *, now: dt.datetime) -> DosageSummary:
    """Dosage of one assignment (its own query for fixes)."""
    return dosage_for([assignment], now=now)[assignment.pk]


def dosage_for(assignments: Sequence[Assignment], *, now: dt.datetime) -> dict[int, DosageSummary]:
    """Dosage of many assignments: one query each for units signed, shift rosters and all fixes."""
    user_ids = {a.assignee_user_id for a in assignments if a.assignee_user_id}
    signed: dict[int, list[int]] = defaultdict(list)
    if user_ids:
        through = Unit.users.through.objects.filter(user_id__in=user_ids)
        for user_id, unit_id in through.values_list("user_id", "unit_id"):
            signed[user_id].append(unit_id)
    shift_ids = {a.assignee_shift_id for a in assignments if a.assignee_shift_id}
    shift_units: dict[int, list[int]] = defaultdict(list)
    if shift_ids:
        roster = Shift.units.through.objects.filter(shift_id__in=shift_ids)
        for shift_id, unit_id in roster.values_list("shift_id", "unit_id"):
            shift_units[shift_id].append(unit_id)
    plans = []
    for a in assignments:
        units = unit_ids_of(a, signed, shift_units)
        span = _load_range(intervals_of(a), now) if units and a.dosage else None
        plans.append((a, units, span))
    tracks = load_tracks((units, *span) for _, units, span in plans if span)
    return {a.pk: summarise(a, now=now, tracks=tracks, unit_ids=units) for a, units, _ in plans}
