"""The dispatcher console and the field phone view, driven as people use them (issue: console).

Each journey runs in real Chromium against a real `serve` process; live updates
travel through the same websocket and channel layer production uses.
"""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.utils import timezone

from dispatch import services
from dispatch.models import CallType, Disposition, FieldObservation
from tests.browser.conftest import sign_in
from tests.factories import TEST_PASSWORD, UnitFactory, UserFactory

pytestmark = pytest.mark.django_db(transaction=True)
LIVE = 5_000  # ms: generous for a loaded CI machine; the journey checks behaviour, not speed


def _console(new_page, username):
    page = new_page(viewport={"width": 1600, "height": 900})
    sign_in(page, username, TEST_PASSWORD)
    page.goto("/console/")
    page.wait_for_selector("#conn[data-state=live]")
    return page


def _prior_calls(agency, actor, address, n, lat=29.4301, lon=-98.4902):
    for i in range(n):
        call = services.call_create(
            agency=agency,
            actor=actor,
            call_type=CallType.objects.get(code="NOISE"),
            address=address,
            latitude=lat,
            longitude=lon,
            received_at=timezone.now() - dt.timedelta(days=3 + i),
        )
        services.call_close(
            call_id=call.pk,
            actor=actor,
            disposition=__import__(
                "dispatch.models", fromlist=["Disposition"]
            ).Disposition.objects.get(code="ADVISED"),
        )


def test_keyboard_intake_appears_live_on_a_second_console_with_premise_history(
    new_page, cast, agency
):
    _prior_calls(agency, cast["dispatcher"], "400 Elm Street", 2)
    UserFactory(username="dispatcher2", roles=["dispatcher"], agency=agency)
    other = _console(new_page, "dispatcher2")
    page = _console(new_page, "dispatcher1")

    page.keyboard.press("F2")
    page.keyboard.type("NOISE")
    page.keyboard.press("Alt+a")
    page.keyboard.type("400 elm st")
    page.wait_for_selector("#suggest li")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_selector("#ctx-recent li")
    assert page.locator("#ctx-recent li").count() == 2
    assert "Here: 0 in 24 h · 2 in 7 d · 2 in 90 d" in page.locator("#ctx-counts").inner_text()
    page.keyboard.type("Jane Caller")
    page.keyboard.press("Tab")
    page.keyboard.type("555-0100")
    page.keyboard.press("Tab")
    page.keyboard.type("music from the yard")
    page.keyboard.press("Control+Enter")

    page.wait_for_selector("#detail h2:has-text('Noise')")
    number = page.locator("#detail h2").inner_text().split(" ")[0]
    row = other.locator(f"#queue-table tbody tr:has-text('{number}')")
    row.wait_for(timeout=LIVE)
    assert "400 ELM ST" in row.inner_text()


def test_assign_closest_unit_field_phone_updates_both_consoles_live(new_page, cast, agency):
    near = UnitFactory(
        agency=agency,
        call_sign="1A11",
        latitude=29.4302,
        longitude=-98.4903,
        position_at=timezone.now(),
    )
    UnitFactory(
        agency=agency,
        call_sign="1A12",
        latitude=29.50,
        longitude=-98.60,
        position_at=timezone.now(),
    )
    near.users.add(cast["field"])
    call = services.call_create(
        agency=agency,
        actor=cast["dispatcher"],
        call_type=CallType.objects.get(code="THEFT"),
        address="410 Elm Street",
        latitude=29.4301,
        longitude=-98.4902,
    )
    UserFactory(username="dispatcher2", roles=["dispatcher"], agency=agency)
    other = _console(new_page, "dispatcher2")
    page = _console(new_page, "dispatcher1")
    phone = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    sign_in(phone, "field1", TEST_PASSWORD)
    phone.goto("/field/")
    phone.wait_for_selector("#conn[data-state=live]")
    assert phone.locator(".unit-card").inner_text().count("No call assigned") == 1

    page.locator(f"#queue-table tbody tr:has-text('{call.number}')").click()
    option = page.locator("#d-unit option:checked")
    option.wait_for(state="attached")
    page.wait_for_function("() => document.querySelector('#d-unit').value !== ''")
    assert (
        "1A11" in page.locator("#d-unit option:checked").inner_text()
    )  # the closest one is suggested
    page.keyboard.press("Alt+u")
    page.keyboard.press("Enter")

    phone.locator(f"#current-call-{near.pk}").wait_for(timeout=LIVE)  # live, no reload
    assert "410 ELM ST" in phone.locator(f"#current-call-{near.pk}").inner_text()
    phone.locator("button[data-status=en_route]").tap()
    other.locator("#unit-table tr:has-text('1A11') :text('En route')").wait_for(timeout=LIVE)
    page.locator("#unit-table tr:has-text('1A11') :text('En route')").wait_for(timeout=LIVE)
    phone.locator("button[data-status=on_scene]").tap()
    other.locator("#unit-table tr:has-text('1A11') :text('On scene')").wait_for(timeout=LIVE)
    other.locator(f"#queue-table tr:has-text('{call.number}') :text('On scene')").wait_for(
        timeout=LIVE
    )


