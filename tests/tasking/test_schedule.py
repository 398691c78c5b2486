"""Window specs: DST-correct expansion, midnight crossing, the JSON form, finding suggestions."""

from __future__ import annotations

import datetime as dt
import itertools
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tasking.analysis.schedule import (
    MAX_DURATION_MINUTES,
    Interval,
    OneOffWindow,
    RecurringWindow,
    describe,
    expand,
    parse_windows,
    suggest_from_statistics,
    suggest_from_time_window,
    windows_to_json,
)

CHICAGO = "America/Chicago"
UTC = dt.UTC
FRI, SAT, SUN = 4, 5, 6
HOUR = 3600.0


def utc(*args: int) -> dt.datetime:
    return dt.datetime(*args, tzinfo=UTC)


def weekly(
    weekdays: tuple[int, ...],
    hour: int,
    minutes: int,
    first: dt.date,
    weeks: int = 1,
    minute: int = 0,
    tz: str = CHICAGO,
) -> RecurringWindow:
    return RecurringWindow(weekdays, hour, minute, minutes, first, weeks, tz)


# --- Expansion -----------------------------------------------------------------------------


def test_fri_sat_evenings_for_four_weeks_in_winter() -> None:
    # 2026-01-02 is a Friday; CST is UTC-6 throughout January.
    spec = weekly((FRI, SAT), 19, 240, dt.date(2026, 1, 2), weeks=4)
    out = expand([spec])
    assert len(out) == 8
    assert out[0] == Interval(utc(2026, 1, 3, 1), utc(2026, 1, 3, 5), 4 * HOUR, 0)
    assert out[1].start == utc(2026, 1, 4, 1)  # Saturday 19:00 CST
    assert out[-1].start == utc(2026, 1, 25, 1)  # fourth Saturday (Jan 24) 19:00 CST
    assert all(i.seconds == 4 * HOUR for i in out)
    assert [i.start for i in out] == sorted(i.start for i in out)


def test_first_date_need_not_be_a_window_day_and_range_is_end_exclusive() -> None:
    # From Wednesday 2026-01-07 for 1 week: dates Jan 7..13; Fri 9 and Sat 10 only.
    out = expand([weekly((FRI, SAT), 19, 60, dt.date(2026, 1, 7))])
    assert [i.start for i in out] == [utc(2026, 1, 10, 1), utc(2026, 1, 11, 1)]
    # From Saturday 2026-01-10 for 1 week: Sat 10 and Fri 16 (Sat 17 is day 8, excluded).
    out = expand([weekly((FRI, SAT), 19, 60, dt.date(2026, 1, 10))])
    assert [i.start for i in out] == [utc(2026, 1, 11, 1), utc(2026, 1, 17, 1)]


def test_window_crossing_midnight_ends_next_local_day() -> None:
    out = expand([weekly((FRI,), 22, 240, dt.date(2026, 1, 2))])
    # Fri 22:00 CST = Sat 04:00 UTC; Sat 02:00 CST = Sat 08:00 UTC.
    assert out == [Interval(utc(2026, 1, 3, 4), utc(2026, 1, 3, 8), 4 * HOUR, 0)]
    assert describe(weekly((FRI,), 22, 240, dt.date(2026, 1, 2))).startswith("Fri 22:00\u201302:00")


def test_local_hours_are_kept_across_dst() -> None:
    # Weekly Monday 19:00 from 2026-03-02 (CST) over the 2026-03-08 change: 19:00 CDT after.
    out = expand([weekly((0,), 19, 60, dt.date(2026, 3, 2), weeks=2)])
    assert [i.start for i in out] == [utc(2026, 3, 3, 1), utc(2026, 3, 10, 0)]


