"""scripts/bench_push.py: the percentile, summary and delivery-check helpers (no server, no timing)."""

from __future__ import annotations

import importlib.util
import math
import sys

from tests.paths import ROOT


def _module():
    spec = importlib.util.spec_from_file_location("bench_push", ROOT / "scripts" / "bench_push.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("bench_push", module)
    spec.loader.exec_module(module)
    return module


bench = _module()


def test_percentile_interpolates_like_numpy():
    values = [10.0, 1.0, 4.0, 7.0]  # unsorted on purpose
    assert bench.percentile(values, 0) == 1.0
    assert bench.percentile(values, 100) == 10.0
    assert bench.percentile(values, 50) == 5.5
    assert math.isclose(bench.percentile(values, 95), 9.55)
    assert bench.percentile([3.0], 99) == 3.0
    assert math.isnan(bench.percentile([], 50))


def test_summary_is_in_milliseconds():
    s = bench.summarize_ms([0.010, 0.020, 0.030])
    assert s["n"] == 3 and s["p50"] == 20.0 and s["max"] == 30.0 and s["mean"] == 20.0
    assert bench.summarize_ms([])["n"] == 0


def test_delivery_check_counts_lost_duplicated_and_misdelivered():
    expected = {101: 0, 102: 1, 103: 2, 104: 3}
    receipts = [
        (0, 101),  # right device, once
        (1, 102),
        (1, 102),  # duplicate
        (0, 103),  # wrong device; 103's own device (2) never gets it: lost
        (3, 104),
        (3, 999),  # not issued in this run
    ]
    c = bench.check_deliveries(expected, receipts)
    assert (c["issued"], c["received"], c["lost"], c["duplicated"]) == (4, 2, 1, 1)
    assert c["misdelivered"] == 2 and not c["ok"]
    clean = bench.check_deliveries(expected, [(d, a) for a, d in expected.items()])
    assert clean["ok"] and clean["received"] == 4


def test_report_names_the_figures():
    summary = bench.summarize_ms([0.012, 0.015])
    run = {
        "workers": 2,
        "devices": 200,
        "devices_connected": 200,
        "connect_s": 1.234,
        "rate": 20.0,
        "delivery": bench.check_deliveries({1: 0}, [(0, 1)]),
        "other_frames": 0,
        "latency_ms": summary,
        "split_ms": {"db": summary, "publish": bench.summarize_ms([]), "deliver": summary},
        "load_before": [1.0, 1.5, 2.0],
        "load_after": [1.1, 1.5, 2.0],
    }
    text = bench.format_run(run)
    assert "workers 2: devices 200/200" in text and "received 1, lost 0" in text
    assert "p95" in text and "db " in text and "publish" not in text
    assert "load before 1.00 1.50 2.00" in text
