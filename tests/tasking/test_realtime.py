"""Assignments over the real websocket: an issued assignment reaches the assignee's devices and
the supervisors' board, never another unit's device; and with the channel layer down (Redis
stopped) issuing still succeeds and the device gets the assignment from ``pending/``."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.test import APIClient

from tasking import services
from tasking.models import Assignment
from tests.dispatch.test_consumers import SyncWriter, in_sync_thread, sockets  # noqa: F401
from tests.factories import UnitFactory, UserFactory
from tests.tasking.conftest import CIRCLE, WINDOWS, make_finding


def create(actor: Any, **assignee: Any) -> Assignment:
    return services.assignment_create(
        actor=actor,
        finding_id=make_finding(actor.membership.agency).pk,
        kind="directed_patrol",
        objective="Evenings on the block.",
        area=CIRCLE,
        windows=WINDOWS,
        **assignee,
    )


async def drain(comm: Any) -> list[dict[str, Any]]:
    out = []
    while not await comm.receive_nothing(timeout=0.3):
        out.append(await comm.receive_json_from())
    return out


@pytest.mark.django_db(transaction=True)
async def test_issued_assignment_reaches_the_units_device_and_the_board_only(
    cast,
    agency,
    sockets,  # noqa: F811
):
    sup, field = cast["supervisor"], cast["field"]

    def setup() -> tuple[Any, Any, Assignment]:
        mine = UnitFactory(agency=agency, call_sign="A11")
        mine.users.add(field)
        theirs = UnitFactory(agency=agency, call_sign="B22")
        other_officer = UserFactory(roles=["field"], agency=agency)
        theirs.users.add(other_officer)
        return other_officer, theirs, create(sup, assignee_unit_id=mine.pk)

    other_officer, theirs, draft = await in_sync_thread(setup)
    device = await sockets(field)
    other_device = await sockets(other_officer)
    board = await sockets(sup)

    writer = SyncWriter(lambda: services.assignment_issue(assignment_id=draft.pk, actor=sup))
    pushed = await device.receive_json_from(timeout=1)  # "within a second"
    await writer.outcome()
    assert pushed["type"] == "assignment.issued"
    assert (pushed["assignment_id"], pushed["status"]) == (draft.pk, "issued")
    assert await drain(device) == []  # exactly one copy
    assert [e["type"] for e in [await board.receive_json_from(timeout=2)]] == ["assignment.issued"]
    assert await other_device.receive_nothing(timeout=0.3)

    # The acknowledgement reaches the board live; the other unit still hears nothing.
    writer = SyncWriter(
        lambda: services.assignment_acknowledge(assignment_id=draft.pk, actor=field)
    )
    ack = await board.receive_json_from(timeout=2)
    await writer.outcome()
    assert (ack["type"], ack["status"]) == ("assignment.acknowledged", "acknowledged")
    assert [e["type"] for e in await drain(device)] == ["assignment.acknowledged"]
    assert await other_device.receive_nothing(timeout=0.3)

    # Another unit's assignment never reaches this device.
    writer = SyncWriter(lambda: create(sup, assignee_unit_id=theirs.pk, issue=True))
    assert (await other_device.receive_json_from(timeout=2))["type"] == "assignment.issued"
    await writer.outcome()
    assert await device.receive_nothing(timeout=0.3)


@pytest.mark.django_db(transaction=True)
async def test_a_draft_is_not_pushed_to_devices_and_named_assignee_gets_it(
    cast,
    agency,
    sockets,  # noqa: F811
):
    sup, field = cast["supervisor"], cast["field"]
    device = await sockets(field)
    writer = SyncWriter(lambda: create(sup, assignee_user_id=field.pk))
    draft = await writer.outcome()
    assert await device.receive_nothing(timeout=0.3)
    writer = SyncWriter(lambda: services.assignment_issue(assignment_id=draft.pk, actor=sup))
    event = await device.receive_json_from(timeout=1)
    await writer.outcome()
    assert (event["type"], event["user_id"]) == ("assignment.issued", field.pk)


@pytest.mark.django_db(transaction=True)
async def test_a_neighbouring_supervisor_hears_nothing(cast, agency, other_agency, sockets):  # noqa: F811
    sup = cast["supervisor"]
    neighbour = await sockets(
        await in_sync_thread(lambda: UserFactory(roles=["supervisor"], agency=other_agency))
    )
    unit = await in_sync_thread(lambda: UnitFactory(agency=agency))
    writer = SyncWriter(lambda: create(sup, assignee_unit_id=unit.pk, issue=True))
    await writer.outcome()
    assert await neighbour.receive_nothing(timeout=0.3)


# --- the channel layer down ----------------------------------------------------------------


@pytest.fixture
def redis_stopped(settings):  # type: ignore[no-untyped-def]
    """A Redis channel layer pointing at a port nothing listens on: every send fails."""
    pytest.importorskip("channels_redis")
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]},
        }
    }


@pytest.mark.django_db
def test_issuing_succeeds_with_redis_down_and_the_device_gets_it_from_pending(
    redis_stopped, cast, agency, django_capture_on_commit_callbacks
):
    from channels.layers import get_channel_layer

    assert type(get_channel_layer()).__name__ == "RedisChannelLayer"
    unit = UnitFactory(agency=agency)
    unit.users.add(cast["field"])
    sup = APIClient()
    sup.force_authenticate(cast["supervisor"])
    body = {
        "finding": make_finding(agency).pk,
        "kind": "directed_patrol",
        "objective": "Evenings.",
        "area": CIRCLE,
        "windows": WINDOWS,
        "assignee_unit": unit.pk,
    }
    with django_capture_on_commit_callbacks(execute=True) as pushes:
        created = sup.post("/api/v1/assignments/", body, format="json")
        issued = sup.post(f"/api/v1/assignments/{created.json()['id']}/issue/")
    assert pushes, "the publish ran (and failed) after commit"
    assert issued.status_code == 200 and issued.json()["status"] == "issued"
    device = APIClient()
    device.force_authenticate(cast["field"])
    pending = device.get("/api/v1/assignments/pending/").json()
    assert [p["id"] for p in pending] == [created.json()["id"]]
    # ... and acknowledging from it works with the layer still down.
    with django_capture_on_commit_callbacks(execute=True):
        ack = device.post(f"/api/v1/assignments/{pending[0]['id']}/acknowledge/")
    assert ack.status_code == 200 and ack.json()["status"] == "acknowledged"


@pytest.mark.django_db
def test_issuing_succeeds_when_the_layer_raises(
    cast, agency, monkeypatch, django_capture_on_commit_callbacks
):
    class Broken:
        async def group_send(self, group: str, message: dict[str, Any]) -> None:
            raise ConnectionError("redis is down")

    monkeypatch.setattr("beacon_core.realtime.get_channel_layer", lambda: Broken())
    unit = UnitFactory(agency=agency)
    unit.users.add(cast["field"])
    with django_capture_on_commit_callbacks(execute=True):
        a = create(cast["supervisor"], assignee_unit_id=unit.pk, issue=True)
    assert Assignment.objects.get(pk=a.pk).status == "issued"


@pytest.mark.django_db(transaction=True)
async def test_board_copies_go_to_a_group_field_devices_never_join(cast, agency, sockets):  # noqa: F811
    """Assignment events for the board travel in ``board.agency.<id>``, not the agency group
    every device joins for calls: devices must not receive (and drop) every issue in the
    agency - that backlog is what made pushes slow with 200 devices (scripts/bench_push.py)."""
    from channels.layers import get_channel_layer

    from dispatch.realtime import agency_group, board_group
    from tasking.realtime import assignment_groups

    sup, field = cast["supervisor"], cast["field"]
    board = await sockets(sup)
    device = await sockets(field)
    layer = get_channel_layer()
    members = getattr(layer, "groups", None)
    if members is None:  # channels-redis keeps groups in Redis; the in-memory layer in a dict
        pytest.skip("group membership is inspectable on the in-memory layer only")
    assert len(members.get(board_group(agency.pk), {})) == 1  # the supervisor's connection
    assert len(members.get(agency_group(agency.pk), {})) == 2  # both, for call events
    unit = await in_sync_thread(lambda: UnitFactory(agency=agency))
    issued = await in_sync_thread(lambda: create(sup, assignee_unit_id=unit.pk, issue=True))
    assert agency_group(agency.pk) not in assignment_groups(issued)
    assert board_group(agency.pk) in assignment_groups(issued)
    assert [e["type"] for e in await drain(board)] == ["assignment.created", "assignment.issued"]
    assert await device.receive_nothing(timeout=0.3)
