"""The FCM client against the local FCM (token endpoint and HTTP v1 API), reached through the
settings alone: what arrives, and what each of the provider's answers means."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from quckchat.core.settings import Settings
from quckchat.notification.push.base import Outcome, Push, PushSender
from quckchat.notification.push.fcm import FcmPush
from quckchat.notification.push.registry import senders_from
from tests.worlds.push import Answer, FakeFcm, fake_fcm

NOTICE = Push(
    title="Alice in #general",
    body="@bob lunch?",
    collapse_key="channel-42",
    data={"message_id": "m1"},
    badge=3,
)


@pytest.fixture
async def fcm(tmp_path: Path) -> AsyncIterator[FakeFcm]:
    async with fake_fcm(tmp_path) as fake:
        yield fake


def settings_for(fake: FakeFcm, key_file: Path) -> Settings:
    return Settings(
        fcm_credentials_file=str(key_file), fcm_project_id=fake.project, fcm_endpoint=fake.origin
    )


@pytest.fixture
async def sender(fcm: FakeFcm) -> AsyncIterator[PushSender]:
    pushes = senders_from(settings_for(fcm, fcm.key_file()))["android"]
    assert isinstance(pushes, FcmPush)
    yield pushes
    await pushes.aclose()


async def test_a_notice_arrives_with_its_title_body_and_collapse_key(
    fcm: FakeFcm, sender: PushSender
) -> None:
    result = await sender.send("device-1", NOTICE)

    assert result.outcome is Outcome.DELIVERED
    [message] = fcm.messages
    assert message["token"] == "device-1"
    assert message["notification"] == {"title": "Alice in #general", "body": "@bob lunch?"}
    assert message["android"]["collapse_key"] == "channel-42"
    assert message["android"]["notification"] == {"tag": "channel-42", "notification_count": 3}
    assert message["data"] == {"message_id": "m1", "collapse_key": "channel-42"}


async def test_a_clear_is_a_data_only_message_naming_the_notice(
    fcm: FakeFcm, sender: PushSender
) -> None:
    result = await sender.send("device-1", Push("", "", "channel-42", clear=True))

    assert result.outcome is Outcome.DELIVERED
    [message] = fcm.messages
    assert "notification" not in message and "notification" not in message["android"]
    assert message["data"] == {"collapse_key": "channel-42", "clear": "1"}


async def test_the_access_token_is_reused_until_it_nears_its_expiry(
    fcm: FakeFcm, sender: PushSender
) -> None:
    # google-auth takes a token as expired minutes early: one that lives 60 s is renewed each time.
    fcm.expires_in = 60
    await sender.send("device-1", NOTICE)
    await sender.send("device-1", NOTICE)
    assert len(fcm.issued) == 2

    fcm.expires_in = 3600
    await sender.send("device-1", NOTICE)
    await sender.send("device-1", NOTICE)
    assert len(fcm.issued) == 3
    assert len(fcm.messages) == 4


@pytest.mark.parametrize("reason", ["UNREGISTERED", "INVALID_TOKEN"])
async def test_a_dead_token_is_gone(fcm: FakeFcm, sender: PushSender, reason: str) -> None:
    fcm.answers["dead"] = Answer(404 if reason == "UNREGISTERED" else 400, reason)

    result = await sender.send("dead", NOTICE)

    assert result.outcome is Outcome.GONE
    assert result.status in (400, 404)


async def test_a_bad_message_that_is_not_about_the_token_fails_without_removing_it(
    fcm: FakeFcm, sender: PushSender
) -> None:
    fcm.answers["device-1"] = Answer(400, "INVALID_ARGUMENT")

    result = await sender.send("device-1", NOTICE)

    assert result.outcome is Outcome.FAILED


@pytest.mark.parametrize(
    ("status", "retry_after", "seconds"),
    [(429, "17", 17.0), (503, None, None), (500, "Wed, 21 Oct 2099 07:28:00 GMT", "future")],
)
async def test_throttling_and_outages_are_retried_after_what_fcm_says(
    fcm: FakeFcm, sender: PushSender, status: int, retry_after: str | None, seconds: object
) -> None:
    fcm.answers["busy"] = Answer(status, "RESOURCE_EXHAUSTED", retry_after)

    result = await sender.send("busy", NOTICE)

    assert result.outcome is Outcome.RETRY
    assert result.status == status
    if seconds == "future":
        assert result.retry_after is not None and result.retry_after > 3600
    else:
        assert result.retry_after == seconds


async def test_a_service_account_fcm_does_not_know_fails(fcm: FakeFcm) -> None:
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pushes = senders_from(settings_for(fcm, fcm.key_file(key=stranger)))["android"]

    result = await pushes.send("device-1", NOTICE)
    await pushes.aclose()

    assert result.outcome is Outcome.FAILED
    assert "refused" in result.detail
    assert fcm.messages == []


async def test_a_revoked_access_token_fails(fcm: FakeFcm, sender: PushSender) -> None:
    await sender.send("device-1", NOTICE)
    fcm.revoked.update(fcm.issued)

    result = await sender.send("device-1", NOTICE)

    assert result.outcome is Outcome.FAILED
    assert result.status == 401


async def test_fcm_out_of_reach_is_retried(fcm: FakeFcm) -> None:
    pushes = senders_from(
        Settings(
            fcm_credentials_file=str(fcm.key_file()),
            fcm_project_id=fcm.project,
            fcm_endpoint="http://127.0.0.1:9",
        )
    )["android"]

    result = await pushes.send("device-1", NOTICE)
    await pushes.aclose()

    assert result.outcome is Outcome.RETRY
    assert result.status is None


def test_without_fcm_settings_android_gets_the_console() -> None:
    assert not isinstance(senders_from(Settings())["android"], FcmPush)
