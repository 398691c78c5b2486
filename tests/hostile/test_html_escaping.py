"""Script payloads in every free-text field come out escaped on the pages people read: the call
page, the console, the field phone, the patterns dashboard and finding page, the tasking
assignment and shift briefing, the partner alert page. The JSON those pages' scripts read is
served as JSON (never sniffed as HTML), and the scripts put it in the page as text
(``static/js``; the Leaflet tooltips were the one HTML sink, see docs/reliability.md).

Templates never use ``|safe`` or ``mark_safe`` on these fields; this keeps it that way.
"""

from __future__ import annotations

import datetime as dt
from typing import Any
from xml.sax.saxutils import escape as xml_escape

import pytest
from django.test import Client
from django.utils import timezone

from dispatch import services as dispatch_services
from dispatch.alerts.services import alert_receive
from dispatch.models import CallType
from tasking import services as tasking_services
from tests.factories import UnitFactory
from tests.governance.matrix_world import CIRCLE, WINDOWS, _finding

pytestmark = pytest.mark.django_db

RAW = ('<script>alert("zz-xss")</script>', "<img src=x onerror=zz()>")
ESCAPED = "&lt;script&gt;alert(&quot;zz-xss&quot;)&lt;/script&gt;"


def payload(field: str) -> str:
    """A field-specific payload, so a page that shows it can be told from one that does not."""
    return f'{field} <script>alert("zz-xss")</script><img src=x onerror=zz()>'


@pytest.fixture
def hostile(agency, cast) -> dict[str, Any]:
    """One record of each kind, every free-text field holding a script payload."""
    dispatcher, supervisor = cast["dispatcher"], cast["supervisor"]
    call = dispatch_services.call_create(
        agency=agency,
        actor=dispatcher,
        call_type=CallType.objects.get(code="THEFT"),
        address="123 North Main Street",
        latitude=29.42,
        longitude=-98.49,
        caller_name=payload("caller")[:200],
        narrative=payload("narrative"),
    )
    dispatch_services.call_add_note(call_id=call.pk, actor=dispatcher, text=payload("note"))
    unit = UnitFactory(agency=agency, call_sign="A11")
    unit.users.add(cast["field"])
    dispatch_services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=dispatcher)
    dispatch_services.premise_note_create(
        location=call.location, agency=agency, actor=dispatcher, text=payload("premise"),
        kind="hazard",
    )  # fmt: skip
    person = dispatch_services.person_create(
        agency=agency, last_name=payload("lastname")[:100], first_name="<b>first</b>"
    )
    vehicle, _ = dispatch_services.vehicle_get_or_create(
        agency=agency, plate="XSS1", make="<i>make</i>", description=payload("vehicle")
    )
    for linked in ({"person": person}, {"vehicle": vehicle}):
        dispatch_services.involvement_create(
            actor=supervisor, role="subject", call=call, notes=payload("involvement"), **linked
        )
    dispatch_services.observation_create(
        agency=agency,
        actor=cast["field"],
        category="suspicious_vehicle",
        narrative=payload("observation"),
        latitude=29.42,
        longitude=-98.49,
    )
    finding = _finding(agency, call.location, "xss", payload("explanation"))
    finding.decisions.update(rationale=payload("rationale"))
    assignment = tasking_services.assignment_create(
        actor=supervisor,
        finding_id=finding.pk,
        kind="directed_patrol",
        objective=payload("objective"),
        area=CIRCLE,
        # Every day, all day, from yesterday: inside whichever shift the briefing shows.
        windows=[
            {
                **WINDOWS[0],
                "weekdays": list(range(7)),
                "start": "00:00",
                "duration_minutes": 24 * 60,
                "first_date": (timezone.localdate() - dt.timedelta(days=1)).isoformat(),
            }
        ],
        dosage={"minutes_per_visit": 15, "visits_per_window": 2},
        assignee_unit_id=unit.pk,
        issue=True,
    )
    now = timezone.now()
    headline = xml_escape(payload("headline"))
    description = xml_escape(payload("description"))
    xml = f"""<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
<identifier>xss-1</identifier><sender>partner@example.org</sender>
<sent>{(now - dt.timedelta(hours=1)).isoformat(timespec="seconds")}</sent><status>Actual</status>
<msgType>Alert</msgType><scope>Public</scope><info><category>Safety</category>
<event>Gas leak</event><urgency>Immediate</urgency><severity>Severe</severity>
<certainty>Observed</certainty>
<expires>{(now + dt.timedelta(days=2)).isoformat(timespec="seconds")}</expires>
<headline>{headline}</headline><description>{description}</description>
<area><areaDesc>{xml_escape(payload("area"))}</areaDesc>
<polygon>29.40,-98.50 29.40,-98.48 29.44,-98.48 29.44,-98.50 29.40,-98.50</polygon>
</area></info></alert>"""
    alert = alert_receive(agency_id=agency.pk, data=xml).alert
    return {"call": call, "finding": finding, "assignment": assignment, "alert": alert}


def _page(cast: dict[str, Any], role: str, url: str) -> str:
    client = Client()
    client.force_login(cast[role])
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    assert response["Content-Type"].startswith("text/html")
    return response.content.decode()


def _assert_escaped(html: str, *fields: str) -> None:
    for raw in RAW:
        assert raw not in html, f"unescaped {raw!r}"
    for field in fields:
        assert f"{field} {ESCAPED}" in html, f"{field} is not shown (escaped) on the page"


@pytest.mark.parametrize(
    ("role", "page", "fields"),
    [
        ("supervisor", "call", ("narrative", "note")),
        ("supervisor", "finding", ("explanation", "rationale")),
        ("supervisor", "assignment", ("objective",)),
        ("supervisor", "alert", ("headline", "description", "area")),
        ("field", "briefing", ("objective",)),
        ("dispatcher", "console", ()),
        ("field", "phone", ()),
        ("analyst", "dashboard", ()),
        ("supervisor", "calls", ()),
    ],
)
def test_free_text_is_escaped_on_the_page(hostile, cast, role, page, fields) -> None:
    urls = {
        "call": f"/calls/{hostile['call'].pk}/",
        "finding": f"/patterns/findings/{hostile['finding'].pk}/",
        "assignment": f"/tasking/{hostile['assignment'].pk}/",
        "alert": f"/alerts/{hostile['alert'].pk}/",
        "briefing": "/tasking/briefing/",
        "console": "/console/",
        "phone": "/field/",
        "dashboard": "/patterns/",
        "calls": "/calls/",
    }
    _assert_escaped(_page(cast, role, urls[page]), *fields)


@pytest.mark.parametrize(
    ("role", "url", "field"),
    [
        ("dispatcher", "/console/snapshot.json", "headline"),
        ("dispatcher", "/console/context.json?address=123 North Main Street", "premise"),
        ("field", "/field/snapshot.json", "narrative"),
        ("supervisor", "/tasking/board.json", "objective"),
    ],
)
def test_the_json_behind_the_pages_is_served_as_json(hostile, cast, role, url, field) -> None:
    client = Client()
    client.force_login(cast[role])
    response = client.get(url)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response["X-Content-Type-Options"] == "nosniff"
    # The payload is there, as data: the scripts render it with textContent.
    assert payload(field).replace('"', '\\"') in response.content.decode()
