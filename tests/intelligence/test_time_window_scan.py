"""The BH-controlled window scan: pooled day-set x hour-block windows."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from intelligence.analysis.time_windows import (
    DEFAULT_DAY_SETS,
    HOURS_PER_WEEK,
    find_time_windows,
    hour_of_week_profile,
    scan_time_windows,
)

FRI, SAT = 4, 5


def _weekday_afternoons(rng: np.random.Generator, n_bg: int, n_extra: int) -> np.ndarray:
    """Uniform background plus events spread over Mon-Fri 15:00-18:00."""
    days = rng.integers(0, 5, size=n_extra)
    hours = rng.integers(15, 18, size=n_extra)
    return np.concatenate([rng.integers(0, HOURS_PER_WEEK, size=n_bg), 24 * days + hours])


def test_candidate_day_sets_are_the_ones_rosters_use() -> None:
    labels = {tuple(sorted(s)) for s in DEFAULT_DAY_SETS}
    assert (0, 1, 2, 3, 4) in labels  # Mon-Fri
    assert (FRI, SAT) in labels and (5, 6) in labels and (0, 6) in labels  # Sun-Mon wraps
    assert (4, 5, 6) in labels and tuple(range(7)) in labels
    assert len(DEFAULT_DAY_SETS) == 29


def test_a_weekday_pattern_too_thin_per_hour_is_found_pooled() -> None:
    how = _weekday_afternoons(np.random.default_rng(1), 160, 40)
    # The per-cell test sees 15 thin cells and misses the pattern ...
    assert all(w.n_hours * len(w.days) < 15 for w in find_time_windows(how))
    # ... the scan finds the pooled window exactly.
    [w] = scan_time_windows(how)
    assert (w.days, w.start_hour, w.end_hour, w.n_hours) == ((0, 1, 2, 3, 4), 15, 18, 3)
    assert w.label == "Mon\u2013Fri 15:00\u201318:00"
    assert w.count == hour_of_week_profile(how)[list(w.cells)].sum()
    assert w.expected_share == pytest.approx(15 / 168)
    assert w.p_value == pytest.approx(stats.binom.sf(w.count - 1, how.size, 15 / 168))


def test_two_separate_patterns_give_two_disjoint_windows() -> None:
    rng = np.random.default_rng(4)
    bar = 24 * rng.choice([FRI, SAT], size=120) + rng.integers(19, 23, size=120)
    how = np.concatenate([_weekday_afternoons(rng, 600, 80), bar])
    windows = scan_time_windows(how)
    labels = [w.label for w in windows]
    assert "Fri\u2013Sat 19:00\u201323:00" in labels and "Mon\u2013Fri 15:00\u201318:00" in labels
    cells = [set(w.cells) for w in windows]
    assert all(a.isdisjoint(b) for i, a in enumerate(cells) for b in cells[i + 1 :])
    assert [w.p_value for w in windows] == sorted(w.p_value for w in windows)


def test_uniform_data_rarely_yields_a_window() -> None:
    # BH over a global null controls the chance of any window at ~alpha.
    hits = sum(
        bool(scan_time_windows(np.random.default_rng(s).integers(0, 168, size=400)))
        for s in range(60)
    )
    assert hits <= 6


def test_the_reference_profile_absorbs_a_pattern_the_whole_jurisdiction_shares() -> None:
    rng = np.random.default_rng(2)
    how = _weekday_afternoons(rng, 300, 80)
    reference = hour_of_week_profile(_weekday_afternoons(rng, 3000, 800)).astype(float)
    assert scan_time_windows(how)
    assert scan_time_windows(how, reference=reference + 0.5) == []


def test_bad_arguments_name_the_parameter() -> None:
    how = np.array([1, 2, 3])
    with pytest.raises(ValueError, match="alpha"):
        scan_time_windows(how, alpha=0)
    with pytest.raises(ValueError, match="max_hours"):
        scan_time_windows(how, max_hours=25)
    with pytest.raises(ValueError, match="day_sets"):
        scan_time_windows(how, day_sets=[(7,)])
    assert scan_time_windows(np.array([], dtype=np.int64)) == []
