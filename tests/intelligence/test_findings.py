"""Analysis runs upsert findings idempotently, expire what disappears, and leave nothing half-written;
only a person with the right role accepts or dismisses a finding, once, with a rationale."""

from __future__ import annotations

import datetime as dt

import h3
import pytest
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction

from beacon_core.errors import ConflictError, DomainError, NotFoundError
from dispatch.geo import h3_cells, haversine_m
from governance.models import Agency
from intelligence import runners, services
from intelligence.choices import FindingKind, FindingStatus, RunStatus
from intelligence.models import AnalysisRun, Finding, FindingDecision, FindingEvidence
from tests.factories import CallFactory, LocationFactory, UserFactory

AS_OF = dt.datetime(2026, 3, 1, 6, 0, tzinfo=dt.UTC)
REPEAT = FindingKind.REPEAT_LOCATION
HOT = FindingKind.HOTSPOT


def _location(i: int, j: int, name: str | None = None):  # type: ignore[no-untyped-def]
    lat, lon = 29.40 + 0.01 * i, -98.55 + 0.01 * j
    key = name or f"{(i * 6 + j + 1) * 100 + 10} GRID ST"  # one place per hundred block
    return LocationFactory(address_key=key, latitude=lat, longitude=lon)


def _call(location, agency: Agency, days_ago: float):  # type: ignore[no-untyped-def]
    return CallFactory(
        agency=agency,
        location=location,
        received_at=AS_OF - dt.timedelta(days=days_ago),
        **h3_cells(location.latitude, location.longitude),
    )


@pytest.fixture
def background(agency: Agency) -> list[object]:
    """One call at each of 36 scattered places over the last 20 days, and a year of history
    before that (one older call each), so windows have a baseline to be judged against."""
    places = [_location(i, j) for i in range(6) for j in range(6)]
    recent = [_call(loc, agency, days_ago=1 + (k % 20)) for k, loc in enumerate(places)]
    return recent + [_call(loc, agency, days_ago=100 + 8 * k) for k, loc in enumerate(places)]


@pytest.fixture
def bar(agency: Agency, background: list[object]):  # type: ignore[no-untyped-def]
    """A planted repeat location: 12 calls in the last 28 days."""
    place = _location(2, 2, name="400 BLOCK ELM ST")
    for k in range(12):
        _call(place, agency, days_ago=0.5 + 2 * k)
    return place


def _run(kind: str = REPEAT, as_of: dt.datetime = AS_OF) -> AnalysisRun:
    return services.analysis_execute(kind=kind, as_of=as_of)


# --- runs --------------------------------------------------------------------------------


def test_repeat_location_found_with_statistics_and_evidence(bar) -> None:  # type: ignore[no-untyped-def]
    run = _run()
    assert run.status == RunStatus.SUCCEEDED
    assert run.counts == {"created": 1, "updated": 0, "expired": 0, "suppressed": 0}
    assert len(run.input_hash) == 64 and run.duration_ms is not None
    # The longest window (90 days) and its year of baseline before it.
    assert run.window_start == AS_OF - dt.timedelta(days=90 + 365) and run.window_end == AS_OF
    finding = Finding.objects.get()
    assert finding.subject_key == f"location:{bar.pk}" and finding.location == bar
    assert finding.status == FindingStatus.PROPOSED and finding.first_run == run
    assert (finding.window_start, finding.window_end) == (AS_OF - dt.timedelta(days=28), AS_OF)
    assert finding.statistics["count"] == 12 and finding.statistics["window_days"] == 28
    assert finding.statistics["p"] < 0.001
    assert finding.explanation.startswith(
        "12 calls in 28 days at 400 BLOCK ELM ST, up from 0 in the 28 days before; expected "
    )
    assert "p < 0.001" in finding.explanation
    assert finding.evidence.count() == 12
    assert set(finding.evidence.values_list("call__location", flat=True)) == {bar.pk}


def test_rerun_on_same_data_updates_the_same_finding(bar) -> None:  # type: ignore[no-untyped-def]
    first = _run()
    again = _run()
    assert again.counts == {"created": 0, "updated": 1, "expired": 0, "suppressed": 0}
    assert again.input_hash == first.input_hash
    finding = Finding.objects.get()
    assert (finding.first_run, finding.last_run) == (first, again)
    assert FindingEvidence.objects.count() == 12


def test_new_data_updates_the_open_finding(agency: Agency, bar) -> None:  # type: ignore[no-untyped-def]
    first = _run()
    original = Finding.objects.get()
    for k in range(3):
        _call(bar, agency, days_ago=0.2 + 0.1 * k)
    second = _run()
    assert second.input_hash != first.input_hash
    finding = Finding.objects.get()
    assert finding.pk == original.pk and finding.statistics["count"] == 15
    assert finding.explanation.startswith("15 calls in 28 days")
    assert finding.evidence.count() == 15


