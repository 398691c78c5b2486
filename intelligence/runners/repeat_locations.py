"""Repeat-locations runner: premise, block and per-category counts in 7/28/90-day windows,
FDR-controlled Poisson tests, chronic vs spike, one draft per subject.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import numpy as np
from django.db import connection

from dispatch.addressing import block_key
from dispatch.models import Location
from intelligence.analysis.repeat_locations import repeat_locations as analyse_repeats
from intelligence.analysis.time_windows import HOURS_PER_WEEK, scan_time_windows
from intelligence.runners.base import (
    FindingDraft,
    RunnerOutput,
    calls_between,
    first_calls,
    hour_of_week,
    input_hash,
    json_number,
    merge_parameters,
    p_text,
    share,
    shared,
    time_zones,
)

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


class _Place(NamedTuple):
    """The fields of a ``Location`` the runner reads: far cheaper than a model per location."""

    pk: int
    kind: str
    street_line: str
    locality: str
    display_address: str
    latitude: float | None
    longitude: float | None
    h3_r9: str


def _places(pks: list[int]) -> dict[int, _Place]:
    """The places of these ids, in batches the database accepts as one IN list."""
    batch = connection.features.max_query_params or 10_000
    found: dict[int, _Place] = {}
    for i in range(0, len(pks), batch):
        rows = Location.objects.filter(pk__in=pks[i : i + batch]).values_list(*_Place._fields)
        found.update((row[0], _Place(*row)) for row in rows)
    return found


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


def _place_keys(level: str, locations: np.ndarray, places: Mapping[int, _Place]) -> np.ndarray:
    """Each call's place key at this level ("" for a call with no block, e.g. a junction)."""
    if level == "premise":
        return np.array([f"location:{loc}" for loc in locations.tolist()], dtype=object)
    keys = {}
    for pk, place in places.items():
        block = block_key(place.kind, place.street_line)
        keys[pk] = f"block:{place.locality}|{block}" if block else ""
    return np.array([keys[loc] for loc in locations.tolist()], dtype=object)


def _group_rows(keys: np.ndarray, rows: np.ndarray) -> Callable[[str], np.ndarray]:
    """``rows`` grouped by ``keys`` once: a lookup of one key's rows, in their original order.

    Comparing the whole key array with each flagged key costs flagged x rows; one stable sort
    and a slice per key cost rows x log(rows) in all.
    """
    unique, inverse = np.unique(keys, return_inverse=True)
    order = np.argsort(inverse, kind="stable")
    bounds = np.searchsorted(inverse[order], np.arange(unique.size + 1))
    where = {key: n for n, key in enumerate(unique.tolist())}

    def lookup(key: str) -> np.ndarray:
        n = where[key]
        return rows[order[bounds[n] : bounds[n + 1]]]

    return lookup


def _repeat_hits(
    rows: _RepeatRows,
    level: str,
    keys: np.ndarray,
    category: str | None,
    *,
    as_of: dt.datetime,
    history_start: dt.datetime,
    params: Mapping[str, Any],
    with_members: bool = True,
) -> list[_RepeatHit]:
    """BH-controlled repeat test of one level (and one category, or all) for one agency.

    ``with_members=False`` leaves each hit's ``member_rows`` empty, for callers that only need
    which subjects were flagged.
    """
    mask = keys != ""
    if category is not None:
        mask &= rows.categories == category
    if not mask.any():
        return []
    windows = tuple(float(w) for w in params["windows_days"])
    sub_keys = keys[mask].astype(str)
    results = analyse_repeats(
        sub_keys,
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
    if not best:
        return []
    hits = []
    empty = np.empty(0, dtype=np.int64)
    members = _group_rows(sub_keys, member_rows) if with_members else (lambda _key: empty)
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
            "p_trend": json_number(float(result.p_trend[i])),
            "windows": {str(int(ww)): int(res.count[i]) for ww, res in results.items()},
        }
        hits.append(_RepeatHit(level, key, category, int(w), int(i), stats, members(key)))
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


