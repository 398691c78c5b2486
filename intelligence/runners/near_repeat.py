"""Near-repeat runner: the Knox test per category and the risk zones of a significant one."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Mapping
from typing import Any

import numpy as np
from scipy.spatial import cKDTree

from intelligence.analysis.near_repeat import knox_test, near_repeat_risk_zones, project_lonlat
from intelligence.runners.base import (
    FindingDraft,
    RunnerOutput,
    calls_between,
    input_hash,
    json_number,
    merge_parameters,
    p_text,
)

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
    params = merge_parameters(NEAR_REPEAT_DEFAULTS, parameters)
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
            calls_between(start, as_of, agency_id)
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
            ratio = json_number(float(knox.ratio[0, 0]))
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
                        "ratio": [[json_number(v) for v in r] for r in knox.ratio.tolist()],
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
                        f"to place ({ratio_text}; {p_text(p00)}, {knox.n_perm} permutations). "
                        f"{len(zone_rows)} risk zone(s): {radius:g} m around each call of the "
                        f"last {zone_days:g} days, for {zone_days:g} days after it."
                    ),
                    cells=tuple(sorted({calls[z.source_index][4] for z in zones} - {""})),
                    call_ids=tuple(ids[: int(params["max_evidence"])]),
                )
            )
    return RunnerOutput(
        method="knox_monte_carlo",
        method_version="2",
        parameters=params,
        window_start=start,
        window_end=as_of,
        input_hash=input_hash(hashed),
        drafts=drafts,
    )
