"""When an assignment is due: window specs, their expansion into UTC intervals, and their JSON form.

Two kinds of window spec:

* ``OneOffWindow(start, end)``: aware datetimes, stored in UTC; ``end > start``.
* ``RecurringWindow``: on each local date ``d`` with ``first_date <= d < first_date + 7 * weeks``
  whose weekday (Monday = 0) is in ``weekdays``, a window opening at the local wall-clock time
  ``start_hour:start_minute`` and closing at the wall-clock time ``duration_minutes`` later
  (naive wall-clock arithmetic, so 22:00 + 240 min closes at 02:00 the next day: windows may
  cross midnight; the day named is the day a window *opens*, as in ``intelligence.analysis
  .time_windows``). ``first_date`` need not be one of the weekdays.

Expansion (``expand``) turns specs into ``Interval``s: half-open ``[start, end)`` in UTC, sorted by
(start, end), an identical (start, end) produced by two specs kept once.

Daylight saving: both ends of a recurring window are local wall-clock times, so a shift keeps
its local hours all year, and on a DST-change night its *real* length differs from the nominal
one; ``Interval.seconds`` is the real length and ``Interval.nominal_seconds`` the wall-clock one.
A wall time that happens twice (clocks go back) means its first occurrence (PEP 495 ``fold=0``);
a wall time that never happens (clocks go forward) means the instant the clocks jump, i.e. the
first instant that exists after it. Thus in America/Chicago on the spring-forward night
(2026-03-08, 02:00 CST -> 03:00 CDT) a 22:00-03:00 window is 5 h nominal and 4 h real, and
01:00-03:00 is 1 h real; on the fall-back night (2026-11-01, 02:00 CDT -> 01:00 CST) 22:00-02:00
is 5 h real and a 01:30 opening is the first 01:30 (CDT). A window lying
entirely inside the skipped hour has no real length and is dropped.

JSON form (what the Django model stores; ``parse_windows`` / ``windows_to_json``)::

    [{"kind": "once", "start": "2026-03-06T01:00:00+00:00", "end": "2026-03-06T05:00:00+00:00"},
     {"kind": "weekly", "weekdays": [4, 5], "start": "19:00", "duration_minutes": 240,
      "first_date": "2026-03-06", "weeks": 4, "time_zone": "America/Chicago"}]

Errors are ``ValueError``s whose message starts with the offending field,
e.g. ``"windows[1].weekdays: ..."``.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from intelligence.analysis.time_windows import format_days

__all__ = [
    "MAX_DURATION_MINUTES",
    "MAX_WEEKS",
    "Interval",
    "OneOffWindow",
    "RecurringWindow",
    "WindowSpec",
    "describe",
    "expand",
    "parse_windows",
    "suggest_from_statistics",
    "suggest_from_time_window",
    "windows_to_json",
]

# A day at most: longer "windows" are rosters, not patrol windows, and this keeps the windows of
# one recurring spec from overlapping each other.
MAX_DURATION_MINUTES = 24 * 60
# Two years; a guard against a typo expanding into thousands of windows.
MAX_WEEKS = 104

_DASH = "\u2013"
_HHMM = re.compile(r"([01]\d|2[0-3]):([0-5]\d)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _int(value: Any, name: str) -> int:
    # bool is an int subclass; true/false in JSON is a mistake, not 1/0.
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{name}: expected an integer, got {value!r}")
    return value


def _zone(name: str, field: str = "time_zone") -> ZoneInfo:
    if not isinstance(name, str) or not name:
        raise ValueError(f"{field}: expected an IANA time zone name, got {name!r}")
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(f"{field}: unknown IANA time zone {name!r}") from exc


@dataclass(frozen=True, slots=True)
class OneOffWindow:
    """A single window between two aware datetimes; normalised to UTC."""

    start: dt.datetime
    end: dt.datetime

    def __post_init__(self) -> None:
        for name in ("start", "end"):
            value = getattr(self, name)
            if not isinstance(value, dt.datetime):
                raise ValueError(f"{name}: expected a datetime, got {value!r}")
            if value.tzinfo is None or value.utcoffset() is None:
                raise ValueError(f"{name}: needs a time zone (aware datetime), got {value!r}")
            object.__setattr__(self, name, value.astimezone(dt.UTC))
        if self.end <= self.start:
            raise ValueError(f"end: must be after start ({self.start} .. {self.end})")


@dataclass(frozen=True, slots=True)
class RecurringWindow:
    """The same local hours on some weekdays, for ``weeks`` weeks from ``first_date``."""

    weekdays: tuple[int, ...]
    start_hour: int
    start_minute: int
    duration_minutes: int
    first_date: dt.date
    weeks: int
    time_zone: str

    def __post_init__(self) -> None:
        if isinstance(self.weekdays, str | bytes) or not isinstance(self.weekdays, Iterable):
            raise ValueError(
                f"weekdays: expected a list of 0..6 (0 = Monday), got {self.weekdays!r}"
            )
        days = [_int(d, "weekdays") for d in self.weekdays]
        if not days or min(days) < 0 or max(days) > 6:
            raise ValueError(f"weekdays: need one or more of 0..6 (0 = Monday), got {days!r}")
        object.__setattr__(self, "weekdays", tuple(sorted(set(days))))
        if not 0 <= _int(self.start_hour, "start_hour") <= 23:
            raise ValueError(f"start_hour: expected 0..23, got {self.start_hour!r}")
        if not 0 <= _int(self.start_minute, "start_minute") <= 59:
            raise ValueError(f"start_minute: expected 0..59, got {self.start_minute!r}")
        if not 0 < _int(self.duration_minutes, "duration_minutes") <= MAX_DURATION_MINUTES:
            raise ValueError(
                f"duration_minutes: expected 1..{MAX_DURATION_MINUTES}, got {self.duration_minutes!r}"
            )
        # datetime is a date subclass; a datetime here would silently drop its time.
        if not isinstance(self.first_date, dt.date) or isinstance(self.first_date, dt.datetime):
            raise ValueError(f"first_date: expected a date, got {self.first_date!r}")
        if not 1 <= _int(self.weeks, "weeks") <= MAX_WEEKS:
            raise ValueError(f"weeks: expected 1..{MAX_WEEKS}, got {self.weeks!r}")
        _zone(self.time_zone)


WindowSpec = OneOffWindow | RecurringWindow


@dataclass(frozen=True, slots=True)
class Interval:
    """One concrete window, ``[start, end)`` in UTC; ``spec_index`` is the spec it came from."""

    start: dt.datetime
    end: dt.datetime
    nominal_seconds: float
    spec_index: int

    @property
    def seconds(self) -> float:
        """Real (elapsed) length; differs from ``nominal_seconds`` across a DST change."""
        return (self.end - self.start).total_seconds()

    @property
    def epoch(self) -> tuple[float, float]:
        """(start, end) as Unix epoch seconds, the time base of ``dosage``."""
        return self.start.timestamp(), self.end.timestamp()


def _local_to_utc(wall: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """Resolve a naive local wall time: first occurrence if repeated, the jump if skipped."""
    utc = wall.replace(tzinfo=tz, fold=0).astimezone(dt.UTC)
    if utc.astimezone(tz).replace(tzinfo=None) == wall:
        return utc
    # Skipped: fold=1 reads the wall time with the post-jump offset (an instant before the jump),
    # fold=0 with the pre-jump offset (an instant after it). Bisect whole seconds for the jump;
    # zoneinfo transitions fall on whole seconds.
    lo = int(wall.replace(tzinfo=tz, fold=1).timestamp())
    hi = int(utc.timestamp())
    before = dt.datetime.fromtimestamp(lo, tz).utcoffset()
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if dt.datetime.fromtimestamp(mid, tz).utcoffset() == before:
            lo = mid
        else:
            hi = mid
    return dt.datetime.fromtimestamp(hi, dt.UTC)


def _expand_recurring(spec: RecurringWindow, index: int) -> list[Interval]:
    tz = ZoneInfo(spec.time_zone)
    opens = dt.time(spec.start_hour, spec.start_minute)
    length = dt.timedelta(minutes=spec.duration_minutes)
    out: list[Interval] = []
    for k in range(7 * spec.weeks):
        day = spec.first_date + dt.timedelta(days=k)
        if day.weekday() not in spec.weekdays:
            continue
        wall = dt.datetime.combine(day, opens)
        start, end = _local_to_utc(wall, tz), _local_to_utc(wall + length, tz)
        if end > start:
            out.append(Interval(start, end, length.total_seconds(), index))
    return out


def expand(specs: Iterable[WindowSpec]) -> list[Interval]:
    """All concrete intervals of ``specs``, sorted by (start, end); see the module docstring."""
    seen: dict[tuple[dt.datetime, dt.datetime], Interval] = {}
    for index, spec in enumerate(specs):
        if isinstance(spec, OneOffWindow):
            produced = [
                Interval(spec.start, spec.end, (spec.end - spec.start).total_seconds(), index)
            ]
        elif isinstance(spec, RecurringWindow):
            produced = _expand_recurring(spec, index)
        else:
            raise ValueError(f"specs[{index}]: expected a OneOffWindow or RecurringWindow")
        for interval in produced:
            # Listing the same window twice is still one window to patrol and to evaluate.
            seen.setdefault((interval.start, interval.end), interval)
    return sorted(seen.values(), key=lambda i: (i.start, i.end, i.spec_index))


def describe(spec: WindowSpec) -> str:
    """Text for people, e.g. "Fri-Sat 19:00-23:00 for 4 weeks from 2026-03-06 (America/Chicago)"."""
    if isinstance(spec, OneOffWindow):
        return f"{spec.start:%Y-%m-%d %H:%M}{_DASH}{spec.end:%Y-%m-%d %H:%M} UTC"
    start = spec.start_hour * 60 + spec.start_minute
    if spec.duration_minutes == MAX_DURATION_MINUTES:
        hours = f"{spec.start_hour:02d}:{spec.start_minute:02d}+24h"
    else:
        end = (start + spec.duration_minutes) % MAX_DURATION_MINUTES
        hours = f"{start // 60:02d}:{start % 60:02d}{_DASH}{end // 60:02d}:{end % 60:02d}"
    weeks = "1 week" if spec.weeks == 1 else f"{spec.weeks} weeks"
    return (
        f"{format_days(spec.weekdays)} {hours} for {weeks} from "
        f"{spec.first_date.isoformat()} ({spec.time_zone})"
    )


# --- JSON form -----------------------------------------------------------------------------

_ONCE_KEYS = frozenset({"kind", "start", "end"})
_WEEKLY_KEYS = frozenset(
    {"kind", "weekdays", "start", "duration_minutes", "first_date", "weeks", "time_zone"}
)


def _parse_datetime(value: Any, where: str) -> dt.datetime:
    if not isinstance(value, str):
        raise ValueError(f"{where}: expected an ISO 8601 string, got {value!r}")
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{where}: not an ISO 8601 datetime: {value!r}") from exc
    if parsed.tzinfo is None:
        raise ValueError(f"{where}: needs a UTC offset (e.g. +00:00), got {value!r}")
    return parsed


def _parse_one(item: Any, where: str) -> WindowSpec:
    if not isinstance(item, Mapping):
        raise ValueError(f"{where}: expected an object, got {type(item).__name__}")
    kind = item.get("kind")
    if kind not in ("once", "weekly"):
        raise ValueError(f"{where}.kind: expected 'once' or 'weekly', got {kind!r}")
    allowed = _ONCE_KEYS if kind == "once" else _WEEKLY_KEYS
    # Unknown keys are refused so a typo ("weekday") cannot silently fall back to a default.
    for key in sorted(set(item) - allowed, key=str):
        raise ValueError(f"{where}.{key}: unknown field for a {kind!r} window")
    for key in sorted(allowed - set(item)):
        raise ValueError(f"{where}.{key}: missing")
    try:
        if kind == "once":
            return OneOffWindow(
                _parse_datetime(item["start"], f"{where}.start"),
                _parse_datetime(item["end"], f"{where}.end"),
            )
        weekdays = item["weekdays"]
        if not isinstance(weekdays, list):
            raise ValueError(f"weekdays: expected a list of 0..6 (0 = Monday), got {weekdays!r}")
        start = item["start"]
        match = _HHMM.fullmatch(start) if isinstance(start, str) else None
        if match is None:
            raise ValueError(f"start: expected local time 'HH:MM' (00:00..23:59), got {start!r}")
        first = item["first_date"]
        if not isinstance(first, str) or not _DATE.fullmatch(first):
            raise ValueError(f"first_date: expected 'YYYY-MM-DD', got {first!r}")
        try:
            first_date = dt.date.fromisoformat(first)
        except ValueError as exc:
            raise ValueError(f"first_date: not a calendar date: {first!r}") from exc
        return RecurringWindow(
            weekdays=tuple(weekdays),
            start_hour=int(match.group(1)),
            start_minute=int(match.group(2)),
            duration_minutes=item["duration_minutes"],
            first_date=first_date,
            weeks=item["weeks"],
            time_zone=item["time_zone"],
        )
    except ValueError as exc:
        message = str(exc)
        # Field-level messages from the dataclasses name the field alone; prefix the position.
        raise ValueError(message if message.startswith(where) else f"{where}.{message}") from exc


def parse_windows(data: Any) -> tuple[WindowSpec, ...]:
    """Window specs from their JSON form (a list; empty is allowed and expands to nothing)."""
    if not isinstance(data, list):
        raise ValueError(f"windows: expected a list of window objects, got {type(data).__name__}")
    return tuple(_parse_one(item, f"windows[{i}]") for i, item in enumerate(data))


def windows_to_json(specs: Sequence[WindowSpec]) -> list[dict[str, Any]]:
    """The JSON form of ``specs``; ``parse_windows(windows_to_json(s)) == tuple(s)``."""
    out: list[dict[str, Any]] = []
    for spec in specs:
        if isinstance(spec, OneOffWindow):
            out.append(
                {"kind": "once", "start": spec.start.isoformat(), "end": spec.end.isoformat()}
            )
        else:
            out.append(
                {
                    "kind": "weekly",
                    "weekdays": list(spec.weekdays),
                    "start": f"{spec.start_hour:02d}:{spec.start_minute:02d}",
                    "duration_minutes": spec.duration_minutes,
                    "first_date": spec.first_date.isoformat(),
                    "weeks": spec.weeks,
                    "time_zone": spec.time_zone,
                }
            )
    return out


# --- From a time-window finding ------------------------------------------------------------


def suggest_from_time_window(
    days: Sequence[int],
    start_hour: int,
    end_hour: int,
    weeks: int,
    *,
    first_date: dt.date,
    time_zone: str,
    n_hours: int | None = None,
) -> RecurringWindow:
    """A recurring spec covering a time-window finding's hours, for ``weeks`` weeks.

    ``days``, ``start_hour``, ``end_hour`` (end-exclusive, so 22 -> 2 crosses midnight) and
    ``n_hours`` are the finding's statistics of the same names. ``end_hour == start_hour`` is read
    as 24 hours (the scan never reports an empty window); ``n_hours``, if given, must agree.
    """
    if isinstance(days, str | bytes) or not isinstance(days, Iterable):
        raise ValueError(f"days: expected a list of 0..6 (0 = Monday), got {days!r}")
    if not 0 <= _int(start_hour, "start_hour") <= 23:
        raise ValueError(f"start_hour: expected 0..23, got {start_hour!r}")
    if not 0 <= _int(end_hour, "end_hour") <= 23:
        raise ValueError(f"end_hour: expected 0..23, got {end_hour!r}")
    hours = (end_hour - start_hour) % 24 or 24
    if n_hours is not None and _int(n_hours, "n_hours") != hours:
        raise ValueError(
            f"n_hours: {n_hours!r} disagrees with {start_hour}:00-{end_hour}:00 ({hours} h)"
        )
    try:
        return RecurringWindow(
            weekdays=tuple(days),
            start_hour=start_hour,
            start_minute=0,
            duration_minutes=hours * 60,
            first_date=first_date,
            weeks=weeks,
            time_zone=time_zone,
        )
    except ValueError as exc:
        # Name the argument the caller passed, not the dataclass field it fed.
        message = str(exc)
        if message.startswith("weekdays:"):
            message = "days:" + message.removeprefix("weekdays:")
        raise ValueError(message) from exc


def suggest_from_statistics(
    statistics: Mapping[str, Any], *, first_date: dt.date, weeks: int
) -> RecurringWindow:
    """``suggest_from_time_window`` fed from a time-window finding's ``statistics`` dict.

    Reads ``days``, ``start_hour``, ``end_hour``, ``n_hours`` and ``time_zone`` (the keys
    ``intelligence.runners.time_windows`` writes).
    """
    for key in ("days", "start_hour", "end_hour", "time_zone"):
        if key not in statistics:
            raise ValueError(f"statistics.{key}: missing")
    try:
        return suggest_from_time_window(
            statistics["days"],
            statistics["start_hour"],
            statistics["end_hour"],
            weeks,
            first_date=first_date,
            time_zone=statistics["time_zone"],
            n_hours=statistics.get("n_hours"),
        )
    except ValueError as exc:
        message = str(exc)
        if message.split(":", 1)[0] in ("days", "start_hour", "end_hour", "n_hours", "time_zone"):
            message = f"statistics.{message}"
        raise ValueError(message) from exc