def test_a_pattern_that_disappears_expires_and_decided_findings_stay(bar) -> None:  # type: ignore[no-untyped-def]
    _run()
    later = _run(as_of=AS_OF + dt.timedelta(days=120))  # no window holds the calls any more
    assert later.counts == {"created": 0, "updated": 0, "expired": 1, "suppressed": 0}
    assert Finding.objects.get().status == FindingStatus.EXPIRED


def test_decided_findings_are_never_expired_or_changed_by_a_run(bar, cast) -> None:  # type: ignore[no-untyped-def]
    _run()
    accepted = services.finding_decide(
        finding_id=Finding.objects.get().pk,
        reviewer=cast["supervisor"],
        decision="accept",
        rationale="Known bar problem; confirmed with the beat officer.",
    )
    _run(as_of=AS_OF + dt.timedelta(days=60))
    accepted.refresh_from_db()
    assert accepted.status == FindingStatus.ACCEPTED


def test_a_decided_subject_is_not_proposed_again_during_the_quiet_period(
    bar, cast, settings
) -> None:  # type: ignore[no-untyped-def]
    _run()
    services.finding_decide(
        finding_id=Finding.objects.get().pk,
        reviewer=cast["supervisor"],
        decision="dismiss",
        rationale="Bar is already under a licensing review.",
    )
    again = _run()
    assert again.counts == {"created": 0, "updated": 0, "expired": 0, "suppressed": 1}
    assert Finding.objects.count() == 1
    # After the quiet period the subject may be proposed afresh; the old decision stays.
    settings.BEACON_FINDING_QUIET_DAYS = 0
    later = _run()
    assert later.counts["created"] == 1 and Finding.objects.count() == 2
    assert Finding.objects.filter(status=FindingStatus.DISMISSED).count() == 1


