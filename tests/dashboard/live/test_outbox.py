"""The bounded send queue of one feed client (dashboard.live.outbox), as a unit: what goes first
when it is full, and how a lost critical event turns into a `resync`."""

from __future__ import annotations

import asyncio

from dashboard.live.outbox import Outbox, is_droppable, resync_channel


def event(channel: str, n: int) -> dict:
    return {"type": "event", "channel": channel, "data": {"n": n}, "at": "t"}


def drain(box: Outbox) -> list[dict]:
    out = []
    while (message := box.get_nowait()) is not None:
        out.append(message)
    return out


def test_what_may_be_dropped():
    assert is_droppable(event("stats", 1)) and is_droppable(event("prices:bitcoin", 1))
    assert is_droppable({"type": "snapshot", "channel": "prices:eth"})
    assert all(is_droppable({"type": kind}) for kind in ("heartbeat", "presence", "pong", "error"))
    assert not is_droppable(event("breakers", 1)) and not is_droppable(event("health", 1))
    assert not is_droppable({"type": "welcome"}) and not is_droppable({"type": "snapshot", "channel": "alerts"})
    assert resync_channel(event("alerts", 1)) == "alerts" and resync_channel({"type": "pong"}) is None


def test_in_order_below_the_bound():
    box = Outbox(max_size=3)
    for n in range(3):
        box.put(event("breakers", n))
    assert len(box) == 3 and box.dropped == 0
    assert [m["data"]["n"] for m in drain(box)] == [0, 1, 2]
    assert box.get_nowait() is None


def test_full_the_oldest_droppable_goes_first():
    box = Outbox(max_size=3)
    box.put(event("breakers", 0))
    box.put(event("stats", 1))
    box.put(event("stats", 2))
    box.put(event("alerts", 3))
    assert box.dropped == 1
    assert [(m["channel"], m["data"]["n"]) for m in drain(box)] == [("breakers", 0), ("stats", 2), ("alerts", 3)]


def test_full_of_critical_events_a_new_droppable_one_is_discarded():
    box = Outbox(max_size=2)
    box.put(event("breakers", 0))
    box.put(event("alerts", 1))
    box.put(event("stats", 2))
    assert box.dropped == 1 and box.pending_resync == frozenset()
    assert [m["data"]["n"] for m in drain(box)] == [0, 1]


def test_full_of_critical_events_the_oldest_channel_is_dropped_with_a_resync():
    box = Outbox(max_size=3)
    box.put(event("breakers", 0))
    box.put(event("alerts", 1))
    box.put(event("breakers", 2))
    box.put(event("alerts", 3))  # no room: every queued breakers event goes, breakers is resynced
    assert box.dropped == 2 and box.pending_resync == {"breakers"}
    out = drain(box)
    assert out[0] == {"type": "resync", "channels": ["breakers"]}
    assert [(m["channel"], m["data"]["n"]) for m in out[1:]] == [("alerts", 1), ("alerts", 3)]
    assert box.pending_resync == frozenset()


def test_a_queue_bound_below_one_still_holds_one_message():
    box = Outbox(max_size=0)
    box.put(event("stats", 1))
    box.put(event("stats", 2))
    assert [m["data"]["n"] for m in drain(box)] == [2]


def test_a_welcome_is_never_dropped():
    box = Outbox(max_size=1)
    box.put({"type": "welcome"})
    box.put({"type": "welcome", "again": True})
    assert [m.get("again", False) for m in drain(box)] == [False, True]


def test_get_waits_for_the_next_message():
    async def scenario():
        box = Outbox(max_size=4)
        waiter = asyncio.ensure_future(box.get())
        await asyncio.sleep(0)
        assert not waiter.done()
        box.put(event("health", 9))
        return await asyncio.wait_for(waiter, 2)

    assert asyncio.run(scenario())["data"] == {"n": 9}
