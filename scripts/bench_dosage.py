"""Benchmark ``tasking.analysis.dosage.window_dosage`` on a synthetic shift; prints the figures.

    .venv/bin/python scripts/bench_dosage.py                 # 10 units, 12 h, 5-s fixes
    .venv/bin/python scripts/bench_dosage.py --units 30 --hours 24 --repeat 20

Each unit drives a random walk at ~10 m/s around a point (so part of every shift passes through
the area and part is far away), stops in the area for 15 minutes now and then, and drops out for
a few minutes once in a while (gaps longer than ``max_gap_s``). Fixes are shuffled so the sort is
measured too. The area is a 150-m circle, the ring of res-9 H3 cells around the point, and a
~300-m square polygon; the shift is cut into three 4-hour windows. The figure is the median wall
time of ``--repeat`` calls (the machine is shared, so the minimum is printed as well).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import h3
import numpy as np
from shapely.geometry import Polygon

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tasking.analysis.dosage import (
    CellsArea,
    CircleArea,
    PolygonArea,
    window_dosage,
)

LAT, LON = 29.4241, -98.4936  # downtown San Antonio
M_PER_DEG = 111_195.0


def synthetic_tracks(
    units: int, hours: float, step_s: float, spread: float = 1.0, seed: int = 0
) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Random-walk patrol tracks with stops in the area and tracker dropouts (see module doc).

    ``spread`` scales the walk: 1 roams the city, 0.02 keeps every fix within ~100 m of the point
    (the worst case for the H3 area, whose bounding-box pre-filter then skips nothing).
    """
    rng = np.random.default_rng(seed)
    n = int(hours * 3600 / step_s)
    tracks = {}
    for u in range(units):
        heading = np.cumsum(rng.normal(0, 0.3, n))
        speed = np.full(n, 10.0)
        north = np.cumsum(speed * step_s * np.cos(heading))
        east = np.cumsum(speed * step_s * np.sin(heading))
        # Pull the walk back towards the point so units keep crossing the area.
        north -= np.linspace(0, north[-1], n)
        east -= np.linspace(0, east[-1], n)
        north *= spread
        east *= spread
        # Three 15-minute stops per shift in the area (GPS jitter of a few metres), at random times.
        stop = int(900 / step_s)
        for start in rng.integers(0, n - stop, size=3):
            north[start : start + stop] = rng.normal(0, 5, stop)
            east[start : start + stop] = rng.normal(0, 5, stop)
        lat = LAT + north / M_PER_DEG
        lon = LON + east / (M_PER_DEG * math.cos(math.radians(LAT)))
        t = 1_767_225_600.0 + np.arange(n) * step_s + rng.uniform(-1, 1, n)
        keep = np.ones(n, dtype=bool)
        for start in rng.integers(0, n - 60, size=4):  # four ~5-minute dropouts
            keep[start : start + 60] = False
        order = rng.permutation(int(keep.sum()))
        tracks[f"unit{u}"] = (t[keep][order], lat[keep][order], lon[keep][order])
    return tracks


def main() -> None:
    """Time each area type on the synthetic shift and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--units", type=int, default=10)
    parser.add_argument("--hours", type=float, default=12.0)
    parser.add_argument("--step", type=float, default=5.0, help="seconds between fixes")
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()

    for label, spread in (("patrol across the city", 1.0), ("every fix near the area", 0.02)):
        tracks = synthetic_tracks(args.units, args.hours, args.step, spread=spread)
        _bench(label, tracks, args.hours, args.step, args.repeat)


def _areas() -> dict[str, CircleArea | CellsArea | PolygonArea]:
    d_lat, d_lon = 150 / M_PER_DEG, 150 / (M_PER_DEG * math.cos(math.radians(LAT)))
    square = [
        (LON - d_lon, LAT - d_lat),
        (LON + d_lon, LAT - d_lat),
        (LON + d_lon, LAT + d_lat),
        (LON - d_lon, LAT + d_lat),
    ]
    return {
        "circle 150 m": CircleArea(LAT, LON, 150.0),
        "H3 res-9 ring (7 cells)": CellsArea(
            frozenset(h3.grid_disk(h3.latlng_to_cell(LAT, LON, 9), 1))
        ),
        "polygon ~300 m square": PolygonArea(Polygon(square)),
    }


def _bench(label: str, tracks: dict, hours: float, step: float, repeat: int) -> None:
    points = sum(t.size for t, _, _ in tracks.values())
    t0 = min(float(t.min()) for t, _, _ in tracks.values())
    windows = [(t0 + k * 4 * 3600, t0 + (k + 1) * 4 * 3600) for k in range(int(hours // 4))]
    print(
        f"{label}: {len(tracks)} units x {hours:g} h x {step:g}-s fixes = {points:,} fixes, "
        f"{len(windows)} windows, median of {repeat} runs"
    )
    for name, area in _areas().items():
        times = []
        for _ in range(repeat):
            start = time.perf_counter()
            result = window_dosage(tracks, area, windows)
            times.append(time.perf_counter() - start)
        covered = sum(w.covered.seconds for w in result) / 60
        visits = sum(len(w.covered.visits) for w in result)
        print(
            f"  {name:<26} median {statistics.median(times) * 1000:7.1f} ms "
            f"(min {min(times) * 1000:6.1f} ms)  covered {covered:6.1f} min, {visits} visits"
        )


if __name__ == "__main__":
    main()
