"""The ways out of the service, chosen once per process: a push sender per platform, the
mailer and the SMS sender. Tests and `make run` put their own in `runtime.state`."""

from __future__ import annotations

from dataclasses import dataclass

from quckchat.core.runtime import Runtime
from quckchat.core.sms import TextSender, text_sender_from
from quckchat.notification.email import Mailer, mailer_from
from quckchat.notification.push.base import PushSender
from quckchat.notification.push.registry import senders_from

STATE_KEY = "notification.channels"


@dataclass
class Channels:
    push: dict[str, PushSender]
    mail: Mailer
    sms: TextSender

    async def aclose(self) -> None:
        for sender in self.push.values():
            await sender.aclose()
        await self.mail.aclose()


def of(runtime: Runtime) -> Channels:
    """The process's channels, made from the settings the first time they are needed."""
    found = runtime.state.get(STATE_KEY)
    if found is None:
        settings = runtime.settings
        found = Channels(
            push=senders_from(settings), mail=mailer_from(settings), sms=text_sender_from(settings)
        )
        runtime.state[STATE_KEY] = found
    assert isinstance(found, Channels)
    return found


async def close(runtime: Runtime) -> None:
    found = runtime.state.pop(STATE_KEY, None)
    if isinstance(found, Channels):
        await found.aclose()
