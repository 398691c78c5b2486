"""The demo's shifts: a day and a night team for Harbor City and one for the campus.

Written when ``seed_demo`` sends ``demo_seeded`` (dispatch cannot import tasking). Each shift
gets the demo field users and the units of two beats, so an assignment to "Nights" reaches the
phone of ``field2`` and of whoever signs on to 1A31-1A43.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from tasking.models import Shift

# (agency key, name, start, end, members, unit call signs)
DEMO_SHIFTS = (
    ("city", "Days", dt.time(7), dt.time(19), ("field",), ("1A11", "1A12", "1A13", "1A21")),
    ("city", "Nights", dt.time(19), dt.time(7), ("field2",), ("1A22", "1A23", "1A31", "1A32")),
    ("campus", "Campus patrol", dt.time(0), dt.time(0), ("campus",), ("C1", "C2")),
)


def seed_demo_shifts(
    sender: Any, *, agencies: dict[str, Any], users: dict[str, Any], units: dict[str, Any], **_: Any
) -> None:
    """Create the demo shifts, or reset their rosters (a reseed recreates the demo's units)."""
    for key, name, start, end, members, signs in DEMO_SHIFTS:
        agency = agencies.get(key)
        if agency is None:
            continue
        shift, _ = Shift.objects.update_or_create(
            agency=agency, name=name, defaults={"starts_at": start, "ends_at": end, "active": True}
        )
        shift.members.set([users[u] for u in members if u in users])
        shift.units.set([units[s] for s in signs if s in units])