def test_spring_forward_night_real_length() -> None:
    sat = dt.date(2026, 3, 7)  # clocks go 02:00 CST -> 03:00 CDT early on Sunday 2026-03-08
    (w,) = expand([weekly((SAT,), 22, 300, sat)])  # 22:00-03:00
    assert (w.start, w.end) == (utc(2026, 3, 8, 4), utc(2026, 3, 8, 8))
    assert w.nominal_seconds == 5 * HOUR and w.seconds == 4 * HOUR
    (w,) = expand([weekly((SAT,), 22, 240, sat)])  # 22:00-02:00: 02:00 is the jump itself
    assert (w.start, w.end) == (utc(2026, 3, 8, 4), utc(2026, 3, 8, 8))
    assert w.seconds == 4 * HOUR
    sun = dt.date(2026, 3, 8)
    (w,) = expand([weekly((SUN,), 1, 120, sun)])  # 01:00-03:00 is one real hour
    assert (w.start, w.end) == (utc(2026, 3, 8, 7), utc(2026, 3, 8, 8))
    # Opening in the skipped hour: it opens when the clocks jump.
    (w,) = expand([weekly((SUN,), 2, 60, sun, minute=30)])  # 02:30-03:30
    assert (w.start, w.end) == (utc(2026, 3, 8, 8), utc(2026, 3, 8, 8, 30))
    # Wholly inside the skipped hour: no real length, dropped.
    assert expand([weekly((SUN,), 2, 20, sun, minute=10)]) == []


def test_fall_back_night_real_length() -> None:
    sat = dt.date(2026, 10, 31)  # clocks go 02:00 CDT -> 01:00 CST early on Sunday 2026-11-01
    (w,) = expand([weekly((SAT,), 22, 240, sat)])  # 22:00 CDT - 02:00 CST
    assert (w.start, w.end) == (utc(2026, 11, 1, 3), utc(2026, 11, 1, 8))
    assert w.nominal_seconds == 4 * HOUR and w.seconds == 5 * HOUR
    # 01:30 happens twice: the first (CDT) is meant.
    (w,) = expand([weekly((SUN,), 1, 15, dt.date(2026, 11, 1), minute=30)])
    assert (w.start, w.end) == (utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 6, 45))
    # 01:30-02:00 runs from the first 01:30 (CDT) to 02:00 CST: 90 real minutes.
    (w,) = expand([weekly((SUN,), 1, 30, dt.date(2026, 11, 1), minute=30)])
    assert (w.start, w.end) == (utc(2026, 11, 1, 6, 30), utc(2026, 11, 1, 8))


def test_one_off_normalised_to_utc_and_sorted_with_recurring() -> None:
    cst = ZoneInfo(CHICAGO)
    once = OneOffWindow(
        dt.datetime(2026, 1, 2, 8, tzinfo=cst), dt.datetime(2026, 1, 2, 9, 30, tzinfo=cst)
    )
    assert once.start.tzinfo is UTC and once.start == utc(2026, 1, 2, 14)
    out = expand([weekly((FRI,), 19, 60, dt.date(2026, 1, 2)), once])
    assert [(i.start, i.spec_index) for i in out] == [
        (utc(2026, 1, 2, 14), 1),
        (utc(2026, 1, 3, 1), 0),
    ]
    assert out[0].seconds == out[0].nominal_seconds == 5400.0
    assert out[0].epoch == (utc(2026, 1, 2, 14).timestamp(), utc(2026, 1, 2, 15, 30).timestamp())


def test_identical_windows_from_two_specs_are_one_window() -> None:
    spec = weekly((FRI,), 19, 60, dt.date(2026, 1, 2))
    out = expand([spec, spec])
    assert len(out) == 1 and out[0].spec_index == 0


def test_describe() -> None:
    spec = weekly((FRI, SAT), 19, 240, dt.date(2026, 3, 6), weeks=4)
    assert describe(spec) == (
        "Fri\u2013Sat 19:00\u201323:00 for 4 weeks from 2026-03-06 (America/Chicago)"
    )
    assert describe(weekly((0,), 6, 1440, dt.date(2026, 3, 2))).startswith(
        "Mon 06:00+24h for 1 week"
    )


# --- Validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"weekdays": ()}, "weekdays"),
        ({"weekdays": (7,)}, "weekdays"),
        ({"weekdays": (True,)}, "weekdays"),
        ({"start_hour": 24}, "start_hour"),
        ({"start_minute": 60}, "start_minute"),
        ({"duration_minutes": 0}, "duration_minutes"),
        ({"duration_minutes": MAX_DURATION_MINUTES + 1}, "duration_minutes"),
        ({"first_date": dt.datetime(2026, 1, 2, tzinfo=UTC)}, "first_date"),
        ({"weeks": 0}, "weeks"),
        ({"weeks": 105}, "weeks"),
        ({"time_zone": "Mars/Olympus"}, "time_zone"),
        ({"time_zone": ""}, "time_zone"),
    ],
)
def test_recurring_bad_fields_name_the_field(kwargs: dict, field: str) -> None:
    base = {
        "weekdays": (FRI,),
        "start_hour": 19,
        "start_minute": 0,
        "duration_minutes": 60,
        "first_date": dt.date(2026, 1, 2),
        "weeks": 1,
        "time_zone": CHICAGO,
    }
    with pytest.raises(ValueError, match=rf"^{field}: "):
        RecurringWindow(**{**base, **kwargs})


