"""A waiting handler is retried soon, then less and less often, up to a ceiling."""

from __future__ import annotations

from quckchat_operator.backoff import FIRST_RETRY, LAST_RETRY, retry_delay


def test_the_delay_doubles_up_to_the_ceiling() -> None:
    assert [retry_delay(n) for n in range(7)] == [2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]
    assert retry_delay(0) == FIRST_RETRY and retry_delay(100) == LAST_RETRY


def test_without_backoff_the_pace_is_steady() -> None:
    assert {retry_delay(n, backoff=False) for n in range(10)} == {FIRST_RETRY}