def test_crash_mid_run_writes_nothing(agency: Agency, bar, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    first = _run()
    before = Finding.objects.get()
    evidence_before = set(before.evidence.values_list("call_id", flat=True))
    second_place = _location(4, 4, name="12 HARBOR WAY")
    for k in range(12):
        _call(second_place, agency, days_ago=0.5 + 2 * k)
    _call(bar, agency, days_ago=0.1)  # would update the first finding, had the run finished

    real = services._finding_upsert
    calls = {"n": 0}

    def crash_on_second(**kwargs):  # type: ignore[no-untyped-def]
        calls["n"] += 1
        if calls["n"] == 2:
            raise RuntimeError("disk on fire")
        return real(**kwargs)

    monkeypatch.setattr(services, "_finding_upsert", crash_on_second)
    with pytest.raises(RuntimeError, match="disk on fire"):
        _run()
    failed = AnalysisRun.objects.exclude(pk=first.pk).get()
    assert failed.status == RunStatus.FAILED and "disk on fire" in failed.error
    assert failed.finished_at is not None
    after = Finding.objects.get()  # no second finding
    assert after.pk == before.pk and after.last_run == first
    assert after.statistics == before.statistics
    assert set(after.evidence.values_list("call_id", flat=True)) == evidence_before


def test_runner_crash_marks_the_run_failed(bar, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    def broken(**kwargs):  # type: ignore[no-untyped-def]
        raise ValueError("bad input")

    monkeypatch.setitem(runners.RUNNERS, REPEAT, broken)
    with pytest.raises(ValueError, match="bad input"):
        _run()
    run = AnalysisRun.objects.get()
    assert run.status == RunStatus.FAILED and "bad input" in run.error
    assert not Finding.objects.exists()


def test_unimplemented_kind_and_naive_as_of_are_refused(db: None, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    # Every kind has a runner now; take one away to check the refusal.
    monkeypatch.delitem(runners.RUNNERS, FindingKind.ENTITY)
    with pytest.raises(DomainError) as err:
        services.analysis_execute(kind=FindingKind.ENTITY, as_of=AS_OF)
    assert "kind" in err.value.errors and "not implemented" in str(err.value)
    with pytest.raises(DomainError) as err:
        services.analysis_execute(kind=REPEAT, as_of=AS_OF.replace(tzinfo=None))
    assert "as_of" in err.value.errors
    assert not AnalysisRun.objects.exists()


def test_hotspot_area_found_with_cells_centroid_and_evidence(agency: Agency, background) -> None:  # type: ignore[no-untyped-def]
    centre = _location(3, 3, name="1 CLUSTER PLAZA")
    for k in range(40):
        _call(centre, agency, days_ago=1 + k)
    run = _run(kind=HOT)
    assert run.status == RunStatus.SUCCEEDED and run.counts["created"] >= 1
    assert run.window_start == AS_OF - dt.timedelta(days=90)
    finding = Finding.objects.filter(kind=HOT).order_by("-statistics__calls").first()
    assert finding is not None and finding.subject_key.startswith("area:")
    assert centre.h3_r9 in finding.cells
    assert haversine_m(finding.latitude, finding.longitude, centre.latitude, centre.longitude) < 400
    assert finding.statistics["calls"] >= 40 and finding.statistics["min_p"] < 0.05
    assert finding.evidence.count() == finding.statistics["calls"]
    assert "calls in" in finding.explanation and "Gi* z up to" in finding.explanation
    assert _run(kind=HOT).counts["created"] == 0  # idempotent for areas too


def test_a_hotspot_that_gains_a_cell_keeps_its_open_finding(agency: Agency, background) -> None:  # type: ignore[no-untyped-def]
    centre = _location(3, 3, name="1 CLUSTER PLAZA")
    for k in range(40):
        _call(centre, agency, days_ago=1 + k)
    _run(kind=HOT)
    before = Finding.objects.filter(kind=HOT).order_by("-statistics__calls").first()
    assert before is not None
    # A busy place appears right next to the area: the area grows by a cell.
    outside = next(c for c in sorted(h3.grid_ring(centre.h3_r9, 2)) if c not in before.cells)
    lat, lon = h3.cell_to_latlng(outside)
    neighbour = LocationFactory(address_key="2 CLUSTER PLAZA", latitude=lat, longitude=lon)
    for k in range(30):
        _call(neighbour, agency, days_ago=1 + k)
    run = _run(kind=HOT)
    after = Finding.objects.get(pk=before.pk)
    assert after.status == FindingStatus.PROPOSED and after.last_run == run
    assert set(after.cells) > set(before.cells) and after.subject_key == before.subject_key
    assert run.counts["expired"] == 0


# --- review ------------------------------------------------------------------------------


@pytest.fixture
def finding(bar) -> Finding:  # type: ignore[no-untyped-def]
    _run()
    return Finding.objects.get()


@pytest.mark.parametrize("role", ["supervisor", "analyst"])
def test_reviewers_accept_or_dismiss_with_a_rationale(finding: Finding, cast, role: str) -> None:  # type: ignore[no-untyped-def]
    decided = services.finding_decide(
        finding_id=finding.pk, reviewer=cast[role], decision="dismiss", rationale=" Seasonal. "
    )
    assert decided.status == FindingStatus.DISMISSED
    record = FindingDecision.objects.get(finding=finding)
    assert (record.reviewer, record.decision, record.rationale) == (
        cast[role],
        "dismiss",
        "Seasonal.",
    )
    assert record.decided_at is not None


def test_rationale_is_required(finding: Finding, cast) -> None:  # type: ignore[no-untyped-def]
    for blank in ("", "   \n"):
        with pytest.raises(DomainError) as err:
            services.finding_decide(
                finding_id=finding.pk,
                reviewer=cast["supervisor"],
                decision="accept",
                rationale=blank,
            )
        assert "rationale" in err.value.errors
    with pytest.raises(DomainError) as err:
        services.finding_decide(
            finding_id=finding.pk, reviewer=cast["supervisor"], decision="approve", rationale="x"
        )
    assert "decision" in err.value.errors
    finding.refresh_from_db()
    assert finding.status == FindingStatus.PROPOSED and not FindingDecision.objects.exists()


def test_second_decision_is_a_conflict(finding: Finding, cast) -> None:  # type: ignore[no-untyped-def]
    services.finding_decide(
        finding_id=finding.pk, reviewer=cast["supervisor"], decision="accept", rationale="Real."
    )
    with pytest.raises(ConflictError) as err:
        services.finding_decide(
            finding_id=finding.pk, reviewer=cast["analyst"], decision="dismiss", rationale="No."
        )
    assert err.value.status_code == 409 and err.value.current == {"status": "accepted"}
    assert FindingDecision.objects.count() == 1


def test_dispatcher_and_other_agencies_may_not_review(finding: Finding, cast, other_agency) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(PermissionDenied):
        services.finding_decide(
            finding_id=finding.pk, reviewer=cast["dispatcher"], decision="accept", rationale="ok"
        )
    outsider = UserFactory(roles=["supervisor"], agency=other_agency)
    with pytest.raises(NotFoundError):
        services.finding_decide(
            finding_id=finding.pk, reviewer=outsider, decision="accept", rationale="ok"
        )
    finding.refresh_from_db()
    assert finding.status == FindingStatus.PROPOSED


def test_database_refuses_blank_rationale_and_ambiguous_evidence(finding: Finding, cast) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(IntegrityError), transaction.atomic():
        FindingDecision.objects.create(
            finding=finding,
            decision="accept",
            rationale="   ",
            reviewer=cast["supervisor"],
            decided_at=AS_OF,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        FindingEvidence.objects.create(finding=finding)
    with pytest.raises(IntegrityError), transaction.atomic():
        Finding.objects.create(
            agency=finding.agency,
            kind=finding.kind,
            subject_key=finding.subject_key,
            window_start=AS_OF,
            window_end=AS_OF,
            explanation="duplicate open finding",
        )
