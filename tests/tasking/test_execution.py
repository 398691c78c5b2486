"""Dosage through the glue: synthetic AVL tracks (UnitPosition rows) inside and outside an
assignment's area, windows met and unmet, the board's single fix query, and the detail page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from dispatch.models import UnitPosition
from tasking import execution, services
from tests.tasking.conftest import CIRCLE

pytestmark = pytest.mark.django_db

T0 = dt.datetime(2026, 3, 6, 1, 0, tzinfo=dt.UTC)
INSIDE = (CIRCLE["latitude"], CIRCLE["longitude"])
OUTSIDE = (CIRCLE["latitude"] + 0.05, CIRCLE["longitude"])  # about 5.5 km north


def once(start: dt.datetime, hours: float = 1) -> dict:
    return {
        "kind": "once",
        "start": start.isoformat(),
        "end": (start + dt.timedelta(hours=hours)).isoformat(),
    }


def track(unit, start: dt.datetime, minutes: int, where=INSIDE, every_s: int = 30) -> None:
    """Fixes every ``every_s`` seconds for ``minutes`` minutes at one point."""
    UnitPosition.objects.bulk_create(
        UnitPosition(
            unit=unit,
            recorded_at=start + dt.timedelta(seconds=k * every_s),
            latitude=where[0],
            longitude=where[1],
        )
        for k in range(minutes * 60 // every_s + 1)
    )


def make(draft, cast, windows, dosage=None, **extra):  # type: ignore[no-untyped-def]
    a = draft(
        windows=windows, dosage=dosage or {"minutes_per_visit": 15, "visits_per_window": 1}, **extra
    )
    return services.assignment_issue(assignment_id=a.pk, actor=cast["supervisor"])


def test_inside_long_enough_is_met_and_outside_is_not(draft, cast, unit):
    a = make(draft, cast, [once(T0), once(T0 + dt.timedelta(days=1))])
    track(unit, T0 + dt.timedelta(minutes=10), 20)  # 20 minutes parked inside: met
    track(unit, T0 + dt.timedelta(days=1, minutes=5), 40, where=OUTSIDE)  # nearby, never inside
    summary = execution.assignment_dosage(a, now=T0 + dt.timedelta(days=2))
    first, second = summary.rows
    assert (first.met, first.visits, first.covered_minutes) == (True, 1, 20.0)
    assert (second.met, second.visits, second.covered_minutes) == (False, 0, 0.0)
    assert (summary.total, summary.past, summary.met, summary.measured) == (2, 2, 1, True)
    assert summary.as_dict()["next_start"] is None


def test_short_stop_and_two_visits_target(draft, cast, unit):
    a = make(draft, cast, [once(T0, 2)], {"minutes_per_visit": 15, "visits_per_window": 2})
    track(unit, T0 + dt.timedelta(minutes=5), 16)
    track(unit, T0 + dt.timedelta(minutes=30), 5, where=OUTSIDE)
    track(unit, T0 + dt.timedelta(minutes=40), 10)  # second visit too short
    (row,) = execution.assignment_dosage(a, now=T0 + dt.timedelta(hours=3)).rows
    assert (row.visits, row.met) == (2, False)


def test_stop_begun_before_the_window_is_credited_from_its_opening(draft, cast, unit):
    a = make(draft, cast, [once(T0)])
    track(unit, T0 - dt.timedelta(minutes=30), 46)  # until 16 minutes after opening
    (row,) = execution.assignment_dosage(a, now=T0 + dt.timedelta(hours=2)).rows
    assert row.met and row.covered_minutes == 16.0


def test_open_and_upcoming_windows_are_not_judged_yet(draft, cast, unit):
    a = make(draft, cast, [once(T0), once(T0 + dt.timedelta(days=7))])
    track(unit, T0, 5)
    summary = execution.assignment_dosage(a, now=T0 + dt.timedelta(minutes=30))
    assert [(r.state, r.met) for r in summary.rows] == [("open", None), ("upcoming", None)]
    assert (summary.past, summary.met) == (0, 0)
    assert summary.next_start == T0 + dt.timedelta(days=7)


def test_person_assignee_uses_their_units_and_shift_its_units(draft, cast, unit, shift):
    by_name = make(
        draft, cast, [once(T0)], assignee_unit_id=None, assignee_user_id=cast["field"].pk
    )
    track(unit, T0, 20)
    assert execution.assignment_dosage(by_name, now=T0 + dt.timedelta(hours=2)).met == 1
    # The shift's unit (B22) has no fixes: measured, and unmet; the person's unit does not count.
    to_shift = make(draft, cast, [once(T0)], assignee_unit_id=None, assignee_shift_id=shift.pk)
    summary = execution.assignment_dosage(to_shift, now=T0 + dt.timedelta(hours=2))
    assert (summary.measured, summary.met, summary.past) == (True, 0, 1)
    b22 = shift.units.get()
    track(b22, T0 + dt.timedelta(days=1), 20)  # the next day: outside the window, still unmet
    assert execution.assignment_dosage(to_shift, now=T0 + dt.timedelta(hours=2)).met == 0
    track(b22, T0, 20)
    assert execution.assignment_dosage(to_shift, now=T0 + dt.timedelta(hours=2)).met == 1
    # Many at once (the board) agree with one at a time.
    both = execution.dosage_for([by_name, to_shift], now=T0 + dt.timedelta(hours=2))
    assert (both[by_name.pk].met, both[to_shift.pk].met) == (1, 1)
    shift.units.clear()
    bare = execution.assignment_dosage(to_shift, now=T0 + dt.timedelta(hours=2))
    assert (bare.measured, bare.met, bare.past) == (False, 0, 1)


def test_cells_and_polygon_areas(draft, cast, unit):
    import h3

    cell = h3.latlng_to_cell(*INSIDE, 9)
    lat, lon = INSIDE
    square = [
        [lat - 0.001, lon - 0.001],
        [lat - 0.001, lon + 0.001],
        [lat + 0.001, lon + 0.001],
        [lat + 0.001, lon - 0.001],
    ]
    track(unit, T0, 20)
    for area in ({"type": "cells", "cells": [cell]}, {"type": "polygon", "points": square}):
        a = make(draft, cast, [once(T0)], area=area)
        assert execution.assignment_dosage(a, now=T0 + dt.timedelta(hours=2)).met == 1, area


def test_board_loads_all_fixes_in_one_query(draft, cast, unit, other_unit):
    for k in range(4):
        a = make(
            draft,
            cast,
            [once(T0 + dt.timedelta(days=k))],
            assignee_unit_id=(unit, other_unit)[k % 2].pk,
        )
        track(a.assignee_unit, T0 + dt.timedelta(days=k), 20)
    client = Client()
    client.force_login(cast["supervisor"])
    client.get("/tasking/board.json")  # warm caches (roles, sessions)
    with CaptureQueriesContext(connection) as queries:
        rows = client.get("/tasking/board.json").json()["rows"]
    fix_queries = [q for q in queries.captured_queries if "dispatch_unitposition" in q["sql"]]
    assert len(fix_queries) == 1
    assert len(queries.captured_queries) <= 12
    assert all(r["dosage"]["met"] == 1 and r["dosage"]["past"] == 1 for r in rows)


def test_detail_page_shows_windows_for_whoever_may_see_it(draft, cast, unit, other_unit):
    a = make(draft, cast, [once(T0)])
    track(unit, T0, 20)
    for role in ("supervisor", "analyst", "field"):
        client = Client()
        client.force_login(cast[role])
        page = client.get(f"/tasking/{a.pk}/")
        html = page.content.decode()
        assert page.status_code == 200, role
        assert "Be seen on the block" in html and 'class="met"' in html and "1/1" in html
        assert 'id="amap-' in html and "Within 250 m of" in html
    theirs = make(draft, cast, [once(T0)], assignee_unit_id=other_unit.pk)
    client = Client()
    client.force_login(cast["field"])
    assert client.get(f"/tasking/{theirs.pk}/").status_code == 404
    client.force_login(cast["dispatcher"])
    assert client.get(f"/tasking/{a.pk}/").status_code == 404
