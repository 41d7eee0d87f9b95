"""Which submissions have a grade message waiting in the broker, so the reaper never adds a second copy.

A marker key per submission lives beside the message, in the same Redis, so both are lost together when
Redis loses its data (a restart without persistence) and both survive together when it keeps it. Rules: a
sender sets the marker just before it publishes, for UNCONFIRMED_SECONDS only, and once the publish returned
extends it to `ttl` seconds, the broker's visibility timeout (a message that a worker fetched and then died with
stays unacked in Redis that long before Redis redelivers it); the grade task deletes it when it starts; the
reaper re-sends a queued submission only when it has no marker. The short first life is for a send that timed
out: a Redis that was frozen, or cut off, may still carry out the SET once it answers again, and that marker,
with no message beside it, must not hold the reaper back for an hour. Any Redis error reads as "no marker":
the reaper then re-sends, which a duplicate-proof grade task absorbs.
"""
from __future__ import annotations

import logging

import redis

PREFIX = "grader:pending:"
UNCONFIRMED_SECONDS = 30  # a marker's life until its publish returned (longer than any send may take)
log = logging.getLogger(__name__)


class PendingMarks:
    """Marker keys in the broker's Redis (a no-op for any other broker URL)."""

    def __init__(self, broker_url: str, ttl: int = 600):
        self.ttl = max(1, int(ttl))
        self._client = None
        if broker_url.startswith("redis+socket://"):  # kombu's name for a Unix socket (grader up)
            self._client = redis.Redis(unix_socket_path=broker_url.removeprefix("redis+socket://"),
                                       socket_timeout=1, socket_connect_timeout=1)
        elif broker_url.startswith(("redis://", "rediss://")):
            self._client = redis.Redis.from_url(broker_url, socket_timeout=1, socket_connect_timeout=1)

    def mark(self, submission_id: int) -> bool:
        """Set the marker for UNCONFIRMED_SECONDS; False when Redis did not take it (the publish that would
        follow fails the same way: the sender skips it and leaves the submission to the reaper)."""
        if self._client is not None:
            try:
                self._client.set(f"{PREFIX}{int(submission_id)}", 1, ex=min(UNCONFIRMED_SECONDS, self.ttl))
            except redis.RedisError as exc:
                log.debug("pending marker for %s not set: %s", submission_id, exc)
                return False
        return True

    def confirm(self, submission_id: int) -> None:
        """The message is published: the marker lives `ttl` seconds (unless the task already deleted it)."""
        if self._client is not None:
            try:
                self._client.expire(f"{PREFIX}{int(submission_id)}", self.ttl)
            except redis.RedisError as exc:  # it expires soon: the reaper may add a copy, which is absorbed
                log.debug("pending marker for %s not confirmed: %s", submission_id, exc)

    def clear(self, submission_id: int) -> None:
        if self._client is not None:
            try:
                self._client.delete(f"{PREFIX}{int(submission_id)}")
            except redis.RedisError as exc:  # it expires on its own
                log.debug("pending marker for %s not cleared: %s", submission_id, exc)

    def waiting(self, ids: list[int]) -> set[int]:
        """The ids among `ids` that have a message waiting in the broker."""
        if self._client is None or not ids:
            return set()
        try:
            found = self._client.mget([f"{PREFIX}{int(i)}" for i in ids])
        except redis.RedisError:
            return set()
        return {i for i, value in zip(ids, found) if value is not None}

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
