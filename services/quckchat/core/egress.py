"""Requests the platform makes to an address a client chose (an image to proxy, a browser's
push endpoint): only public addresses, checked before the request and again at connect, so a
name that turns private between the two (DNS rebinding) is refused too. Networks the settings
open are allowed after all (tests' own servers)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Iterable

from aiohttp import TCPConnector
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import ThreadedResolver

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


class UnknownHost(Exception):
    """The host's name resolves to nothing."""


class PrivateHost(Exception):
    """The host is, or resolves only to, an address that is not public."""


def networks(specs: Iterable[str]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(spec, strict=False) for spec in specs)


def permitted(address: Address, allowed: tuple[Network, ...]) -> bool:
    """A public address, or one in a network the settings open."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if any(address in network for network in allowed):
        return True
    return address.is_global and not address.is_multicast


class VettedResolver(AbstractResolver):
    """Resolves as the system does, keeping only permitted addresses (checked at connect)."""

    def __init__(self, allowed: tuple[Network, ...]) -> None:
        self._inner = ThreadedResolver()
        self._allowed = allowed

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self._inner.resolve(host, port, family)
        kept = [r for r in found if permitted(ipaddress.ip_address(r["host"]), self._allowed)]
        if not kept:
            raise OSError(f"{host} resolves to no public address")
        return kept

    async def close(self) -> None:
        await self._inner.close()


def connector(allowed: tuple[Network, ...]) -> TCPConnector:
    """An aiohttp connector that connects to permitted addresses only."""
    return TCPConnector(resolver=VettedResolver(allowed), use_dns_cache=False)


async def vet_host(host: str, allowed: tuple[Network, ...]) -> None:
    """Raise UnknownHost or PrivateHost unless `host` (a name or an address literal, which the
    resolver never sees) has a permitted address."""
    try:
        addresses: list[Address] = [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, None)
        except OSError as exc:
            raise UnknownHost(host) from exc
        addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not any(permitted(a, allowed) for a in addresses):
        raise PrivateHost(host)
