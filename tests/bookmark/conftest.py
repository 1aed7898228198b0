"""The bookmark service on each SQL backend, beside the real permission, channel and message:
started once per module, a fresh workspace per test."""

from tests.worlds.chat import chat_fixtures

mesh, chat = chat_fixtures("bookmark", observe=["bookmark"])
