"""Scanning on the real clamd of hack/testbed, with the test bed's own signatures."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from quckchat.file.scanning import Clamd, NoScanner, ScanFailed
from tests.support import server
from tests.worlds.files import EICAR

pytestmark = pytest.mark.clamav

# The EICAR test file: every scanner's agreed harmless "virus".
# The test bed's own signature (hack/clamav/quckchat-test.ndb), found anywhere in a file.
MARKER = b"QUCKCHAT-TEST-MALWARE-SIGNATURE-7f3a9c"


async def chunks(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


@pytest.fixture
def clamd() -> Clamd:
    return Clamd(server("clamav"))


async def test_eicar_and_the_test_beds_own_signature_are_found(clamd: Clamd) -> None:
    await clamd.ping()
    found = await clamd.scan(chunks(EICAR))
    assert found.infected and found.signature == "Eicar-Test-Signature.UNOFFICIAL"
    # Split across chunks, deep inside a larger file.
    padding = b"x" * 200_000
    found = await clamd.scan(chunks(padding + MARKER[:10], MARKER[10:] + padding))
    assert found.infected and found.signature == "QuckChat.Test.Marker.UNOFFICIAL"


async def test_a_clean_file_is_clean(clamd: Clamd) -> None:
    verdict = await clamd.scan(chunks(b"just a report\n" * 10_000))
    assert not verdict.infected and verdict.signature is None and verdict.scanned


async def test_a_file_over_the_limit_or_no_clamd_is_no_verdict(clamd: Clamd) -> None:
    small = Clamd(server("clamav"), max_bytes=1000)
    with pytest.raises(ScanFailed, match="more than 1000 bytes"):
        await small.scan(chunks(b"a" * 600, b"b" * 600))
    away = Clamd("tcp://127.0.0.1:9", timeout=2)
    with pytest.raises(ScanFailed):
        await away.scan(chunks(b"hello"))
    with pytest.raises(ScanFailed):
        await away.ping()


async def test_without_a_scanner_a_file_passes_unscanned() -> None:
    verdict = await NoScanner().scan(chunks(EICAR))
    assert not verdict.infected and not verdict.scanned


def test_a_clamd_address_is_a_tcp_url() -> None:
    with pytest.raises(ValueError, match="tcp://host:port"):
        Clamd("127.0.0.1:3310")