def test_duplicate_warning_and_attach_to_the_open_call(new_page, cast, agency):
    first = services.call_create(
        agency=agency,
        actor=cast["dispatcher"],
        call_type=CallType.objects.get(code="DISTURB"),
        address="55 Harbor Road",
        latitude=29.421,
        longitude=-98.481,
        narrative="fight outside",
    )
    page = _console(new_page, "dispatcher1")
    page.select_option("#f-type", "DISTURB")
    page.fill("#f-address", "55 harbor rd")
    page.wait_for_selector("#suggest li")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    warning = page.locator(".dup-warning")
    warning.wait_for(timeout=LIVE)
    assert first.number in warning.inner_text()
    page.fill("#f-caller", "Second Caller")
    page.fill("#f-narrative", "now they have a bat")
    warning.locator("button.attach").click()
    page.wait_for_selector(f"#detail h2:has-text('{first.number}')")
    page.locator("#detail .timeline :text('now they have a bat')").wait_for(timeout=LIVE)
    first.refresh_from_db()
    assert first.events.filter(kind="attached").count() == 1


def test_field_observation_shows_in_the_location_history_on_the_console(new_page, cast, agency):
    _prior_calls(agency, cast["dispatcher"], "77 Dock Street", 1, lat=29.41, lon=-98.47)
    phone = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    sign_in(phone, "field1", TEST_PASSWORD)
    phone.goto("/field/observe/")
    phone.locator("label.choice:has-text('Suspicious vehicle')").tap()
    phone.locator("#observe-map-view").tap()  # a tap on the map sets the point
    assert phone.locator("#o-lat").input_value() != ""
    phone.fill("#o-address", "77 Dock St")
    phone.fill("#o-plate", "ABC123")
    phone.fill("#o-state", "TX")
    phone.fill("#o-vdesc", "white van")
    phone.fill("#o-narrative", "van idling behind the warehouse")
    phone.locator("#observe button[type=submit]").tap()
    phone.wait_for_url("**/field/?filed=1")
    assert FieldObservation.objects.filter(location__address_key="77 DOCK ST").count() == 1

    page = _console(new_page, "dispatcher1")
    page.fill("#f-address", "77 dock street")
    page.wait_for_selector("#suggest li")
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    obs = page.locator("#ctx-observations")
    obs.wait_for(timeout=LIVE)
    assert "van idling behind the warehouse" in obs.inner_text()


class SocketOutage:
    """The console's websocket routed through Playwright, so a test can cut it and keep every
    reconnect refused (the page shows "reconnecting") until ``end``."""

    def __init__(self, page) -> None:
        self.down = False
        self.routes = []
        # Any query string too: the field page asks for ?feed=field.
        page.route_web_socket(re.compile(r"/ws/dispatch/"), self._route)

    def _route(self, ws) -> None:
        if self.down:
            ws.close(code=4000, reason="simulated outage")
            return
        ws.connect_to_server()
        self.routes.append(ws)

    def cut(self) -> None:
        self.down = True
        self.routes[-1].close(code=4000, reason="simulated outage")

    def end(self) -> None:
        self.down = False


