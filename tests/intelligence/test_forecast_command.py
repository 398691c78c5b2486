"""``manage.py evaluate_forecast``: reads the right calls, agrees with the pure protocol, checks
its options."""

from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from dispatch.models import CallType
from governance.models import Agency
from intelligence.analysis import forecast
from intelligence.forecasting import call_points
from tests.factories import CallFactory, LocationFactory

START = dt.datetime(2026, 1, 1, 6, 0, tzinfo=dt.UTC)  # midnight in America/Chicago

pytestmark = pytest.mark.django_db


@pytest.fixture
def calls(agency: Agency) -> None:
    """60 days of calls at 12 places ~400 m apart; place i gets i calls every 12 days (0 none)."""
    crime = CallType.objects.create(code="BURG", name="Burglary", category="property")
    places = [
        LocationFactory(latitude=29.42 + 0.004 * (i // 4), longitude=-98.49 + 0.004 * (i % 4))
        for i in range(12)
    ]
    for day in range(60):
        for i, place in enumerate(places):
            if day % 12 < i:
                CallFactory(
                    agency=agency,
                    location=place,
                    call_type=crime if i == 11 else CallType.objects.get(code="DISTURB"),
                    received_at=START + dt.timedelta(days=day, hours=i),
                )


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("evaluate_forecast", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def test_json_report_matches_the_pure_protocol(calls: None) -> None:
    out, err = run("--train-days", "28", "--horizon-days", "7", "--origins", "3", "--json")
    report = json.loads(out)
    assert report["default_method"] == forecast.BEACON_DEFAULT_METHOD
    assert report["parameters"]["budgets"] == [0.01, 0.02, 0.05]
    assert set(report["summary"]) == set(forecast.METHODS)
    assert len(report["origins"]) == 3
    assert "origin 3/3" in err
    # The same numbers straight from the pure functions on the same points.
    pts = call_points()
    grid, events = forecast.prepare(pts.lat, pts.lon, pts.t)
    # The last call is on day 58 (Feb 28): the data end at the next local midnight.
    end = dt.datetime(2026, 3, 1, 6, 0, tzinfo=dt.UTC).timestamp()
    assert report["data_end"] == "2026-03-01T00:00:00-06:00"
    direct = forecast.evaluate(
        grid,
        events,
        forecast.make_methods(forecast.METHODS),
        train_days=28,
        horizon_days=7,
        origins=3,
        end=end,
    ).summary()
    assert report["study_area"]["cells"] == len(grid) == 11
    assert report["calls"] == len(events)
    for method, by_budget in direct.items():
        for budget, row in by_budget.items():
            assert report["summary"][method][str(budget)]["pai"] == pytest.approx(row["pai"])


def test_table_marks_the_default_method(calls: None) -> None:
    out, _ = run("--train-days", "28", "--origins", "2", "--budgets", "10,50")
    assert "10 % = 1 cells, 50 % = 5 cells" in out
    default_rows = [line for line in out.splitlines() if line.startswith("* ")]
    assert default_rows and all(forecast.BEACON_DEFAULT_METHOD in r for r in default_rows)
    assert f"Beacon's default hotspot method: {forecast.BEACON_DEFAULT_METHOD}" in out
    for method in forecast.METHODS:
        assert f" {method} " in out


def test_category_and_agency_select_the_calls(calls: None, agency: Agency) -> None:
    out, _ = run("--category", "property", "--agency", agency.code, "--train-days", "14", "--json")
    report = json.loads(out)
    assert report["study_area"]["cells"] == 1
    assert report["calls"] == len(call_points(category="property").t)
    assert report["parameters"]["category"] == "property"


@pytest.mark.parametrize(
    ("args", "option"),
    [
        (["--budgets", "0,2"], "--budgets"),
        (["--budgets", "one"], "--budgets"),
        (["--methods", "naive,oracle"], "--methods"),
        (["--train-days", "0"], "--train-days"),
        (["--horizon-days", "-1"], "--horizon-days"),
        (["--step-days", "0"], "--step-days"),
        (["--origins", "0"], "--origins"),
        (["--resolution", "16"], "--resolution"),
        (["--kde-bandwidth", "0"], "--kde-bandwidth"),
        (["--space-bands", "0"], "--space-bands"),
        (["--agency", "nowhere"], "--agency"),
        (["--category", "no-such-category"], "--category"),
        (["--train-days", "365"], "--train-days"),
    ],
)
def test_bad_options_name_the_option(calls: None, args: list[str], option: str) -> None:
    with pytest.raises(CommandError, match=option):
        run(*args)
