"""Time-window, trend and near-repeat runs find what Harbor City's demo data planted, stay quiet
on pattern-free data, and rerun onto the same findings."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from dispatch.demo.generator import DemoPlan, distance_m, generate
from dispatch.demo.writer import seed_write
from dispatch.geo import h3_cells
from dispatch.models import Call, CallType, Location
from governance.models import Agency
from intelligence import runners, services
from intelligence.choices import FindingKind, RunStatus
from intelligence.models import Finding
from intelligence.runners.trends import _rising_area_drafts as rising_area_drafts

ANCHOR = dt.datetime(2026, 3, 2, 6, 0, tzinfo=dt.UTC)
DAYS = 90
TZ = ZoneInfo("America/Chicago")
WINDOW = FindingKind.TIME_WINDOW
TREND = FindingKind.TREND
NEAR = FindingKind.NEAR_REPEAT


@pytest.fixture
def demo(reference_data: None) -> DemoPlan:
    plan = generate(seed=7, days=DAYS, anchor=ANCHOR, time_zone="America/Chicago")
    seed_write(plan, now=ANCHOR)
    return plan


def _run(kind: str, as_of: dt.datetime = ANCHOR, **parameters: object):  # type: ignore[no-untyped-def]
    run = services.analysis_execute(kind=kind, as_of=as_of, parameters=parameters or None)
    assert run.status == RunStatus.SUCCEEDED
    return run


def _cells(days: list[int], start_hour: int, n_hours: int) -> set[int]:
    return {(24 * d + start_hour + k) % 168 for d in days for k in range(n_hours)}


def _demo_call_pks(plan: DemoPlan, indices: tuple[int, ...]) -> set[int]:
    """Database ids of the plan's calls (matched on time, place and type: ids are not planned)."""
    wanted = {
        (
            plan.calls[i].received_at,
            plan.locations[plan.calls[i].location].address,
            plan.calls[i].call_type,
        ): i
        for i in indices
    }
    found = {
        pk
        for pk, at, address, code in Call.objects.values_list(
            "pk", "received_at", "address_given", "call_type__code"
        )
        if (at, address, code) in wanted
    }
    assert len(found) == len(wanted)
    return found


# --- time windows ------------------------------------------------------------------------


@pytest.mark.django_db
def test_time_windows_find_the_bars_friday_saturday_evenings(demo: DemoPlan) -> None:
    run = _run(WINDOW)
    planted = next(w for w in demo.time_windows if w.name.startswith("Bar"))
    bar = Location.objects.get(address_key=demo.locations[planted.location].address)
    found = list(Finding.objects.filter(kind=WINDOW, location=bar))
    assert len(found) == 1, [f.explanation for f in found]
    finding = found[0]
    s = finding.statistics
    assert finding.subject_key == f"timewindow:location:{bar.pk}:4,5:19-23"
    assert {"count", "share", "expected_share", "p", "days", "start_hour", "end_hour"} <= set(s)
    # The planted hours lie inside the found window, and the window is not the whole evening.
    planted_cells = _cells(list(planted.weekdays), planted.start_hour, 4)
    found_cells = _cells(s["days"], s["start_hour"], s["n_hours"])
    assert planted_cells <= found_cells and len(found_cells) <= len(planted_cells) + 4
    assert "Fri\u2013Sat 19:00\u201323:00" in finding.explanation
    assert s["p"] < 0.001 and s["share"] > 3 * s["expected_share"]
    assert finding.explanation.startswith(f"{s['count']} of {s['total']} calls at 412 FRONT ST")
    # Evidence: exactly the bar's calls in the window, by local time.
    evidence = list(
        Call.objects.filter(pk__in=finding.evidence.values("call_id")).values_list(
            "location_id", "received_at"
        )
    )
    assert len(evidence) == s["count"]
    for location_id, received in evidence:
        local = received.astimezone(TZ)
        assert location_id == bar.pk and planted.contains(local)
        assert received >= ANCHOR - dt.timedelta(days=90)
    # Rerun: the same findings, updated in place.
    ids = sorted(Finding.objects.filter(kind=WINDOW).values_list("pk", flat=True))
    again = _run(WINDOW)
    assert again.counts["created"] == 0 and again.input_hash == run.input_hash
    assert sorted(Finding.objects.filter(kind=WINDOW).values_list("pk", flat=True)) == ids