def test_console_shows_reconnecting_then_resyncs_a_change_made_while_offline(
    new_page, cast, agency
):
    page = new_page(viewport={"width": 1600, "height": 900})
    sign_in(page, "dispatcher1", TEST_PASSWORD)
    outage = SocketOutage(page)
    page.goto("/console/")
    page.wait_for_selector("#conn[data-state=live]")

    outage.cut()
    page.wait_for_selector("#conn[data-state=reconnecting]")
    missed = services.call_create(
        agency=agency,
        actor=cast["dispatcher"],
        call_type=CallType.objects.get(code="WELFARE"),
        address="9 Quiet Lane",
        latitude=29.44,
        longitude=-98.5,
    )
    page.wait_for_timeout(300)
    assert page.locator(f"#queue-table tr:has-text('{missed.number}')").count() == 0

    outage.end()
    page.wait_for_selector("#conn[data-state=live]", timeout=LIVE * 2)
    page.locator(f"#queue-table tr:has-text('{missed.number}')").wait_for(timeout=LIVE)


class BatchingSocket:
    """The console's websocket routed through Playwright, holding back ``call_created`` events
    until ``size`` have come and handing them to the page as one batch frame, as the server does
    for a busy agency (dispatch/consumers.py) when events come close enough together."""

    def __init__(self, page, size: int) -> None:
        self.size, self.held, self.batches = size, [], 0
        page.route_web_socket("**/ws/dispatch/", self._route)

    def _route(self, ws) -> None:
        server = ws.connect_to_server()

        def from_server(message) -> None:
            frame = json.loads(message)
            # The server may have batched some already; its frames are taken apart here.
            for event in frame["events"] if frame.get("type") == "batch" else [frame]:
                if event.get("type") != "call_created":
                    ws.send(json.dumps(event))
                    continue
                self.held.append(event)
                if len(self.held) == self.size:
                    ws.send(json.dumps({"type": "batch", "events": self.held}))
                    self.held, self.batches = [], self.batches + 1

        server.on_message(from_server)


def test_a_batch_frame_of_new_calls_shows_every_call_without_a_board_re_read(
    new_page, cast, agency
):
    page = new_page(viewport={"width": 1600, "height": 900})
    sign_in(page, "dispatcher1", TEST_PASSWORD)
    batching = BatchingSocket(page, size=3)
    page.goto("/console/")
    page.wait_for_selector("#conn[data-state=live]")
    board_reads: list[str] = []
    page.on("request", lambda r: board_reads.append(r.url) if "snapshot.json" in r.url else None)

    # Logged by another dispatcher through the API, so the server pushes them.
    UserFactory(username="dispatcher2", roles=["dispatcher"], agency=agency)
    other = _console(new_page, "dispatcher2")
    numbers = other.evaluate(
        """async () => {
            const made = [];
            for (const n of [1, 2, 3]) {
                const r = await window.Beacon.api("POST", "/api/v1/calls/",
                    {call_type: "WELFARE", address: n + " Batch Row", narrative: "batch"});
                made.push(r.data.number);
            }
            return made;
        }"""
    )
    for number in numbers:
        page.locator(f"#queue-table tr:has-text('{number}')").wait_for(timeout=LIVE)
    assert batching.batches == 1
    assert board_reads == []  # each event of the batch applied in place


def test_a_dispatcher_who_loses_a_race_is_told_and_sees_the_current_state(new_page, cast, agency):
    """Issue #8 scenario 5 at the console: the push that would have warned this dispatcher is
    lost (socket down), another dispatcher takes the unit and then closes the call; each of this
    dispatcher's clicks gets a 409 that is shown, and the screen is redrawn from the server."""
    unit = UnitFactory(
        agency=agency, call_sign="9R1", latitude=29.43, longitude=-98.49, position_at=timezone.now()
    )
    mine, elsewhere = (
        services.call_create(
            agency=agency,
            actor=cast["dispatcher"],
            call_type=CallType.objects.get(code="THEFT"),
            latitude=29.4301 + n / 1000,
            longitude=-98.4902,
        )
        for n in range(2)
    )
    page = new_page(viewport={"width": 1600, "height": 900})
    sign_in(page, "dispatcher1", TEST_PASSWORD)
    outage = SocketOutage(page)
    page.goto("/console/")
    page.wait_for_selector("#conn[data-state=live]")
    page.locator(f"#queue-table tbody tr:has-text('{mine.number}')").click()
    page.locator(f"#d-unit option[value='{unit.pk}']").wait_for(state="attached", timeout=LIVE)
    outage.cut()
    page.wait_for_selector("#conn[data-state=reconnecting]")

    services.unit_assign(call_id=elsewhere.pk, unit_id=unit.pk, actor=cast["supervisor"])
    page.select_option("#d-unit", str(unit.pk))
    page.click("#d-assign")
    errors = page.locator("#d-errors[data-conflict=true]")
    errors.wait_for(timeout=LIVE)
    assert f"9R1 is dispatched on {elsewhere.number}" in errors.inner_text()
    page.locator("#unit-table tr:has-text('9R1') :text('Dispatched')").wait_for(timeout=LIVE)

    services.call_close(
        call_id=mine.pk,
        actor=cast["supervisor"],
        disposition=Disposition.objects.get(code="ADVISED"),
    )
    page.select_option("#d-disposition", "REPORT")
    page.click("#d-close")
    page.locator("#d-status:text('Closed')").wait_for(timeout=LIVE)
    refusal = page.locator("#d-errors").inner_text()
    assert "already closed" in refusal and f"{mine.number} is closed, no units" in refusal
    assert page.locator("#d-close").count() == 0  # a closed call offers no actions


