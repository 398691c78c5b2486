"""Time-windows runner: the window scan over each current hotspot's and repeat location's
calls, against the agency's own hour-of-week profile.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import numpy as np

from dispatch.models import Location
from intelligence.analysis.time_windows import HOURS_PER_WEEK, scan_time_windows
from intelligence.runners.base import (
    FindingDraft,
    RunnerOutput,
    calls_between,
    hour_of_week,
    input_hash,
    merge_parameters,
    p_text,
    time_zones,
)
from intelligence.runners.hotspots import hotspots
from intelligence.runners.repeat_locations import flagged_premises


def _parents(as_of: dt.datetime, agency_id: int | None) -> list[FindingDraft]:
    """The current hotspots and repeat locations, recomputed with their default parameters.

    Recomputing (rather than reading open findings) makes the dependent runners independent of
    run order and of what a reviewer has already decided. Only the repeat test itself runs
    (``flagged_premises``), not the texts and evidence of the repeat-location drafts: a premise
    parent needs its agency, subject and location, nothing else.
    """
    premises = [
        FindingDraft(
            agency_id=agency,
            subject_key=f"location:{location}",
            window_start=as_of,
            window_end=as_of,
            statistics={},
            explanation="",
            location_id=location,
        )
        for agency, location in flagged_premises(as_of=as_of, agency_id=agency_id)
    ]
    return [*hotspots(as_of=as_of, agency_id=agency_id).drafts, *premises]


def _parent_calls(
    parent: FindingDraft,
    rows: list[tuple[int, int, dt.datetime, int | None, str]],
    by_location: Mapping[tuple[int, int], list[int]],
    by_cell: Mapping[tuple[int, str], list[int]],
) -> list[tuple[int, dt.datetime]]:
    """(pk, received_at) of the parent's calls in the window, by pk: its location or its cells.

    From the window's rows, grouped once by (agency, location) and (agency, cell): one query
    per parent made SQLite scan the whole window per parent.
    """
    if parent.location_id is not None:
        picked = by_location.get((parent.agency_id, parent.location_id), [])
    else:
        picked = sorted(
            i for cell in set(parent.cells) for i in by_cell.get((parent.agency_id, cell), [])
        )
    return [(rows[i][0], rows[i][2]) for i in picked]


def _parent_place(parent: FindingDraft, addresses: Mapping[int, Location]) -> str:
    if parent.location_id is not None:
        return addresses[parent.location_id].display_address
    return f"the hotspot around ({parent.latitude:.5f}, {parent.longitude:.5f})"


TIME_WINDOW_DEFAULTS: dict[str, Any] = {
    "window_days": 90,
    "alpha": 0.05,
    "min_count": 5,
    "max_hours": 8,
    "max_evidence": 500,
}


def time_windows(
    *, as_of: dt.datetime, agency_id: int | None, parameters: Mapping[str, Any] | None = None
) -> RunnerOutput:
    """Recurring hour-of-week windows at each current hotspot and repeat location.

    The parents are recomputed (``_parents``). Each parent's calls over ``window_days`` (longer
    than the repeat-location window on purpose: a weekly pattern needs many weeks to show) are
    binned by local hour of week and every candidate window (day set x consecutive hours) is
    tested with BH control against the agency's all-calls profile over the same days
    (``scan_time_windows``), so a window is only reported
    when the place is busier then than the whole jurisdiction is. One draft per window holding
    at least ``min_count`` calls.
    """
    params = merge_parameters(TIME_WINDOW_DEFAULTS, parameters)
    days = int(params["window_days"])
    start = as_of - dt.timedelta(days=days)
    parents = _parents(as_of, agency_id)
    all_rows = list(
        calls_between(start, as_of, agency_id)
        .order_by("pk")
        .values_list("pk", "agency_id", "received_at", "location_id", "h3_r9")
    )
    zones = time_zones({row[1] for row in all_rows} | {p.agency_id for p in parents})
    reference: dict[int, np.ndarray] = defaultdict(lambda: np.zeros(HOURS_PER_WEEK))
    by_location: dict[tuple[int, int], list[int]] = defaultdict(list)
    by_cell: dict[tuple[int, str], list[int]] = defaultdict(list)
    for i, (_, agency, received, location, cell) in enumerate(all_rows):
        reference[agency][hour_of_week(received, zones[agency])] += 1
        if location is not None:
            by_location[(agency, location)].append(i)
        by_cell[(agency, cell)].append(i)
    addresses = Location.objects.in_bulk([p.location_id for p in parents if p.location_id])
    hashed: list[tuple[Any, ...]] = [("all", *row[:3]) for row in all_rows]
    drafts: list[FindingDraft] = []
    for parent in parents:
        tz = zones[parent.agency_id]
        calls = _parent_calls(parent, all_rows, by_location, by_cell)
        hashed.extend((parent.subject_key, pk) for pk, _ in calls)
        if not calls:
            continue
        how = np.array([hour_of_week(received, tz) for _, received in calls], dtype=np.int64)
        # Half a call per hour keeps an hour the jurisdiction never saw from having share 0.
        ref = reference[parent.agency_id] + 0.5
        place = _parent_place(parent, addresses)
        for window in scan_time_windows(
            how, reference=ref, alpha=float(params["alpha"]), max_hours=int(params["max_hours"])
        ):
            if window.count < int(params["min_count"]):
                continue
            in_window = set(window.cells)
            ids = [pk for (pk, _), h in zip(calls, how.tolist(), strict=True) if h in in_window]
            span = (
                f"{window.start_hour}-{window.end_hour}"
                if window.n_hours < 24
                else f"{window.start_hour}+{window.n_hours}h"
            )
            days_key = ",".join(str(d) for d in window.days)
            expected = window.expected_share * len(calls)
            drafts.append(
                FindingDraft(
                    agency_id=parent.agency_id,
                    subject_key=f"timewindow:{parent.subject_key}:{days_key}:{span}",
                    window_start=start,
                    window_end=as_of,
                    statistics={
                        "count": window.count,
                        "total": len(calls),
                        "share": round(window.share, 4),
                        "expected_share": round(window.expected_share, 4),
                        "expected": round(expected, 2),
                        "p": window.p_value,
                        "days": list(window.days),
                        "start_hour": window.start_hour,
                        "end_hour": window.end_hour,
                        "n_hours": window.n_hours,
                        "label": window.label,
                        "time_zone": tz.key,
                        "parent": parent.subject_key,
                        "window_days": days,
                    },
                    explanation=(
                        f"{window.count} of {len(calls)} calls at {place} in the last {days} "
                        f"days fall {window.label} local time (expected {expected:.1f} from the "
                        f"jurisdiction's hour-of-week profile); {p_text(window.p_value)}."
                    ),
                    location_id=parent.location_id,
                    cells=parent.cells,
                    latitude=parent.latitude,
                    longitude=parent.longitude,
                    call_ids=tuple(ids[: int(params["max_evidence"])]),
                )
            )
    return RunnerOutput(
        method="hour_of_week_window_scan_bh",
        method_version="3",
        parameters=params,
        window_start=start,
        window_end=as_of,
        input_hash=input_hash(hashed),
        drafts=drafts,
    )
