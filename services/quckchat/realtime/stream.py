"""The replay log: one Redis stream every realtime replica appends to once and reads in full.

An event enters the stream once (its id is remembered for a day, in the same atomic step), so
a redelivery from Kafka is not shown twice. The stream id becomes the id clients see: it only
grows, so "everything after the last id I saw" is a gap-free, duplicate-free resume. The stream
is trimmed to the replay bound; a client that was away longer is told to reload instead.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from redis.asyncio import Redis

from quckchat.core.events import Membership
from quckchat.realtime.audience import Audience

STREAM = "quckchat:rt:events"
SEEN_PREFIX = "quckchat:rt:seen:"
SEEN_SECONDS = 24 * 3600
READ_BATCH = 500
MEMBERSHIP: dict[str, Membership] = {"joined": "joined", "left": "left"}

# Append unless the event id was seen; both in one step, so a crash cannot split them.
_APPEND = """
if redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then
  return redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[2], '*',
                    't', ARGV[3], 'p', ARGV[4], 'c', ARGV[5], 'w', ARGV[6], 'u', ARGV[7],
                    'm', ARGV[8])
end
return false
"""


@dataclass(frozen=True)
class Entry:
    """One event as every replica reads it: its stream id, type, audience and client frame."""

    id: str
    type: str
    audience: Audience
    payload: str  # the frame without its id: '{"type":...,"data":...}'

    @property
    def position(self) -> tuple[int, int]:
        return position(self.id)

    def frame(self) -> str:
        """The text sent to a client: the payload with the stream id in front."""
        return '{"id":"' + self.id + '",' + self.payload[1:]

    @classmethod
    def from_fields(cls, entry_id: str, fields: dict[str, str]) -> Entry:
        users = fields.get("u", "")
        audience = Audience(
            channel_id=fields.get("c") or None,
            workspace_id=fields.get("w") or None,
            users=frozenset(users.split(",")) if users else frozenset(),
            membership=MEMBERSHIP.get(fields.get("m", "")),
        )
        return cls(entry_id, fields.get("t", ""), audience, fields.get("p", "{}"))


def position(entry_id: str) -> tuple[int, int]:
    """A stream id as a comparable pair (milliseconds, sequence)."""
    millis, _, seq = entry_id.partition("-")
    return int(millis), int(seq or 0)


def payload_of(event_type: str, data: dict[str, Any], channel_id: str | None) -> str:
    body: dict[str, Any] = {"type": event_type, "channel_id": channel_id, "data": data}
    return json.dumps(body, separators=(",", ":"), default=str)


class Stream:
    """The replay log in one Redis; `bound` is how many events it keeps."""

    def __init__(self, redis: Redis, bound: int) -> None:
        self.redis = redis
        self.bound = bound
        self._append = redis.register_script(_APPEND)

    def _call(
        self, event_id: str, event_type: str, data: dict[str, Any], audience: Audience
    ) -> tuple[list[str], list[Any]]:
        """The append script's keys and arguments for one event."""
        return (
            [STREAM, SEEN_PREFIX + event_id],
            [
                SEEN_SECONDS,
                self.bound,
                event_type,
                payload_of(event_type, data, audience.channel_id),
                audience.channel_id or "",
                audience.workspace_id or "",
                ",".join(sorted(audience.users)),
                audience.membership or "",
            ],
        )

    async def append(
        self, event_id: str, event_type: str, data: dict[str, Any], audience: Audience
    ) -> str | None:
        """Add an event once; its stream id, or None if this event id was already added."""
        keys, args = self._call(event_id, event_type, data, audience)
        added = await self._append(keys, args)
        return str(added) if added else None

    async def append_all(
        self, events: list[tuple[str, str, dict[str, Any], Audience]]
    ) -> list[str | None]:
        """`append` for each (id, type, data, audience), in order, in one round trip."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for event in events:
                keys, args = self._call(*event)
                await self._append(keys, args, client=pipe)
            added = await pipe.execute()
        return [str(a) if a else None for a in added]

    async def read(self, after: str, block_ms: int = 1000) -> list[Entry]:
        """The next entries after `after`, waiting up to `block_ms` for one."""
        found: Any = await self.redis.xread({STREAM: after}, count=READ_BATCH, block=block_ms)
        return [Entry.from_fields(i, f) for _, items in found or [] for i, f in items]

    async def after(self, entry_id: str, count: int = READ_BATCH) -> list[Entry]:
        """Entries strictly after `entry_id`, oldest first (one batch)."""
        items: Any = await self.redis.xrange(STREAM, f"({entry_id}", "+", count=count)
        return [Entry.from_fields(i, f) for i, f in items]

    async def first_id(self) -> str | None:
        items = await self.redis.xrange(STREAM, "-", "+", count=1)
        return str(items[0][0]) if items else None

    async def last_id(self) -> str:
        items = await self.redis.xrevrange(STREAM, "+", "-", count=1)
        return str(items[0][0]) if items else "0-0"
