"""Receiving partner alerts: storage of every sample, idempotency, Update/Cancel, no side
effects on refusal, audit, active alerts, point-in-area for the intake panel, feed polling."""

from __future__ import annotations

import datetime as dt
import http.server
import threading
from typing import Any

import pytest
from django.utils import timezone

from beacon_core.errors import DomainError
from dispatch.alerts import selectors, services, tasks
from dispatch.context import intake_context
from dispatch.models import (
    AlertArea,
    AlertAreaCell,
    AlertFeed,
    AlertInfo,
    PartnerAlert,
)
from governance.models import AuditEvent
from tests.dispatch.cap_support import (
    EXPECTED,
    NEGATIVE_EXPECTED,
    SCHEMA,
    needs_cap,
    negative,
    sample,
)

pytestmark = [needs_cap, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def cap_schema(settings) -> None:
    settings.BEACON_CAP_XSD = str(SCHEMA)


def _counts() -> tuple[int, ...]:
    return tuple(
        m.objects.count() for m in (PartnerAlert, AlertInfo, AlertArea, AlertAreaCell, AuditEvent)
    )


def test_every_sample_is_stored_with_its_infos_and_areas(agency) -> None:
    """The Google validator's examples are the spec's A.1/A.2 under the same (sender,
    identifier, sent): they are the same messages, so they answer with the stored ones."""
    from dispatch.alerts.parser import parse_alert

    keys: dict[tuple[str, str, dt.datetime], int] = {}
    for name, (msg_type, infos, areas, polygons, circles, *_rest) in sorted(EXPECTED.items()):
        parsed = parse_alert(sample(name))
        key = (parsed.sender, parsed.identifier, parsed.sent)
        receipt = services.alert_receive(agency_id=agency.pk, data=sample(name))
        alert = receipt.alert
        assert receipt.created is (key not in keys), name
        if not receipt.created:
            assert alert.pk == keys[key]
            continue
        keys[key] = alert.pk
        assert alert.msg_type == msg_type
        assert alert.infos.count() == infos
        stored = AlertArea.objects.filter(info__alert=alert)
        assert stored.count() == sum(areas)
        assert sum(len(a.polygons) for a in stored) == polygons
        assert sum(len(a.circles) for a in stored) == circles
    assert PartnerAlert.objects.count() == len(keys) == len(EXPECTED) - 2


def test_the_same_alert_twice_is_one_row(agency, other_agency) -> None:
    first = services.alert_receive(
        agency_id=agency.pk, data=sample("oasis-spec-A4_amber-alert.xml")
    )
    before = _counts()
    again = services.alert_receive(
        agency_id=agency.pk, data=sample("oasis-spec-A4_amber-alert.xml")
    )
    assert not again.created and again.alert.pk == first.alert.pk
    assert _counts() == before
    # Another agency receiving the same partner message gets its own copy.
    assert services.alert_receive(
        agency_id=other_agency.pk, data=sample("oasis-spec-A4_amber-alert.xml")
    ).created


@pytest.mark.parametrize("name", sorted(NEGATIVE_EXPECTED))
def test_a_refused_alert_leaves_nothing_behind(agency, name: str) -> None:
    field, words = NEGATIVE_EXPECTED[name]
    before = _counts()
    with pytest.raises(DomainError) as caught:
        services.alert_receive(agency_id=agency.pk, data=negative(name))
    assert field in caught.value.errors
    assert words[0] in caught.value.errors[field][0]
    assert _counts() == before


def test_receipt_is_audited_with_a_neutral_label(agency, cast) -> None:
    alert = services.alert_receive(
        agency_id=agency.pk,
        data=sample("oasis-spec-A1_homeland-security-advisory.xml"),
        actor=cast["supervisor"],
    ).alert
    event = AuditEvent.objects.get(object_type="dispatch.partneralert", object_id=str(alert.pk))
    assert event.action == "create"
    assert event.object_label == f"partner alert #{alert.pk}"
    assert "Homeland" not in event.object_label


def _cap(
    identifier: str,
    msg_type: str = "Alert",
    refs: str = "",
    *,
    sent: str,
    expires: str = "2099-01-01T00:00:00-00:00",
    polygon: str = "",
    circle: str = "",
    event: str = "Flood",
    severity: str = "Severe",
) -> bytes:
    references = f"<references>{refs}</references>" if refs else ""
    shape = (f"<polygon>{polygon}</polygon>" if polygon else "") + (
        f"<circle>{circle}</circle>" if circle else ""
    )
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier><sender>partner@example.org</sender>
  <sent>{sent}</sent><status>Actual</status><msgType>{msg_type}</msgType><scope>Public</scope>
  {references}
  <info><language>en-US</language><category>Met</category><event>{event}</event>
    <urgency>Immediate</urgency><severity>{severity}</severity><certainty>Observed</certainty>
    <expires>{expires}</expires><headline>{event} warning</headline>
    <area><areaDesc>River district</areaDesc>{shape}</area>
  </info>
</alert>""".encode()


SQUARE = "29.40,-98.50 29.40,-98.48 29.44,-98.48 29.44,-98.50 29.40,-98.50"


def test_update_supersedes_and_cancel_ends(agency) -> None:
    first = services.alert_receive(
        agency_id=agency.pk, data=_cap("A-1", sent="2026-01-01T10:00:00-00:00", polygon=SQUARE)
    ).alert
    update = services.alert_receive(
        agency_id=agency.pk,
        data=_cap(
            "A-2",
            "Update",
            "partner@example.org,A-1,2026-01-01T10:00:00-00:00",
            sent="2026-01-01T11:00:00-00:00",
            polygon=SQUARE,
        ),
    ).alert
    first.refresh_from_db()
    assert first.superseded_by_id == update.pk and first.cancelled_at is None
    cancel = services.alert_receive(
        agency_id=agency.pk,
        data=_cap(
            "A-3",
            "Cancel",
            "partner@example.org,A-2,2026-01-01T12:00:00+01:00",
            sent="2026-01-01T12:00:00-00:00",
            polygon=SQUARE,
        ),
    ).alert
    update.refresh_from_db()
    assert update.cancelled_at is not None  # the same instant written with another offset
    assert cancel.references[0]["identifier"] == "A-2"


def test_a_cancel_of_an_unknown_alert_is_kept_and_changes_nothing(agency) -> None:
    receipt = services.alert_receive(
        agency_id=agency.pk, data=sample("ipaws_2019-04-19_nevada-dps_cancel.xml")
    )
    assert receipt.created and receipt.alert.references


def test_real_update_chain_of_the_spec_earthquake(agency) -> None:
    """The sample's reference names an alert we never got: stored, nothing superseded."""
    alert = services.alert_receive(
        agency_id=agency.pk, data=sample("oasis-spec-A3_earthquake.xml")
    ).alert
    assert alert.references[0]["identifier"] == "TRI13970876.1"
    assert not PartnerAlert.objects.filter(superseded_by__isnull=False).exists()


def test_active_alerts_and_the_intake_flag(agency, cast) -> None:
    now = timezone.now()
    sent = (now - dt.timedelta(hours=1)).isoformat(timespec="seconds")
    later = (now + dt.timedelta(hours=3)).isoformat(timespec="seconds")
    past = (now - dt.timedelta(minutes=5)).isoformat(timespec="seconds")
    services.alert_receive(
        agency_id=agency.pk, data=_cap("P-1", sent=sent, expires=later, polygon=SQUARE)
    )
    services.alert_receive(
        agency_id=agency.pk,
        data=_cap(
            "C-1",
            sent=sent,
            expires=later,
            circle="29.30,-98.30 2.5",
            event="Gas leak",
            severity="Extreme",
        ),
    )
    services.alert_receive(
        agency_id=agency.pk, data=_cap("X-1", sent=sent, expires=past, polygon=SQUARE, event="Old")
    )
    dispatcher = cast["dispatcher"]
    active = selectors.active_alerts(user=dispatcher)
    assert [a.identifier for a in active] == ["C-1", "P-1"]  # most severe first
    areas = selectors.alert_map_areas(dispatcher)
    assert {a["kind"] for a in areas} == {"partner_alert"} and len(areas) == 2
    assert {a["severity"] for a in areas} == {"Severe", "Extreme"}

    inside = intake_context(user=dispatcher, latitude=29.42, longitude=-98.49)
    labels = [f.label for f in inside.flags if f.kind == "partner_alert"]
    assert len(labels) == 1
    assert labels[0].startswith("Inside partner alert: Flood (Severe), until ")
    in_circle = intake_context(user=dispatcher, latitude=29.31, longitude=-98.30)  # ~1.1 km away
    assert [f.label.split(",")[0] for f in in_circle.flags if f.kind == "partner_alert"] == [
        "Inside partner alert: Gas leak (Extreme)"
    ]
    outside = intake_context(user=dispatcher, latitude=29.50, longitude=-98.49)
    assert not [f for f in outside.flags if f.kind == "partner_alert"]
    # Another agency's staff see neither the alert nor the flag.
    assert selectors.active_alerts(user=cast["auditor"]) == []


def test_large_areas_are_found_by_shape_without_cells(agency, cast) -> None:
    now = timezone.now()
    sent = (now - dt.timedelta(hours=1)).isoformat(timespec="seconds")
    big = "20,-110 20,-80 45,-80 45,-110 20,-110"
    alert = services.alert_receive(
        agency_id=agency.pk, data=_cap("BIG", sent=sent, polygon=big)
    ).alert
    area = AlertArea.objects.get(info__alert=alert)
    assert area.uncovered and not area.cells.exists()
    hits = selectors.alerts_at_point(user=cast["dispatcher"], latitude=29.42, longitude=-98.49)
    assert [h[0].identifier for h in hits] == ["BIG"]


def test_small_areas_are_indexed_at_res_7_and_9(agency) -> None:
    alert = services.alert_receive(
        agency_id=agency.pk, data=_cap("S-1", sent="2026-01-01T10:00:00-00:00", polygon=SQUARE)
    ).alert
    resolutions = set(
        AlertAreaCell.objects.filter(area__info__alert=alert).values_list("resolution", flat=True)
    )
    assert resolutions == {7, 9}


# --- feed polling against a real local HTTP server ----------------------------------------


class _Feed(http.server.BaseHTTPRequestHandler):
    body = b""
    etag = '"v1"'
    seen: list[dict[str, str]] = []

    def do_GET(self) -> None:
        type(self).seen.append(dict(self.headers))
        if self.headers.get("If-None-Match") == type(self).etag:
            self.send_response(304)
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/cap+xml")
        self.send_header("ETag", type(self).etag)
        self.send_header("Last-Modified", "Wed, 01 Jan 2026 10:00:00 GMT")
        self.end_headers()
        self.wfile.write(type(self).body)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def feed_server():
    _Feed.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Feed)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_feed_polling_honours_etag_and_interval(agency, feed_server) -> None:
    _Feed.body = sample("oasis-spec-A2_severe-thunderstorm-warning.xml")
    _Feed.etag = '"v1"'
    url = f"http://127.0.0.1:{feed_server.server_address[1]}/cap.xml"
    feed = AlertFeed.objects.create(
        agency=agency, name="NWS test", url=url, interval_minutes=5, allow_private_network=True
    )

    assert tasks.poll_alert_feeds() == 1
    feed.refresh_from_db()
    assert feed.etag == '"v1"' and feed.last_modified.startswith("Wed, 01 Jan 2026")
    assert feed.last_status.startswith("200 new alert")
    alert = PartnerAlert.objects.get()
    assert alert.received_via == f"feed:{feed.pk}" and alert.received_by is None

    assert tasks.poll_alert_feeds() == 0  # not due again within its interval
    assert len(_Feed.seen) == 1

    later = timezone.now() + dt.timedelta(minutes=6)
    assert tasks.poll_feed(feed.pk, now=later) == "304 not modified"
    assert _Feed.seen[-1]["If-None-Match"] == '"v1"'
    assert _Feed.seen[-1]["If-Modified-Since"].startswith("Wed, 01 Jan 2026")

    _Feed.etag = '"v2"'  # the server has a new version: same alert again, still one row
    assert tasks.poll_feed(feed.pk, now=later).startswith("200 known alert")
    feed.refresh_from_db()
    assert feed.etag == '"v2"' and PartnerAlert.objects.count() == 1


def test_a_feed_serving_a_bad_document_or_down_is_noted(agency, feed_server) -> None:
    _Feed.body = negative("xxe-attack_DO-NOT-RESOLVE-ENTITIES.xml")
    _Feed.etag = '"bad"'
    url = f"http://127.0.0.1:{feed_server.server_address[1]}/cap.xml"
    feed = AlertFeed.objects.create(agency=agency, name="Hostile", url=url)
    # The test server is on loopback: only a feed an admin allowed the private network reaches it.
    assert tasks.poll_feed(feed.pk).startswith("error: Refused: 127.0.0.1 resolves to 127.0.0.1")
    assert _Feed.seen == []
    feed.allow_private_network = True
    feed.save()
    status = tasks.poll_feed(feed.pk)
    assert status.startswith("refused:") and "DOCTYPE" in status
    feed.refresh_from_db()
    assert feed.etag == "" and not PartnerAlert.objects.exists()

    feed.url = "http://127.0.0.1:9/nothing-listens-here"
    feed.save()
    assert tasks.poll_feed(feed.pk).startswith("error:")
