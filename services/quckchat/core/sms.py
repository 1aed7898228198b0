"""Delivering one-time codes by SMS, behind one interface, shared by auth (sign-in codes) and
notification (invites and notices).

The console provider (the default) logs the code, for `make run` and tests. The Twilio
Verify client sends our own code through Verify's custom-code feature, so the checks,
limits and expiry stay in one place (ours) whichever provider is configured.
"""

from __future__ import annotations

import logging
from typing import Protocol

import httpx

from quckchat.core import logging as qlog
from quckchat.core.errors import Problem
from quckchat.core.settings import Settings

log = qlog.get("sms")


class SmsProvider(Protocol):
    async def send_code(self, *, phone: str, code: str) -> None: ...


class ConsoleSms:
    """Writes the code to the log, where a developer (or a test) reads it."""

    def __init__(self) -> None:
        # The code must show even when the platform logs only warnings.
        log.setLevel(logging.INFO)

    async def send_code(self, *, phone: str, code: str) -> None:
        log.info("OTP for %s is %s", phone, code, extra={"phone": phone, "otp_code": code})


class TwilioVerifySms:
    """Twilio Verify's REST API: start a verification that carries our code."""

    BASE_URL = "https://verify.twilio.com/v2"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        service_sid: str,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.service_sid = service_sid
        self.client = httpx.AsyncClient(
            base_url=self.BASE_URL,
            auth=(account_sid, auth_token),
            timeout=10.0,
            transport=transport,
        )

    async def send_code(self, *, phone: str, code: str) -> None:
        response = await self.client.post(
            f"/Services/{self.service_sid}/Verifications",
            data={"To": phone, "Channel": "sms", "CustomCode": code},
        )
        if response.status_code >= 400:
            log.error("Twilio Verify refused %s: %s", phone, response.text[:300])
            raise Problem(
                503,
                "the SMS provider could not send the code; try again later",
                slug="sms-unavailable",
            )


def provider_from(settings: Settings) -> SmsProvider:
    if settings.sms_provider == "twilio":
        return TwilioVerifySms(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            service_sid=settings.twilio_verify_service_sid,
        )
    return ConsoleSms()
