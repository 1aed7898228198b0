"""What every handler shares: Kopf's settings, including watches that cannot go silent."""

from __future__ import annotations

import kopf
import pytest

from quckchat_operator.handlers import runtime


async def test_watches_end_and_reconnect_instead_of_waiting_for_ever(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(runtime, "connect", lambda: "api-client")
    monkeypatch.setattr(runtime, "Applier", lambda api: ("applier", api))
    settings, memo = kopf.OperatorSettings(), kopf.Memo()
    await runtime.configure(settings=settings, memo=memo)
    watching = settings.watching
    assert watching.server_timeout is not None and watching.server_timeout > 0
    assert watching.client_timeout is not None
    assert watching.client_timeout > watching.server_timeout
    assert watching.connect_timeout is not None and watching.connect_timeout > 0
    assert memo.applier == ("applier", "api-client")
