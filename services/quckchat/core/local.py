"""The services this process serves itself (`quckchat run` hosts them all in one): another
service of the process may hand a connection straight to one of them, with no network hop."""

from __future__ import annotations

from starlette.types import ASGIApp

_SERVED: dict[str, ASGIApp] = {}


def serve_here(name: str, app: ASGIApp) -> None:
    _SERVED[name] = app


def leave(name: str) -> None:
    _SERVED.pop(name, None)


def served_here(name: str) -> ASGIApp | None:
    """The app of `name` when this process serves it, else None (reach it over the network)."""
    return _SERVED.get(name)
