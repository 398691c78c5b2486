"""Human review before tasking: an accepting reviewer with a rationale, and for a finding a person
proposed, a reviewer who is not its author (service, API, page, and tasking's own check)."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from beacon_core.errors import DomainError
from governance.choices import AuditAction
from governance.models import AuditEvent
from intelligence import services
from intelligence.choices import Decision, FindingStatus
from intelligence.models import Finding, FindingDecision
from tasking import services as tasking_services
from tests.factories import UserFactory
from tests.tasking.conftest import CIRCLE, WINDOWS, make_finding

pytestmark = pytest.mark.django_db
RATIONALE = "The calls are real and the place is the same bar."


@pytest.fixture
def own(agency, cast) -> Finding:  # type: ignore[no-untyped-def]
    """A finding the supervisor proposed."""
    return make_finding(agency, status=FindingStatus.PROPOSED, created_by=cast["supervisor"])


def _nothing_decided(finding: Finding) -> None:
    finding.refresh_from_db()
    assert finding.status == FindingStatus.PROPOSED
    assert not FindingDecision.objects.filter(finding=finding).exists()
    assert not AuditEvent.objects.filter(action=AuditAction.FINDING_DECISION).exists()


def test_the_author_may_not_accept_their_own_finding(own, cast) -> None:
    with pytest.raises(DomainError) as err:
        services.finding_decide(
            finding_id=own.pk, reviewer=cast["supervisor"], decision="accept", rationale=RATIONALE
        )
    assert list(err.value.errors) == ["decision"]
    assert "four-eyes" in err.value.errors["decision"][0]
    _nothing_decided(own)


def test_another_reviewer_accepts_it(own, cast) -> None:
    services.finding_decide(
        finding_id=own.pk, reviewer=cast["analyst"], decision="accept", rationale=RATIONALE
    )
    own.refresh_from_db()
    assert own.status == FindingStatus.ACCEPTED
    assert own.decisions.get().reviewer == cast["analyst"]


def test_the_author_may_withdraw_their_own_finding(own, cast) -> None:
    services.finding_decide(
        finding_id=own.pk, reviewer=cast["supervisor"], decision="dismiss", rationale=RATIONALE
    )
    own.refresh_from_db()
    assert own.status == FindingStatus.DISMISSED


def test_api_refuses_the_authors_acceptance_naming_the_field(own, client_for) -> None:
    resp = client_for("supervisor").post(
        f"/api/v1/findings/{own.pk}/decision/",
        {"decision": "accept", "rationale": RATIONALE},
        format="json",
    )
    assert resp.status_code == 400
    assert list(resp.json()) == ["decision"]
    _nothing_decided(own)


def test_page_tells_the_author_and_refuses_their_acceptance(own, cast) -> None:
    client = Client()
    client.force_login(cast["supervisor"])
    url = f"/patterns/findings/{own.pk}/"
    assert 'id="four-eyes-note"' in client.get(url).text
    resp = client.post(url, {"decision": "accept", "rationale": RATIONALE})
    assert resp.status_code == 400
    assert "another reviewer must accept it" in resp.text
    assert RATIONALE in resp.text  # what was typed is kept
    _nothing_decided(own)
    other = Client()
    other.force_login(cast["analyst"])
    assert 'id="four-eyes-note"' not in other.get(url).text


def _draft(actor: Any, finding: Finding, assignee: Any = None) -> Any:
    return tasking_services.assignment_create(
        assignee_user_id=assignee.pk if assignee else None,
        actor=actor,
        finding_id=finding.pk,
        kind="directed_patrol",
        objective="Be seen on the block in the evening.",
        area=CIRCLE,
        windows=WINDOWS,
    )


def test_tasking_refuses_an_accepted_status_without_an_acceptance(agency, cast) -> None:
    bare = make_finding(agency, status=FindingStatus.PROPOSED)
    Finding.objects.filter(pk=bare.pk).update(status=FindingStatus.ACCEPTED)
    with pytest.raises(DomainError) as err:
        _draft(cast["supervisor"], bare)
    assert list(err.value.errors) == ["finding"]
    assert "reviewer other than its author" in err.value.errors["finding"][0]


def test_tasking_refuses_a_finding_accepted_by_its_author_around_the_service(own, cast) -> None:
    Finding.objects.filter(pk=own.pk).update(status=FindingStatus.ACCEPTED)
    FindingDecision.objects.create(
        finding=own,
        decision=Decision.ACCEPT,
        rationale=RATIONALE,
        reviewer=cast["supervisor"],
        decided_at=timezone.now(),
    )
    with pytest.raises(DomainError) as err:
        _draft(cast["supervisor"], own)
    assert list(err.value.errors) == ["finding"]


def test_tasking_takes_a_finding_accepted_by_someone_else(own, cast, agency) -> None:
    services.finding_decide(
        finding_id=own.pk, reviewer=cast["analyst"], decision="accept", rationale=RATIONALE
    )
    other_supervisor = UserFactory(roles=["supervisor"], agency=agency)
    assert _draft(other_supervisor, own, cast["field"]).finding_id == own.pk
