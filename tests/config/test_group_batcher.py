"""Busy groups' events: in order, several to a channel-layer message when they come fast."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest

from beacon_core import realtime
from beacon_core.realtime import GroupBatcher


class RecordingLayer:
    def __init__(self) -> None:
        self.messages: list[tuple[str, dict[str, Any]]] = []
        self.arrived = threading.Event()

    async def group_send(self, group: str, message: dict[str, Any]) -> None:
        self.messages.append((group, message))
        self.arrived.set()

    def events(self, group: str) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for g, message in self.messages:
            if g == group:
                out.extend(message["events"] if "events" in message else [message["event"]])
        return out


@pytest.fixture
def layer(monkeypatch) -> RecordingLayer:
    recording = RecordingLayer()
    monkeypatch.setattr(realtime, "get_channel_layer", lambda: recording)
    return recording


def wait_for(condition: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "not published in time"
        time.sleep(0.01)


def test_a_burst_goes_in_order_in_fewer_messages_and_nothing_is_lost(layer):
    batcher = GroupBatcher("test", interval_s=lambda: 0.2)
    for i in range(50):
        batcher.add("dispatch.agency.1", {"type": "call_created", "n": i})
    batcher.add("dispatch.agency.2", {"type": "call_created", "n": 0})

    wait_for(lambda: len(layer.events("dispatch.agency.1")) == 50)
    wait_for(lambda: len(layer.events("dispatch.agency.2")) == 1)
    assert [e["n"] for e in layer.events("dispatch.agency.1")] == list(range(50))
    assert len([m for g, m in layer.messages if g == "dispatch.agency.1"]) < 50
    assert all(m["type"] == "beacon.event" and m["group"] == g for g, m in layer.messages)


def test_the_first_event_after_a_quiet_spell_does_not_wait_for_the_interval(layer):
    batcher = GroupBatcher("test", interval_s=lambda: 30.0)
    batcher.add("dispatch.agency.1", {"type": "call_created", "n": 1})
    assert layer.arrived.wait(timeout=5), "the first event waited for the 30 s interval"
    assert layer.events("dispatch.agency.1") == [{"type": "call_created", "n": 1}]


def test_an_interval_of_zero_publishes_from_the_callers_thread(layer):
    batcher = GroupBatcher("test", interval_s=lambda: 0)
    batcher.add("dispatch.agency.1", {"type": "call_created", "n": 1})
    assert layer.messages == [
        (
            "dispatch.agency.1",
            {
                "type": "beacon.event",
                "group": "dispatch.agency.1",
                "event": {"type": "call_created", "n": 1},
            },
        )
    ]


def test_a_failed_send_does_not_stop_later_batches(monkeypatch, layer):
    batcher = GroupBatcher("test", interval_s=lambda: 0.05)
    calls = {"n": 0}
    real = realtime.publish_batch_now

    def flaky(group: str, events: list[Any]) -> bool:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("layer broke")
        return real(group, events)

    monkeypatch.setattr(realtime, "publish_batch_now", flaky)
    batcher.add("dispatch.agency.1", {"type": "call_created", "n": 1})
    wait_for(lambda: calls["n"] == 1)
    batcher.add("dispatch.agency.1", {"type": "call_created", "n": 2})
    wait_for(lambda: layer.events("dispatch.agency.1") == [{"type": "call_created", "n": 2}])