@pytest.mark.django_db
def test_time_windows_find_the_stores_weekday_after_school_hours(demo: DemoPlan) -> None:
    _run(WINDOW)
    planted = next(w for w in demo.time_windows if w.name.startswith("Convenience"))
    store = Location.objects.get(address_key=demo.locations[planted.location].address)
    [finding] = Finding.objects.filter(kind=WINDOW, location=store)
    s = finding.statistics
    assert (s["days"], s["start_hour"], s["end_hour"]) == ([0, 1, 2, 3, 4], 15, 18)
    assert "Mon\u2013Fri 15:00\u201318:00" in finding.explanation
    assert s["p"] < 0.001


# --- trends ------------------------------------------------------------------------------


@pytest.mark.django_db
def test_trends_label_the_stable_planted_areas_persistent(demo: DemoPlan) -> None:
    _run(TREND)
    findings = list(Finding.objects.filter(kind=TREND))
    start = ANCHOR - dt.timedelta(weeks=12)
    areas = [
        *runners.hotspots.hotspots(as_of=ANCHOR, agency_id=None).drafts,
        *rising_area_drafts(ANCHOR, None, start, 28),
    ]
    assert {f.subject_key for f in findings} <= {f"trend:{a.subject_key}" for a in areas}
    stable = [h for h in demo.hot_areas if h.trend == "stable"]
    near_stable = [
        f
        for f in findings
        if any(distance_m(f.latitude, f.longitude, h.latitude, h.longitude) < 1_500 for h in stable)
    ]
    assert near_stable
    for f in findings:
        s = f.statistics
        assert s["weeks"] == 12 and len(s["weekly_counts"]) == 12
        assert {"label", "s", "z", "p", "tau", "trend"} <= set(s)
    for f in near_stable:
        assert f.statistics["label"] == "persistent", f.explanation
        assert "persistent" in f.explanation and "Mann-Kendall" in f.explanation


@pytest.mark.django_db
def test_trends_label_the_emerging_planted_area_emerging(demo: DemoPlan) -> None:
    _run(TREND)
    park = next(h for h in demo.hot_areas if h.trend == "emerging")
    near = [
        f
        for f in Finding.objects.filter(kind=TREND)
        if distance_m(f.latitude, f.longitude, park.latitude, park.longitude) < 400
    ]
    # Gi* over 90 days does not find the park (the city's planted hotspots are far hotter);
    # the rising-area test does, and Mann-Kendall labels its ramp.
    assert near and all(f.statistics["label"] == "emerging" for f in near)
    assert not any(
        distance_m(a.latitude, a.longitude, park.latitude, park.longitude) < 400
        for a in runners.hotspots.hotspots(as_of=ANCHOR, agency_id=None).drafts
    )


def _bulk_calls(agency: Agency, code: str, points: list[tuple[float, float, dt.datetime]]) -> None:
    call_type = CallType.objects.get(code=code)
    start = Call.objects.count()
    Call.objects.bulk_create(
        Call(
            agency=agency,
            number=f"T-{start + k:07d}",
            call_type=call_type,
            priority=3,
            latitude=lat,
            longitude=lon,
            received_at=at,
            **h3_cells(lat, lon),
        )
        for k, (lat, lon, at) in enumerate(points)
    )


@pytest.mark.django_db
def test_trends_label_a_ramping_area_emerging_and_a_steady_one_persistent(agency: Agency) -> None:
    rng = np.random.default_rng(3)
    weeks = 12
    start = ANCHOR - dt.timedelta(weeks=weeks)

    def when(week: int) -> dt.datetime:
        return start + dt.timedelta(weeks=week, seconds=float(rng.uniform(0, 7 * 86_400 - 1)))

    points = []
    # Background: 1,200 calls spread over about 6 x 6 km.
    for _ in range(1_200):
        lat, lon = 29.40 + rng.uniform(0, 0.055), -98.55 + rng.uniform(0, 0.062)
        points.append((lat, lon, when(int(rng.integers(weeks)))))
    steady, ramp = (29.415, -98.540), (29.445, -98.500)
    for week in range(weeks):
        points += [(*steady, when(week)) for _ in range(12)]
        points += [(*ramp, when(week)) for _ in range(2 + 3 * week)]
    _bulk_calls(agency, "DISTURB", points)

    _run(TREND)
    labels = {
        (round(f.latitude, 2), round(f.longitude, 2)): f.statistics["label"]
        for f in Finding.objects.filter(kind=TREND)
    }
    by_place = {
        name: [
            label for (lat, lon), label in labels.items() if distance_m(lat, lon, *place) < 1_000
        ]
        for name, place in (("steady", steady), ("ramp", ramp))
    }
    assert by_place == {"steady": ["persistent"], "ramp": ["emerging"]}, labels


