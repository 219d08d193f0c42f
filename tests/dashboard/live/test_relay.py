"""The per-process relay of feed events (dashboard.live.relay) against the real channel layer
(channels-redis on the test Redis): one group member per process, fanned out in process."""

from __future__ import annotations

import asyncio
import json

from dashboard.live.relay import Encoded, Relay, event_message
from healing import events


class Member:
    def __init__(self) -> None:
        self.got: list[dict] = []

    def deliver(self, message: dict) -> None:
        self.got.append(message)


def test_an_event_is_encoded_once_and_in_the_client_shape():
    message = event_message({"type": events.FEED_EVENT, "channel": "alerts", "data": {"n": 1}, "at": "t",
                             "critical": True})
    assert message == {"type": "event", "channel": "alerts", "data": {"n": 1}, "at": "t"}
    assert isinstance(message, Encoded) and json.loads(message.text) == message


async def _wait(predicate, timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.02)


async def test_one_group_member_per_process_and_fan_out_to_local_subscribers(redis_server):
    relay, a, b = Relay(), Member(), Member()
    await relay.add(a, "breakers")
    await relay.add(b, "breakers")
    await relay.add(b, "alerts")
    assert relay.dispatch({"channel": "stats"}) == 0  # nobody here listens to stats

    await events.apublish(events.BREAKERS, [{"provider": "x"}])
    await _wait(lambda: a.got and b.got)
    assert a.got[0] is b.got[0]  # one message object (and one encoding) for both
    assert a.got[0]["data"] == {"provider": "x"}

    await relay.remove(b, ["breakers", "alerts"])
    assert set(relay.subscribers) == {"breakers"}
    await events.apublish(events.ALERTS, [{"n": 1}])
    await events.apublish(events.BREAKERS, [{"provider": "y"}])
    await _wait(lambda: len(a.got) == 2)
    assert [m["data"] for m in b.got] == [{"provider": "x"}]  # b left both channels

    await relay.remove(a, ["breakers"])
    assert relay.subscribers == {}
    for task in relay._tasks:
        task.cancel()
