"""PullPoint subscriptions: each a bounded queue of notifications a client pulls.

A subscription belongs to one camera and a set of topics. When it starts, and on
SetSynchronizationPoint, it is given the current value of each of its topics
("Initialized"); then every change of them ("Changed"). At most `max_queued` messages wait
in it: a new one past that drops the oldest, and the drop is counted. A pull returns at once
when messages wait, else waits for one on the event loop (never blocking it) up to its
timeout. At most `max_per_camera` subscriptions per camera and `max_total` over all cameras
live at once; one past its termination time is gone (removed when next looked up, and by
`sweep`). Times are Unix times on the host's clock.
"""

from __future__ import annotations

import asyncio
import secrets
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from simulator.onvif.topics import Topic

MAX_PER_CAMERA = 8
MAX_TOTAL = 900  # each may hold a waiting pull's connection: room left of services' 1024
MAX_QUEUED = 100  # messages waiting in one subscription


@dataclass(frozen=True, slots=True)
class Message:
    """One notification: a topic's value at a time, Initialized or Changed."""

    topic: Topic
    value: bool
    operation: str  # Initialized | Changed
    at: float  # Unix time on the host's clock


class Full(Exception):
    """No room for another subscription (of this camera, or at all)."""


class Unknown(Exception):
    """No such subscription: never made, unsubscribed, or expired."""


@dataclass(eq=False)
class Subscription:
    """One client's pull point on one camera."""

    id: str
    camera: str
    topics: frozenset[Topic]
    terminates: float  # Unix time
    keep_alive: float | None  # a relative termination: each pull moves it this far on
    queue: deque[Message]
    dropped: int = 0
    delivered: int = 0
    waiter: asyncio.Future | None = field(default=None, repr=False)

    def put(self, m: Message) -> None:
        if len(self.queue) == self.queue.maxlen:
            self.dropped += 1
        self.queue.append(m)
        if self.waiter is not None and not self.waiter.done():
            self.waiter.set_result(None)


class PullPoints:
    """Every camera's subscriptions, and the property values they are told."""

    def __init__(
        self,
        values: Callable[[str], dict[Topic, bool]],
        max_per_camera: int = MAX_PER_CAMERA,
        max_total: int = MAX_TOTAL,
        max_queued: int = MAX_QUEUED,
    ) -> None:
        self.values = values  # a camera's current value of each topic
        self.max_per_camera = max_per_camera
        self.max_total = max_total
        self.max_queued = max_queued
        self.subs: dict[str, Subscription] = {}
        self.by_camera: dict[str, set[Subscription]] = {}
        self.counts = {"created": 0, "refused": 0, "expired": 0, "unsubscribed": 0,
                       "published": 0, "delivered": 0, "dropped": 0}  # fmt: skip

    def create(
        self, camera: str, topics: frozenset[Topic], terminates: float,
        keep_alive: float | None, now: float,
    ) -> Subscription:  # fmt: skip
        """A new subscription, given its topics' current values; Full when there is no room."""
        self.sweep(now)
        mine = self.by_camera.setdefault(camera, set())
        if len(mine) >= self.max_per_camera or len(self.subs) >= self.max_total:
            self.counts["refused"] += 1
            where = f"{camera} has {len(mine)}" if len(mine) >= self.max_per_camera else (
                f"the serve has {len(self.subs)}")  # fmt: skip
            raise Full(f"{where} subscriptions, the most it keeps")
        sub = Subscription(secrets.token_hex(8), camera, topics, terminates, keep_alive,
                           deque(maxlen=self.max_queued))  # fmt: skip
        self.subs[sub.id] = sub
        mine.add(sub)
        self.counts["created"] += 1
        self.synchronize(sub, now)
        return sub

    def get(self, sub_id: str, camera: str, now: float) -> Subscription:
        """The live subscription of this id on this camera; Unknown otherwise."""
        sub = self.subs.get(sub_id)
        if sub is None or sub.camera != camera:
            raise Unknown(f"no subscription {sub_id[:40]!r} on {camera}")
        if sub.terminates <= now:
            self._remove(sub, "expired")
            raise Unknown(f"subscription {sub_id[:40]!r} expired")
        return sub

    def synchronize(self, sub: Subscription, now: float) -> None:
        """Queue every topic's current value, Initialized."""
        values = self.values(sub.camera)
        for t in sorted(sub.topics, key=lambda t: t.path):
            sub.put(Message(t, values.get(t, False), "Initialized", now))

    def publish(self, camera: str, topic: Topic, value: bool, now: float) -> None:
        """A topic's value changed on a camera: tell its subscriptions to it."""
        self.counts["published"] += 1
        for sub in self.by_camera.get(camera, ()):
            if topic in sub.topics and sub.terminates > now:
                before = sub.dropped
                sub.put(Message(topic, value, "Changed", now))
                self.counts["dropped"] += sub.dropped - before

    async def pull(self, sub: Subscription, timeout: float, limit: int) -> list[Message]:
        """Up to `limit` waiting messages: at once if any, else the first to come within
        `timeout` seconds (none when none comes). A pull already waiting on this
        subscription returns what there is."""
        if not sub.queue and timeout > 0:
            if sub.waiter is not None and not sub.waiter.done():
                sub.waiter.set_result(None)
            sub.waiter = waiter = asyncio.get_running_loop().create_future()
            try:
                await asyncio.wait_for(asyncio.shield(waiter), timeout)
            except TimeoutError:
                pass
            finally:
                if sub.waiter is waiter:
                    sub.waiter = None
        out = [sub.queue.popleft() for _ in range(min(limit, len(sub.queue)))]
        sub.delivered += len(out)
        self.counts["delivered"] += len(out)
        return out

    def unsubscribe(self, sub: Subscription) -> None:
        self._remove(sub, "unsubscribed")

    def sweep(self, now: float) -> int:
        """Remove every subscription past its termination time; how many."""
        gone = [s for s in self.subs.values() if s.terminates <= now]
        for s in gone:
            self._remove(s, "expired")
        return len(gone)

    def _remove(self, sub: Subscription, why: str) -> None:
        if self.subs.pop(sub.id, None) is None:
            return
        self.by_camera.get(sub.camera, set()).discard(sub)
        self.counts[why] += 1
        if sub.waiter is not None and not sub.waiter.done():
            sub.waiter.set_result(None)
