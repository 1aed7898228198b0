"""SMS, behind two interfaces: one-time codes (auth's sign-in) and free text (the
notification service's invites), each with the console (the default, for `make run`) and Twilio.

The Twilio Verify client sends our own code through Verify's custom-code feature, so the checks,
limits and expiry stay in one place (ours) whichever provider is configured. Verify carries
codes only: free text goes through Twilio Messaging, from a messaging service.
"""

from __future__ import annotations

import logging
from typing import Protocol

import httpx

from quckchat.core import logging as qlog
from quckchat.core.errors import Problem
from quckchat.core.http import tls_context
from quckchat.core.settings import Settings

log = qlog.get("sms")


class SmsProvider(Protocol):
    async def send_code(self, *, phone: str, code: str) -> None: ...


class TextSender(Protocol):
    async def send_text(self, *, phone: str, text: str) -> None:
        """Send `text` to `phone`; raises `TextRefused` for a message the provider refused for
        good, `TextUnavailable` when it could not take it now."""
        ...


class TextRefused(Exception):
    """The provider refused the number or the message: sending again cannot help."""


class TextUnavailable(Exception):
    """The provider could not take the message now (unreachable, throttled, failing)."""


class ConsoleSms:
    """Writes the code to the log, where a developer (or a test) reads it."""

    def __init__(self) -> None:
        # The code must show even when the platform logs only warnings.
        log.setLevel(logging.INFO)

    async def send_code(self, *, phone: str, code: str) -> None:
        log.info("OTP for %s is %s", phone, code, extra={"phone": phone, "otp_code": code})

    async def send_text(self, *, phone: str, text: str) -> None:
        log.info("SMS to %s: %s", phone, text, extra={"phone": phone})


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


class TwilioMessagingSms:
    """Twilio Programmable Messaging: one message from a messaging service to one number."""

    BASE_URL = "https://api.twilio.com/2010-04-01"

    def __init__(
        self,
        *,
        account_sid: str,
        auth_token: str,
        messaging_service_sid: str,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.account_sid = account_sid
        self.messaging_service_sid = messaging_service_sid
        self.client = httpx.AsyncClient(
            base_url=self.BASE_URL,
            auth=(account_sid, auth_token),
            timeout=10.0,
            transport=transport,
            verify=tls_context(),
        )

    async def send_text(self, *, phone: str, text: str) -> None:
        try:
            response = await self.client.post(
                f"/Accounts/{self.account_sid}/Messages.json",
                data={"To": phone, "MessagingServiceSid": self.messaging_service_sid, "Body": text},
            )
        except httpx.HTTPError as exc:
            raise TextUnavailable(f"Twilio could not be reached: {exc}") from exc
        if response.status_code < 300:
            return
        detail = f"Twilio answered {response.status_code}: {response.text[:300]}"
        # 429 and 5xx pass; any other 4xx (a bad number, a bad sender, bad credentials) stays.
        if response.status_code == 429 or response.status_code >= 500:
            raise TextUnavailable(detail)
        raise TextRefused(detail)


def provider_from(settings: Settings) -> SmsProvider:
    if settings.sms_provider == "twilio":
        return TwilioVerifySms(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            service_sid=settings.twilio_verify_service_sid,
        )
    return ConsoleSms()


def text_sender_from(settings: Settings) -> TextSender:
    """Twilio Messaging when the provider is Twilio and a messaging service is set; else the log."""
    if settings.sms_provider == "twilio" and settings.twilio_messaging_service_sid:
        return TwilioMessagingSms(
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            messaging_service_sid=settings.twilio_messaging_service_sid,
        )
    return ConsoleSms()
