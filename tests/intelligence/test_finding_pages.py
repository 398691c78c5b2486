"""The finding review page: what it shows, the accept/dismiss forms (rationale required, named in
the error), 409-style answer for a decided finding, and who may see or review."""

from __future__ import annotations

import pytest
from django.test import Client

from governance.choices import Category, Role
from governance.models import AgencyShare
from intelligence import services
from intelligence.choices import FindingKind, FindingStatus
from intelligence.models import Finding, FindingDecision
from tests.factories import UserFactory
from tests.grants import set_grants
from tests.intelligence.test_dashboard_support import analyse, repeat_finding

pytestmark = pytest.mark.django_db


def signed_in(user) -> Client:  # type: ignore[no-untyped-def]
    client = Client()
    client.force_login(user)
    return client


def url(finding: Finding) -> str:
    return f"/patterns/findings/{finding.pk}/"


@pytest.fixture
def finding(agency):  # type: ignore[no-untyped-def]
    return repeat_finding(agency)


def test_page_shows_explanation_statistics_evidence_map_and_charts(cast, finding) -> None:  # type: ignore[no-untyped-def]
    response = signed_in(cast["supervisor"]).get(url(finding))
    assert response.status_code == 200
    html = response.content.decode()
    assert finding.explanation in html and "400 BLOCK ELM ST" in html
    assert "expected jurisdiction" in html  # statistics, labelled for reading
    call = finding.evidence.first().call
    assert f'href="/calls/{call.pk}/"' in html and call.number in html
    assert 'id="fmap"' in html and 'id="weekly"' in html and 'id="fheat"' in html
    assert 'id="finding-config"' in html and "<script>" not in html
    assert 'id="accept-button"' in html and 'id="dismiss-button"' in html
    assert "No decision yet." in html


def test_hotspot_page_has_its_cells_for_the_map(cast, agency, finding) -> None:  # type: ignore[no-untyped-def]
    analyse(FindingKind.HOTSPOT, agency)
    hot = Finding.objects.get(kind=FindingKind.HOTSPOT)
    response = signed_in(cast["analyst"]).get(url(hot))
    config = response.context["charts_json"]
    assert len(config["subject"]["cells"]) == len(hot.cells)
    assert config["series"]["unit"] == "week"  # a 90-day window is drawn per week
    assert sum(config["series"]["counts"]) == hot.evidence.count()
    assert sum(map(sum, config["heatmap"]["counts"])) == hot.evidence.count()


def test_evidence_series_is_daily_for_short_windows_and_weekly_beyond() -> None:
    import datetime as dt
    from zoneinfo import ZoneInfo

    from intelligence.dashboard import evidence_series

    end = dt.datetime(2026, 3, 1, 12, tzinfo=dt.UTC)
    times = [end - dt.timedelta(hours=h) for h in (1, 2, 30, 24 * 6.5)]
    week = evidence_series(times, end - dt.timedelta(days=7), end, ZoneInfo("UTC"))
    assert week["unit"] == "day" and week["counts"] == [1, 0, 0, 0, 0, 1, 2]
    assert week["labels"][-1] == "03-01" and len(week["labels"]) == 7
    quarter = evidence_series(times, end - dt.timedelta(days=90), end, ZoneInfo("UTC"))
    assert quarter["unit"] == "week" and len(quarter["counts"]) == 13
    assert quarter["counts"][-1] == 4


def test_empty_rationale_reshows_the_form_naming_the_field(cast, finding) -> None:  # type: ignore[no-untyped-def]
    response = signed_in(cast["supervisor"]).post(
        url(finding), {"decision": "dismiss", "rationale": "   "}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert "Rationale: Give the reason for this decision." in html
    assert 'aria-invalid="true"' in html and 'id="rationale-dismiss-error"' in html
    finding.refresh_from_db()
    assert finding.status == FindingStatus.PROPOSED and not FindingDecision.objects.exists()


def test_an_unknown_decision_is_named(cast, finding) -> None:  # type: ignore[no-untyped-def]
    response = signed_in(cast["supervisor"]).post(
        url(finding), {"decision": "approve", "rationale": "why"}
    )
    assert response.status_code == 400 and "Decision: Choose one of" in response.content.decode()


def test_accept_with_rationale_records_it_and_shows_the_history(cast, finding) -> None:  # type: ignore[no-untyped-def]
    client = signed_in(cast["supervisor"])
    response = client.post(url(finding), {"decision": "accept", "rationale": "Known problem bar."})
    assert response.status_code == 302 and response["Location"] == url(finding) + "?decided=1"
    finding.refresh_from_db()
    assert finding.status == FindingStatus.ACCEPTED
    html = client.get(response["Location"]).content.decode()
    assert "Decision recorded." in html and "Known problem bar." in html
    assert 'id="accept-button"' not in html and "it can no longer be accepted" in html


def test_deciding_a_decided_finding_is_a_409_message_not_a_500(cast, finding) -> None:  # type: ignore[no-untyped-def]
    services.finding_decide(
        finding_id=finding.pk, reviewer=cast["analyst"], decision="dismiss", rationale="One-off."
    )
    response = signed_in(cast["supervisor"]).post(
        url(finding), {"decision": "accept", "rationale": "Stale tab."}
    )
    assert response.status_code == 409
    html = response.content.decode()
    assert "Already decided (409)" in html and "already dismissed" in html
    assert FindingDecision.objects.count() == 1


def test_another_agencys_finding_is_404(cast, other_agency) -> None:  # type: ignore[no-untyped-def]
    theirs = repeat_finding(other_agency)
    client = signed_in(cast["supervisor"])
    assert client.get(url(theirs)).status_code == 404
    assert client.post(url(theirs), {"decision": "accept", "rationale": "x"}).status_code == 404
    assert client.get("/patterns/findings/999999/").status_code == 404


@pytest.mark.parametrize("role", ["dispatcher", "field", "admin", "auditor"])
def test_roles_without_findings_get_403(cast, finding, role) -> None:  # type: ignore[no-untyped-def]
    assert signed_in(cast[role]).get(url(finding)).status_code == 403


def test_view_only_role_sees_no_forms_and_cannot_post(agency, finding) -> None:  # type: ignore[no-untyped-def]
    set_grants(Role.DISPATCHER, Category.FINDING, {"view"})
    client = signed_in(UserFactory(roles=["dispatcher"], agency=agency))
    html = client.get(url(finding)).content.decode()
    assert 'id="accept-button"' not in html and "may view this finding but not review it" in html
    response = client.post(url(finding), {"decision": "accept", "rationale": "x"})
    assert response.status_code == 403
    finding.refresh_from_db()
    assert finding.status == FindingStatus.PROPOSED


def test_shared_agency_finding_is_readable_without_forms(agency, other_agency) -> None:  # type: ignore[no-untyped-def]
    theirs = repeat_finding(other_agency)
    AgencyShare.objects.create(owner=other_agency, viewer=agency, category=Category.FINDING)
    client = signed_in(UserFactory(roles=["supervisor"], agency=agency))
    html = client.get(url(theirs)).content.decode()
    assert theirs.explanation in html and 'id="accept-button"' not in html
