"""How much one file may cost to process, and the memory cap put on the processes that decode it."""

from __future__ import annotations

import os
import resource
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Limits:
    max_bytes: int = 200 * 1024**2  # larger files are not opened (and no more XML is inflated)
    max_pixels: int = 100_000_000  # of the first frame; larger images are never decoded
    memory_bytes: int = 512 * 1024**2  # address space of each decoding subprocess
    seconds: float = 60.0  # for the whole call, shared by its subprocesses
    text_chars: int = 200_000  # characters of text kept for search
    text_pages: int = 200  # PDF pages read for text


def capped_memory(memory_bytes: int) -> Callable[[], None]:
    """A `preexec_fn` that, run in a forked child before exec, caps its address space."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))

    return cap


# glibc gives each thread its own 64 MiB malloc arena; two keep a capped address space for data.
# TMPDIR passes through: libvips spills an image it cannot stream there.
SUBPROCESS_ENV = {
    "MALLOC_ARENA_MAX": "2",
    "LC_ALL": "C",
    **{name: os.environ[name] for name in ("TMPDIR",) if name in os.environ},
}
