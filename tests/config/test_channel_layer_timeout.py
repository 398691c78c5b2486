"""The production channel layer survives a quiet spell longer than its blocking pop (5 s)."""

from __future__ import annotations

import asyncio

import pytest
from channels_redis.core import RedisChannelLayer
from django.conf import settings

pytestmark = pytest.mark.redis


async def test_an_idle_receive_waits_past_the_blocking_pop() -> None:
    if "CONFIG" not in settings.CHANNEL_LAYERS["default"]:
        pytest.skip("embedded mode: no Redis channel layer")
    config = dict(settings.CHANNEL_LAYERS["default"]["CONFIG"])
    config["prefix"] = f"{config.get('prefix', 'beacon')}-idle-test"
    layer = RedisChannelLayer(**config)
    channel = await layer.new_channel()
    try:
        # Nothing arrives: the receive must still be waiting when we give up after 7 s, not
        # have died of redis-py's socket timeout (redis.exceptions.TimeoutError) at 5 s.
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(layer.receive(channel), 7)
    finally:
        await layer.flush()
