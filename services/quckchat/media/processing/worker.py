"""The decoding subprocess: `python -m quckchat.media.processing.worker`, one job read from
stdin as JSON, its result written to stdout (see `wire`). `sandbox` starts it under a memory cap
and a timeout, so a decoder that runs away or crashes costs a generic result, not the service.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pyvips

from quckchat.media.processing import wire
from quckchat.media.processing.images import process_image
from quckchat.media.processing.limits import Limits
from quckchat.media.processing.pdf import process_pdf
from quckchat.media.processing.results import Processed, describe, generic
from quckchat.media.processing.sandbox import PDF_JOB


def run(request: dict[str, Any]) -> Processed:
    """The job's result; a failure of any kind is a generic result with its reason."""
    path, limits = Path(request["path"]), Limits(**request["limits"])
    try:
        if request["job"] == PDF_JOB:
            return process_pdf(path, limits)
        return process_image(path, request["content_type"], limits, request["kind"])
    except MemoryError:
        return generic("out of memory while decoding")
    # Decoders raise what they like on hostile input; whatever it is, the file is kept.
    except Exception as error:
        return generic(f"could not be decoded: {describe(error, path)}")


def main() -> None:
    """Run the job on stdin and write its result to stdout."""
    # One job per process: nothing to cache, and loaders that are not fuzzed stay off.
    pyvips.cache_set_max(0)
    pyvips.block_untrusted_set(True)
    request = json.loads(sys.stdin.buffer.read())
    sys.stdout.buffer.write(wire.dump(run(request)))


if __name__ == "__main__":
    main()
