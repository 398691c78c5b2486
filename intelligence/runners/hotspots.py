"""Hotspots runner: Getis-Ord Gi* on the calls' H3 r9 cells, one draft per merged area; open
areas keep their identity when they gain or lose cells.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from intelligence.analysis.hotspots import run_hotspots
from intelligence.choices import FindingKind, FindingStatus
from intelligence.models import Finding
from intelligence.runners.base import (
    FindingDraft,
    RunnerOutput,
    calls_between,
    input_hash,
    merge_parameters,
)

HOTSPOT_DEFAULTS: dict[str, Any] = {
    "window_days": 90,
    "k": 1,
    "alpha": 0.05,
    "match_overlap": 0.5,
    "max_evidence": 500,
}


def _overlap(a: Iterable[str], b: Iterable[str]) -> float:
    """Jaccard overlap of two cell sets (shared cells / all cells)."""
    sa, sb = set(a), set(b)
    return len(sa & sb) / len(sa | sb) if sa or sb else 0.0


def _keep_area_identity(drafts: list[FindingDraft], threshold: float) -> list[FindingDraft]:
    """Give each area the key of the open hotspot finding it mostly overlaps.

    An area's key is a hash of its cells, so one cell gained or lost would expire the open
    finding and propose a "new" one, losing its history in the review queue. An area that
    shares at least ``threshold`` of its cells (Jaccard) with an open finding keeps that
    finding's key instead; pairs are matched best-first, one to one.
    """
    open_areas = list(
        Finding.objects.filter(
            kind=FindingKind.HOTSPOT,
            status=FindingStatus.PROPOSED,
            created_by__isnull=True,
            agency_id__in={d.agency_id for d in drafts},
        ).values_list("agency_id", "subject_key", "cells")
    )
    pairs = sorted(
        (
            (-_overlap(draft.cells, cells), i, key)
            for i, draft in enumerate(drafts)
            for agency, key, cells in open_areas
            if agency == draft.agency_id and _overlap(draft.cells, cells) >= threshold
        ),
    )
    taken_drafts: set[int] = set()
    taken_keys: set[str] = {d.subject_key for d in drafts}
    result = list(drafts)
    for _, i, key in pairs:
        if i in taken_drafts or (key in taken_keys and key != drafts[i].subject_key):
            continue
        taken_drafts.add(i)
        taken_keys.add(key)
        result[i] = replace(drafts[i], subject_key=key)
    return result


def hotspots(
    *, as_of: dt.datetime, agency_id: int | None, parameters: Mapping[str, Any] | None = None
) -> RunnerOutput:
    """Getis-Ord Gi* on the calls' H3 r9 cells, per agency; one draft per merged hotspot."""
    params = merge_parameters(HOTSPOT_DEFAULTS, parameters)
    days = int(params["window_days"])
    start = as_of - dt.timedelta(days=days)
    rows = list(
        calls_between(start, as_of, agency_id)
        .exclude(h3_r9="")
        .order_by("pk")
        .values_list("pk", "agency_id", "h3_r9", "received_at")
    )
    out = RunnerOutput(
        method="getis_ord_gi_star_h3",
        method_version="2",
        parameters={**params, "resolution": 9},
        window_start=start,
        window_end=as_of,
        input_hash=input_hash(rows),
    )
    by_agency: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for pk, agency, cell, _ in rows:
        by_agency[agency].append((pk, cell))
    for agency, calls in sorted(by_agency.items()):
        result = run_hotspots([c for _, c in calls], k=int(params["k"]), alpha=params["alpha"])
        p_by_cell = dict(zip(result.cells, result.p.tolist(), strict=True))
        for spot in result.hotspots:
            members = set(spot.cells)
            call_ids = [pk for pk, cell in calls if cell in members]
            lat, lon = spot.centroid
            max_z = float(spot.max_z or 0.0)
            min_p = float(min(p_by_cell[c] for c in spot.cells))
            n_calls = len(call_ids)
            out.drafts.append(
                FindingDraft(
                    agency_id=agency,
                    subject_key="area:"
                    + hashlib.sha1(
                        ",".join(spot.cells).encode(), usedforsecurity=False
                    ).hexdigest(),
                    window_start=start,
                    window_end=as_of,
                    statistics={
                        "n_cells": spot.n_cells,
                        "calls": n_calls,
                        "max_z": round(max_z, 3),
                        "min_p": min_p,
                    },
                    explanation=(
                        f"{n_calls} calls in {spot.n_cells} cells around ({lat:.5f}, {lon:.5f}) "
                        f"in the last {days} days; Gi* z up to {max_z:.1f} "
                        f"(FDR {params['alpha'] * 100:g} %)."
                    ),
                    cells=spot.cells,
                    latitude=lat,
                    longitude=lon,
                    call_ids=tuple(call_ids[: int(params["max_evidence"])]),
                )
            )
    out.drafts = _keep_area_identity(out.drafts, float(params["match_overlap"]))
    return out
