"""The alert pages, the dashboard panel, the console snapshot, and alert -> finding."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.utils import timezone

from dispatch.alerts.services import alert_receive
from intelligence.choices import FindingKind, FindingStatus
from intelligence.models import Finding
from intelligence.services import finding_decide, finding_from_alert
from tests.dispatch.cap_support import needs_cap, sample

pytestmark = [needs_cap, pytest.mark.django_db]


def _live(agency, identifier: str = "L-1", headline: str = "Gas leak on Main") -> object:
    now = timezone.now()
    sent = (now - dt.timedelta(hours=1)).isoformat(timespec="seconds")
    expires = (now + dt.timedelta(hours=5)).isoformat(timespec="seconds")
    xml = f"""<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
<identifier>{identifier}</identifier><sender>fire@example.org</sender><sent>{sent}</sent>
<status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
<info><category>Fire</category><event>Gas leak</event><urgency>Immediate</urgency>
<severity>Extreme</severity><certainty>Observed</certainty><expires>{expires}</expires>
<senderName>City Fire</senderName><headline>{headline}</headline>
<area><areaDesc>Main St block</areaDesc>
<polygon>29.40,-98.50 29.40,-98.48 29.44,-98.48 29.44,-98.50 29.40,-98.50</polygon>
<circle>29.30,-98.30 0.5</circle></area></info></alert>"""
    return alert_receive(agency_id=agency.pk, data=xml).alert


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_alert_pages_show_the_alert_and_the_button_to_those_who_may(agency, cast) -> None:
    alert = _live(agency)
    page = _client(cast["dispatcher"]).get("/alerts/")
    assert page.status_code == 200 and b"Gas leak on Main" in page.content
    assert b"Receive an alert" not in page.content
    detail = _client(cast["dispatcher"]).get(f"/alerts/{alert.pk}/")
    assert detail.status_code == 200 and b"Main St block" in detail.content
    assert b"Propose a finding" not in detail.content
    sup = _client(cast["supervisor"]).get(f"/alerts/{alert.pk}/")
    assert b"Propose a finding" in sup.content and b"amap-alert" in sup.content
    assert b"Receive an alert" in _client(cast["supervisor"]).get("/alerts/").content


def test_upload_through_the_page(agency, cast) -> None:
    client = _client(cast["supervisor"])
    response = client.post("/alerts/", {"xml": sample("oasis-spec-A3_earthquake.xml").decode()})
    assert response.status_code == 302 and response.url.startswith("/alerts/")
    bad = client.post("/alerts/", {"xml": "<alert"})
    assert bad.status_code == 400 and b"well-formed" in bad.content


def test_a_signed_alert_reads_signed_not_verified(agency, cast) -> None:
    client = _client(cast["supervisor"])
    signed = sample("env-canada_2013-01-24_snowfall_signed.xml").decode()
    response = client.post("/alerts/", {"xml": signed})
    assert response.status_code == 302
    assert b"signed (not verified)" in client.get(response.url).content
    assert b"signed (not verified)" in client.get("/alerts/").content
    response = client.post("/alerts/", {"xml": sample("oasis-spec-A3_earthquake.xml").decode()})
    detail = client.get(response.url).content.decode()
    assert '<dd id="alert-signature">unsigned</dd>' in detail


def test_console_snapshot_and_dashboard_list_active_alerts(agency, cast) -> None:
    _live(agency)
    snapshot = _client(cast["dispatcher"]).get("/console/snapshot.json").json()
    alerts = [a for a in snapshot["areas"] if a["kind"] == "partner_alert"]
    assert len(alerts) == 1 and alerts[0]["severity"] == "Extreme"
    assert alerts[0]["headline"] == "Gas leak on Main" and len(alerts[0]["rings"]) == 2
    dashboard = _client(cast["supervisor"]).get("/patterns/")
    assert (
        b"Partner alerts in force" in dashboard.content and b"Gas leak on Main" in dashboard.content
    )


def test_the_context_endpoint_flags_a_point_inside(agency, cast) -> None:
    _live(agency)
    ctx = _client(cast["dispatcher"]).get("/console/context.json?lat=29.42&lon=-98.49").json()
    labels = [f["label"] for f in ctx["flags"] if f["kind"] == "partner_alert"]
    assert labels and labels[0].startswith("Inside partner alert: Gas leak (Extreme), until ")


def test_alert_to_finding_then_four_eyes(agency, cast) -> None:
    alert = _live(agency)
    response = _client(cast["supervisor"]).post(f"/patterns/from-alert/{alert.pk}/")
    assert response.status_code == 302
    finding = Finding.objects.get(kind=FindingKind.PARTNER_ALERT)
    assert finding.status == FindingStatus.PROPOSED
    assert finding.created_by == cast["supervisor"]
    assert finding.cells and all(c[:1] == "8" for c in finding.cells)
    assert "Gas leak on Main" in finding.explanation
    assert finding.statistics["alert_id"] == alert.pk
    # Again: the open proposal, not a second one.
    assert finding_from_alert(actor=cast["analyst"], alert_id=alert.pk).pk == finding.pk
    from beacon_core.errors import DomainError

    with pytest.raises(DomainError, match="four-eyes"):
        finding_decide(
            finding_id=finding.pk,
            reviewer=cast["supervisor"],
            decision="accept",
            rationale="Partner alert confirmed by phone.",
        )
    decided = finding_decide(
        finding_id=finding.pk,
        reviewer=cast["analyst"],
        decision="accept",
        rationale="Partner alert confirmed by phone.",
    )
    assert decided.status == FindingStatus.ACCEPTED
    page = _client(cast["supervisor"]).get(f"/patterns/findings/{finding.pk}/")
    assert page.status_code == 200


def test_dispatchers_may_not_propose(agency, cast) -> None:
    alert = _live(agency)
    assert _client(cast["dispatcher"]).post(f"/patterns/from-alert/{alert.pk}/").status_code == 403
    assert not Finding.objects.exists()


def test_admins_who_receive_alerts_find_the_alerts_page_in_the_menu(agency, cast) -> None:
    """Admins may read and upload alerts, so the menu links them (auditors read no calls)."""
    assert b'href="/alerts/">Alerts' in _client(cast["admin"]).get("/governance/access/").content
    assert b"Receive an alert" in _client(cast["admin"]).get("/alerts/").content
    assert b'href="/alerts/"' not in _client(cast["auditor"]).get("/governance/audit/").content


def test_an_alert_that_cannot_become_a_finding_says_why_on_its_page(agency, cast) -> None:
    """An area given only by a geocode has no shape to task in: the alert page comes back with
    the reason (it used to be a bare text/plain answer)."""
    now = timezone.now()
    sent = (now - dt.timedelta(hours=1)).isoformat(timespec="seconds")
    xml = f"""<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
<identifier>G-1</identifier><sender>nws@example.org</sender><sent>{sent}</sent>
<status>Actual</status><msgType>Alert</msgType><scope>Public</scope>
<info><category>Met</category><event>Flood warning</event><urgency>Expected</urgency>
<severity>Severe</severity><certainty>Likely</certainty><headline>River flooding</headline>
<area><areaDesc>Bexar County</areaDesc><geocode><valueName>FIPS6</valueName><value>048029</value>
</geocode></area></info></alert>"""
    alert = alert_receive(agency_id=agency.pk, data=xml).alert
    response = _client(cast["supervisor"]).post(f"/patterns/from-alert/{alert.pk}/")
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert 'id="alert-action-errors"' in page and "no polygon or circle to task in" in page
    assert "River flooding" in page
    assert not Finding.objects.exists()
