"""Live devices in Redis: one key per device that lives as long as its heartbeats keep coming.

`presence:dev:{user}:{device}` holds `active` or `idle` with a TTL; the set
`presence:devs:{user}` names the user's devices so they can be read without scanning keys
(members whose key has expired are pruned on read).
"""

from __future__ import annotations

from redis.asyncio import Redis

from quckchat.presence.schemas import Device, Status

DEVICE_TTL = 60  # seconds a device counts as connected after its last heartbeat

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


async def beat(redis: Redis, user_id: str, device_id: str, *, active: bool) -> None:
    async with redis.pipeline(transaction=True) as pipe:
        pipe.set(device_key(user_id, device_id), "active" if active else "idle", ex=DEVICE_TTL)
        pipe.sadd(devices_key(user_id), device_id)
        pipe.expire(devices_key(user_id), DEVICE_TTL)
        await pipe.execute()


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
        (Device(device_id=name, active=state == "active") for name, state in pairs),
        key=lambda device: device.device_id,
    )


def live_status(devices: list[Device]) -> Status:
    """Online while any device is active, away when every one is idle, else offline."""
    if not devices:
        return Status.OFFLINE
    return Status.ONLINE if any(d.active for d in devices) else Status.AWAY
