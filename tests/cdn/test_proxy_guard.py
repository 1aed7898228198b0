"""What the image proxy may reach: public addresses only, whatever a name resolves to or a URL
spells (pure: nothing is fetched)."""

from __future__ import annotations

import ipaddress

import pytest

from quckchat.cdn.proxy import Refused, fetch
from quckchat.core.egress import permitted
from quckchat.core.settings import Settings

PRIVATE = [
    "127.0.0.1",
    "10.1.2.3",
    "172.16.0.9",
    "192.168.1.1",
    "169.254.169.254",  # cloud metadata
    "100.64.0.1",  # carrier-grade NAT
    "0.0.0.0",
    "::1",
    "fe80::1",
    "fc00::1",
    "::ffff:127.0.0.1",  # IPv4 in IPv6 clothing
    "224.0.0.1",
]


@pytest.mark.parametrize("address", PRIVATE)
def test_private_addresses_are_never_permitted(address: str) -> None:
    assert not permitted(ipaddress.ip_address(address), ())


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946"])
def test_public_addresses_are(address: str) -> None:
    assert permitted(ipaddress.ip_address(address), ())


def test_a_network_the_settings_open_is_permitted_and_no_other() -> None:
    opened = (ipaddress.ip_network("127.0.0.1/32"),)
    assert permitted(ipaddress.ip_address("127.0.0.1"), opened)
    assert not permitted(ipaddress.ip_address("127.0.0.2"), opened)


@pytest.mark.parametrize(
    ("url", "slug"),
    [
        ("http://127.0.0.1/cat.png", "private-address"),
        ("http://[::1]:8080/cat.png", "private-address"),
        ("http://localhost/cat.png", "private-address"),
        ("http://169.254.169.254/latest/meta-data/", "private-address"),
        ("ftp://example.com/cat.png", "image-refused"),
        ("file:///etc/passwd", "image-refused"),
    ],
)
async def test_a_url_to_a_private_place_is_refused_before_any_request(url: str, slug: str) -> None:
    with pytest.raises(Refused) as refused:
        await fetch(Settings(), url)
    assert refused.value.status == 422 and refused.value.slug == slug
