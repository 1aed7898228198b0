"""The Twilio Verify client sends the request Twilio's API expects (checked on the wire)."""

from __future__ import annotations

from urllib.parse import parse_qs

import httpx
import pytest

from quckchat.core.errors import Problem
from quckchat.core.sms import TwilioVerifySms


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
