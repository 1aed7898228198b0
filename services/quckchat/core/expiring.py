"""Answers a replica keeps a short while, dropped early when an event says they changed.

A client module keeps what another service answered (a membership, a display name) in one of
these, in its runtime's state, and declares the broadcast consumer that forgets entries.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from quckchat.core.runtime import Runtime

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class Expiring(Generic[K, V]):
    """At most `most` answers, each for `ttl` seconds."""

    def __init__(self, ttl: float, *, most: int = 10_000) -> None:
        self.ttl = ttl
        self.most = most
        self._entries: dict[K, tuple[float, V]] = {}
        # Bumped by every forget: an answer asked for before one may already be stale.
        self._forgets = 0

    def get(self, key: K) -> tuple[V] | None:
        """The kept answer (in a 1-tuple: an answer may be None), or None."""
        found = self._entries.get(key)
        if found is None or found[0] <= time.monotonic():
            return None
        return (found[1],)

    def mark(self) -> int:
        """Take before asking the service; hand to `put` with its answer."""
        return self._forgets

    def put(self, key: K, value: V, *, asked_at: int) -> None:
        """Keep the answer, unless something was forgotten since it was asked for."""
        if asked_at != self._forgets:
            return
        now = time.monotonic()
        if len(self._entries) >= self.most:
            self._entries = {k: e for k, e in self._entries.items() if e[0] > now}
        while len(self._entries) >= self.most:
            del self._entries[next(iter(self._entries))]  # the oldest kept
        self._entries[key] = (now + self.ttl, value)

    def forget(self, which: Callable[[K], bool]) -> None:
        self._forgets += 1
        for key in [k for k in self._entries if which(k)]:
            del self._entries[key]


def kept(runtime: Runtime, name: str, ttl: float) -> Expiring[K, V]:
    """The runtime's cache of that name (made on first use)."""
    cache: Expiring[K, V] = runtime.state.setdefault(name, Expiring(ttl))
    return cache
