"""Shared by every runner: the draft and output shapes, input hashing, parameter merging, and
the small readers and formatters the runners have in common.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import numpy as np
from django.conf import settings
from django.db.models import Min

from dispatch.models import Call
from governance.models import Agency


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

T = TypeVar("T")

# Results one runner computes and another needs, shared only inside ``shared_results()``.
_SHARED: ContextVar[dict[tuple[Any, ...], Any] | None] = ContextVar("runner_shared", default=None)


@contextmanager
def shared_results() -> Iterator[None]:
    """Inside the block, runners reuse each other's intermediate results for the same inputs.

    For a sequence of runs over the same ``as_of`` in one process (the embedded nightly
    fan-out, the bench): e.g. the repeat-location run's flagged premises are the time-window
    run's parents, so the latter need not read a year of calls again. Only results that depend
    on the calls, ``as_of`` and the agency alone are shared, never ones that depend on open
    findings; everything is forgotten when the block ends.
    """
    token = _SHARED.set({})
    try:
        yield
    finally:
        _SHARED.reset(token)


def shared(key: tuple[Any, ...], compute: Callable[[], T]) -> T:
    """``compute()``, or its value from earlier in the enclosing ``shared_results()`` block."""
    memo = _SHARED.get()
    if memo is None:
        return compute()
    if key not in memo:
        memo[key] = compute()
    return memo[key]


def share(key: tuple[Any, ...], value: Any) -> None:
    """Offer ``value`` under ``key`` to later runs in the enclosing ``shared_results()`` block."""
    memo = _SHARED.get()
    if memo is not None:
        memo[key] = value


# Rows per hashed slice: bounds the text held at once (a million rows is ~100 MB of repr).
_HASH_SLICE = 50_000


def input_hash(rows: Iterable[Iterable[Any]]) -> str:
    """sha256 of the sorted input rows, so a run's input can be recognised later.

    The rows are sorted as tuples (by their string form when their values do not compare, e.g.
    None beside a number) and hashed as Python's ``repr`` of consecutive slices: deterministic
    for the ints, floats, strings, None and aware datetimes the runners read, and one C-level
    call per slice instead of one JSON string per row (4 s per million rows before).
    """
    ordered = [tuple(row) for row in rows]
    try:
        ordered.sort()
    except TypeError:
        ordered.sort(key=lambda row: [str(v) for v in row])
    digest = hashlib.sha256()
    for i in range(0, len(ordered), _HASH_SLICE):
        digest.update(repr(ordered[i : i + _HASH_SLICE]).encode())
    return digest.hexdigest()


def merge_parameters(
    defaults: Mapping[str, Any], given: Mapping[str, Any] | None
) -> dict[str, Any]:
    unknown = set(given or {}) - set(defaults)
    if unknown:
        raise ValueError(f"parameters: unknown {', '.join(sorted(unknown))}")
    return {**defaults, **(given or {})}


def calls_between(start: dt.datetime, end: dt.datetime, agency_id: int | None) -> Any:
    qs = Call.objects.filter(received_at__gte=start, received_at__lt=end)
    return qs if agency_id is None else qs.filter(agency_id=agency_id)


def p_text(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def first_calls(as_of: dt.datetime, agency_id: int | None) -> dict[int, dt.datetime]:
    """Each agency's first call before ``as_of``: where its history, and any baseline, begins."""
    before = Call.objects.filter(received_at__lt=as_of)
    if agency_id is not None:
        before = before.filter(agency_id=agency_id)
    return dict(
        before.values("agency_id")
        .annotate(first=Min("received_at"))
        .values_list("agency_id", "first")
    )


def time_zones(agency_ids: Iterable[int]) -> dict[int, ZoneInfo]:
    """Each agency's local time zone (the setting when an agency has none)."""
    names = dict(Agency.objects.filter(pk__in=set(agency_ids)).values_list("pk", "time_zone"))
    return {pk: ZoneInfo(names.get(pk) or settings.BEACON_TIME_ZONE) for pk in set(agency_ids)}


def hour_of_week(when: dt.datetime, tz: ZoneInfo) -> int:
    local = when.astimezone(tz)
    return 24 * local.weekday() + local.hour


def json_number(value: float) -> float | None:
    return float(value) if np.isfinite(value) else None
