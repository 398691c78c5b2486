"""scripts/synthetic_calls.py: valid rows, the intended concentration, and determinism (5k calls)."""

from __future__ import annotations

import datetime as dt
import importlib.util
import sys

import numpy as np
import pytest

from dispatch.models import Call, Involvement, Location
from tests.paths import ROOT

N = 5_000
END = dt.datetime(2026, 7, 1, tzinfo=dt.UTC)


def _module():
    spec = importlib.util.spec_from_file_location(
        "synthetic_calls", ROOT / "scripts" / "synthetic_calls.py"
    )
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("synthetic_calls", module)
    spec.loader.exec_module(module)
    return module


synthetic = _module()


def test_plan_is_deterministic_and_skewed() -> None:
    a = synthetic.generate(N, seed=3, end=END)
    b = synthetic.generate(N, seed=3, end=END)
    assert np.array_equal(a.call_loc, b.call_loc)
    assert np.array_equal(a.call_time, b.call_time)
    assert a.loc_address == b.loc_address
    assert len(set(a.loc_address)) == len(a.loc_address)
    # a year of calls, in time order, ending before END
    assert np.all(np.diff(a.call_time) >= 0)
    assert END.timestamp() - 366 * 86_400 <= a.call_time[0] < a.call_time[-1] < END.timestamp()
    # roughly half the calls at the busiest 5 % of places (1 % of calls have no place)
    assert 0.3 < synthetic.top_share(a.call_loc, a.loc_lat.size) < 0.7
    assert 0.005 < np.mean(a.call_loc < 0) < 0.02
    # the generated city at 100k is closer to the target than the small one
    big = synthetic.generate(100_000, seed=3, end=END)
    assert 0.42 < synthetic.top_share(big.call_loc, big.loc_lat.size) < 0.58


@pytest.mark.django_db
def test_written_rows_are_valid() -> None:
    plan = synthetic.generate(N, seed=4, end=END)
    counts = synthetic.write(plan, progress=False)
    assert counts["calls"] == N == Call.objects.count()
    assert Location.objects.filter(locality=plan.locality).count() == plan.loc_lat.size
    assert Involvement.objects.count() == counts["involvements"] > N // 10
    for call in Call.objects.order_by("pk")[:: N // 40]:
        call.full_clean()
        assert call.status in {"closed", "cancelled"}
        if call.status == "closed":
            assert (
                call.received_at
                < call.dispatched_at
                < call.en_route_at
                < call.on_scene_at
                < call.cleared_at
                < call.closed_at
            )
        else:
            assert call.cancelled_at > call.received_at and call.closed_at is None
        if call.location_id:
            assert call.h3_r9 == call.location.h3_r9 and call.latitude == call.location.latitude
    for location in Location.objects.all()[:: max(1, plan.loc_lat.size // 40)]:
        location.full_clean()
        assert location.h3_r9 and location.address_key
    for involvement in Involvement.objects.all()[:: max(1, counts["involvements"] // 40)]:
        involvement.full_clean()
    numbers = list(Call.objects.values_list("number", flat=True))
    assert len(set(numbers)) == N
    assert Call.objects.filter(call_type__code__in=["BURG-RES", "BURG-COM"]).exists()
    # the same seed twice in one database is refused rather than duplicated
    with pytest.raises(SystemExit):
        synthetic.write(plan, progress=False)
