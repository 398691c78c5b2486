"""``manage.py analyze`` on Harbor City demo data finds the planted hot areas and repeat premises."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from dispatch.demo.generator import DemoPlan, distance_m, generate
from dispatch.demo.writer import seed_write
from intelligence.choices import FindingStatus, RunStatus
from intelligence.models import AnalysisRun, Finding

ANCHOR = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)
DAYS = 60


@pytest.fixture
def demo(reference_data: None) -> DemoPlan:
    plan = generate(seed=7, days=DAYS, anchor=ANCHOR, time_zone="America/Chicago")
    seed_write(plan, now=ANCHOR)
    return plan


def _analyze(*args: str) -> str:
    out = io.StringIO()
    call_command("analyze", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


@pytest.mark.django_db
def test_analyze_all_json_finds_planted_hot_areas_and_repeat_premises(demo: DemoPlan) -> None:
    payload = json.loads(_analyze("all", "--as-of", ANCHOR.isoformat(), "--json"))
    assert set(payload) == {"runs", "findings"}
    assert {r["kind"] for r in payload["runs"]} == {
        "hotspots",
        "repeat_locations",
        "time_windows",
        "trends",
        "near_repeat",
        "entities",
    }
    assert all(r["status"] == RunStatus.SUCCEEDED for r in payload["runs"])
    for f in payload["findings"]:
        assert {"id", "kind", "subject", "statistics", "explanation", "status"} <= set(f)
        assert f["status"] == FindingStatus.PROPOSED and f["explanation"]

    areas = [f for f in payload["findings"] if f["kind"] == "hotspots"]
    assert areas
    for f in areas:
        assert f["subject"]["cells"] and f["subject"]["latitude"] is not None
        assert {"n_cells", "calls", "max_z", "min_p"} <= set(f["statistics"])
    near = [
        (hot.name, f["id"])
        for hot in demo.hot_areas
        for f in areas
        if distance_m(
            f["subject"]["latitude"], f["subject"]["longitude"], hot.latitude, hot.longitude
        )
        < 400
    ]
    assert near, "no hotspot within 400 m of a planted hot area"

    places = [f for f in payload["findings"] if f["kind"] == "repeat_locations"]
    assert places
    for f in places:
        s = f["statistics"]
        assert {"count", "expected", "p", "q", "window_days", "level", "place"} <= set(s)
        if s["level"] == "premise":
            assert f["subject"]["address"] and f["subject"]["type"] == "location"
        else:  # a hundred block is an area: its cells and centre
            assert s["place"].split()[1] == "BLOCK" and f["subject"]["cells"]
    assert {f["statistics"]["level"] for f in places} == {"premise", "block"}
    places = [f for f in places if f["statistics"]["level"] == "premise"]
    planted = {
        (round(demo.locations[i].latitude, 6), round(demo.locations[i].longitude, 6))
        for premise in demo.problem_premises
        for i in (premise.location, *premise.sub_locations)
    }
    found = {
        (round(f["subject"]["latitude"], 6), round(f["subject"]["longitude"], 6)) for f in places
    }
    assert planted & found, "no planted repeat premise among the repeat-location findings"

    # Idempotent: the same command on the same data proposes nothing new.
    again = json.loads(_analyze("all", "--as-of", ANCHOR.isoformat(), "--json"))
    assert sorted(f["id"] for f in again["findings"]) == sorted(
        f["id"] for f in payload["findings"]
    )
    assert all(r["counts"]["created"] == 0 for r in again["runs"])
    assert Finding.objects.count() == len(payload["findings"])


@pytest.mark.django_db
def test_analyze_prints_a_table_and_filters_by_agency(demo: DemoPlan) -> None:
    text = _analyze("repeat_locations", "--as-of", ANCHOR.isoformat(), "--agency", "default")
    assert "repeat_locations: run" in text and "created" in text
    assert " calls in 28 days at " in text
    run = AnalysisRun.objects.get()
    assert run.agency is not None and run.agency.code == "default"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["hotspots", "--as-of", "2026-03-01T00:00:00"], "--as-of"),
        (["hotspots", "--as-of", "yesterday"], "--as-of"),
        (["hotspots", "--agency", "nope"], "--agency"),
    ],
)
def test_bad_arguments_are_refused_without_a_run(args: list[str], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        _analyze(*args)
    assert not AnalysisRun.objects.exists()
