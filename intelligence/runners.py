"""The glue between the database and the pure analyses: one runner per analysis kind.

A runner reads the rows an analysis needs into plain lists, calls the pure function in
``intelligence.analysis``, and turns what it found into ``FindingDraft``s. It writes nothing:
``services.analysis_execute`` owns the run row, the transaction and the upserts.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.db.models import Min
from scipy.spatial import cKDTree

from dispatch.addressing import block_key
from dispatch.models import Call, Involvement, Location, Person, Vehicle
from governance.models import Agency
from intelligence.analysis.entities import link_groups, recurring_entities
from intelligence.analysis.hotspots import run_hotspots
from intelligence.analysis.near_repeat import knox_test, near_repeat_risk_zones, project_lonlat
from intelligence.analysis.repeat_locations import repeat_locations as analyse_repeats
from intelligence.analysis.rising_areas import rising_areas
from intelligence.analysis.time_windows import HOURS_PER_WEEK, scan_time_windows
from intelligence.analysis.trends import classify_hotspot_trend, mann_kendall
from intelligence.choices import FindingKind, FindingStatus
from intelligence.models import Finding


@dataclass(frozen=True, slots=True)
class FindingDraft:
    """What one analysis result becomes: the subject, its numbers, the words and the evidence."""

    agency_id: int
    subject_key: str
    window_start: dt.datetime
    window_end: dt.datetime
    statistics: dict[str, Any]
    explanation: str
    location_id: int | None = None
    cells: tuple[str, ...] = ()
    latitude: float | None = None
    longitude: float | None = None
    call_ids: tuple[int, ...] = ()
    observation_ids: tuple[int, ...] = ()


@dataclass(slots=True)
class RunnerOutput:
    """A runner's provenance (method, parameters, window, input hash) and its drafts."""

    method: str
    method_version: str
    parameters: dict[str, Any]
    window_start: dt.datetime
    window_end: dt.datetime
    input_hash: str
    drafts: list[FindingDraft] = field(default_factory=list)


Runner = Callable[..., RunnerOutput]


def input_hash(rows: Iterable[Iterable[Any]]) -> str:
    """sha256 of the sorted input rows, so a run's input can be recognised later."""
    lines = sorted(json.dumps([str(v) for v in row]) for row in rows)
    digest = hashlib.sha256()
    for line in lines:
        digest.update(line.encode())
        digest.update(b"\n")
    return digest.hexdigest()


def _merge(defaults: Mapping[str, Any], given: Mapping[str, Any] | None) -> dict[str, Any]:
    unknown = set(given or {}) - set(defaults)
    if unknown:
        raise ValueError(f"parameters: unknown {', '.join(sorted(unknown))}")
    return {**defaults, **(given or {})}


def _calls(start: dt.datetime, end: dt.datetime, agency_id: int | None) -> Any:
    qs = Call.objects.filter(received_at__gte=start, received_at__lt=end)
    return qs if agency_id is None else qs.filter(agency_id=agency_id)


def _p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


