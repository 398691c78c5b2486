"""Trends runner: emerging / persistent / diminishing labels (Mann-Kendall on weekly counts) for
hotspots and areas that rose faster than the city.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import numpy as np
from django.db.models import Min

from dispatch.models import Call
from intelligence.analysis.rising_areas import rising_areas
from intelligence.analysis.trends import classify_hotspot_trend, mann_kendall
from intelligence.runners.base import (
    FindingDraft,
    RunnerOutput,
    calls_between,
    input_hash,
    merge_parameters,
    p_text,
)
from intelligence.runners.hotspots import hotspots

TREND_DEFAULTS: dict[str, Any] = {
    "weeks": 12,
    "alpha": 0.05,
    "recent_days": 28,
    "labels": ["emerging", "diminishing", "persistent"],
    "max_evidence": 500,
}


def _rising_area_drafts(
    as_of: dt.datetime, agency_id: int | None, start: dt.datetime, recent_days: int
) -> list[FindingDraft]:
    """Areas whose recent calls rose faster than the city's, as area drafts (subject only)."""
    split = as_of - dt.timedelta(days=recent_days)
    rows = list(
        calls_between(start, as_of, agency_id)
        .exclude(h3_r9="")
        .values_list("agency_id", "h3_r9", "received_at")
    )
    by_agency: dict[int, tuple[list[str], list[str]]] = defaultdict(lambda: ([], []))
    for agency, cell, received in rows:
        by_agency[agency][0 if received >= split else 1].append(cell)
    drafts = []
    for agency, (recent, earlier) in sorted(by_agency.items()):
        for area in rising_areas(recent, earlier).areas:
            drafts.append(
                FindingDraft(
                    agency_id=agency,
                    subject_key="area:"
                    + hashlib.sha1(
                        ",".join(area.cells).encode(), usedforsecurity=False
                    ).hexdigest(),
                    window_start=start,
                    window_end=as_of,
                    statistics={},
                    explanation="",
                    cells=area.cells,
                    latitude=area.centroid[0],
                    longitude=area.centroid[1],
                )
            )
    return drafts


def trends(
    *, as_of: dt.datetime, agency_id: int | None, parameters: Mapping[str, Any] | None = None
) -> RunnerOutput:
    """Emerging / persistent / diminishing label for each current hotspot (one draft each).

    The areas are the current hotspots (Gi*, 90 days) plus the areas whose calls in the last
    ``recent_days`` rose faster than the jurisdiction's over the ``weeks`` (``rising_areas``)
    and share no cell with a hotspot.

    Weekly call counts in the hotspot's cells over the last ``weeks`` whole weeks ending at
    ``as_of``, oldest first, go to Mann-Kendall (``classify_hotspot_trend``). Weeks that start
    before the agency's first call in the database are left out: a week with no data is not a
    week with no crime, and counting it as zero would make every young data set "emerging".
    "persistent" areas are reported as well as emerging and diminishing ones, because a steady
    problem is as much a candidate for tasking as a growing one; "sporadic" areas are not
    (``labels`` chooses).
    """
    params = merge_parameters(TREND_DEFAULTS, parameters)
    n_weeks = int(params["weeks"])
    start = as_of - dt.timedelta(weeks=n_weeks)
    areas = hotspots(as_of=as_of, agency_id=agency_id).drafts
    # An area that only turned busy lately is diluted in 90 days of counts and may never pass
    # Gi*; the areas that rose faster than the city are candidates too.
    known_cells = {cell for area in areas for cell in area.cells}
    areas += [
        a
        for a in _rising_area_drafts(as_of, agency_id, start, int(params["recent_days"]))
        if known_cells.isdisjoint(a.cells)
    ]
    before = Call.objects.filter(received_at__lt=as_of)
    if agency_id is not None:
        before = before.filter(agency_id=agency_id)
    first_call = dict(
        before.values("agency_id")
        .annotate(first=Min("received_at"))
        .values_list("agency_id", "first")
    )
    hashed: list[tuple[Any, ...]] = []
    drafts: list[FindingDraft] = []
    for area in areas:
        rows = list(
            calls_between(start, as_of, area.agency_id)
            .filter(h3_r9__in=list(area.cells))
            .order_by("pk")
            .values_list("pk", "received_at")
        )
        hashed.extend((area.subject_key, *row) for row in rows)
        counts = np.zeros(n_weeks)
        for _, received in rows:
            counts[min(int((received - start) / dt.timedelta(weeks=1)), n_weeks - 1)] += 1
        week_starts = [start + dt.timedelta(weeks=w) for w in range(n_weeks)]
        known = np.array([w >= first_call[area.agency_id] for w in week_starts])
        series = counts[known]
        if series.size < 4:
            continue  # Mann-Kendall cannot reach significance on fewer than 4 points
        label = classify_hotspot_trend(series, float(params["alpha"]))
        if label not in params["labels"]:
            continue
        mk = mann_kendall(series, float(params["alpha"]))
        counts_list = [int(c) for c in series]
        words = {
            "emerging": "rising",
            "diminishing": "falling",
            "persistent": "steady, with calls in most weeks",
        }[label]
        drafts.append(
            FindingDraft(
                agency_id=area.agency_id,
                subject_key=f"trend:{area.subject_key}",
                window_start=week_starts[int(np.argmax(known))],
                window_end=as_of,
                statistics={
                    "label": label,
                    "area": area.subject_key,
                    "weeks": int(series.size),
                    "weekly_counts": counts_list,
                    "s": mk.s,
                    "z": round(mk.z, 3),
                    "p": mk.p,
                    "tau": round(mk.tau, 3),
                    "trend": mk.trend,
                },
                explanation=(
                    f"The hotspot around ({area.latitude:.5f}, {area.longitude:.5f}) is "
                    f"{label}: weekly calls over the last {series.size} weeks were "
                    f"{', '.join(str(c) for c in counts_list)} (oldest first), {words}; "
                    f"Mann-Kendall tau {mk.tau:.2f}, {p_text(mk.p)}."
                ),
                cells=area.cells,
                latitude=area.latitude,
                longitude=area.longitude,
                call_ids=tuple(pk for pk, _ in rows[-int(params["max_evidence"]) :]),
            )
        )
    return RunnerOutput(
        method="mann_kendall_weekly_counts",
        method_version="2",
        parameters=params,
        window_start=start,
        window_end=as_of,
        input_hash=input_hash(hashed),
        drafts=drafts,
    )
