"""The bookmark service on each SQL backend, beside the real permission, channel and message."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support import TestKeys
from tests.worlds.chat import Chat, chat_world


@pytest.fixture
async def chat(sql_url: str, tmp_path: Path, keys: TestKeys) -> AsyncIterator[Chat]:
    async with chat_world("bookmark", sql_url, tmp_path, keys, observe=["bookmark"]) as c:
        yield c