# --- hotspots ----------------------------------------------------------------------------

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
    params = _merge(HOTSPOT_DEFAULTS, parameters)
    days = int(params["window_days"])
    start = as_of - dt.timedelta(days=days)
    rows = list(
        _calls(start, as_of, agency_id)
        .exclude(h3_r9="")
        .order_by("pk")
        .values_list("pk", "agency_id", "h3_r9", "received_at")
    )
    out = RunnerOutput(
        method="getis_ord_gi_star_h3",
        method_version="1",
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
                    subject_key="area:" + hashlib.sha1(",".join(spot.cells).encode()).hexdigest(),  # noqa: S324 - an identity, not security
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


# --- repeat locations --------------------------------------------------------------------

REPEAT_DEFAULTS: dict[str, Any] = {
    "windows_days": [7, 28, 90],
    "baseline_days": 365,
    "alpha": 0.05,
    "min_count": 3,
    "levels": ["premise", "block"],
    "by_category": ["premise"],
    "require_baseline": False,
    "max_chronic": 10,
    "redundant_share": 0.8,
    "max_evidence": 500,
}
REPEAT_LEVELS = ("premise", "block")


@dataclass(slots=True)
class _RepeatRows:
    """One agency's calls as aligned arrays (what the pure analysis takes) plus their ids."""

    pks: np.ndarray
    locations: np.ndarray
    times: np.ndarray
    categories: np.ndarray
    received: list[dt.datetime]


@dataclass(frozen=True, slots=True)
class _RepeatHit:
    """One flagged subject: which place (and category), its best window and its numbers."""

    level: str
    key: str
    category: str | None
    window_days: int
    index: int
    stats: dict[str, Any]
    member_rows: np.ndarray


def _repeat_rows(
    rows: list[tuple[int, int, int, dt.datetime, str]],
) -> dict[int, _RepeatRows]:
    by_agency: dict[int, list[tuple[int, int, dt.datetime, str]]] = defaultdict(list)
    for pk, agency, location, received, category in rows:
        by_agency[agency].append((pk, location, received, category))
    return {
        agency: _RepeatRows(
            pks=np.array([r[0] for r in calls], dtype=np.int64),
            locations=np.array([r[1] for r in calls], dtype=np.int64),
            times=np.array([r[2].timestamp() for r in calls], dtype=np.float64),
            categories=np.array([r[3] for r in calls], dtype=object),
            received=[r[2] for r in calls],
        )
        for agency, calls in by_agency.items()
    }


def _place_keys(level: str, locations: np.ndarray, places: Mapping[int, Location]) -> np.ndarray:
    """Each call's place key at this level ("" for a call with no block, e.g. a junction)."""
    if level == "premise":
        return np.array([f"location:{loc}" for loc in locations.tolist()], dtype=object)
    keys = {}
    for pk, place in places.items():
        block = block_key(place.kind, place.street_line)
        keys[pk] = f"block:{place.locality}|{block}" if block else ""
    return np.array([keys[loc] for loc in locations.tolist()], dtype=object)


def _repeat_hits(
    rows: _RepeatRows,
    level: str,
    keys: np.ndarray,
    category: str | None,
    *,
    as_of: dt.datetime,
    history_start: dt.datetime,
    params: Mapping[str, Any],
) -> list[_RepeatHit]:
    """BH-controlled repeat test of one level (and one category, or all) for one agency."""
    mask = keys != ""
    if category is not None:
        mask &= rows.categories == category
    if not mask.any():
        return []
    windows = tuple(float(w) for w in params["windows_days"])
    results = analyse_repeats(
        keys[mask].astype(str),
        rows.times[mask],
        as_of=as_of.timestamp(),
        windows_days=windows,
        baseline_days=float(params["baseline_days"]),
        min_count=int(params["min_count"]),
        alpha=float(params["alpha"]),
        fdr=True,
        require_baseline=bool(params["require_baseline"]),
        history_start=history_start.timestamp(),
    )
    member_rows = np.flatnonzero(mask)
    best: dict[str, tuple[tuple[bool, float, float], float, int]] = {}
    for w, result in results.items():
        for i in np.flatnonzero(result.flagged):
            spike = bool(result.spike[i]) if result.spike is not None else True
            worst_p = max(float(result.p_baseline[i]), float(result.p_jurisdiction[i]))
            # The strongest window: a spike before chronic busyness, then the smaller p, then
            # the shorter window.
            rank = (not spike, worst_p if spike else float(result.p_jurisdiction[i]), w)
            key = str(result.keys[i])
            if key not in best or rank < best[key][0]:
                best[key] = (rank, w, int(i))
    hits = []
    sub_keys = keys[mask]
    for key, (_, w, i) in sorted(best.items()):
        result = results[w]
        lam_b = float(result.expected_baseline[i])
        lam_j = float(result.expected_jurisdiction)
        p_b = float(result.p_baseline[i])
        p_j = float(result.p_jurisdiction[i])
        spike = bool(result.spike[i]) if result.spike is not None else True
        stats = {
            "level": level,
            "category": category,
            "pattern": "spike" if spike else "chronic",
            "count": int(result.count[i]),
            # A spike passed both tests: same count, so the larger expectation is the larger p,
            # the binding test. A chronic place is judged against the typical place alone.
            "expected": round(max(lam_b, lam_j), 3) if spike else round(lam_j, 3),
            "p": max(p_b, p_j) if spike else p_j,
            "q": float(result.q[i]) if result.q is not None else None,
            "window_days": int(w),
            "expected_baseline": round(lam_b, 3),
            "p_baseline": p_b,
            "expected_jurisdiction": round(lam_j, 3),
            "p_jurisdiction": p_j,
            "previous_count": int(result.previous_count[i]),
            "trend": str(result.trend[i]),
            "p_trend": _json_number(float(result.p_trend[i])),
            "windows": {str(int(ww)): int(res.count[i]) for ww, res in results.items()},
        }
        hits.append(
            _RepeatHit(level, key, category, int(w), int(i), stats, member_rows[sub_keys == key])
        )
    return hits


def _cap_chronic(hits: list[_RepeatHit], limit: int) -> list[_RepeatHit]:
    """Every spike, and the ``limit`` busiest chronic places per level and category.

    A busy place stays busy: past the first few, a longer list of chronic places is a ranking
    the concentration curve shows better than a review queue does.
    """
    chronic: dict[tuple[str, str | None], list[_RepeatHit]] = defaultdict(list)
    kept = []
    for hit in hits:
        if hit.stats["pattern"] == "spike":
            kept.append(hit)
        else:
            chronic[(hit.level, hit.category)].append(hit)
    for group in chronic.values():
        group.sort(key=lambda h: (h.stats["p"], -h.stats["count"], h.key))
        kept += group[:limit]
    return kept


def _redundant(
    hit: _RepeatHit, rows: _RepeatRows, flagged: set[str], share: float, as_of: dt.datetime
) -> bool:
    """A block or category finding that only repeats a flagged premise's finding.

    A block is redundant when one flagged premise gives at least ``share`` of its calls in the
    window; a category is redundant when the same place is flagged for all calls (whose
    explanation names the leading categories).
    """
    start = (as_of - dt.timedelta(days=hit.window_days)).timestamp()
    idx = hit.member_rows
    in_window = idx[rows.times[idx] >= start]
    if hit.level == "block" and hit.category is None and in_window.size:
        locs, counts = np.unique(rows.locations[in_window], return_counts=True)
        top = int(np.argmax(counts))
        return f"location:{locs[top]}" in flagged and counts[top] >= share * in_window.size
    if hit.category is not None:
        # The place's all-calls finding names its leading categories already.
        return hit.key in flagged
    return False


def _leading_category_text(categories: np.ndarray, share: float = 0.4) -> str:
    """ "; 41 of them disorder" when one call category is at least ``share`` of the calls."""
    if not categories.size:
        return ""
    names, counts = np.unique(categories.astype(str), return_counts=True)
    top = int(np.argmax(counts))
    if counts[top] < share * categories.size:
        return ""
    if counts[top] == categories.size:
        return f"; all {names[top]}"
    return f"; {counts[top]} of them {names[top]}"


def _first_calls(as_of: dt.datetime, agency_id: int | None) -> dict[int, dt.datetime]:
    """Each agency's first call before ``as_of``: where its history, and any baseline, begins."""
    before = Call.objects.filter(received_at__lt=as_of)
    if agency_id is not None:
        before = before.filter(agency_id=agency_id)
    return dict(
        before.values("agency_id")
        .annotate(first=Min("received_at"))
        .values_list("agency_id", "first")
    )


def _peak_window_text(times: list[dt.datetime], tz: ZoneInfo, reference: np.ndarray) -> str:
    """ "; 9 of them Fri-Sat 19:00-23:00" when the calls cluster in a recurring window."""
    if len(times) < 5:
        return ""
    how = np.array([_hour_of_week(t, tz) for t in times], dtype=np.int64)
    found = scan_time_windows(how, reference=reference + 0.5)
    if not found:
        return ""
    return f"; {found[0].count} of them {found[0].label}"


def repeat_locations(
    *, as_of: dt.datetime, agency_id: int | None, parameters: Mapping[str, Any] | None = None
) -> RunnerOutput:
    """Places with unusually many calls in a recent window, per agency.

    The test is ``intelligence.analysis.repeat_locations`` with FDR control: Poisson upper tail
    against the place's own baseline *and* against the average place in the same window, both
    significant, at every window in ``windows_days``, with Benjamini-Hochberg over all (place,
    window) tests of one agency, level and category. Levels: ``premise`` (the location) and
    ``block`` (the hundred block, ``dispatch.addressing.block_key``, so scattered house numbers
    on one troubled block add up). At the levels in ``by_category`` every call category is
    tested on its own too ("shoplifting at 905 MARKET ST"), so a place whose total looks ordinary but whose thefts
    do not is still found. One draft per subject, reporting its strongest window; block and
    category drafts that only restate a flagged premise (``_redundant``) are left out.
    """
    params = _merge(REPEAT_DEFAULTS, parameters)
    windows = sorted({int(w) for w in params["windows_days"]})
    levels = list(params["levels"])
    if not windows or any(w <= 0 for w in windows):
        raise ValueError("parameters: windows_days must be positive whole days")
    if not levels or set(levels) - set(REPEAT_LEVELS):
        raise ValueError(f"parameters: levels must be among {', '.join(REPEAT_LEVELS)}")
    if set(params["by_category"]) - set(REPEAT_LEVELS):
        raise ValueError(f"parameters: by_category must list levels among {REPEAT_LEVELS}")
    longest = max(windows)
    # The baseline precedes each window; the trend's previous window lies inside it.
    data_start = as_of - dt.timedelta(days=longest + max(int(params["baseline_days"]), longest))
    rows = list(
        _calls(data_start, as_of, agency_id)
        .filter(location__isnull=False)
        .order_by("pk")
        .values_list("pk", "agency_id", "location_id", "received_at", "call_type__category")
    )
    out = RunnerOutput(
        method="repeat_locations_poisson_bh",
        method_version="2",
        parameters=params,
        window_start=data_start,
        window_end=as_of,
        input_hash=input_hash(rows),
    )
    by_agency = _repeat_rows(rows)
    places = Location.objects.in_bulk(sorted({r[2] for r in rows}))
    zones = _time_zones(by_agency)
    first_calls = _first_calls(as_of, agency_id)
    for agency, agency_rows in sorted(by_agency.items()):
        history = first_calls[agency]
        tz = zones[agency]
        recent = agency_rows.times >= (as_of - dt.timedelta(days=longest)).timestamp()
        reference = np.zeros(HOURS_PER_WEEK)
        for i in np.flatnonzero(recent).tolist():
            reference[_hour_of_week(agency_rows.received[i], tz)] += 1
        categories = sorted(set(agency_rows.categories.tolist()))
        hits: list[_RepeatHit] = []
        for level in levels:
            keys = _place_keys(level, agency_rows.locations, places)
            by_category = level in params["by_category"]
            for category in [None, *(categories if by_category else [])]:
                hits += _repeat_hits(
                    agency_rows,
                    level,
                    keys,
                    category,
                    as_of=as_of,
                    history_start=history,
                    params=params,
                )
        hits = _cap_chronic(hits, int(params["max_chronic"]))
        flagged_all = {h.key for h in hits if h.category is None}
        for hit in hits:
            if _redundant(hit, agency_rows, flagged_all, float(params["redundant_share"]), as_of):
                continue
            out.drafts.append(
                _repeat_draft(hit, agency, agency_rows, places, tz, reference, as_of, params)
            )
    return out


def _repeat_draft(
    hit: _RepeatHit,
    agency: int,
    rows: _RepeatRows,
    places: Mapping[int, Location],
    tz: ZoneInfo,
    reference: np.ndarray,
    as_of: dt.datetime,
    params: Mapping[str, Any],
) -> FindingDraft:
    days = hit.window_days
    window_start = as_of - dt.timedelta(days=days)
    idx = [i for i in hit.member_rows.tolist() if rows.received[i] >= window_start]
    locations = sorted({int(rows.locations[i]) for i in idx})
    stats = dict(hit.stats)
    if hit.level == "premise":
        place = places[locations[0]] if locations else None
        place_text = place.display_address if place else hit.key
    else:
        place = None
        place_text = hit.key.split("|", 1)[1]
    stats["place"] = place_text
    what = f"{hit.category} calls" if hit.category else "calls"
    against = (
        f"expected {stats['expected']:.1f} from its own past and the typical place"
        if stats["pattern"] == "spike"
        else f"expected {stats['expected']:.1f} at a typical place (a chronic problem place)"
    )
    trend = {
        "rising": f", up from {stats['previous_count']} in the {days} days before",
        "falling": f", down from {stats['previous_count']} in the {days} days before",
    }.get(stats["trend"], "")
    peak = _peak_window_text([rows.received[i] for i in idx], tz, reference)
    leading = _leading_category_text(rows.categories[idx]) if hit.category is None else ""
    subject = hit.key + (f":category:{hit.category}" if hit.category else "")
    members = [places[loc] for loc in locations if places[loc].latitude is not None]
    return FindingDraft(
        agency_id=agency,
        subject_key=subject,
        window_start=window_start,
        window_end=as_of,
        statistics=stats,
        explanation=(
            f"{stats['count']} {what} in {days} days at {place_text}{trend}; "
            f"{against}; {_p_text(stats['p'])}{peak}{leading}."
        ),
        location_id=place.pk if place else None,
        # A block is an area: its places' cells and centre, so maps can outline it.
        cells=() if place else tuple(sorted({m.h3_r9 for m in members if m.h3_r9})),
        latitude=None if place or not members else float(np.mean([m.latitude for m in members])),
        longitude=None if place or not members else float(np.mean([m.longitude for m in members])),
        call_ids=tuple(int(rows.pks[i]) for i in idx[: int(params["max_evidence"])]),
    )


# --- shared by the runners that build on hotspots and repeat locations --------------------


def _time_zones(agency_ids: Iterable[int]) -> dict[int, ZoneInfo]:
    """Each agency's local time zone (the setting when an agency has none)."""
    names = dict(Agency.objects.filter(pk__in=set(agency_ids)).values_list("pk", "time_zone"))
    return {pk: ZoneInfo(names.get(pk) or settings.BEACON_TIME_ZONE) for pk in set(agency_ids)}


def _hour_of_week(when: dt.datetime, tz: ZoneInfo) -> int:
    local = when.astimezone(tz)
    return 24 * local.weekday() + local.hour


def _parents(as_of: dt.datetime, agency_id: int | None) -> list[FindingDraft]:
    """The current hotspots and repeat locations, recomputed with their default parameters.

    Recomputing (rather than reading open findings) makes the dependent runners independent of
    run order and of what a reviewer has already decided; the cost is one Gi* and one Poisson
    pass, both well under a second on a year of calls.
    """
    premises = [
        draft
        for draft in repeat_locations(as_of=as_of, agency_id=agency_id).drafts
        if draft.location_id is not None and draft.statistics.get("category") is None
    ]
    return [*hotspots(as_of=as_of, agency_id=agency_id).drafts, *premises]


def _parent_calls(
    parent: FindingDraft, start: dt.datetime, end: dt.datetime
) -> list[tuple[int, dt.datetime]]:
    """(pk, received_at) of the parent's calls in [start, end): its location or its cells."""
    qs = _calls(start, end, parent.agency_id)
    if parent.location_id is not None:
        qs = qs.filter(location_id=parent.location_id)
    else:
        qs = qs.filter(h3_r9__in=list(parent.cells))
    return list(qs.order_by("pk").values_list("pk", "received_at"))


def _parent_place(parent: FindingDraft, addresses: Mapping[int, Location]) -> str:
    if parent.location_id is not None:
        return addresses[parent.location_id].display_address
    return f"the hotspot around ({parent.latitude:.5f}, {parent.longitude:.5f})"


# --- time windows ------------------------------------------------------------------------

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
    params = _merge(TIME_WINDOW_DEFAULTS, parameters)
    days = int(params["window_days"])
    start = as_of - dt.timedelta(days=days)
    parents = _parents(as_of, agency_id)
    all_rows = list(
        _calls(start, as_of, agency_id).order_by("pk").values_list("pk", "agency_id", "received_at")
    )
    zones = _time_zones({a for _, a, _ in all_rows} | {p.agency_id for p in parents})
    reference: dict[int, np.ndarray] = defaultdict(lambda: np.zeros(HOURS_PER_WEEK))
    for _, agency, received in all_rows:
        reference[agency][_hour_of_week(received, zones[agency])] += 1
    addresses = Location.objects.in_bulk([p.location_id for p in parents if p.location_id])
    hashed: list[tuple[Any, ...]] = [("all", *row) for row in all_rows]
    drafts: list[FindingDraft] = []
    for parent in parents:
        tz = zones[parent.agency_id]
        calls = _parent_calls(parent, start, as_of)
        hashed.extend((parent.subject_key, pk) for pk, _ in calls)
        if not calls:
            continue
        how = np.array([_hour_of_week(received, tz) for _, received in calls], dtype=np.int64)
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
                        f"jurisdiction's hour-of-week profile); {_p_text(window.p_value)}."
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
        method_version="2",
        parameters=params,
        window_start=start,
        window_end=as_of,
        input_hash=input_hash(hashed),
        drafts=drafts,
    )