def _peak_window_text(times: list[dt.datetime], tz: ZoneInfo, reference: np.ndarray) -> str:
    """ "; 9 of them Fri-Sat 19:00-23:00" when the calls cluster in a recurring window."""
    if len(times) < 5:
        return ""
    how = np.array([hour_of_week(t, tz) for t in times], dtype=np.int64)
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
    params = merge_parameters(REPEAT_DEFAULTS, parameters)
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
        calls_between(data_start, as_of, agency_id)
        .filter(location__isnull=False)
        .order_by("pk")
        .values_list("pk", "agency_id", "location_id", "received_at", "call_type__category")
    )
    out = RunnerOutput(
        method="repeat_locations_poisson_bh",
        method_version="3",
        parameters=params,
        window_start=data_start,
        window_end=as_of,
        input_hash=input_hash(rows),
    )
    by_agency = _repeat_rows(rows)
    premises: list[tuple[int, int]] = []
    places = _places(sorted({r[2] for r in rows}))
    zones = time_zones(by_agency)
    first_by_agency = first_calls(as_of, agency_id)
    for agency, agency_rows in sorted(by_agency.items()):
        history = first_by_agency[agency]
        tz = zones[agency]
        recent = agency_rows.times >= (as_of - dt.timedelta(days=longest)).timestamp()
        reference = np.zeros(HOURS_PER_WEEK)
        for i in np.flatnonzero(recent).tolist():
            reference[hour_of_week(agency_rows.received[i], tz)] += 1
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
        premises += [
            (agency, int(h.key.removeprefix("location:")))
            for h in hits
            if h.level == "premise" and h.category is None
        ]
        flagged_all = {h.key for h in hits if h.category is None}
        for hit in hits:
            if _redundant(hit, agency_rows, flagged_all, float(params["redundant_share"]), as_of):
                continue
            out.drafts.append(
                _repeat_draft(hit, agency, agency_rows, places, tz, reference, as_of, params)
            )
    if params == REPEAT_DEFAULTS:
        # The time-window run's parents, should it follow in the same shared_results() block.
        share(_premises_key(as_of, agency_id), premises)
    return out


def flagged_premises(*, as_of: dt.datetime, agency_id: int | None) -> list[tuple[int, int]]:
    """(agency, location id) of each premise the default run reports for all calls, in draft order.

    The same test as ``repeat_locations`` with its defaults, restricted to the premise level
    without categories and without building drafts (texts, evidence, peak windows): what the
    dependent runners need to know about their parents. A premise finding for all calls is
    never dropped as redundant, and the chronic cap is per level and category, so this is
    exactly the premise drafts' subjects. Inside ``shared_results()`` a default
    ``repeat_locations`` run for the same ``as_of`` and agency has already offered them.
    """
    return shared(
        _premises_key(as_of, agency_id), lambda: _flagged_premises(as_of=as_of, agency_id=agency_id)
    )


def _premises_key(as_of: dt.datetime, agency_id: int | None) -> tuple[Any, ...]:
    return ("repeat_locations.flagged_premises", as_of, agency_id)


def _flagged_premises(*, as_of: dt.datetime, agency_id: int | None) -> list[tuple[int, int]]:
    params = dict(REPEAT_DEFAULTS)
    longest = max(int(w) for w in params["windows_days"])
    data_start = as_of - dt.timedelta(days=longest + max(int(params["baseline_days"]), longest))
    if "premise" not in params["levels"]:
        return []
    by_agency: dict[int, tuple[list[int], list[float]]] = defaultdict(lambda: ([], []))
    for agency, location, received in (
        calls_between(data_start, as_of, agency_id)
        .filter(location__isnull=False)
        .order_by("pk")
        .values_list("agency_id", "location_id", "received_at")
    ):
        locations, times = by_agency[agency]
        locations.append(location)
        times.append(received.timestamp())
    first_by_agency = first_calls(as_of, agency_id)
    found: list[tuple[int, int]] = []
    for agency, (locations, times) in sorted(by_agency.items()):
        rows = _RepeatRows(
            pks=np.empty(0, dtype=np.int64),
            locations=np.array(locations, dtype=np.int64),
            times=np.array(times, dtype=np.float64),
            categories=np.empty(0, dtype=object),
            received=[],
        )
        hits = _repeat_hits(
            rows,
            "premise",
            _place_keys("premise", rows.locations, {}),
            None,
            as_of=as_of,
            history_start=first_by_agency[agency],
            params=params,
            with_members=False,
        )
        for hit in _cap_chronic(hits, int(params["max_chronic"])):
            found.append((agency, int(hit.key.removeprefix("location:"))))
    return found


def _repeat_draft(
    hit: _RepeatHit,
    agency: int,
    rows: _RepeatRows,
    places: Mapping[int, _Place],
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
            f"{against}; {p_text(stats['p'])}{peak}{leading}."
        ),
        location_id=place.pk if place else None,
        # A block is an area: its places' cells and centre, so maps can outline it.
        cells=() if place else tuple(sorted({m.h3_r9 for m in members if m.h3_r9})),
        latitude=None if place or not members else float(np.mean([m.latitude for m in members])),
        longitude=None if place or not members else float(np.mean([m.longitude for m in members])),
        call_ids=tuple(int(rows.pks[i]) for i in idx[: int(params["max_evidence"])]),
    )
