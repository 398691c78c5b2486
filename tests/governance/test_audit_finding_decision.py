"""Accepting or dismissing a finding writes one audit event with the rationale, in the same
transaction as the decision; a refused or conflicting decision writes none."""

from __future__ import annotations

import pytest
from django.test import Client

from beacon_core.errors import ConflictError, DomainError
from governance import audit
from governance.choices import AuditAction
from governance.models import AuditEvent
from intelligence import services
from tests.intelligence.test_dashboard_support import repeat_finding

pytestmark = pytest.mark.django_db


@pytest.fixture
def finding(agency):  # type: ignore[no-untyped-def]
    return repeat_finding(agency)


def _decisions() -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=AuditAction.FINDING_DECISION))


def test_a_decision_is_audited_with_its_rationale(cast, finding) -> None:  # type: ignore[no-untyped-def]
    services.finding_decide(
        finding_id=finding.pk, reviewer=cast["supervisor"], decision="accept", rationale=" Real. "
    )
    (event,) = _decisions()
    assert (event.actor_id, event.actor_username) == (cast["supervisor"].pk, "supervisor1")
    assert (event.object_type, event.object_id) == ("intelligence.finding", str(finding.pk))
    assert event.agency_id == finding.agency_id and event.justification == "Real."
    assert event.details == {"decision": "accept", "status": ["proposed", "accepted"]}
    assert audit.verify_chain().intact


def test_refused_and_conflicting_decisions_write_no_event(cast, finding) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(DomainError):
        services.finding_decide(
            finding_id=finding.pk, reviewer=cast["supervisor"], decision="accept", rationale=""
        )
    services.finding_decide(
        finding_id=finding.pk, reviewer=cast["analyst"], decision="dismiss", rationale="One-off."
    )
    with pytest.raises(ConflictError):
        services.finding_decide(
            finding_id=finding.pk, reviewer=cast["supervisor"], decision="accept", rationale="x"
        )
    assert [e.details["decision"] for e in _decisions()] == ["dismiss"]


def test_a_decision_from_the_review_page_carries_the_client_address(cast, finding) -> None:  # type: ignore[no-untyped-def]
    client = Client(REMOTE_ADDR="198.51.100.7", HTTP_USER_AGENT="review-desk")
    client.force_login(cast["supervisor"])
    response = client.post(
        f"/patterns/findings/{finding.pk}/", {"decision": "dismiss", "rationale": "Seasonal."}
    )
    assert response.status_code == 302
    (event,) = _decisions()
    assert (event.ip, event.user_agent, event.justification) == (
        "198.51.100.7",
        "review-desk",
        "Seasonal.",
    )
