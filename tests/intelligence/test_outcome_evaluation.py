"""Did the calls fall? Outcome evaluation of accepted findings: target, buffer and control counts,
the rate-ratio verdict against the rest of the jurisdiction, and the scheduled pass."""

from __future__ import annotations

import datetime as dt

import h3
import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from beacon_core.errors import DomainError, NotFoundError
from dispatch.geo import h3_cells
from intelligence import services
from intelligence.choices import FindingKind, FindingStatus
from intelligence.models import Finding, FindingDecision, FindingOutcome
from intelligence.outcome_evaluation import OutcomeCounts, outcome_statistics
from tests.factories import CallFactory, LocationFactory

pytestmark = pytest.mark.django_db

LAT, LON = 29.4301, -98.4902


def _call(agency, location, at):  # type: ignore[no-untyped-def]
    return CallFactory(
        agency=agency,
        location=location,
        received_at=at,
        latitude=location.latitude,
        longitude=location.longitude,
        **h3_cells(location.latitude, location.longitude),
    )


@pytest.fixture
def scene(agency, cast):  # type: ignore[no-untyped-def]
    """A bar accepted 30 days ago: 20 calls in the 28 days before, 5 in the 28 after; a place
    next door (buffer) steady at 4/4; the rest of the city steady at 60/60."""
    now = timezone.now()
    start = now - dt.timedelta(days=29)
    bar = LocationFactory(address_key="412 FRONT ST", latitude=LAT, longitude=LON)
    cell = h3.latlng_to_cell(LAT, LON, 9)
    near_lat, near_lon = h3.cell_to_latlng(sorted(h3.grid_ring(cell, 1))[0])
    near = LocationFactory(address_key="420 FRONT ST", latitude=near_lat, longitude=near_lon)
    far = LocationFactory(address_key="9 FAR AWAY RD", latitude=LAT + 0.05, longitude=LON)
    for k in range(20):
        _call(agency, bar, start - dt.timedelta(days=1 + k))
    for k in range(5):
        _call(agency, bar, start + dt.timedelta(days=1 + 5 * k))
    for k in range(4):
        _call(agency, near, start - dt.timedelta(days=2 + 6 * k))
        _call(agency, near, start + dt.timedelta(days=2 + 6 * k))
    for k in range(60):
        _call(agency, far, start - dt.timedelta(hours=1 + 11 * k))
        _call(agency, far, start + dt.timedelta(hours=1 + 11 * k))
    finding = Finding.objects.create(
        agency=agency,
        kind=FindingKind.REPEAT_LOCATION,
        subject_key=f"location:{bar.pk}",
        location=bar,
        window_start=start - dt.timedelta(days=28),
        window_end=start,
        explanation="20 calls in 28 days at 412 FRONT ST.",
        status=FindingStatus.ACCEPTED,
    )
    FindingDecision.objects.create(
        finding=finding,
        decision="accept",
        rationale="Licensing visit planned.",
        reviewer=cast["supervisor"],
        decided_at=start,
    )
    return finding, start


def test_a_fall_at_the_target_against_a_steady_city_is_a_fall(scene, cast) -> None:  # type: ignore[no-untyped-def]
    finding, start = scene
    outcome = services.outcome_evaluate(
        finding_id=finding.pk, actor=cast["supervisor"], period_start=start
    )
    counts = (
        outcome.target_before,
        outcome.target_after,
        outcome.buffer_before,
        outcome.buffer_after,
        outcome.control_before,
        outcome.control_after,
    )
    assert counts == (20, 5, 4, 4, 60, 60)
    assert outcome.verdict == "fell" and outcome.evaluated_by == cast["supervisor"]
    s = outcome.statistics
    assert s["rate_ratio"] == pytest.approx(0.25) and s["ci_high"] < 1
    assert outcome.period_end - outcome.period_start == dt.timedelta(days=28)
    assert outcome.period_start - outcome.before_start == dt.timedelta(days=28)
    assert outcome.explanation.startswith("Calls at 412 FRONT ST: 20 in the 28 days before")
    assert "the repeat demand fell" in outcome.explanation


def test_statistics_for_no_change_rise_and_too_few() -> None:
    start = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)
    same = OutcomeCounts(20, 21, 5, 5, 100, 100)
    assert outcome_statistics(same, place="X", days=28, start=start)[1] == "no clear change"
    rose = OutcomeCounts(10, 40, 5, 5, 100, 100)
    assert outcome_statistics(rose, place="X", days=28, start=start)[1] == "rose"
    few = OutcomeCounts(4, 1, 0, 0, 100, 100)
    stats, verdict, text = outcome_statistics(few, place="X", days=28, start=start)
    assert verdict == "too few calls" and "too few calls" in text
    # A city-wide doubling with a steady target is a relative fall of the target.
    city = OutcomeCounts(30, 30, 5, 5, 1000, 2000)
    stats, verdict, _ = outcome_statistics(city, place="X", days=28, start=start)
    assert verdict == "fell" and stats["rate_ratio"] == pytest.approx(0.5)


