"""Outcome statistics: reference §4.6 test vectors, zeros, verdicts."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from intelligence.analysis.outcomes import (
    poisson_e_test,
    rate_ratio,
    verdict_from_interval,
    weighted_displacement_difference,
    weighted_displacement_quotient,
)


def test_irr_reference_vector_with_control() -> None:
    # Reference §4.6 (Wilson 2021 via Wheeler): treated 50 -> 30, control 60 -> 55.
    r = rate_ratio(before=50, after=30, control_before=60, control_after=55)
    assert r.ratio == pytest.approx(0.6545, abs=5e-5)
    assert r.log_ratio == pytest.approx(-0.4238, abs=5e-5)
    assert r.se_log == pytest.approx(0.297, abs=5e-4)
    assert r.ci_low == pytest.approx(math.exp(-0.4238 - 1.959964 * r.se_log), rel=1e-3)
    assert r.ci_high == pytest.approx(math.exp(-0.4238 + 1.959964 * r.se_log), rel=1e-3)
    assert r.ci_low < r.ratio < r.ci_high
    # The CI includes 1 (upper edge ~1.17), so this is not a clear fall.
    assert r.verdict == "no clear change"
    assert not r.corrected


def test_irr_without_control_and_exposure() -> None:
    r = rate_ratio(before=200, after=100)
    assert r.ratio == pytest.approx(0.5)
    assert r.se_log == pytest.approx(math.sqrt(1 / 200 + 1 / 100))
    assert r.verdict == "fell"
    # Twice as long an after-period at the same count halves the rate.
    r2 = rate_ratio(before=100, after=100, exposure_before=1.0, exposure_after=2.0)
    assert r2.ratio == pytest.approx(0.5)
    assert rate_ratio(before=100, after=200).verdict == "rose"


def test_irr_zero_uses_continuity_correction() -> None:
    r = rate_ratio(before=10, after=0)
    assert r.corrected
    assert r.ratio == pytest.approx(0.5 / 10.5)
    assert r.se_log == pytest.approx(math.sqrt(1 / 0.5 + 1 / 10.5))
    assert math.isfinite(r.ci_low) and math.isfinite(r.ci_high)
    assert r.verdict == "fell"
    # Tiny counts rarely show a clear change (the reference's e-test warning).
    assert rate_ratio(before=2, after=0).verdict == "no clear change"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"before": -1, "after": 2}, "before"),
        ({"before": 1, "after": math.nan}, "after"),
        ({"before": 1, "after": 2, "control_before": 3}, "control_before/control_after"),
        ({"before": 1, "after": 2, "exposure_after": 0}, "exposure_after"),
        ({"before": 1, "after": 2, "confidence": 1.0}, "confidence"),
    ],
)
def test_irr_bad_input_names_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        rate_ratio(**kwargs)


def test_wdd_ptools_vector() -> None:
    # ptools README: wdd(c(20,20), c(20,10)) -> WDD -10, SE 8.3666, Z -1.195229, 90% CI -23.76..3.76
    r = weighted_displacement_difference(
        treated_before=20, treated_after=10, control_before=20, control_after=20, confidence=0.90
    )
    assert r.wdd == -10
    assert r.se == pytest.approx(8.3666, abs=5e-5)
    assert r.z == pytest.approx(-1.195229, abs=5e-7)
    assert r.ci_low == pytest.approx(-23.76, abs=5e-3)
    assert r.ci_high == pytest.approx(3.76, abs=5e-3)
    assert r.verdict == "no clear change"


def test_wdd_crimede_coder_vector() -> None:
    # control 100 -> 90, treated 100 -> 80: WDD -10, SE sqrt(370) = 19.235
    r = weighted_displacement_difference(
        treated_before=100, treated_after=80, control_before=100, control_after=90
    )
    assert r.wdd == -10
    assert r.se == pytest.approx(19.235, abs=5e-4)


def test_wdd_with_buffer_terms() -> None:
    r = weighted_displacement_difference(
        treated_before=100,
        treated_after=40,
        control_before=100,
        control_after=100,
        buffer_before=50,
        buffer_after=55,
        buffer_control_before=50,
        buffer_control_after=50,
    )
    assert r.wdd == -60 + 5
    assert r.se == pytest.approx(math.sqrt(100 + 40 + 100 + 100 + 50 + 55 + 50 + 50))
    assert r.verdict == "fell"
    with pytest.raises(ValueError, match="variance"):
        weighted_displacement_difference(
            treated_before=0, treated_after=0, control_before=0, control_after=0
        )


def test_wdq_definition() -> None:
    # A 100 -> 50, B 80 -> 90, C 200 -> 200.
    r = weighted_displacement_quotient(
        target_before=100,
        target_after=50,
        buffer_before=80,
        buffer_after=90,
        control_before=200,
        control_after=200,
    )
    assert r.success_measure == pytest.approx(50 / 200 - 100 / 200)
    assert r.buffer_measure == pytest.approx(90 / 200 - 80 / 200)
    assert r.wdq == pytest.approx(-0.2)
    assert r.total_net_effect == pytest.approx((100 - 50) + (80 - 90))
    assert r.interpretation == "displacement"


def test_wdq_diffusion_no_success_and_zero_control() -> None:
    r = weighted_displacement_quotient(
        target_before=100,
        target_after=50,
        buffer_before=80,
        buffer_after=60,
        control_before=100,
        control_after=110,
    )
    assert r.wdq > 0
    assert r.interpretation == "diffusion of benefits"
    # TNE scales the before counts by the control's change.
    assert r.total_net_effect == pytest.approx((100 * 1.1 - 50) + (80 * 1.1 - 60))
    r2 = weighted_displacement_quotient(
        target_before=50,
        target_after=50,
        buffer_before=10,
        buffer_after=10,
        control_before=100,
        control_after=100,
    )
    assert math.isnan(r2.wdq)
    assert r2.interpretation == "no success in the target area"
    with pytest.raises(ValueError, match="control_before"):
        weighted_displacement_quotient(
            target_before=1,
            target_after=1,
            buffer_before=1,
            buffer_after=1,
            control_before=0,
            control_after=1,
        )


def test_verdict_edges() -> None:
    assert verdict_from_interval(0.5, 0.99, 1.0) == "fell"
    assert verdict_from_interval(0.5, 1.0, 1.0) == "no clear change"
    assert verdict_from_interval(1.01, 2.0, 1.0) == "rose"


counts = st.integers(min_value=0, max_value=10_000)


@given(counts, counts)
def test_irr_ci_contains_estimate_and_swap_inverts(b: int, a: int) -> None:
    r = rate_ratio(before=b, after=a)
    assert r.ci_low <= r.ratio <= r.ci_high
    inv = rate_ratio(before=a, after=b)
    assert inv.ratio == pytest.approx(1.0 / r.ratio, rel=1e-9)
    assert inv.ci_low == pytest.approx(1.0 / r.ci_high, rel=1e-9)


def test_poisson_e_test_ptools_vector() -> None:
    # ptools README: e_test(6, 2) -> p = 0.1748748
    stat, p = poisson_e_test(after=6, before=2)
    assert p == pytest.approx(0.1748748, abs=5e-8)
    assert stat == pytest.approx(math.sqrt(2))
    assert poisson_e_test(after=2, before=6)[1] == pytest.approx(p)
    with pytest.raises(ValueError, match="whole-number"):
        poisson_e_test(after=1.5, before=2)