def test_one_off_bad_inputs() -> None:
    with pytest.raises(ValueError, match=r"^start: needs a time zone"):
        OneOffWindow(dt.datetime(2026, 1, 2), utc(2026, 1, 3))  # noqa: DTZ001
    with pytest.raises(ValueError, match=r"^end: must be after start"):
        OneOffWindow(utc(2026, 1, 3), utc(2026, 1, 3))


# --- JSON form -----------------------------------------------------------------------------

GOOD_WEEKLY = {
    "kind": "weekly",
    "weekdays": [4, 5],
    "start": "19:00",
    "duration_minutes": 240,
    "first_date": "2026-03-06",
    "weeks": 4,
    "time_zone": CHICAGO,
}
GOOD_ONCE = {"kind": "once", "start": "2026-03-06T01:00:00+00:00", "end": "2026-03-06T05:00:00Z"}


def test_parse_and_format_round_trip() -> None:
    specs = parse_windows([GOOD_ONCE, GOOD_WEEKLY])
    assert specs == (
        OneOffWindow(utc(2026, 3, 6, 1), utc(2026, 3, 6, 5)),
        RecurringWindow((4, 5), 19, 0, 240, dt.date(2026, 3, 6), 4, CHICAGO),
    )
    as_json = windows_to_json(specs)
    assert as_json[1] == GOOD_WEEKLY
    assert as_json[0]["end"] == "2026-03-06T05:00:00+00:00"
    assert parse_windows(as_json) == specs
    assert parse_windows([]) == ()


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"weekdays": [4, 9]}, r"^windows\[1\]\.weekdays: "),
        ({"weekdays": "4,5"}, r"^windows\[1\]\.weekdays: "),
        ({"start": "7pm"}, r"^windows\[1\]\.start: "),
        ({"start": "24:00"}, r"^windows\[1\]\.start: "),
        ({"duration_minutes": "240"}, r"^windows\[1\]\.duration_minutes: "),
        ({"duration_minutes": 2000}, r"^windows\[1\]\.duration_minutes: "),
        ({"first_date": "2026-02-30"}, r"^windows\[1\]\.first_date: "),
        ({"first_date": "20260306"}, r"^windows\[1\]\.first_date: "),
        ({"weeks": 0}, r"^windows\[1\]\.weeks: "),
        ({"time_zone": "CST"}, r"^windows\[1\]\.time_zone: "),
        ({"kind": "monthly"}, r"^windows\[1\]\.kind: "),
        ({"weekday": [4]}, r"^windows\[1\]\.weekday: unknown field"),
    ],
)
def test_parse_errors_name_the_field(change: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_windows([GOOD_ONCE, {**GOOD_WEEKLY, **change}])


def test_parse_errors_for_one_off_and_shape() -> None:
    with pytest.raises(ValueError, match=r"^windows: expected a list"):
        parse_windows({"kind": "once"})
    with pytest.raises(ValueError, match=r"^windows\[0\]: expected an object"):
        parse_windows(["once"])
    with pytest.raises(ValueError, match=r"^windows\[0\]\.end: missing"):
        parse_windows([{"kind": "once", "start": GOOD_ONCE["start"]}])
    with pytest.raises(ValueError, match=r"^windows\[0\]\.start: needs a UTC offset"):
        parse_windows([{**GOOD_ONCE, "start": "2026-03-06T01:00:00"}])
    with pytest.raises(ValueError, match=r"^windows\[0\]\.end: must be after start"):
        parse_windows([{**GOOD_ONCE, "end": GOOD_ONCE["start"]}])
    with pytest.raises(ValueError, match=r"^windows\[0\]\.weeks: missing"):
        parse_windows([{k: v for k, v in GOOD_WEEKLY.items() if k != "weeks"}])


# --- Suggestions from a time-window finding ------------------------------------------------


def test_suggest_from_time_window() -> None:
    spec = suggest_from_time_window(
        [4, 5], 19, 23, 4, first_date=dt.date(2026, 3, 6), time_zone=CHICAGO
    )
    assert spec == RecurringWindow((4, 5), 19, 0, 240, dt.date(2026, 3, 6), 4, CHICAGO)
    late = suggest_from_time_window(
        [4], 22, 2, 2, first_date=dt.date(2026, 3, 6), time_zone=CHICAGO
    )
    assert late.duration_minutes == 240  # crosses midnight
    whole = suggest_from_time_window(
        [4], 6, 6, 1, first_date=dt.date(2026, 3, 6), time_zone=CHICAGO, n_hours=24
    )
    assert whole.duration_minutes == 1440


def test_suggest_from_statistics_reads_runner_keys() -> None:
    statistics = {
        "days": [4, 5],
        "start_hour": 19,
        "end_hour": 23,
        "n_hours": 4,
        "label": "Fri\u2013Sat 19:00\u201323:00",
        "time_zone": CHICAGO,
    }
    spec = suggest_from_statistics(statistics, first_date=dt.date(2026, 3, 6), weeks=4)
    assert describe(spec).startswith(statistics["label"])
    with pytest.raises(ValueError, match=r"^statistics\.n_hours: "):
        suggest_from_statistics(
            {**statistics, "n_hours": 5}, first_date=dt.date(2026, 3, 6), weeks=4
        )
    with pytest.raises(ValueError, match=r"^statistics\.time_zone: missing"):
        suggest_from_statistics(
            {k: v for k, v in statistics.items() if k != "time_zone"},
            first_date=dt.date(2026, 3, 6),
            weeks=4,
        )


@pytest.mark.parametrize(
    ("args", "field"),
    [
        (([], 19, 23, 4), "days"),
        (([8], 19, 23, 4), "days"),
        (([4], 24, 2, 4), "start_hour"),
        (([4], 19, -1, 4), "end_hour"),
        (([4], 19, 23, 0), "weeks"),
    ],
)
def test_suggest_bad_inputs(args: tuple, field: str) -> None:
    with pytest.raises(ValueError, match=rf"^{field}: "):
        suggest_from_time_window(*args, first_date=dt.date(2026, 3, 6), time_zone=CHICAGO)


# --- Properties ----------------------------------------------------------------------------

ZONES = st.sampled_from([CHICAGO, "Europe/London", "Australia/Lord_Howe", "UTC", "Asia/Kolkata"])


@st.composite
def recurring(draw: st.DrawFn) -> RecurringWindow:
    return RecurringWindow(
        weekdays=tuple(draw(st.sets(st.integers(0, 6), min_size=1))),
        start_hour=draw(st.integers(0, 23)),
        start_minute=draw(st.integers(0, 59)),
        duration_minutes=draw(st.integers(1, MAX_DURATION_MINUTES)),
        first_date=draw(st.dates(dt.date(2024, 1, 1), dt.date(2027, 12, 31))),
        weeks=draw(st.integers(1, 8)),
        time_zone=draw(ZONES),
    )


@settings(max_examples=60, deadline=None)
@given(spec=recurring())
def test_expansion_properties(spec: RecurringWindow) -> None:
    out = expand([spec])
    tz = ZoneInfo(spec.time_zone)
    assert [(i.start, i.end) for i in out] == sorted((i.start, i.end) for i in out)
    # At most one window per matching date; fewer only when a window fell in a skipped hour.
    assert len(out) <= len(spec.weekdays) * spec.weeks
    for i in out:
        assert i.start.tzinfo is UTC and i.end > i.start
        # DST shifts the real length by at most the zone's largest jump (1 h; 30 min Lord Howe).
        assert abs(i.seconds - i.nominal_seconds) <= HOUR
        local = i.start.astimezone(tz)
        assert spec.first_date <= local.date() < spec.first_date + dt.timedelta(weeks=spec.weeks)
        assert local.weekday() in spec.weekdays
    # One spec's windows never overlap each other (duration is capped at a day).
    assert all(a.end <= b.start for a, b in itertools.pairwise(out))
    assert parse_windows(windows_to_json([spec])) == (spec,)