# --- trends ------------------------------------------------------------------------------

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
        _calls(start, as_of, agency_id)
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
                    subject_key="area:" + hashlib.sha1(",".join(area.cells).encode()).hexdigest(),  # noqa: S324 - an identity, not security
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
    params = _merge(TREND_DEFAULTS, parameters)
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
            _calls(start, as_of, area.agency_id)
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
                    f"Mann-Kendall tau {mk.tau:.2f}, {_p_text(mk.p)}."
                ),
                cells=area.cells,
                latitude=area.latitude,
                longitude=area.longitude,
                call_ids=tuple(pk for pk, _ in rows[-int(params["max_evidence"]) :]),
            )
        )
    return RunnerOutput(
        method="mann_kendall_weekly_counts",
        method_version="1",
        parameters=params,
        window_start=start,
        window_end=as_of,
        input_hash=input_hash(hashed),
        drafts=drafts,
    )


# --- near repeat -------------------------------------------------------------------------

NEAR_REPEAT_DEFAULTS: dict[str, Any] = {
    "categories": {"burglary": ["BURG-RES", "BURG-COM"]},
    "window_days": 365,
    "space_edges": [0, 100, 200, 400],
    "time_edges": [0, 7, 14, 28],
    "n_perm": 99,
    "seed": 20_240_101,
    "alpha": 0.05,
    "zone_days": 14,
    "max_evidence": 500,
}


