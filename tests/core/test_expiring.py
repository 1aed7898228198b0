"""The per-replica cache client modules keep other services' answers in."""

from __future__ import annotations

import pytest

from quckchat.core import expiring
from quckchat.core.expiring import Expiring


def test_an_answer_is_kept_until_its_time_runs_out(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(expiring.time, "monotonic", lambda: now[0])
    cache: Expiring[str, str | None] = Expiring(10.0)
    cache.put("ann", None, asked_at=cache.mark())
    assert cache.get("ann") == (None,)  # "no name" is an answer too
    now[0] += 10.0
    assert cache.get("ann") is None


def test_a_forget_while_the_service_answers_keeps_the_old_answer_out() -> None:
    cache: Expiring[str, str] = Expiring(60.0)
    asked_at = cache.mark()
    cache.forget(lambda key: key == "ann")  # a rename arrives before the lookup's answer
    cache.put("ann", "Ann (old)", asked_at=asked_at)
    assert cache.get("ann") is None
    cache.put("ann", "Ann", asked_at=cache.mark())
    assert cache.get("ann") == ("Ann",)


def test_a_full_cache_drops_the_oldest_answer() -> None:
    cache: Expiring[int, int] = Expiring(60.0, most=3)
    for n in range(4):
        cache.put(n, n, asked_at=cache.mark())
    assert [cache.get(n) for n in range(4)] == [None, (1,), (2,), (3,)]
