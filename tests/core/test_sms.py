"""The Twilio clients send the requests Twilio's APIs expect (checked on the wire: Twilio cannot
be reached from here), and its answers become what the callers act on."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import parse_qs

import httpx
import pytest

from quckchat.core.errors import Problem
from quckchat.core.settings import Settings
from quckchat.core.sms import (
    ConsoleSms,
    TextRefused,
    TextUnavailable,
    TwilioMessagingSms,
    TwilioVerifySms,
    text_sender_from,
)


async def test_twilio_verify_request_carries_our_code() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"sid": "VE1", "status": "pending"})

    client = TwilioVerifySms(
        account_sid="AC1",
        auth_token="tok",
        service_sid="VA1",
        transport=httpx.MockTransport(handler),
    )
    await client.send_code(phone="+15550001111", code="123456")
    (request,) = seen
    assert request.url.path == "/v2/Services/VA1/Verifications"
    assert parse_qs(request.content.decode()) == {
        "To": ["+15550001111"],
        "Channel": ["sms"],
        "CustomCode": ["123456"],
    }
    assert request.headers["authorization"].startswith("Basic ")


async def test_a_refusal_becomes_a_503_problem() -> None:
    client = TwilioVerifySms(
        account_sid="AC1",
        auth_token="bad",
        service_sid="VA1",
        transport=httpx.MockTransport(lambda r: httpx.Response(401, json={"code": 20003})),
    )
    with pytest.raises(Problem) as caught:
        await client.send_code(phone="+15550001111", code="123456")
    assert caught.value.status == 503


def messaging(handler: Callable[[httpx.Request], httpx.Response]) -> TwilioMessagingSms:
    return TwilioMessagingSms(
        account_sid="AC1",
        auth_token="tok",
        messaging_service_sid="MG1",
        transport=httpx.MockTransport(handler),
    )


async def test_twilio_messaging_sends_the_text_from_the_messaging_service() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"sid": "SM1", "status": "accepted"})

    await messaging(handler).send_text(phone="+15550001111", text="Join Acme: https://x/join/t")
    (request,) = seen
    assert request.url.path == "/2010-04-01/Accounts/AC1/Messages.json"
    assert parse_qs(request.content.decode()) == {
        "To": ["+15550001111"],
        "MessagingServiceSid": ["MG1"],
        "Body": ["Join Acme: https://x/join/t"],
    }
    assert request.headers["authorization"].startswith("Basic ")


@pytest.mark.parametrize(
    ("status", "error"),
    [(400, TextRefused), (401, TextRefused), (429, TextUnavailable), (503, TextUnavailable)],
)
async def test_twilio_messaging_answers_become_refused_or_unavailable(
    status: int, error: type[Exception]
) -> None:
    client = messaging(lambda r: httpx.Response(status, json={"code": 21211}))
    with pytest.raises(error, match=str(status)):
        await client.send_text(phone="+15550001111", text="hi")


async def test_twilio_messaging_out_of_reach_is_unavailable() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("no route", request=request)

    with pytest.raises(TextUnavailable):
        await messaging(handler).send_text(phone="+15550001111", text="hi")


def test_free_text_goes_to_twilio_only_with_a_messaging_service() -> None:
    twilio = Settings(sms_provider="twilio", twilio_account_sid="AC1", twilio_auth_token="t")
    assert isinstance(text_sender_from(twilio), ConsoleSms)
    with_service = twilio.model_copy(update={"twilio_messaging_service_sid": "MG1"})
    assert isinstance(text_sender_from(with_service), TwilioMessagingSms)
    assert isinstance(text_sender_from(Settings()), ConsoleSms)
