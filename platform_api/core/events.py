"""Events that must reach whichever API process serves the client: Redis pub/sub, or in-process memory.

An event is a small JSON object published on a channel (``user:<id>``: everything addressed to one person, such
as the progress of the ingestion of their upload or a notification). Any process may publish (an API replica, the
ingestion worker); every API process delivers it to the clients of that channel it serves (``GET /api/events``).

With Redis, each process holds one pattern subscription (``<prefix>:events:*``) in a listener thread and fans the
messages out to its local subscribers, so 1,000 open streams cost one Redis connection per replica. Delivery is at
most once: a client that is not connected when an event is published does not get it (the state itself, such as
a job's status, is in SQL and can always be read back).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Any, Protocol

import structlog
from sqlalchemy import event as sa_event
from sqlalchemy.orm import Session

log = structlog.get_logger("platform_api.events")

Event = dict[str, Any]
QUEUE_SIZE = 256  # per subscriber: a client this far behind loses the oldest events, never blocks a publisher


def user_channel(user_id: str) -> str:
    return f"user:{user_id}"


class Subscription:
    """The events of one channel for one client, read from the event loop that subscribed."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.loop = asyncio.get_running_loop()
        self.queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_SIZE)

    def deliver(self, event: Event) -> None:
        """Thread-safe: hand the event to the subscriber's loop."""
        with suppress(RuntimeError):  # the loop is closed: the client is gone
            self.loop.call_soon_threadsafe(self._put, event)

    def _put(self, event: Event) -> None:
        if self.queue.full():
            self.queue.get_nowait()
        self.queue.put_nowait(event)

    async def get(self) -> Event:
        """The next event (wrap in ``asyncio.timeout`` to wait a bounded time)."""
        return await self.queue.get()


class EventBus(Protocol):
    """Publish from anywhere (threads included); subscribe from the event loop."""

    def publish(self, channel: str, event: Event) -> None: ...

    def subscribe(self, channel: str) -> Any: ...  # an async context manager yielding a Subscription

    def start(self) -> None: ...

    def close(self) -> None: ...


class MemoryEventBus:
    """Events within one process (the embedded default, and what the Redis bus fans out to)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: dict[str, set[Subscription]] = {}

    def publish(self, channel: str, event: Event) -> None:
        self._deliver(channel, event)

    def _deliver(self, channel: str, event: Event) -> None:
        with self._lock:
            targets = list(self._subscribers.get(channel, ()))
        for subscription in targets:
            subscription.deliver(event)

    @asynccontextmanager
    async def subscribe(self, channel: str) -> AsyncIterator[Subscription]:
        subscription = Subscription(channel)
        with self._lock:
            self._subscribers.setdefault(channel, set()).add(subscription)
        try:
            yield subscription
        finally:
            with self._lock:
                subscribers = self._subscribers.get(channel, set())
                subscribers.discard(subscription)
                if not subscribers:
                    self._subscribers.pop(channel, None)

    def subscriber_count(self) -> int:
        with self._lock:
            return sum(len(s) for s in self._subscribers.values())

    def start(self) -> None:
        return None

    def close(self) -> None:
        return None


class RedisEventBus(MemoryEventBus):
    """Events across processes through Redis pub/sub (``PUBLISH <prefix>:events:<channel>``).

    Args:
        url: the Redis URL.
        prefix: prefix of the Redis channel names (``NEXUS_REDIS_PREFIX``).
        listen: run the listener thread (API processes); a process that only publishes (the worker) does not.

    Example:
        >>> bus = RedisEventBus("redis://127.0.0.1:6379/0", "nexus")
        >>> bus.start()
        >>> bus.publish("user:42", {"type": "notification", "kind": "document_ready"})
    """

    def __init__(self, url: str, prefix: str, listen: bool = True) -> None:
        import redis

        super().__init__()
        self.prefix = f"{prefix}:events:"
        self.listen = listen
        self._client = redis.Redis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        self._stop = threading.Event()
        self._subscribed = threading.Event()
        self._thread: threading.Thread | None = None

    def publish(self, channel: str, event: Event) -> None:
        """Publish to every process; a Redis failure is logged, never raised (the state is in SQL anyway)."""
        try:
            self._client.publish(self.prefix + channel, json.dumps(event, default=str))
        except Exception as exc:  # redis.RedisError, OSError: an event is not worth failing a job or a request
            log.warning("event_publish_failed", channel=channel, error=f"{type(exc).__name__}: {exc}"[:200])

    def start(self, timeout_s: float = 5.0) -> None:
        """Start the listener thread and wait until its subscription is active (or ``timeout_s`` passes)."""
        if not self.listen or self._thread is not None:
            return
        self._thread = threading.Thread(target=self._run, name="redis-events", daemon=True)
        self._thread.start()
        if not self._subscribed.wait(timeout_s):
            log.warning("event_listener_not_subscribed", timeout_s=timeout_s)

    def _run(self) -> None:
        while not self._stop.is_set():
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)  # type: ignore[no-untyped-call,unused-ignore]  # typed in newer redis
            try:
                pubsub.psubscribe(self.prefix + "*")
                while not self._stop.is_set():
                    message = pubsub.get_message(timeout=0.5)
                    self._subscribed.set()
                    if message is not None and message.get("type") == "pmessage":
                        self._on_message(message)
            except Exception as exc:  # the connection dropped: resubscribe after a pause
                self._subscribed.clear()
                log.warning("event_listener_reconnecting", error=f"{type(exc).__name__}: {exc}"[:200])
                self._stop.wait(1.0)
            finally:
                with suppress(Exception):
                    pubsub.close()

    def _on_message(self, message: dict[str, Any]) -> None:
        name = message["channel"].decode() if isinstance(message["channel"], bytes) else str(message["channel"])
        try:
            event = json.loads(message["data"])
        except (TypeError, ValueError):
            return
        if isinstance(event, dict):
            self._deliver(name.removeprefix(self.prefix), event)

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._client.close()


def build_event_bus(redis_url: str | None, prefix: str, listen: bool = True) -> MemoryEventBus:
    """Redis pub/sub when a Redis URL is configured, in-process memory otherwise."""
    return RedisEventBus(redis_url, prefix, listen) if redis_url else MemoryEventBus()


def publish_after_commit(db: Session, bus: EventBus, channel: str, event: Event) -> None:
    """Publish once the session's transaction commits (never about something that was rolled back)."""
    pending: list[tuple[str, Event]] | None = db.info.get("pending_events")
    if pending is None:
        pending = db.info["pending_events"] = []

        def flush(session: Session) -> None:
            for item in session.info.pop("pending_events", []):
                bus.publish(*item)

        def drop(session: Session) -> None:
            session.info.pop("pending_events", None)

        sa_event.listen(db, "after_commit", flush, once=True)
        sa_event.listen(db, "after_rollback", drop, once=True)
    pending.append((channel, event))
