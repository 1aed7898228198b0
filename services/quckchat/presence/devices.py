"""Live devices in Redis: one key per device that lives as long as its heartbeats keep coming.

`presence:dev:{user}:{device}` holds `active` or `idle` and the device's kind
(`active:desktop`) with a TTL; the set `presence:devs:{user}` names the user's devices so they
can be read without scanning keys (members whose key has expired are pruned on read).
`presence:desk:{user}` holds when a desktop or web client of the user was last active (epoch
seconds), kept `DESK_KEEP`: whether a push waits depends on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from redis.asyncio import Redis

from quckchat.presence.schemas import MAX_ACTIVE_WITHIN, Device, DeviceKind, Status

DEVICE_TTL = 60  # seconds a device counts as connected after its last heartbeat
DESK_KEEP = MAX_ACTIVE_WITHIN  # the longest window anyone may ask about
# Where a user reads a message as it comes, so a push to the phone may wait.
READS_AT_ONCE = frozenset({DeviceKind.DESKTOP, DeviceKind.WEB})
# User-Agent fragments of phones and of desktop apps; every other client is a browser.
_MOBILE_AGENTS = ("android", "iphone", "ipad", "mobile", "okhttp", "cfnetwork", "dart")
_DESKTOP_AGENTS = ("electron", "quckchat-desktop")

# Read the states and prune expired members in one step, so a device that beats meanwhile
# is never pruned by mistake.
_ALIVE = """
local found = {}
for _, name in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  local state = redis.call('GET', ARGV[1] .. name)
  if state then
    table.insert(found, name)
    table.insert(found, state)
  else
    redis.call('SREM', KEYS[1], name)
  end
end
return found
"""


def device_key(user_id: str, device_id: str) -> str:
    return f"presence:dev:{user_id}:{device_id}"


def devices_key(user_id: str) -> str:
    return f"presence:devs:{user_id}"


def desk_key(user_id: str) -> str:
    return f"presence:desk:{user_id}"


def kind_of(agent: str | None) -> DeviceKind:
    """A device's kind when the client did not say it: by its User-Agent, else web."""
    lowered = (agent or "").casefold()
    if any(part in lowered for part in _DESKTOP_AGENTS):
        return DeviceKind.DESKTOP
    if any(part in lowered for part in _MOBILE_AGENTS):
        return DeviceKind.MOBILE
    return DeviceKind.WEB


async def beat(
    redis: Redis,
    user_id: str,
    device_id: str,
    *,
    active: bool,
    kind: DeviceKind,
    now: datetime,
) -> None:
    state = "active" if active else "idle"
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(device_key(user_id, device_id), f"{state}:{kind.value}", ex=DEVICE_TTL)
        pipe.sadd(devices_key(user_id), device_id)
        pipe.expire(devices_key(user_id), DEVICE_TTL)
        if active and kind in READS_AT_ONCE:
            pipe.set(desk_key(user_id), f"{now.timestamp():.3f}", ex=DESK_KEEP)
        await pipe.execute()


async def desk_active_at(redis: Redis, user_ids: Sequence[str]) -> dict[str, datetime]:
    """When each user's desktop or web client was last active, for those active in the last
    `DESK_KEEP` seconds."""
    if not user_ids:
        return {}
    found = await redis.mget([desk_key(user) for user in user_ids])
    return {
        user: datetime.fromtimestamp(float(value), UTC)
        for user, value in zip(user_ids, found, strict=True)
        if value is not None
    }


def _device(name: str, value: str) -> Device:
    """A device from its key's value; one written before kinds were kept is a browser."""
    state, _, kind = value.partition(":")
    known = kind in DeviceKind.__members__.values()
    return Device(
        device_id=name,
        active=state == "active",
        kind=DeviceKind(kind) if known else DeviceKind.WEB,
    )


async def drop(redis: Redis, user_id: str, device_id: str) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        pipe.delete(device_key(user_id, device_id))
        pipe.srem(devices_key(user_id), device_id)
        await pipe.execute()


async def alive(redis: Redis, user_id: str) -> list[Device]:
    """The user's devices whose key has not expired, in device id order."""
    found: list[str] = await redis.eval(_ALIVE, 1, devices_key(user_id), device_key(user_id, ""))
    pairs = zip(found[::2], found[1::2], strict=True)
    return sorted(
        (_device(name, value) for name, value in pairs),
        key=lambda device: device.device_id,
    )


def live_status(devices: list[Device]) -> Status:
    """Online while any device is active, away when every one is idle, else offline."""
    if not devices:
        return Status.OFFLINE
    return Status.ONLINE if any(d.active for d in devices) else Status.AWAY
