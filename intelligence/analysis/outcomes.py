"""Outcome statistics: did calls fall after the tasking?

Three complementary before/after measures (reference §4.6):

* :func:`rate_ratio` - incident-rate ratio with a log-scale (Wald) confidence interval, optionally
  relative to a control area (Wilson 2021): assumes parallel trends on the *ratio* scale.
* :func:`weighted_displacement_difference` - WDD (Wheeler & Ratcliffe 2018): assumes parallel
  trends on the *linear* scale, with a Poisson standard error.
* :func:`poisson_e_test` - exact-ish two-count comparison (Krishnamoorthy & Thomson 2004), the
  guard for single addresses where counts are too small for a normal approximation.
* :func:`weighted_displacement_quotient` - WDQ and total net effect (Bowers & Johnson 2003): did
  the effect displace into (WDQ < 0) or diffuse benefits to (WDQ > 0) the surrounding buffer?

All inputs are plain counts over equal-length before/after periods unless exposures are given.
Regression to the mean is not handled here: places picked *because* they spiked fall anyway,
which is why the callers should always pass a matched control.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats

__all__ = [
    "RateRatio",
    "WDDResult",
    "WDQResult",
    "poisson_e_test",
    "rate_ratio",
    "verdict_from_interval",
    "weighted_displacement_difference",
    "weighted_displacement_quotient",
]

# Added to every count of a rate ratio when any count is zero: log(0) and 1/0 are undefined, and
# 0.5 is the usual Haldane-Anscombe correction (it biases the estimate towards 1, i.e. towards
# "no change", which is the conservative direction for a claim that calls fell).
CONTINUITY_CORRECTION = 0.5


def _check_count(name: str, value: float) -> float:
    v = float(value)
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{name}: must be a finite count >= 0, got {value!r}")
    return v


def _check_positive(name: str, value: float) -> float:
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name}: must be a finite number > 0, got {value!r}")
    return v


def _z_for(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence: must be in (0, 1), got {confidence!r}")
    return float(stats.norm.ppf(0.5 + confidence / 2.0))


def verdict_from_interval(low: float, high: float, null: float) -> str:
    """Plain-language verdict from a confidence interval around ``null`` (no change).

    ``"fell"`` when the whole interval lies strictly below ``null``, ``"rose"`` when it lies
    strictly above, otherwise ``"no clear change"`` (the interval contains ``null``).
    """
    if high < null:
        return "fell"
    if low > null:
        return "rose"
    return "no clear change"


@dataclass(frozen=True, slots=True)
class RateRatio:
    """Incident-rate ratio, its log, the log-scale standard error, CI, p-value and verdict."""

    ratio: float
    log_ratio: float
    se_log: float
    ci_low: float
    ci_high: float
    z: float
    p_value: float
    confidence: float
    corrected: bool
    verdict: str


def rate_ratio(
    *,
    before: float,
    after: float,
    control_before: float | None = None,
    control_after: float | None = None,
    exposure_before: float = 1.0,
    exposure_after: float = 1.0,
    confidence: float = 0.95,
) -> RateRatio:
    """Before/after incident-rate ratio with a log-method (Wald) confidence interval.

    Without a control::

        IRR = (after / exposure_after) / (before / exposure_before)
        SE(log IRR) = sqrt(1/after + 1/before)

    With a control area (both ``control_before`` and ``control_after``), the ratio of ratios::

        IRR = (T_a / T_b) / (C_a / C_b)
        SE(log IRR) = sqrt(1/T_a + 1/T_b + 1/C_a + 1/C_b)

    (exposures cancel in the ratio of ratios when the control shares the periods, so they are only
    applied to the treated pair). The CI is ``exp(log IRR +- z * SE)`` with
    ``z = Phi^-1(0.5 + confidence/2)`` (1.95996 at 95 %); the two-sided p-value tests
    log IRR = 0. The SE is the Poisson delta-method one, which treats every count as an
    independent Poisson variable.

    Zeros: if *any* count is 0, :data:`CONTINUITY_CORRECTION` (0.5) is added to *every* count
    before computing anything, and ``corrected`` is True.

    Verdict (see :func:`verdict_from_interval`): "fell" if the CI's upper edge is < 1, "rose" if
    its lower edge is > 1, else "no clear change".
    """
    z_crit = _z_for(confidence)
    t_b = _check_count("before", before)
    t_a = _check_count("after", after)
    e_b = _check_positive("exposure_before", exposure_before)
    e_a = _check_positive("exposure_after", exposure_after)
    if (control_before is None) != (control_after is None):
        raise ValueError("control_before/control_after: give both or neither")
    counts = [t_a, t_b]
    if control_before is not None and control_after is not None:
        counts += [
            _check_count("control_after", control_after),
            _check_count("control_before", control_before),
        ]
    corrected = any(c == 0 for c in counts)
    if corrected:
        counts = [c + CONTINUITY_CORRECTION for c in counts]
    log_ratio = math.log(counts[0] / e_a) - math.log(counts[1] / e_b)
    if len(counts) == 4:
        log_ratio -= math.log(counts[2]) - math.log(counts[3])
    se = math.sqrt(sum(1.0 / c for c in counts))
    low = math.exp(log_ratio - z_crit * se)
    high = math.exp(log_ratio + z_crit * se)
    z = log_ratio / se
    return RateRatio(
        ratio=math.exp(log_ratio),
        log_ratio=log_ratio,
        se_log=se,
        ci_low=low,
        ci_high=high,
        z=z,
        p_value=float(2.0 * stats.norm.sf(abs(z))),
        confidence=confidence,
        corrected=corrected,
        verdict=verdict_from_interval(low, high, 1.0),
    )


@dataclass(frozen=True, slots=True)
class WDDResult:
    """Weighted displacement difference, its Poisson SE, z, two-sided p, CI and verdict."""

    wdd: float
    se: float
    z: float
    p_value: float
    ci_low: float
    ci_high: float
    confidence: float
    verdict: str


def weighted_displacement_difference(
    *,
    treated_before: float,
    treated_after: float,
    control_before: float,
    control_after: float,
    buffer_before: float = 0.0,
    buffer_after: float = 0.0,
    buffer_control_before: float = 0.0,
    buffer_control_after: float = 0.0,
    confidence: float = 0.95,
) -> WDDResult:
    """WDD test (Wheeler & Ratcliffe 2018), equal before/after period lengths assumed.

    With Δ = after - before in each area::

        WDD = ΔT - ΔC_t + ΔD - ΔC_d
        Var(WDD) = sum of all eight counts   (independent Poisson counts)
        z = WDD / sqrt(Var),  CI = WDD ± z_crit · sqrt(Var)

    Negative WDD = a reduction. Leave the buffer terms at 0 for the "local" WDD (no displacement
    area); this matches ptools ``wdd(control, treated)``: control 20→20, treated 20→10 gives
    WDD -10, SE 8.3666, z -1.195229, 90 % CI (-23.76, 3.76). A zero-variance input (all counts 0)
    raises, since there is nothing to test.
    """
    z_crit = _z_for(confidence)
    names_values = {
        "treated_before": treated_before,
        "treated_after": treated_after,
        "control_before": control_before,
        "control_after": control_after,
        "buffer_before": buffer_before,
        "buffer_after": buffer_after,
        "buffer_control_before": buffer_control_before,
        "buffer_control_after": buffer_control_after,
    }
    v = {k: _check_count(k, x) for k, x in names_values.items()}
    wdd = (
        (v["treated_after"] - v["treated_before"])
        - (v["control_after"] - v["control_before"])
        + (v["buffer_after"] - v["buffer_before"])
        - (v["buffer_control_after"] - v["buffer_control_before"])
    )
    var = sum(v.values())
    if var == 0:
        raise ValueError("counts: all eight counts are 0, so the WDD has no variance to test")
    se = math.sqrt(var)
    z = wdd / se
    low, high = wdd - z_crit * se, wdd + z_crit * se
    return WDDResult(
        wdd=wdd,
        se=se,
        z=z,
        p_value=float(2.0 * stats.norm.sf(abs(z))),
        ci_low=low,
        ci_high=high,
        confidence=confidence,
        verdict=verdict_from_interval(low, high, 0.0),
    )


@dataclass(frozen=True, slots=True)
class WDQResult:
    """WDQ (Bowers & Johnson 2003) with its parts and the total net effect."""

    success_measure: float
    buffer_measure: float
    wdq: float
    total_net_effect: float
    interpretation: str


def weighted_displacement_quotient(
    *,
    target_before: float,
    target_after: float,
    buffer_before: float,
    buffer_after: float,
    control_before: float,
    control_after: float,
) -> WDQResult:
    """Weighted displacement quotient and total net effect (Bowers & Johnson 2003).

    With A = target (response) area, B = buffer, C = control, subscripts b = before, a = after::

        success measure = A_a/C_a - A_b/C_b        (negative = the target improved vs control)
        buffer measure  = B_a/C_a - B_b/C_b
        WDQ = buffer measure / success measure
        TNE = [A_b·(C_a/C_b) - A_a] + [B_b·(C_a/C_b) - B_a]

    TNE is the number of events prevented in target + buffer together (positive = net benefit).
    ``interpretation``: "no success in the target area" when the success measure is >= 0 (WDQ is
    then meaningless); otherwise "diffusion of benefits" when WDQ > 0, "displacement" when
    WDQ < 0, "no displacement or diffusion" when WDQ == 0. A zero control count makes the ratios
    undefined and raises. WDQ is NaN when the success measure is exactly 0.
    """
    a_b = _check_count("target_before", target_before)
    a_a = _check_count("target_after", target_after)
    b_b = _check_count("buffer_before", buffer_before)
    b_a = _check_count("buffer_after", buffer_after)
    c_b = _check_count("control_before", control_before)
    c_a = _check_count("control_after", control_after)
    if c_b == 0 or c_a == 0:
        raise ValueError("control_before/control_after: must be > 0 (WDQ divides by them)")
    success = a_a / c_a - a_b / c_b
    buffer = b_a / c_a - b_b / c_b
    wdq = buffer / success if success != 0 else math.nan
    tne = (a_b * (c_a / c_b) - a_a) + (b_b * (c_a / c_b) - b_a)
    if success >= 0:
        interpretation = "no success in the target area"
    elif wdq > 0:
        interpretation = "diffusion of benefits"
    elif wdq < 0:
        interpretation = "displacement"
    else:
        interpretation = "no displacement or diffusion"
    return WDQResult(
        success_measure=success,
        buffer_measure=buffer,
        wdq=wdq,
        total_net_effect=tne,
        interpretation=interpretation,
    )


def poisson_e_test(
    *,
    after: float,
    before: float,
    exposure_after: float = 1.0,
    exposure_before: float = 1.0,
) -> tuple[float, float]:
    """Two-sided Poisson E-test of equal rates, ``after/exposure_after = before/exposure_before``.

    The unconditional test of Krishnamoorthy & Thomson (2004), as ``scipy.stats.
    poisson_means_test`` implements it: the statistic is
    ``T = (k_a/n_a - k_b/n_b) / sqrt(k_a/n_a^2 + k_b/n_b^2)`` and the p-value sums the Poisson
    probabilities, under the pooled rate, of every pair of counts at least as extreme. Returns
    ``(T, p)``. Matches ptools ``e_test(6, 2)``: p = 0.1748748 - six calls after two is not
    clear evidence of a rise, which is the point of running it on single addresses.
    """
    k_a = _check_count("after", after)
    k_b = _check_count("before", before)
    n_a = _check_positive("exposure_after", exposure_after)
    n_b = _check_positive("exposure_before", exposure_before)
    if k_a != int(k_a) or k_b != int(k_b):
        raise ValueError("after/before: the E-test needs whole-number counts")
    res = stats.poisson_means_test(int(k_a), n_a, int(k_b), n_b, alternative="two-sided")
    return float(res.statistic), float(res.pvalue)
