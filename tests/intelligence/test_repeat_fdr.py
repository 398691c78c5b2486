"""Repeat locations with FDR control, history-aware baselines, chronic vs spike, and blocks."""

from __future__ import annotations

import numpy as np
import pytest

from dispatch.addressing import block_key, normalize_address
from intelligence.analysis.fdr import bh_qvalues
from intelligence.analysis.repeat_locations import DAY_SECONDS, repeat_locations

AS_OF = 400 * DAY_SECONDS


def _uniform(seed: int, n_places: int = 2000, n_events: int = 40_000):
    rng = np.random.default_rng(seed)
    return rng.integers(0, n_places, size=n_events), rng.uniform(0, AS_OF, size=n_events)


def test_a_pattern_free_city_gets_no_flags_with_fdr() -> None:
    # Uncorrected, thousands of tests flag ~alpha of the places by chance; BH flags none.
    keys, times = _uniform(0)
    raw = repeat_locations(keys, times, as_of=AS_OF)
    assert sum(int(r.flagged.sum()) for r in raw.values()) > 20
    for seed in range(3):
        keys, times = _uniform(seed)
        for fdr_result in (
            repeat_locations(keys, times, as_of=AS_OF, fdr=True),
            repeat_locations(keys, times, as_of=AS_OF, fdr=True, require_baseline=False),
        ):
            assert sum(int(r.flagged.sum()) for r in fdr_result.values()) == 0


def test_fdr_q_values_are_bh_over_every_eligible_place_and_window() -> None:
    keys, times = _uniform(1, n_places=300, n_events=6000)
    keys = np.concatenate([keys, np.full(25, 7)])
    times = np.concatenate([times, AS_OF - np.linspace(1, 20, 25) * DAY_SECONDS])
    result = repeat_locations(keys, times, as_of=AS_OF, fdr=True, min_count=3)
    worst = np.concatenate([np.maximum(r.p_baseline, r.p_jurisdiction) for r in result.values()])
    q = np.concatenate([r.q for r in result.values()])
    np.testing.assert_allclose(q, bh_qvalues(worst), equal_nan=True)
    r28 = result[28.0]
    seven = int(np.flatnonzero(r28.keys == 7)[0])
    assert r28.flagged[seven] and r28.spike[seven]
    assert int(r28.flagged.sum()) == 1


def test_a_chronic_place_is_flagged_only_when_the_baseline_is_not_required() -> None:
    keys, times = _uniform(2, n_places=300, n_events=6000)
    busy = np.linspace(0, AS_OF - 1, 1500)  # steady: ~100 calls every 28 days, all year
    keys = np.concatenate([keys, np.full(busy.size, 9)])
    times = np.concatenate([times, busy])
    both = repeat_locations(keys, times, as_of=AS_OF, fdr=True)[28.0]
    nine = int(np.flatnonzero(both.keys == 9)[0])
    assert not both.flagged[nine]  # nothing unusual against its own past
    chronic = repeat_locations(keys, times, as_of=AS_OF, fdr=True, require_baseline=False)[28.0]
    assert chronic.flagged[nine] and not chronic.spike[nine]


def test_history_start_cuts_the_baseline_and_drops_windows_without_history() -> None:
    # 60 days of data: the 90-day window has no history before it and is left out; the 28-day
    # baseline is the 32 days that exist, not a year of zeros.
    start = AS_OF - 60 * DAY_SECONDS
    keys = np.array([1] * 32 + [2] * 28)
    times = np.concatenate(
        [
            start + np.arange(32) * DAY_SECONDS + 3600,  # one a day before the window
            AS_OF - (np.arange(28) + 0.5) * DAY_SECONDS,  # one a day in it
        ]
    )
    result = repeat_locations(
        keys, times, as_of=AS_OF, windows_days=(7, 28, 90), history_start=start
    )
    assert set(result) == {7.0, 28.0}
    r = result[28.0]
    one = int(np.flatnonzero(r.keys == 1)[0])
    # Place 1: 32 calls over the 32-day baseline -> expected 28 in 28 days.
    assert r.expected_baseline[one] == pytest.approx(28.0)
    two = int(np.flatnonzero(r.keys == 2)[0])
    assert (r.trend[one], r.trend[two]) == ("falling", "rising")


@pytest.mark.parametrize(
    ("raw", "block"),
    [
        ("412 Front St", "400 BLOCK FRONT ST"),
        ("4XX FRONT ST", "400 BLOCK FRONT ST"),
        ("99 Elm St", "0 BLOCK ELM ST"),
        ("1210 Willow St #204", "1200 BLOCK WILLOW ST"),
        ("Main St & 4th St", None),
    ],
)
def test_block_key_puts_premises_and_block_addresses_on_one_block(
    raw: str, block: str | None
) -> None:
    address = normalize_address(raw)
    assert block_key(address.kind, address.street_line) == block
