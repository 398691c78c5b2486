"""Did the calls fall? The glue behind outcome evaluation: which calls count as target, buffer
and control for a finding, and what the before/after statistics say.

* **Target:** the finding's place - its location's calls, or the calls in its H3 cells; for a
  category finding ("shoplifting at 905 MARKET ST") only that category.
* **Buffer:** the calls within ``BUFFER_RINGS`` H3 rings around the target (about 350 m at
  resolution 9) but outside it: where displaced calls would show up.
* **Control:** every other call of the agency (same category filter): what happened anyway
  (season, a city-wide surge).

Before and after are equal-length periods either side of the response's start. The verdict
comes from the target-vs-control rate ratio's 95 % confidence interval (ratio scale, so a
control far larger than the target is fair); the Poisson E-test on the target alone and the
weighted displacement quotient (buffer) are reported beside it. WDD is not reported: it needs a
control of similar size, and the rest of a jurisdiction is not that. Regression to the mean is
the caveat: a place chosen because it spiked tends to fall anyway, which is why the control
matters and why "fell" is not proof the tasking worked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import h3
from django.db.models import Count, Q

from beacon_core.errors import DomainError
from dispatch.models import Call
from intelligence.analysis.outcomes import (
    poisson_e_test,
    rate_ratio,
    weighted_displacement_quotient,
)
from intelligence.models import Finding

BUFFER_RINGS = 2
MIN_TARGET_CALLS = 10  # below this, before + after at the target is too thin for any verdict


@dataclass(frozen=True, slots=True)
class OutcomeCounts:
    target_before: int
    target_after: int
    buffer_before: int
    buffer_after: int
    control_before: int
    control_after: int


def _place(finding: Finding) -> tuple[Q, set[str], str]:
    """(Q selecting the target's calls, the target's cells, its name in words)."""
    if finding.location_id is not None:
        location = finding.location
        cells = {location.h3_r9} if location.h3_r9 else set()
        return Q(location_id=finding.location_id), cells, location.display_address
    cells = {c for c in (finding.cells or []) if isinstance(c, str) and h3.is_valid_cell(c)}
    if not cells:
        raise DomainError("This finding has no place to evaluate.", field="finding")
    name = (finding.statistics or {}).get("place") or (
        f"the area around ({finding.latitude:.5f}, {finding.longitude:.5f})"
        if finding.latitude is not None and finding.longitude is not None
        else "the finding's area"
    )
    return Q(h3_r9__in=sorted(cells)), cells, str(name)


def outcome_counts(
    finding: Finding, *, before_start: dt.datetime, start: dt.datetime, end: dt.datetime
) -> tuple[OutcomeCounts, str]:
    """Calls of the finding's agency (and category) per area and period, and the place's name."""
    target_q, cells, name = _place(finding)
    buffer_cells = set()
    for cell in cells:
        buffer_cells.update(h3.grid_disk(cell, BUFFER_RINGS))
    buffer_q = Q(h3_r9__in=sorted(buffer_cells)) & ~target_q
    calls = Call.objects.filter(
        agency_id=finding.agency_id, received_at__gte=before_start, received_at__lt=end
    )
    category = (finding.statistics or {}).get("category")
    if finding.kind == "repeat_locations" and category:
        calls = calls.filter(call_type__category=category)
    before, after = Q(received_at__lt=start), Q(received_at__gte=start)
    control_q = ~target_q & ~buffer_q
    # One pass over the agency's calls of both periods, not one query per area and period.
    totals = calls.aggregate(
        target_before=Count("pk", filter=target_q & before),
        target_after=Count("pk", filter=target_q & after),
        buffer_before=Count("pk", filter=buffer_q & before),
        buffer_after=Count("pk", filter=buffer_q & after),
        control_before=Count("pk", filter=control_q & before),
        control_after=Count("pk", filter=control_q & after),
    )
    return OutcomeCounts(**totals), name


def outcome_statistics(
    counts: OutcomeCounts, *, place: str, days: float, start: dt.datetime
) -> tuple[dict[str, Any], str, str]:
    """(statistics, verdict, explanation) for the counts (see the module docstring)."""
    c = counts
    rr = rate_ratio(
        before=c.target_before,
        after=c.target_after,
        control_before=c.control_before,
        control_after=c.control_after,
    )
    _, e_p = poisson_e_test(after=c.target_after, before=c.target_before)
    stats: dict[str, Any] = {
        "days": days,
        "rate_ratio": round(rr.ratio, 4),
        "ci_low": round(rr.ci_low, 4),
        "ci_high": round(rr.ci_high, 4),
        "p": rr.p_value,
        "corrected": rr.corrected,
        "e_test_p": e_p,
        "buffer_rings": BUFFER_RINGS,
    }
    buffer_text = ""
    if c.control_before > 0 and c.control_after > 0:
        wdq = weighted_displacement_quotient(
            target_before=c.target_before,
            target_after=c.target_after,
            buffer_before=c.buffer_before,
            buffer_after=c.buffer_after,
            control_before=c.control_before,
            control_after=c.control_after,
        )
        stats.update(
            wdq=None if wdq.wdq != wdq.wdq else round(wdq.wdq, 4),  # NaN -> None (JSON)
            total_net_effect=round(wdq.total_net_effect, 2),
            displacement=wdq.interpretation,
        )
        buffer_text = (
            f" Nearby (within about {175 * BUFFER_RINGS} m): {c.buffer_before} → "
            f"{c.buffer_after} ({wdq.interpretation})."
        )
    if c.target_before + c.target_after < MIN_TARGET_CALLS:
        verdict = "too few calls"
        claim = "too few calls to say whether the repeat demand changed"
    else:
        verdict = rr.verdict
        claim = {
            "fell": "the repeat demand fell",
            "rose": "the repeat demand rose",
            "no clear change": "no clear change in the repeat demand",
        }[verdict]
    p = "p < 0.001" if rr.p_value < 0.001 else f"p = {rr.p_value:.3f}"
    explanation = (
        f"Calls at {place}: {c.target_before} in the {days:g} days before {start:%Y-%m-%d} and "
        f"{c.target_after} in the {days:g} days after; rate ratio {rr.ratio:.2f} relative to "
        f"the rest of the jurisdiction ({c.control_before} → {c.control_after}), 95 % CI "
        f"{rr.ci_low:.2f} to {rr.ci_high:.2f}, {p}: {claim}.{buffer_text}"
    )
    return stats, verdict, explanation