def test_only_accepted_findings_and_finished_periods_and_reviewers(scene, cast) -> None:  # type: ignore[no-untyped-def]
    finding, start = scene
    with pytest.raises(DomainError) as caught:
        services.outcome_evaluate(
            finding_id=finding.pk, actor=cast["supervisor"], period_start=timezone.now()
        )
    assert caught.value.errors == {"period_end": ["The after period has not ended yet."]}
    with pytest.raises(DomainError) as caught:
        services.outcome_evaluate(
            finding_id=finding.pk,
            actor=cast["supervisor"],
            period_start=start,
            period_end=start - dt.timedelta(days=1),
        )
    assert "period_end" in caught.value.errors
    with pytest.raises(DomainError) as caught:
        services.outcome_evaluate(
            finding_id=finding.pk, actor=cast["supervisor"], period_start=start.replace(tzinfo=None)
        )
    assert "period_start" in caught.value.errors
    with pytest.raises(NotFoundError):  # may not see findings: as if it did not exist
        services.outcome_evaluate(
            finding_id=finding.pk, actor=cast["dispatcher"], period_start=start
        )
    Finding.objects.filter(pk=finding.pk).update(status=FindingStatus.DISMISSED)
    with pytest.raises(DomainError) as caught:
        services.outcome_evaluate(
            finding_id=finding.pk, actor=cast["supervisor"], period_start=start
        )
    assert "finding" in caught.value.errors
    assert not FindingOutcome.objects.exists()


def test_the_scheduled_pass_evaluates_due_findings_once(scene) -> None:  # type: ignore[no-untyped-def]
    finding, start = scene
    (outcome,) = services.outcomes_evaluate_due()
    assert outcome.finding == finding and outcome.evaluated_by is None
    assert outcome.period_start == start
    assert services.outcomes_evaluate_due() == []
    # A second worker that evaluates the same period (it read "not done" before the first
    # committed) gets the recorded row back instead of a duplicate; people may re-evaluate.
    again = services.outcome_evaluate(finding_id=finding.pk, actor=None, period_start=start)
    assert again.pk == outcome.pk
    with pytest.raises(IntegrityError), transaction.atomic():
        FindingOutcome.objects.create(
            **{
                f.name: getattr(outcome, f.name)
                for f in FindingOutcome._meta.concrete_fields
                if f.name != "id"
            }
        )
    assert FindingOutcome.objects.filter(finding=finding).count() == 1


def test_an_area_finding_counts_its_cells_and_a_ring_buffer(scene, agency) -> None:  # type: ignore[no-untyped-def]
    finding, start = scene
    cell = h3.latlng_to_cell(LAT, LON, 9)
    area = Finding.objects.create(
        agency=agency,
        kind=FindingKind.HOTSPOT,
        subject_key="area:x",
        cells=[cell],
        latitude=LAT,
        longitude=LON,
        window_start=finding.window_start,
        window_end=finding.window_end,
        explanation="Hot area.",
        status=FindingStatus.ACCEPTED,
    )
    outcome = services.outcome_evaluate(finding_id=area.pk, actor=None, period_start=start)
    assert (outcome.target_before, outcome.target_after) == (20, 5)
    assert (outcome.buffer_before, outcome.buffer_after) == (4, 4)
    assert outcome.explanation.startswith("Calls at the area around (29.43010, -98.49020)")


# --- on the finding page ------------------------------------------------------------------


def test_the_finding_page_evaluates_on_demand_and_says_what_happened(scene, cast, client) -> None:  # type: ignore[no-untyped-def]
    finding, start = scene
    client.force_login(cast["supervisor"])
    page = client.get(f"/patterns/findings/{finding.pk}/").content.decode()
    assert "Not evaluated yet." in page and 'name="period_start"' in page
    url = f"/patterns/findings/{finding.pk}/outcome/"
    bad = client.post(url, {"period_start": "yesterday", "period_end": ""})
    assert bad.status_code == 400
    assert "period_start: Give a date and time like" in bad.content.decode()
    early = client.post(url, {"period_start": timezone.now().strftime("%Y-%m-%dT%H:%M")})
    assert early.status_code == 400 and "period_end: The after period has not ended" in (
        early.content.decode()
    )
    ok = client.post(url, {"period_start": start.strftime("%Y-%m-%dT%H:%M:%S")})
    assert ok.status_code == 302 and ok["Location"].endswith("#outcomes")
    page = client.get(f"/patterns/findings/{finding.pk}/").content.decode()
    assert "Repeat demand fell" in page and "Calls at 412 FRONT ST: 20" in page
    assert FindingOutcome.objects.get().evaluated_by == cast["supervisor"]


def test_roles_without_review_rights_see_outcomes_but_cannot_evaluate(scene, cast, client) -> None:  # type: ignore[no-untyped-def]
    finding, start = scene
    services.outcome_evaluate(finding_id=finding.pk, actor=None, period_start=start)
    client.force_login(cast["dispatcher"])
    assert client.post(f"/patterns/findings/{finding.pk}/outcome/", {}).status_code in (403, 404)
    assert FindingOutcome.objects.count() == 1


def test_the_dashboard_lists_the_latest_outcome_per_finding(scene, cast, client) -> None:  # type: ignore[no-untyped-def]
    finding, start = scene
    services.outcome_evaluate(finding_id=finding.pk, actor=None, period_start=start)
    latest = services.outcome_evaluate(
        finding_id=finding.pk, actor=cast["supervisor"], period_start=start
    )
    client.force_login(cast["supervisor"])
    (row,) = client.get("/patterns/data.json").json()["outcomes"]
    assert row["finding_id"] == finding.pk and row["verdict"] == "fell"
    assert row["place"] == "412 FRONT ST" and (row["target_before"], row["target_after"]) == (20, 5)
    assert row["evaluated_at"] == latest.evaluated_at.isoformat()
    assert row["rate_ratio"] == pytest.approx(0.25) and row["ci_high"] < 1
    client.force_login(cast["dispatcher"])
    assert client.get("/patterns/data.json").status_code == 403
