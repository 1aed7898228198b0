"""`python -m bench` (what `make bench` runs): every benchmark, one after another."""

from __future__ import annotations

import asyncio

from bench import (
    cdn,
    gateway_hop,
    gateway_sends,
    identity,
    media,
    messaging,
    notifications,
    operator,
    real_node,
    search,
    uploads,
)
from bench.peers import run as peers


def main() -> None:
    asyncio.run(identity.main())
    asyncio.run(messaging.main())
    asyncio.run(gateway_sends.main())
    asyncio.run(gateway_hop.main())
    asyncio.run(notifications.main())
    asyncio.run(search.main())
    asyncio.run(uploads.main())
    asyncio.run(cdn.main())
    media.main()
    operator.main()
    real_node.main()
    asyncio.run(peers.main())


if __name__ == "__main__":
    main()
