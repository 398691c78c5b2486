"""A finished analysis run is pushed over ``/ws/dispatch/`` after commit, to the agencies it
concerns, and only to users who may see those agencies' findings; users who may view findings
but not calls can connect for these events (and get no call events)."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest
from channels.layers import get_channel_layer

from dispatch.realtime import RUN_FINISHED
from governance.choices import Category, Role
from intelligence import runners
from intelligence.choices import FindingKind, RunStatus
from intelligence.models import AnalysisRun
from tests.dispatch.test_consumers import (
    SyncWriter,
    close_code,
    communicator,
    create_call,
    in_sync_thread,
)
from tests.factories import UserFactory
from tests.grants import set_grants
from tests.intelligence.test_dashboard_support import analyse, plant

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
async def sockets() -> AsyncIterator[Callable[..., Any]]:
    """``await sockets(user)``: a greeted socket through the real ASGI app; closed at the end."""
    opened: list[Any] = []

    async def _open(user: Any) -> Any:
        comm = await communicator(user)
        connected, _ = await comm.connect(timeout=5)
        assert connected
        assert (await comm.receive_json_from(timeout=5))["type"] == "hello"
        opened.append(comm)
        return comm

    yield _open
    for comm in opened:
        await comm.disconnect()


def findings_only() -> None:
    """Give the auditor role finding view only: no shipped role views findings without calls."""
    set_grants(Role.AUDITOR, Category.FINDING, {"view"})


async def test_a_finished_run_reaches_the_agencys_finding_viewers_only(
    cast, agency, other_agency, sockets
):
    await in_sync_thread(lambda: plant(agency))
    dashboard = await sockets(cast["supervisor"])
    analyst = await sockets(cast["analyst"])
    console = await sockets(cast["dispatcher"])  # sees the agency's calls, not its findings
    neighbour = await sockets(
        await in_sync_thread(lambda: UserFactory(roles=["supervisor"], agency=other_agency))
    )

    writer = SyncWriter(lambda: analyse(FindingKind.HOTSPOT, agency))

    event = await dashboard.receive_json_from(timeout=5)
    run = await writer.outcome()
    assert event == {
        "type": RUN_FINISHED,
        "run_id": run.pk,
        "kind": "hotspots",
        "status": "succeeded",
        "agency_id": agency.pk,
        "all_agencies": False,
        "finished_at": run.finished_at.isoformat(),
        "counts": {"created": 1, "updated": 0, "expired": 0, "suppressed": 0},
    }
    assert (await analyst.receive_json_from(timeout=2))["run_id"] == run.pk
    assert await console.receive_nothing(timeout=0.3)
    assert await neighbour.receive_nothing(timeout=0.3)


async def test_an_all_agency_run_reaches_every_agency_with_its_own_id(
    cast, agency, other_agency, sockets
):
    mine = await sockets(cast["supervisor"])
    theirs = await sockets(
        await in_sync_thread(lambda: UserFactory(roles=["analyst"], agency=other_agency))
    )
    writer = SyncWriter(lambda: analyse(FindingKind.REPEAT_LOCATION))
    first = await mine.receive_json_from(timeout=5)
    second = await theirs.receive_json_from(timeout=5)
    run = await writer.outcome()
    assert (first["run_id"], first["agency_id"], first["all_agencies"]) == (run.pk, agency.pk, True)
    assert (second["run_id"], second["agency_id"]) == (run.pk, other_agency.pk)
    assert await mine.receive_nothing(timeout=0.3)  # one copy per agency, not one per group


async def test_a_failed_run_is_announced_as_failed(cast, agency, sockets, monkeypatch):
    def broken(**kwargs: Any) -> Any:
        raise RuntimeError("disk on fire")

    monkeypatch.setitem(runners.RUNNERS, FindingKind.HOTSPOT, broken)
    dashboard = await sockets(cast["supervisor"])

    def run_it() -> None:
        with pytest.raises(RuntimeError):
            analyse(FindingKind.HOTSPOT, agency)

    writer = SyncWriter(run_it)
    event = await dashboard.receive_json_from(timeout=5)
    await writer.outcome()
    run = await in_sync_thread(lambda: AnalysisRun.objects.get())
    assert run.status == RunStatus.FAILED
    assert (event["run_id"], event["status"]) == (run.pk, "failed")


async def test_nothing_is_pushed_when_the_callers_transaction_rolls_back(cast, agency, sockets):
    from django.db import transaction

    dashboard = await sockets(cast["supervisor"])

    def rolled_back() -> None:
        with pytest.raises(ZeroDivisionError), transaction.atomic():
            analyse(FindingKind.HOTSPOT, agency)
            1 / 0  # noqa: B018 - the caller fails after the run

    await in_sync_thread(rolled_back)
    assert await dashboard.receive_nothing(timeout=0.3)


async def test_findings_only_users_connect_for_run_events_and_get_no_call_events(
    cast, agency, sockets
):
    await in_sync_thread(findings_only)
    viewer = await sockets(cast["auditor"])
    writer = SyncWriter(lambda: create_call(agency, cast["dispatcher"]))
    await writer.outcome()
    assert await viewer.receive_nothing(timeout=0.3)
    writer = SyncWriter(lambda: analyse(FindingKind.HOTSPOT, agency))
    event = await viewer.receive_json_from(timeout=5)
    await writer.outcome()
    assert event["type"] == RUN_FINISHED


async def test_users_who_may_see_neither_calls_nor_findings_are_refused(cast):
    assert await close_code(await communicator(cast["auditor"])) == 4403


@pytest.mark.redis
@pytest.mark.skipif(not os.environ.get("REDIS_URL"), reason="needs Redis")
async def test_a_run_event_travels_through_redis(cast, agency, settings, sockets):
    settings.CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [os.environ["REDIS_URL"]],
                "prefix": f"beacon-test-{uuid.uuid4().hex[:8]}",
            },
        }
    }
    assert type(get_channel_layer()).__name__ == "RedisChannelLayer"
    dashboard = await sockets(cast["supervisor"])
    writer = SyncWriter(lambda: analyse(FindingKind.HOTSPOT, agency))
    event = await dashboard.receive_json_from(timeout=5)
    run = await writer.outcome()
    assert (event["type"], event["run_id"]) == (RUN_FINISHED, run.pk)