def _json_number(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None


def _close_pair_members(
    x: np.ndarray, y: np.ndarray, t: np.ndarray, space_m: float, days: float
) -> set[int]:
    """Indices of events in at least one pair closer than ``space_m`` and ``days`` (the cell)."""
    if x.size < 2:
        return set()
    pairs = cKDTree(np.column_stack([x, y])).query_pairs(r=space_m, output_type="ndarray")
    i, j = pairs[:, 0], pairs[:, 1]
    ok = (np.hypot(x[i] - x[j], y[i] - y[j]) < space_m) & (np.abs(t[i] - t[j]) < days)
    return set(i[ok].tolist()) | set(j[ok].tolist())


def near_repeat(
    *, as_of: dt.datetime, agency_id: int | None, parameters: Mapping[str, Any] | None = None
) -> RunnerOutput:
    """Knox test per agency and category; risk zones where the nearest cell is significant.

    ``categories`` maps a name to call-type codes (default: residential and commercial
    burglary). Each category's located calls of the last ``window_days`` go to ``knox_test``
    (bands ``[e_i, e_i+1)``, fixed seed, so a rerun on the same data gives the same p-values).
    A category is a near-repeat finding when the nearest-space / shortest-time cell has
    p < ``alpha``; the finding then carries zones around each of its calls of the last
    ``zone_days``: radius = the outer edge of the run of significant space bands in the first
    time band, lifetime ``zone_days`` from the call.
    """
    params = _merge(NEAR_REPEAT_DEFAULTS, parameters)
    days = int(params["window_days"])
    start = as_of - dt.timedelta(days=days)
    space_edges = [float(e) for e in params["space_edges"]]
    time_edges = [float(e) for e in params["time_edges"]]
    zone_days = float(params["zone_days"])
    categories: dict[str, list[str]] = {
        str(k): sorted(v) for k, v in dict(params["categories"]).items()
    }
    hashed: list[tuple[Any, ...]] = []
    drafts: list[FindingDraft] = []
    for name, codes in sorted(categories.items()):
        rows = list(
            _calls(start, as_of, agency_id)
            .filter(call_type__code__in=codes, latitude__isnull=False, longitude__isnull=False)
            .order_by("pk")
            .values_list("pk", "agency_id", "latitude", "longitude", "received_at", "h3_r9")
        )
        hashed.extend((name, *row) for row in rows)
        by_agency: dict[int, list[tuple[int, float, float, dt.datetime, str]]] = defaultdict(list)
        for pk, agency, lat, lon, received, cell in rows:
            by_agency[agency].append((pk, lat, lon, received, cell))
        for agency, calls in sorted(by_agency.items()):
            if len(calls) < 3:
                continue
            lat = np.array([c[1] for c in calls])
            lon = np.array([c[2] for c in calls])
            t = np.array([(c[3] - as_of) / dt.timedelta(days=1) for c in calls])
            x, y = project_lonlat(lon, lat)
            knox = knox_test(
                x,
                y,
                t,
                space_edges=space_edges,
                time_edges=time_edges,
                n_perm=int(params["n_perm"]),
                seed=int(params["seed"]),
            )
            p00 = float(knox.p_value[0, 0])
            if p00 >= float(params["alpha"]):
                continue
            n_sig = 0
            while n_sig < len(space_edges) - 1 and knox.p_value[n_sig, 0] < params["alpha"]:
                n_sig += 1
            radius = space_edges[n_sig]
            zones = near_repeat_risk_zones(x, y, t, space_m=radius, days=zone_days, as_of=0.0)
            zone_rows = [
                {
                    "call_id": calls[z.source_index][0],
                    "latitude": round(float(lat[z.source_index]), 6),
                    "longitude": round(float(lon[z.source_index]), 6),
                    "radius_m": radius,
                    "expires_at": (as_of + dt.timedelta(days=z.expires_at)).isoformat(),
                }
                for z in zones
            ]
            # Evidence: every call in a pair inside the significant cells, then the zones' calls.
            members = _close_pair_members(x, y, t, radius, time_edges[1])
            ids = [calls[k][0] for k in sorted(members)]
            ids += [z["call_id"] for z in zone_rows if z["call_id"] not in set(ids)]
            s_labels, t_labels = knox.band_labels()
            obs = int(knox.observed[0, 0])
            exp = float(knox.expected[0, 0])
            ratio = _json_number(float(knox.ratio[0, 0]))
            ratio_text = f"Knox ratio {ratio:.1f}" if ratio is not None else "none expected"
            drafts.append(
                FindingDraft(
                    agency_id=agency,
                    subject_key=f"nearrepeat:{name}",
                    window_start=start,
                    window_end=as_of,
                    statistics={
                        "category": name,
                        "call_types": codes,
                        "n_events": knox.n_events,
                        "n_candidate_pairs": knox.n_candidate_pairs,
                        "space_edges": space_edges,
                        "time_edges": time_edges,
                        "space_bands": s_labels,
                        "time_bands": t_labels,
                        "observed": knox.observed.tolist(),
                        "expected": np.round(knox.expected, 3).tolist(),
                        "ratio": [[_json_number(v) for v in r] for r in knox.ratio.tolist()],
                        "p_value": knox.p_value.tolist(),
                        "p": p00,
                        "n_perm": knox.n_perm,
                        "seed": knox.seed,
                        "zone_radius_m": radius,
                        "zone_days": zone_days,
                        "zones": zone_rows,
                    },
                    explanation=(
                        f"{name.capitalize()} ({', '.join(codes)}), last {days} days: {obs} "
                        f"pairs of the {knox.n_events} calls lie within [{space_edges[0]:g}, "
                        f"{space_edges[1]:g}) m and [{time_edges[0]:g}, {time_edges[1]:g}) days "
                        f"of each other, against {exp:.1f} expected if timing were unrelated "
                        f"to place ({ratio_text}; {_p_text(p00)}, {knox.n_perm} permutations). "
                        f"{len(zone_rows)} risk zone(s): {radius:g} m around each call of the "
                        f"last {zone_days:g} days, for {zone_days:g} days after it."
                    ),
                    cells=tuple(sorted({calls[z.source_index][4] for z in zones} - {""})),
                    call_ids=tuple(ids[: int(params["max_evidence"])]),
                )
            )
    return RunnerOutput(
        method="knox_monte_carlo",
        method_version="1",
        parameters=params,
        window_start=start,
        window_end=as_of,
        input_hash=input_hash(hashed),
        drafts=drafts,
    )


# --- recurring entities and link groups ---------------------------------------------------

ENTITY_DEFAULTS: dict[str, Any] = {"window_days": 180, "min_incidents": 3, "max_evidence": 500}


def entities(
    *, as_of: dt.datetime, agency_id: int | None, parameters: Mapping[str, Any] | None = None
) -> RunnerOutput:
    """Persons and vehicles recurring per involvement role, and linked incidents, per agency.

    Roles stay separate (a victim finding and a suspect finding, never one score per person).
    Link groups connect incidents through shared persons and vehicles only: location nodes
    would chain every incident at a busy address into one group, so places are left out.
    """
    params = _merge(ENTITY_DEFAULTS, parameters)
    days = int(params["window_days"])
    min_n = int(params["min_incidents"])
    cap = int(params["max_evidence"])
    start = as_of - dt.timedelta(days=days)
    on_calls = Involvement.objects.filter(call__received_at__gte=start, call__received_at__lt=as_of)
    on_obs = Involvement.objects.filter(
        observation__observed_at__gte=start, observation__observed_at__lt=as_of
    )
    if agency_id is not None:
        on_calls = on_calls.filter(call__agency_id=agency_id)
        on_obs = on_obs.filter(observation__agency_id=agency_id)
    # (involvement, agency, incident key, entity key, role); keys are ("c"|"o", id), ("p"|"v", id)
    rows: list[tuple[int, int, str, str, str]] = []
    for pk, agency, call, person, vehicle, role in on_calls.values_list(
        "pk", "call__agency_id", "call_id", "person_id", "vehicle_id", "role"
    ):
        ent = f"p{person}" if person is not None else f"v{vehicle}"
        rows.append((pk, agency, f"c{call}", ent, role))
    for pk, agency, obs, person, vehicle, role in on_obs.values_list(
        "pk", "observation__agency_id", "observation_id", "person_id", "vehicle_id", "role"
    ):
        ent = f"p{person}" if person is not None else f"v{vehicle}"
        rows.append((pk, agency, f"o{obs}", ent, role))
    rows.sort()
    out = RunnerOutput(
        method="recurring_entities_link_components",
        method_version="1",
        parameters={**params, "link_nodes": "persons+vehicles"},
        window_start=start,
        window_end=as_of,
        input_hash=input_hash(rows),
    )
    by_agency: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    for _, agency, inc, ent, role in rows:
        by_agency[agency].append((inc, ent, role))
    person_ids = {int(e[1:]) for _, _, _, e, _ in rows if e[0] == "p"}
    vehicle_ids = {int(e[1:]) for _, _, _, e, _ in rows if e[0] == "v"}
    persons = Person.objects.in_bulk(person_ids)
    vehicles = Vehicle.objects.in_bulk(vehicle_ids)

    def evidence(incs: Iterable[str]) -> tuple[tuple[int, ...], tuple[int, ...]]:
        ordered = sorted(incs)
        calls = tuple(sorted(int(i[1:]) for i in ordered if i[0] == "c"))[:cap]
        obs = tuple(sorted(int(i[1:]) for i in ordered if i[0] == "o"))[:cap]
        return calls, obs

    for agency, items in sorted(by_agency.items()):
        inc_keys = sorted({i for i, _, _ in items})
        ent_keys = sorted({e for _, e, _ in items})
        inc_ix = {k: n for n, k in enumerate(inc_keys)}
        ent_ix = {k: n for n, k in enumerate(ent_keys)}
        found = recurring_entities(
            [ent_ix[e] for _, e, _ in items],
            [r for _, _, r in items],
            [inc_ix[i] for i, _, _ in items],
            min_n,
        )
        for rec in found:
            if not rec.flagged:
                continue
            ent = ent_keys[rec.entity_id]
            kind = "person" if ent[0] == "p" else "vehicle"
            label = str(persons[int(ent[1:])] if kind == "person" else vehicles[int(ent[1:])])
            calls, obs = evidence(inc_keys[i] for i in rec.incident_ids)
            out.drafts.append(
                FindingDraft(
                    agency_id=agency,
                    subject_key=f"entity:{kind}:{ent[1:]}:{rec.role}",
                    window_start=start,
                    window_end=as_of,
                    statistics={
                        "entity": kind,
                        "entity_id": int(ent[1:]),
                        "role": rec.role,
                        "incidents": rec.n_incidents,
                        "calls": len(calls),
                        "observations": len(obs),
                        "window_days": days,
                    },
                    explanation=(
                        f"{label} appears as {rec.role} in {rec.n_incidents} reports "
                        f"in the last {days} days."
                    ),
                    call_ids=calls,
                    observation_ids=obs,
                )
            )
        pairs = sorted({(inc_ix[i], ent_ix[e]) for i, e, _ in items})
        groups = link_groups(
            np.array([p[0] for p in pairs], dtype=np.int64),
            np.array([p[1] for p in pairs], dtype=np.int64),
            len(inc_keys),
            len(ent_keys),
            min_incidents=min_n,
        )
        for group in groups:
            members = sorted(inc_keys[i] for i in group.incidents)
            digest = hashlib.sha1("\n".join(members).encode(), usedforsecurity=False)
            n_p = sum(1 for e in group.entities if ent_keys[e][0] == "p")
            n_v = len(group.entities) - n_p
            calls, obs = evidence(members)
            out.drafts.append(
                FindingDraft(
                    agency_id=agency,
                    subject_key=f"links:{digest.hexdigest()}",
                    window_start=start,
                    window_end=as_of,
                    statistics={
                        "incidents": len(members),
                        "persons": n_p,
                        "vehicles": n_v,
                        "person_ids": sorted(
                            int(ent_keys[e][1:]) for e in group.entities if ent_keys[e][0] == "p"
                        ),
                        "vehicle_ids": sorted(
                            int(ent_keys[e][1:]) for e in group.entities if ent_keys[e][0] == "v"
                        ),
                        "window_days": days,
                    },
                    explanation=(
                        f"{len(members)} reports linked through {n_p} persons "
                        f"and {n_v} vehicles in the last {days} days."
                    ),
                    call_ids=calls,
                    observation_ids=obs,
                )
            )
    return out


# The kinds ``analyze`` can run today; the rest print "not implemented yet".
RUNNERS: dict[str, Runner] = {
    FindingKind.REPEAT_LOCATION: repeat_locations,
    FindingKind.HOTSPOT: hotspots,
    FindingKind.TIME_WINDOW: time_windows,
    FindingKind.TREND: trends,
    FindingKind.NEAR_REPEAT: near_repeat,
    FindingKind.ENTITY: entities,
}
