"""The push sender where no provider is configured (`make run`): it logs what it would send."""

from __future__ import annotations

import logging

from quckchat.core import logging as qlog
from quckchat.notification.push.base import Outcome, Push, Result

log = qlog.get("notification.push")


class ConsolePush:
    """Writes each push to the log, where a developer reads it; every push is delivered."""

    def __init__(self, platform: str) -> None:
        self.platform = platform
        # The push must show even when the platform logs only warnings.
        log.setLevel(logging.INFO)

    async def send(self, token: str, push: Push) -> Result:
        log.info(
            "push to a %s device: %s",
            self.platform,
            "clear" if push.clear else push.title,
            extra={"collapse_key": push.collapse_key},
        )
        return Result(Outcome.DELIVERED)

    async def aclose(self) -> None:
        return None