def test_an_avl_fix_moves_the_unit_on_the_console_without_a_board_re_read(new_page, cast, agency):
    """A phone's fix reaches the console as a batched ``units_moved`` event that the page applies
    in place (board row and map marker); the console does not re-read the whole board for it."""
    unit = UnitFactory(agency=agency, call_sign="7M1", latitude=None, longitude=None)
    unit.users.add(cast["field"])
    page = _console(new_page, "dispatcher1")
    row = page.locator("#unit-table tbody tr:has-text('7M1')")
    row.wait_for(timeout=LIVE)
    assert row.locator("td").nth(4).inner_text() == "—"  # no fix yet
    markers = page.locator(".unit-icon .unit-label:text-is('7M1')")
    assert markers.count() == 0
    board_reads: list[str] = []
    page.on("request", lambda r: board_reads.append(r.url) if "snapshot.json" in r.url else None)

    phone = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    sign_in(phone, "field1", TEST_PASSWORD)
    phone.goto("/field/")
    phone.wait_for_selector("#conn[data-state=live]")
    status = phone.evaluate(
        """async (unit) => (await window.Beacon.api("POST", `/api/v1/units/${unit}/positions/`,
            {positions: [{recorded_at: new Date().toISOString(), latitude: 29.45,
                          longitude: -98.48, heading: 45}]})).status""",
        unit.pk,
    )
    assert status == 200

    page.wait_for_function(
        """() => [...document.querySelectorAll('#unit-table tbody tr')]
            .some((tr) => tr.textContent.includes('7M1') && tr.cells[4].textContent !== '—')""",
        timeout=LIVE,
    )
    markers.wait_for(timeout=LIVE)
    assert board_reads == []


def test_a_phone_whose_unit_was_cleared_elsewhere_is_told_and_shows_the_current_state(
    new_page, cast, agency
):
    """The push that would have redrawn the phone is lost (socket down); its next tap answers
    409, and the page shows the unit as it is now with the reason, not the stale call."""
    unit = UnitFactory(agency=agency, call_sign="2B20")
    unit.users.add(cast["field"])
    call = services.call_create(
        agency=agency,
        actor=cast["dispatcher"],
        call_type=CallType.objects.get(code="THEFT"),
        address="12 Gone Street",
        latitude=29.43,
        longitude=-98.49,
    )
    services.unit_assign(call_id=call.pk, unit_id=unit.pk, actor=cast["dispatcher"])
    phone = new_page(viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    sign_in(phone, "field1", TEST_PASSWORD)
    outage = SocketOutage(phone)
    phone.goto("/field/")
    phone.locator(f"#current-call-{unit.pk}").wait_for(timeout=LIVE)
    outage.cut()
    phone.wait_for_selector("#conn[data-state=reconnecting]")

    services.call_close(
        call_id=call.pk,
        actor=cast["dispatcher"],
        disposition=Disposition.objects.get(code="ADVISED"),
    )
    phone.locator("button[data-status=en_route]").tap()

    errors = phone.locator(f"#unit-errors-{unit.pk}")
    errors.filter(has_text="cannot go from available").wait_for(timeout=LIVE)
    assert phone.locator(f"#current-call-{unit.pk}").count() == 0
    assert "No call assigned." in phone.locator(".unit-card").inner_text()