# --- near repeat -------------------------------------------------------------------------


@pytest.mark.django_db
def test_near_repeat_finds_the_planted_burglary_chains(demo: DemoPlan) -> None:
    run = _run(NEAR)
    finding = Finding.objects.get(kind=NEAR)
    s = finding.statistics
    assert finding.subject_key == "nearrepeat:burglary"
    assert s["call_types"] == ["BURG-COM", "BURG-RES"]
    assert s["space_edges"] == [0, 100, 200, 400] and s["time_edges"] == [0, 7, 14, 28]
    assert np.asarray(s["observed"]).shape == (3, 3) and np.asarray(s["p_value"]).shape == (3, 3)
    assert s["p"] == s["p_value"][0][0] < 0.05 and s["ratio"][0][0] > 1
    assert s["n_perm"] == 99
    assert "[0, 100) m and [0, 7) days" in finding.explanation
    # Chain members lie within 200 m and 7 days of their chain's first burglary: with the
    # significant cells reaching 200 m, each is in a close pair, i.e. in the evidence.
    chains = {i for chain in demo.burglary_chains for i in chain.calls}
    chain_pks = _demo_call_pks(demo, tuple(chains))
    evidence = set(finding.evidence.values_list("call_id", flat=True))
    assert s["zone_radius_m"] == 200.0
    assert chain_pks <= evidence
    # Zones: around every burglary of the last 14 days, for 14 days after it.
    recent = dict(
        Call.objects.filter(
            call_type__code__in=["BURG-RES", "BURG-COM"],
            received_at__gt=ANCHOR - dt.timedelta(days=14),
            received_at__lt=ANCHOR,
        ).values_list("pk", "received_at")
    )
    assert recent and {z["call_id"] for z in s["zones"]} == set(recent)
    for z in s["zones"]:
        expires = dt.datetime.fromisoformat(z["expires_at"])
        assert abs(expires - (recent[z["call_id"]] + dt.timedelta(days=14))) < dt.timedelta(
            seconds=1
        )
        assert z["radius_m"] == s["zone_radius_m"] in (100.0, 200.0, 400.0)
    again = _run(NEAR)
    assert again.counts == {"created": 0, "updated": 1, "expired": 0, "suppressed": 0}
    assert again.input_hash == run.input_hash
    assert Finding.objects.get(kind=NEAR).pk == finding.pk


@pytest.mark.django_db
def test_near_repeat_stays_quiet_on_pattern_free_burglaries(agency: Agency) -> None:
    rng = np.random.default_rng(11)
    n = 400
    points = [
        (
            29.40 + float(rng.uniform(0, 0.03)),
            -98.55 + float(rng.uniform(0, 0.035)),
            ANCHOR - dt.timedelta(days=float(rng.uniform(0, 364))),
        )
        for _ in range(n)
    ]
    _bulk_calls(agency, "BURG-RES", points)
    run = _run(NEAR)
    assert run.counts == {"created": 0, "updated": 0, "expired": 0, "suppressed": 0}
    assert not Finding.objects.filter(kind=NEAR).exists()
    # The same data with a planted chain is flagged: the control is not quiet by construction.
    chain = [
        (29.41 + 0.0003 * k, -98.53, ANCHOR - dt.timedelta(days=40 - 0.5 * k)) for k in range(12)
    ]
    _bulk_calls(agency, "BURG-RES", chain)
    _run(NEAR)
    assert Finding.objects.get(kind=NEAR).statistics["p"] < 0.05


@pytest.mark.django_db
def test_near_repeat_refuses_unknown_parameters(agency: Agency) -> None:
    with pytest.raises(ValueError, match="unknown radius"):
        runners.near_repeat.near_repeat(as_of=ANCHOR, agency_id=agency.pk, parameters={"radius": 5})


# --- all of it ---------------------------------------------------------------------------


@pytest.mark.django_db
def test_rerunning_every_new_kind_keeps_the_same_findings(demo: DemoPlan) -> None:
    kinds = (WINDOW, TREND, NEAR)
    for kind in kinds:
        _run(kind)
    first = sorted(Finding.objects.values_list("kind", "subject_key", "pk"))
    assert {k for k, _, _ in first} == set(kinds)
    for kind in kinds:
        assert _run(kind).counts["created"] == 0
    assert sorted(Finding.objects.values_list("kind", "subject_key", "pk")) == first
