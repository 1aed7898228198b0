"""The APNs client against the local APNs (HTTP/2 over TLS, a certificate the client trusts by
the CA file setting), reached through the settings alone."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from quckchat.core.settings import Settings
from quckchat.notification.push.apns import ApnsPush
from quckchat.notification.push.base import Outcome, Push, PushSender
from quckchat.notification.push.registry import senders_from
from tests.worlds.push import Answer, FakeApns, fake_apns

NOTICE = Push(title="Alice in #general", body="@bob lunch?", collapse_key="channel-42", badge=2)


@pytest.fixture
async def apns(tmp_path: Path) -> AsyncIterator[FakeApns]:
    async with fake_apns(tmp_path) as fake:
        yield fake


def settings_for(fake: FakeApns, key_file: Path, *, trusted: bool = True) -> Settings:
    return Settings(
        apns_key_file=str(key_file),
        apns_key_id=fake.key_id,
        apns_team_id=fake.team_id,
        apns_topic=fake.topic,
        apns_url=fake.url,
        apns_ca_file=str(fake.ca_file()) if trusted else "",
    )


@pytest.fixture
async def sender(apns: FakeApns) -> AsyncIterator[PushSender]:
    pushes = senders_from(settings_for(apns, apns.key_file()))["ios"]
    assert isinstance(pushes, ApnsPush)
    yield pushes
    await pushes.aclose()


async def test_an_alert_arrives_over_http2_with_its_collapse_id(
    apns: FakeApns, sender: PushSender
) -> None:
    result = await sender.send("a1b2c3", NOTICE)

    assert result.outcome is Outcome.DELIVERED, result
    [sent] = apns.notifications
    assert sent["token"] == "a1b2c3"
    assert sent["headers"]["apns-collapse-id"] == "channel-42"
    assert sent["headers"]["apns-push-type"] == "alert"
    assert sent["headers"]["apns-priority"] == "10"
    aps = sent["payload"]["aps"]
    assert aps["alert"] == {"title": "Alice in #general", "body": "@bob lunch?"}
    assert aps["thread-id"] == "channel-42" and aps["badge"] == 2


async def test_a_clear_is_a_background_push(apns: FakeApns, sender: PushSender) -> None:
    result = await sender.send("a1b2c3", Push("", "", "channel-42", clear=True))

    assert result.outcome is Outcome.DELIVERED
    [sent] = apns.notifications
    assert sent["headers"]["apns-push-type"] == "background"
    assert sent["headers"]["apns-priority"] == "5"
    assert sent["payload"] == {
        "aps": {"content-available": 1},
        "collapse_key": "channel-42",
        "clear": "1",
    }


@pytest.mark.parametrize(("status", "reason"), [(410, "Unregistered"), (400, "BadDeviceToken")])
async def test_a_dead_token_is_gone(
    apns: FakeApns, sender: PushSender, status: int, reason: str
) -> None:
    apns.answers["dead"] = Answer(status, reason)

    result = await sender.send("dead", NOTICE)

    assert (result.outcome, result.status, result.detail) == (Outcome.GONE, status, reason)


@pytest.mark.parametrize(("status", "retry_after"), [(429, "30"), (503, None)])
async def test_throttling_is_retried_after_what_apns_says(
    apns: FakeApns, sender: PushSender, status: int, retry_after: str | None
) -> None:
    apns.answers["busy"] = Answer(status, "TooManyRequests", retry_after)

    result = await sender.send("busy", NOTICE)

    assert result.outcome is Outcome.RETRY
    assert result.retry_after == (float(retry_after) if retry_after else None)


async def test_a_key_apns_does_not_know_fails(apns: FakeApns) -> None:
    stranger = apns.key_file(key=ec.generate_private_key(ec.SECP256R1()))
    pushes = senders_from(settings_for(apns, stranger))["ios"]

    result = await pushes.send("a1b2c3", NOTICE)
    await pushes.aclose()

    assert (result.outcome, result.status, result.detail) == (
        Outcome.FAILED,
        403,
        "InvalidProviderToken",
    )
    assert apns.notifications == []


async def test_a_server_whose_certificate_is_not_trusted_is_not_pushed_to(apns: FakeApns) -> None:
    pushes = senders_from(settings_for(apns, apns.key_file(), trusted=False))["ios"]

    result = await pushes.send("a1b2c3", NOTICE)
    await pushes.aclose()

    assert result.outcome is Outcome.RETRY
    assert apns.notifications == []


def test_without_apns_settings_ios_gets_the_console() -> None:
    assert not isinstance(senders_from(Settings())["ios"], ApnsPush)
