"""The Web Push client against a local push service that checks the VAPID token and decrypts
each message with the browser's keys (RFC 8291), so what is read back is what a browser reads."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import pytest

from quckchat.core.settings import Settings
from quckchat.notification.push.base import Outcome, Push, PushSender
from quckchat.notification.push.registry import senders_from
from quckchat.notification.push.webpush import WebPush, topic
from tests.worlds.push import Answer, FakePushService, fake_push_service

NOTICE = Push(
    title="Alice in #general",
    body="@bob lunch?",
    collapse_key="channel-42",
    data={"message_id": "m1"},
)


@pytest.fixture
async def service() -> AsyncIterator[FakePushService]:
    async with fake_push_service() as fake:
        yield fake


def settings_for(fake: FakePushService, *, networks: list[str] | None = None) -> Settings:
    return Settings(
        webpush_vapid_private_key=fake.vapid_private_key,
        webpush_vapid_subject=fake.subject,
        webpush_allowed_networks=["127.0.0.1/32"] if networks is None else networks,
        push_ttl_seconds=600,
    )


@pytest.fixture
async def sender(service: FakePushService) -> AsyncIterator[PushSender]:
    pushes = senders_from(settings_for(service))["web"]
    assert isinstance(pushes, WebPush)
    yield pushes
    await pushes.aclose()


async def test_a_notice_arrives_encrypted_for_the_browser_alone(
    service: FakePushService, sender: PushSender
) -> None:
    browser = service.subscribe("laptop")

    result = await sender.send(browser.token(), NOTICE)

    assert (result.outcome, result.status) == (Outcome.DELIVERED, 201)
    [received] = service.received
    assert received["payload"] == {
        "title": "Alice in #general",
        "body": "@bob lunch?",
        "collapse_key": "channel-42",
        "data": {"message_id": "m1"},
    }
    assert (received["ttl"], received["urgency"], received["topic"]) == (
        "600",
        "high",
        "channel-42",
    )


async def test_a_clear_names_the_notice_to_close(
    service: FakePushService, sender: PushSender
) -> None:
    browser = service.subscribe("laptop")

    await sender.send(browser.token(), Push("", "", "thread:9f/c:1", clear=True))

    [received] = service.received
    assert received["payload"] == {"collapse_key": "thread:9f/c:1", "data": {}, "clear": True}
    assert received["urgency"] == "normal"
    # The Topic header allows 32 URL-safe characters: other keys are hashed into them.
    assert received["topic"] == topic("thread:9f/c:1") and len(received["topic"]) == 32


@pytest.mark.parametrize("status", [404, 410])
async def test_an_expired_subscription_is_gone(
    service: FakePushService, sender: PushSender, status: int
) -> None:
    browser = service.subscribe("old")
    service.answers["old"] = Answer(status, "subscription expired")

    result = await sender.send(browser.token(), NOTICE)

    assert (result.outcome, result.status) == (Outcome.GONE, status)


async def test_throttling_is_retried_after_what_the_push_service_says(
    service: FakePushService, sender: PushSender
) -> None:
    browser = service.subscribe("busy")
    service.answers["busy"] = Answer(429, "slow down", "45")

    result = await sender.send(browser.token(), NOTICE)

    assert (result.outcome, result.retry_after) == (Outcome.RETRY, 45.0)


async def test_a_vapid_key_the_push_service_does_not_know_fails(
    service: FakePushService,
) -> None:
    browser = service.subscribe("laptop")
    other = FakePushService()
    pushes = senders_from(
        Settings(
            webpush_vapid_private_key=other.vapid_private_key,
            webpush_vapid_subject=service.subject,
            webpush_allowed_networks=["127.0.0.1/32"],
        )
    )["web"]

    result = await pushes.send(browser.token(), NOTICE)
    await pushes.aclose()

    assert (result.outcome, result.status) == (Outcome.FAILED, 403)
    assert service.received == []


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "[::1]", "10.0.0.7"])
async def test_an_endpoint_at_a_private_address_is_refused(
    service: FakePushService, host: str
) -> None:
    browser = service.subscribe("laptop", origin=f"https://{host}:{service.port}")
    pushes = senders_from(settings_for(service, networks=[]))["web"]

    result = await pushes.send(browser.token(), NOTICE)
    await pushes.aclose()

    assert result.outcome is Outcome.FAILED
    assert "private address" in result.detail
    assert service.received == []


async def test_plain_http_is_refused_outside_the_opened_networks(sender: PushSender) -> None:
    token = json.dumps(
        {"endpoint": "http://push.example.com/x", "keys": {"p256dh": "B" * 87, "auth": "A" * 22}}
    )

    result = await sender.send(token, NOTICE)

    assert (result.outcome, result.detail) == (Outcome.FAILED, "the endpoint is not an https URL")


@pytest.mark.parametrize(
    "token",
    [
        "not json",
        json.dumps({"endpoint": "https://push.example.com/x"}),
        json.dumps(
            {"endpoint": "https://push.example.com/x", "keys": {"p256dh": "AAAA", "auth": "AAAA"}}
        ),
        json.dumps({"endpoint": 7, "keys": {"p256dh": "B" * 87, "auth": "A" * 22}}),
        json.dumps(["endpoint"]),
    ],
)
async def test_a_token_that_is_not_a_subscription_fails(sender: PushSender, token: str) -> None:
    result = await sender.send(token, NOTICE)

    assert result.outcome is Outcome.FAILED
    assert "subscription" in result.detail


def test_without_vapid_settings_web_gets_the_console() -> None:
    assert not isinstance(senders_from(Settings())["web"], WebPush)
