"""Hour-of-week profiles and significant time windows."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from intelligence.analysis.time_windows import (
    chi_square_vs_reference,
    find_time_windows,
    format_days,
    format_window,
    hour_of_week_profile,
)

FRI, SAT = 4, 5


def _planted(rng: np.random.Generator, n_bg: int = 5000, n_extra: int = 500) -> np.ndarray:
    background = rng.integers(0, 168, size=n_bg)
    cells = np.array([24 * d + h for d in (FRI, SAT) for h in range(19, 23)])
    return np.concatenate([background, rng.choice(cells, size=n_extra)])


def test_profile_convention() -> None:
    prof = hour_of_week_profile(np.array([0, 0, 167, 24 * FRI + 19]))
    assert prof.shape == (168,)
    assert prof[0] == 2 and prof[167] == 1 and prof[115] == 1
    with pytest.raises(ValueError, match="hours_of_week"):
        hour_of_week_profile(np.array([168]))
    with pytest.raises(ValueError, match="hours_of_week"):
        hour_of_week_profile(np.array([1.5]))


def test_planted_friday_saturday_evening_is_found() -> None:
    how = _planted(np.random.default_rng(8))
    windows = find_time_windows(how)
    assert len(windows) == 1
    w = windows[0]
    assert w.label == "Fri–Sat 19:00–23:00"  # noqa: RUF001 - the en dash is the intended typography
    assert (w.days, w.start_hour, w.end_hour, w.n_hours) == ((FRI, SAT), 19, 23, 4)
    assert w.expected_share == pytest.approx(8 / 168)
    assert w.count == hour_of_week_profile(how)[list(w.cells)].sum()
    assert w.share == pytest.approx(w.count / how.size)
    assert w.p_value < 1e-10
    _, df, p = chi_square_vs_reference(hour_of_week_profile(how))
    assert df == 167 and p < 1e-10


def test_uniform_data_yields_no_window() -> None:
    assert find_time_windows(np.random.default_rng(0).integers(0, 168, size=5000)) == []
    # BH at 0.05 over a global null: any window at all in at most ~5 % of replicates.
    with_window = sum(
        bool(find_time_windows(np.random.default_rng(s).integers(0, 168, size=3000)))
        for s in range(1, 41)
    )
    assert with_window <= 5


def test_jurisdiction_reference_absorbs_the_shared_pattern() -> None:
    rng = np.random.default_rng(5)
    reference = hour_of_week_profile(_planted(rng, 50_000, 5_000))
    how = _planted(rng)
    assert find_time_windows(how, reference=reference) == []
    assert chi_square_vs_reference(hour_of_week_profile(how), reference)[2] > 0.001


def test_window_wrapping_sunday_to_monday_and_midnight() -> None:
    rng = np.random.default_rng(3)
    cells = np.array([166, 167, 0, 1])  # Sun 22:00 - Mon 02:00
    how = np.concatenate([rng.integers(0, 168, size=4000), rng.choice(cells, size=400)])
    (w,) = find_time_windows(how)
    assert w.label == "Sun 22:00–02:00"  # noqa: RUF001 - the en dash is the intended typography
    assert w.cells == (0, 1, 166, 167)


def test_format_days_and_window() -> None:
    assert format_days([4, 5]) == "Fri–Sat"  # noqa: RUF001 - the en dash is the intended typography
    assert format_days([0, 2, 3, 4]) == "Mon, Wed–Fri"  # noqa: RUF001 - the en dash is the intended typography
    assert format_days([6, 0]) == "Sun–Mon"  # noqa: RUF001 - the en dash is the intended typography
    assert format_days(range(7)) == "Mon–Sun"  # noqa: RUF001 - the en dash is the intended typography
    assert format_window([4, 5], 19, 23) == "Fri–Sat 19:00–23:00"  # noqa: RUF001 - the en dash is the intended typography
    assert format_window([2], 8, 9) == "Wed 08:00–09:00"  # noqa: RUF001 - the en dash is the intended typography
    assert format_window([4], 19, 1, n_hours=30) == "Fri 19:00 for 30 h"
    with pytest.raises(ValueError, match="days"):
        format_days([7])


@settings(max_examples=20, deadline=None)
@given(st.integers(min_value=0, max_value=2**31 - 1))
def test_order_invariance(seed: int) -> None:
    rng = np.random.default_rng(seed)
    how = _planted(rng, 2000, 200)
    assert find_time_windows(how) == find_time_windows(rng.permutation(how))
