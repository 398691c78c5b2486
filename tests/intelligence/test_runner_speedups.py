"""The runner speed-ups of issue #4 change no result: each fast path against the slow one."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace

import numpy as np
import pytest
from scipy import stats

from dispatch.demo.generator import DemoPlan, generate
from dispatch.demo.writer import seed_write
from intelligence.analysis import time_windows as tw
from intelligence.runners.repeat_locations import _group_rows, flagged_premises, repeat_locations

ANCHOR = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)


@pytest.fixture
def demo(reference_data: None) -> DemoPlan:
    plan = generate(seed=7, days=90, anchor=ANCHOR, time_zone="America/Chicago")
    seed_write(plan, now=ANCHOR)
    return plan


def test_group_rows_matches_a_compare_per_key() -> None:
    rng = np.random.default_rng(3)
    keys = np.array([f"location:{k}" for k in rng.integers(0, 50, 2_000)]).astype(str)
    rows = np.sort(rng.choice(10_000, size=keys.size, replace=False))
    lookup = _group_rows(keys, rows)
    for key in set(keys.tolist()):
        assert np.array_equal(lookup(key), rows[keys == key])


def test_scan_caches_give_the_uncached_numbers() -> None:
    rng = np.random.default_rng(5)
    cands = tw._candidates(tw.DEFAULT_DAY_SETS, 8)
    for _ in range(20):
        ref = rng.random(tw.HOURS_PER_WEEK) * 1000 + 0.5
        shares = ref / ref.sum()
        counts = rng.integers(0, 30, tw.HOURS_PER_WEEK)
        assert np.array_equal(cands.member @ shares, cands.member_f @ shares)
        assert np.array_equal(
            cands.member @ counts, np.rint(cands.member_f @ counts.astype(float)).astype(int)
        )
        hours = np.repeat(np.arange(tw.HOURS_PER_WEEK), counts)
        found = tw.scan_time_windows(hours, reference=ref)
        again = tw.scan_time_windows(hours, reference=ref)
        assert found == again
        if found:
            best = found[0]
            share = float(
                np.minimum(cands.member @ shares, 1.0)[
                    list(cands.specs).index((best.days, best.start_hour, best.n_hours))
                ]
            )
            assert best.expected_share == share
            assert best.p_value == float(stats.binom.sf(best.count - 1, hours.size, share))


def test_share_cache_stays_bounded() -> None:
    for i in range(tw._SHARE_CACHE_SIZE + 5):
        ref = np.full(tw.HOURS_PER_WEEK, 1.0)
        ref[i % tw.HOURS_PER_WEEK] += i
        tw.scan_time_windows(np.arange(20) % tw.HOURS_PER_WEEK, reference=ref)
    assert len(tw._SHARE_CACHE) <= tw._SHARE_CACHE_SIZE


def test_flagged_premises_are_the_premise_drafts(demo: DemoPlan) -> None:
    for as_of in (ANCHOR, ANCHOR - dt.timedelta(days=20)):
        drafts = repeat_locations(as_of=as_of, agency_id=None).drafts
        expected = [
            (d.agency_id, d.location_id)
            for d in drafts
            if d.location_id is not None and d.statistics.get("category") is None
        ]
        assert expected
        assert flagged_premises(as_of=as_of, agency_id=None) == expected


def _fake_runner(n: int, agency_id: int, call_ids: list[int]):  # type: ignore[no-untyped-def]
    from intelligence.runners import FindingDraft, RunnerOutput

    def runner(**kwargs):  # type: ignore[no-untyped-def]
        drafts = [
            FindingDraft(
                agency_id=agency_id,
                subject_key=f"test:{k}",
                window_start=ANCHOR - dt.timedelta(days=1),
                window_end=ANCHOR,
                statistics={"k": k, "n": n},
                explanation=f"draft {k} of {n}",
                call_ids=tuple(call_ids),
            )
            for k in range(n)
        ]
        # The same subject twice: the last draft wins, as sequential upserts had it.
        drafts.append(replace(drafts[0], explanation="again", call_ids=tuple(call_ids[:1])))
        return RunnerOutput("fake", "1", {}, ANCHOR, ANCHOR, "x", drafts)

    return runner


def test_upserts_cost_a_fixed_number_of_queries(agency, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from intelligence import runners, services
    from intelligence.choices import FindingKind
    from intelligence.models import Finding
    from tests.factories import CallFactory

    calls = [CallFactory(agency=agency).pk for _ in range(3)]
    kind = FindingKind.HOTSPOT
    used = []
    for n in (5, 60):
        monkeypatch.setitem(runners.RUNNERS, kind, _fake_runner(n, agency.pk, calls))
        with CaptureQueriesContext(connection) as first:
            run = services.analysis_execute(kind=kind, as_of=ANCHOR)
        assert run.counts == {"created": n, "updated": 1, "expired": 0, "suppressed": 0}
        with CaptureQueriesContext(connection) as second:
            again = services.analysis_execute(kind=kind, as_of=ANCHOR)
        assert again.counts == {"created": 0, "updated": n + 1, "expired": 0, "suppressed": 0}
        used.append((len(first), len(second)))
        repeated = Finding.objects.get(subject_key="test:0", status="proposed")
        assert repeated.explanation == "again" and repeated.last_run == again
        assert list(repeated.evidence.values_list("call_id", flat=True)) == calls[:1]
        other = Finding.objects.get(subject_key="test:1", status="proposed")
        assert sorted(other.evidence.values_list("call_id", flat=True)) == sorted(calls)
        Finding.objects.all().delete()
    # More drafts, not more queries (a few per run, whatever the number of findings).
    # (+3 since runs are audited: the chain lock on PostgreSQL, the chain head, the summary event.)
    assert max(max(pair) for pair in used) <= 18, used
    assert abs(used[1][1] - used[0][1]) <= 1, used


def test_input_hash_is_order_independent_and_tells_inputs_apart() -> None:
    from intelligence.runners import input_hash

    when = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    rows = [(k, 1, when + dt.timedelta(hours=k), f"c{k % 3}") for k in range(120_000)]
    shuffled = list(rows)
    np.random.default_rng(1).shuffle(shuffled)
    assert input_hash(rows) == input_hash(shuffled) == input_hash(iter(rows))
    assert input_hash(rows) != input_hash(rows[:-1])
    assert input_hash(rows) != input_hash([*rows[:-1], (*rows[-1][:3], "other")])
    # Values that do not compare (None beside a number) still hash, in any order.
    mixed = [(1, None), (1, 2), ("a", 3)]
    assert input_hash(mixed) == input_hash(mixed[::-1])
    assert len(input_hash([])) == 64


def test_shared_results_hand_premises_to_time_windows_unchanged(demo: DemoPlan) -> None:
    from intelligence.runners import base, shared_results, time_windows

    alone = time_windows.time_windows(as_of=ANCHOR, agency_id=None)
    with shared_results():
        repeat_locations(as_of=ANCHOR, agency_id=None)
        memo = base._SHARED.get()
        assert memo is not None
        assert list(memo.values()) == [flagged_premises(as_of=ANCHOR, agency_id=None)]
        with pytest.MonkeyPatch.context() as mp:
            # The parents come from the repeat run, not from a second pass over the calls.
            mp.setattr("intelligence.runners.repeat_locations._flagged_premises", None)
            shared_run = time_windows.time_windows(as_of=ANCHOR, agency_id=None)
        # Non-default parameters are not the parents: nothing more is offered.
        repeat_locations(
            as_of=ANCHOR - dt.timedelta(days=3), agency_id=None, parameters={"alpha": 0.01}
        )
        assert len(memo) == 1
    assert base._SHARED.get() is None
    assert shared_run.drafts == alone.drafts and shared_run.input_hash == alone.input_hash
